#include "dataplane/session/session_table.hpp"

#include <sys/mman.h>

#include <bit>
#include <cstring>
#include <new>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dplb {

namespace {
std::size_t align_up(std::size_t v, std::size_t a) { return (v + a - 1) / a * a; }
}  // namespace

SessionTable::SessionTable(uint32_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
    uint64_t want = (uint64_t(capacity_) * 2 + 5) / 6;
    uint32_t nbuckets = uint32_t(std::bit_ceil(want < 8 ? 8 : want));
    bucket_mask_ = nbuckets - 1;
    overflow_count_ = nbuckets / 8 < 64 ? 64 : nbuckets / 8;

    std::size_t off_sessions = 0;
    std::size_t off_buckets = align_up(off_sessions + sizeof(Session) * std::size_t(capacity_), 4096);
    std::size_t off_overflow = off_buckets + sizeof(Bucket) * std::size_t(nbuckets);
    std::size_t off_free = align_up(off_overflow + sizeof(Bucket) * std::size_t(overflow_count_), 64);
    std::size_t off_ofree = align_up(off_free + sizeof(uint32_t) * std::size_t(capacity_), 64);
    mapped_bytes_ = align_up(off_ofree + sizeof(uint32_t) * std::size_t(overflow_count_), 2u << 20);

    // One anonymous mapping, transparent huge pages where the kernel gives them: the table is
    // touched at random, so TLB reach matters more than anything else at 10M sessions.
    mapping_ = ::mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping_ == MAP_FAILED) throw std::bad_alloc();
    ::madvise(mapping_, mapped_bytes_, MADV_HUGEPAGE);
    auto* base = static_cast<char*>(mapping_);
    sessions_ = reinterpret_cast<Session*>(base + off_sessions);
    buckets_ = reinterpret_cast<Bucket*>(base + off_buckets);
    overflow_ = reinterpret_cast<Bucket*>(base + off_overflow);
    free_ = reinterpret_cast<uint32_t*>(base + off_free);
    overflow_free_ = reinterpret_cast<uint32_t*>(base + off_ofree);

    // Touch everything now (fresh anonymous memory is zero: empty buckets), so the first
    // packets do not pay the page faults and the memory sits on the constructing thread's node.
    std::memset(buckets_, 0, sizeof(Bucket) * (std::size_t(nbuckets) + overflow_count_));
    for (uint32_t i = 0; i < capacity_; ++i) {
        new (&sessions_[i]) Session();
        free_[i] = capacity_ - 1 - i;  // pop order 0, 1, 2...: sequential first use
    }
    free_count_ = capacity_;
    for (uint32_t i = 0; i < overflow_count_; ++i) overflow_free_[i] = overflow_count_ - i;
    overflow_free_count_ = overflow_count_;
}

SessionTable::~SessionTable() {
    if (mapping_) ::munmap(mapping_, mapped_bytes_);
}

unsigned SessionTable::match_mask(const Bucket& b, uint16_t sig) {
#if defined(__SSE2__)
    __m128i sigs = _mm_load_si128(reinterpret_cast<const __m128i*>(b.sig));
    __m128i eq = _mm_cmpeq_epi16(sigs, _mm_set1_epi16(short(sig)));
    // Narrow the eight 16-bit lanes (0 or -1) to bytes, so movemask gives one bit per slot.
    return unsigned(_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128())));
#else
    unsigned m = 0;
    for (unsigned i = 0; i < 8; ++i) m |= unsigned(b.sig[i] == sig) << i;
    return m;
#endif
}

void SessionTable::prefetch_sessions(uint32_t hash) const {
    const Bucket& b = buckets_[hash & bucket_mask_];
    for (unsigned m = match_mask(b, signature(hash)); m; m &= m - 1)
        __builtin_prefetch(&sessions_[b.ref[__builtin_ctz(m)] >> 1]);
}

SessionTable::Hit SessionTable::find(const FlowKey& key, uint32_t hash) const {
    uint16_t sig = signature(hash);
    const Bucket* b = &buckets_[hash & bucket_mask_];
    for (;;) {
        for (unsigned m = match_mask(*b, sig); m; m &= m - 1) {
            uint32_t ref = b->ref[__builtin_ctz(m)];
            Session* s = &sessions_[ref >> 1];
            if ((ref & 1) ? s->reply == key : s->orig == key) return {s, bool(ref & 1)};
        }
        if (!b->next) return {};
        b = bucket_at(b->next);
    }
}

bool SessionTable::index_key(uint32_t hash, uint32_t ref) {
    uint16_t sig = signature(hash);
    Bucket* b = &buckets_[hash & bucket_mask_];
    for (;;) {
        unsigned empty = match_mask(*b, 0);
        if (empty) {
            unsigned i = unsigned(__builtin_ctz(empty));
            b->ref[i] = ref;
            b->sig[i] = sig;
            return true;
        }
        if (!b->next) break;
        b = bucket_at(b->next);
    }
    if (overflow_free_count_ == 0) return false;
    uint32_t link = overflow_free_[--overflow_free_count_];
    Bucket* nb = bucket_at(link);
    std::memset(nb, 0, sizeof *nb);
    nb->ref[0] = ref;
    nb->sig[0] = sig;
    b->next = link;
    return true;
}

void SessionTable::unindex_key(uint32_t hash, uint32_t ref) {
    uint16_t sig = signature(hash);
    Bucket* prev = nullptr;
    Bucket* b = &buckets_[hash & bucket_mask_];
    uint32_t link = 0;  // link of b when b is an overflow bucket
    for (;;) {
        for (unsigned m = match_mask(*b, sig); m; m &= m - 1) {
            unsigned i = unsigned(__builtin_ctz(m));
            if (b->ref[i] != ref) continue;
            b->sig[i] = 0;
            // Give an emptied overflow bucket back so a burst of collisions cannot use up the pool.
            if (prev && match_mask(*b, 0) == 0xff) {
                prev->next = b->next;
                overflow_free_[overflow_free_count_++] = link;
            }
            return;
        }
        if (!b->next) return;
        prev = b;
        link = b->next;
        b = bucket_at(link);
    }
}

Session* SessionTable::insert(const FlowKey& orig, uint32_t orig_hash, const FlowKey* reply, uint32_t reply_hash) {
    if (free_count_ == 0) return nullptr;
    uint32_t idx = free_[free_count_ - 1];
    if (!index_key(orig_hash, idx << 1)) return nullptr;
    if (reply && !index_key(reply_hash, idx << 1 | 1)) {
        unindex_key(orig_hash, idx << 1);
        return nullptr;
    }
    --free_count_;
    Session* s = &sessions_[idx];
    *s = Session();
    s->orig = orig;
    if (reply) {
        s->reply = *reply;
        s->flags = session_reply_indexed;
    }
    return s;
}

void SessionTable::erase(Session* s) {
    uint32_t idx = index_of(s);
    unindex_key(flow_hash(s->orig), idx << 1);
    if (s->flags & session_reply_indexed) unindex_key(flow_hash(s->reply), idx << 1 | 1);
    s->flags = 0;
    free_[free_count_++] = idx;
}

}  // namespace dplb
