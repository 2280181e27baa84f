// A worker's session table: fixed capacity, both directions indexed, no allocation after
// construction.
//
// Layout: sessions live in one array (64 B each) with a free-index stack; the index is an
// array of 64-byte buckets of 8 slots (16-bit signature + 32-bit reference = session index
// and direction bit), with a small pool of overflow buckets chained behind full ones. A
// lookup touches one bucket line and, on a signature match, the session line; callers
// prefetch the bucket a few packets ahead (prefetch()).
//
// Sizing: buckets = next power of two >= 2 * capacity / 6 (load <= 0.75 of 8 slots), which
// is ~26-51 B of index per session; with the session itself ~90-115 B per session.
//
// Threading: owned and used by one worker only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/session/flow_key.hpp"
#include "dataplane/session/session.hpp"

namespace dplb {

class SessionTable {
public:
    explicit SessionTable(uint32_t capacity);
    ~SessionTable();
    SessionTable(const SessionTable&) = delete;
    SessionTable& operator=(const SessionTable&) = delete;

    struct Hit {
        Session* session = nullptr;
        bool reply = false;  // matched the reply key
    };

    void prefetch(uint32_t hash) const { __builtin_prefetch(&buckets_[hash & bucket_mask_]); }
    // The second stage of a burst lookup: once the bucket of `hash` is in cache (prefetch()
    // a few packets earlier), starts fetching the sessions whose signature matches, so that
    // find() then touches only cached lines. A DRAM-sized table otherwise costs two
    // dependent misses per packet (bucket, then session).
    void prefetch_sessions(uint32_t hash) const;
    Hit find(const FlowKey& key, uint32_t hash) const;

    // Takes a free session, indexes `orig` and, if given, `reply`. The caller has checked that
    // neither key is present. nullptr when the table is at capacity or the index cannot take
    // the keys (both counted as session_table_full by the caller).
    Session* insert(const FlowKey& orig, uint32_t orig_hash, const FlowKey* reply, uint32_t reply_hash);
    // Unindexes and frees. The session must not be on the expiry wheel.
    void erase(Session* s);

    uint32_t size() const { return capacity_ - free_count_; }
    uint32_t capacity() const { return capacity_; }
    Session* at(uint32_t index) const { return &sessions_[index]; }
    uint32_t index_of(const Session* s) const { return uint32_t(s - sessions_); }
    std::size_t memory_bytes() const { return mapped_bytes_; }

private:
    struct alignas(64) Bucket {
        uint16_t sig[8];
        uint32_t ref[8];  // session index << 1 | reply
        uint32_t next;    // overflow bucket index + 1; 0 = end of chain
        uint32_t pad_[3];
    };
    static_assert(sizeof(Bucket) == 64);

    static uint16_t signature(uint32_t hash) {
        // Remixed so it does not repeat the bucket-index bits; never 0 (0 = empty slot).
        return uint16_t(((uint64_t(hash) * 0x9e3779b97f4a7c15ull) >> 48) | 1);
    }
    static unsigned match_mask(const Bucket& b, uint16_t sig);  // bit i = slot i matches
    bool index_key(uint32_t hash, uint32_t ref);
    void unindex_key(uint32_t hash, uint32_t ref);
    Bucket* bucket_at(uint32_t link) const { return &overflow_[link - 1]; }

    uint32_t capacity_;
    uint32_t bucket_mask_;
    uint32_t overflow_count_;
    Session* sessions_ = nullptr;
    Bucket* buckets_ = nullptr;
    Bucket* overflow_ = nullptr;
    uint32_t* free_ = nullptr;          // stack of free session indexes
    uint32_t free_count_ = 0;
    uint32_t* overflow_free_ = nullptr; // stack of free overflow bucket links
    uint32_t overflow_free_count_ = 0;
    void* mapping_ = nullptr;
    std::size_t mapped_bytes_ = 0;
};

}  // namespace dplb
