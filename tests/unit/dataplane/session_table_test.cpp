// SessionTable: both keys, capacity, reuse, collision chains through the overflow pool,
// a randomized run against std::unordered_map, and memory per session at 1M sessions.
#include <catch2/catch.hpp>
#include <bit>
#include <random>
#include <unordered_map>
#include <vector>

#include "dataplane/session/session_table.hpp"

using namespace dplb;

namespace {

FlowKey key_n(uint32_t n, uint8_t proto = 6) {
    return FlowKey(0x0a000000u + n, 0xc0000264u, uint16_t(n * 7 + 1), 0x5000, proto);
}
FlowKey reply_of(const FlowKey& k) { return FlowKey(k.dst ^ 0x00ff0000u, k.src, k.dport, k.sport, k.proto); }

Session* insert(SessionTable& t, const FlowKey& k, const FlowKey* reply) {
    return t.insert(k, flow_hash(k), reply, reply ? flow_hash(*reply) : 0);
}
SessionTable::Hit find(const SessionTable& t, const FlowKey& k) { return t.find(k, flow_hash(k)); }

// Keys whose hash agrees in the low `bits` bits: they all land in one primary bucket for any
// table with at most 2^bits buckets.
std::vector<FlowKey> colliding_keys(size_t n, unsigned bits, uint32_t salt) {
    std::vector<FlowKey> keys;
    const uint32_t mask = (1u << bits) - 1;
    uint32_t want = 0;
    for (uint32_t i = 0; keys.size() < n; ++i) {
        FlowKey k(0x0b000000u + i, salt, uint16_t(i), uint16_t(i >> 16), 17);
        uint32_t h = flow_hash(k) & mask;
        if (keys.empty()) want = h;
        if (h == want) keys.push_back(k);
    }
    return keys;
}

uint32_t buckets_for(uint32_t capacity) {  // the sizing rule documented in session_table.hpp
    uint64_t want = (uint64_t(capacity) * 2 + 5) / 6;
    return uint32_t(std::bit_ceil(want < 8 ? 8 : want));
}

}  // namespace

TEST_CASE("SessionTable: insert indexes both keys and find reports the direction", "[session_table]") {
    SessionTable t(16);
    const FlowKey a = key_n(1), ar = reply_of(a), b = key_n(2);
    Session* s = insert(t, a, &ar);
    REQUIRE(s);
    CHECK(t.size() == 1);
    CHECK(s->orig == a);
    CHECK(s->reply == ar);
    CHECK(s->flags == session_reply_indexed);
    CHECK(s->wheel_next == no_index);
    CHECK(s->wheel_prev == no_index);
    CHECK(t.at(t.index_of(s)) == s);

    auto h1 = find(t, a);
    CHECK(h1.session == s);
    CHECK_FALSE(h1.reply);
    auto h2 = find(t, ar);
    CHECK(h2.session == s);
    CHECK(h2.reply);
    CHECK(find(t, b).session == nullptr);
    CHECK(find(t, a.reversed()).session == nullptr);
    FlowKey other_proto = a;
    other_proto.proto = 17;
    CHECK(find(t, other_proto).session == nullptr);

    // Without a reply key only the original direction is indexed.
    Session* s2 = insert(t, b, nullptr);
    REQUIRE(s2);
    CHECK(s2 != s);
    CHECK(s2->flags == 0);
    CHECK(find(t, b).session == s2);
    CHECK(find(t, FlowKey()).session == nullptr);
    CHECK(t.size() == 2);
}

TEST_CASE("SessionTable: erase removes both keys and the slot is reused", "[session_table]") {
    SessionTable t(4);
    const FlowKey a = key_n(1), ar = reply_of(a);
    Session* s = insert(t, a, &ar);
    REQUIRE(s);
    s->real_id = 99;
    s->state = SessionState::tcp_established;
    t.erase(s);
    CHECK(t.size() == 0);
    CHECK(find(t, a).session == nullptr);
    CHECK(find(t, ar).session == nullptr);
    // The freed slot is the next one handed out, cleared.
    const FlowKey c = key_n(3);
    Session* s2 = insert(t, c, nullptr);
    CHECK(s2 == s);
    CHECK(s2->real_id == 0);
    CHECK(s2->state == SessionState::tcp_none);
    CHECK(s2->orig == c);
    CHECK(find(t, c).session == s2);
    CHECK(find(t, a).session == nullptr);
}

TEST_CASE("SessionTable: capacity exhaustion returns nullptr and size stays consistent", "[session_table]") {
    for (uint32_t cap : {1u, 3u, 100u}) {
        INFO("capacity " << cap);
        SessionTable t(cap);
        CHECK(t.capacity() == cap);
        std::vector<Session*> all;
        for (uint32_t i = 0; i < cap; ++i) {
            FlowKey k = key_n(i), r = reply_of(k);
            Session* s = insert(t, k, &r);
            REQUIRE(s);
            all.push_back(s);
            CHECK(t.size() == i + 1);
        }
        FlowKey extra = key_n(1000), extra_r = reply_of(extra);
        CHECK(insert(t, extra, &extra_r) == nullptr);
        CHECK(insert(t, extra, nullptr) == nullptr);
        CHECK(t.size() == cap);
        CHECK(find(t, extra).session == nullptr);
        CHECK(find(t, extra_r).session == nullptr);
        for (uint32_t i = 0; i < cap; ++i) CHECK(find(t, key_n(i)).session == all[i]);
        // Free one: exactly one more fits.
        t.erase(all[0]);
        CHECK(t.size() == cap - 1);
        Session* s = insert(t, extra, &extra_r);
        CHECK(s == all[0]);
        CHECK(find(t, extra_r).session == s);
        CHECK(insert(t, key_n(2000), nullptr) == nullptr);
        CHECK(t.size() == cap);
    }
}

TEST_CASE("SessionTable: capacity 0 behaves as capacity 1", "[session_table]") {
    SessionTable t(0);
    CHECK(t.capacity() == 1);
    CHECK(insert(t, key_n(1), nullptr) != nullptr);
    CHECK(insert(t, key_n(2), nullptr) == nullptr);
}

TEST_CASE("SessionTable: one bucket's collision chain uses, exhausts and returns the overflow pool",
          "[session_table]") {
    // capacity 1000: 512 buckets, 64 overflow buckets (8 slots each), per session_table.hpp.
    const uint32_t cap = 1000;
    REQUIRE(buckets_for(cap) == 512);
    const size_t chain_slots = 8 + 64 * 8;
    auto keys = colliding_keys(chain_slots + 20, 12, 0xc6336401u);
    SessionTable t(cap);

    std::vector<Session*> sessions;
    for (size_t round = 0; round < 3; ++round) {
        INFO("round " << round);
        sessions.clear();
        for (size_t i = 0; i < chain_slots; ++i) {
            Session* s = insert(t, keys[i], nullptr);
            REQUIRE(s);
            sessions.push_back(s);
        }
        CHECK(t.size() == chain_slots);
        // The chain is full: the index refuses the key although sessions are free.
        CHECK(insert(t, keys[chain_slots], nullptr) == nullptr);
        CHECK(t.size() == chain_slots);
        CHECK(find(t, keys[chain_slots]).session == nullptr);
        for (size_t i = 0; i < chain_slots; ++i) REQUIRE(find(t, keys[i]).session == sessions[i]);
        // A key elsewhere still fits in its own bucket.
        FlowKey elsewhere = key_n(5);
        REQUIRE((flow_hash(elsewhere) & 511) != (flow_hash(keys[0]) & 511));
        Session* e = insert(t, elsewhere, nullptr);
        REQUIRE(e);
        t.erase(e);
        // Erase in an order that empties overflow buckets in the middle of the chain first.
        for (size_t i = 0; i < chain_slots; i += 2) t.erase(sessions[i]);
        for (size_t i = 1; i < chain_slots; i += 2) REQUIRE(find(t, keys[i]).session == sessions[i]);
        for (size_t i = 1; i < chain_slots; i += 2) t.erase(sessions[i]);
        CHECK(t.size() == 0);
        for (size_t i = 0; i < chain_slots; ++i) REQUIRE(find(t, keys[i]).session == nullptr);
        // Next round: the same chain length must be reachable again, so every overflow
        // bucket went back to the pool.
    }
}

TEST_CASE("SessionTable: a reply key that cannot be indexed undoes the original key", "[session_table]") {
    const uint32_t cap = 1000;
    const size_t chain_slots = 8 + 64 * 8;
    auto keys = colliding_keys(chain_slots, 12, 0x0a0a0a0au);
    SessionTable t(cap);
    // Fill the overflow pool with another bucket's chain, then leave one slot in it.
    for (size_t i = 0; i < chain_slots; ++i) REQUIRE(insert(t, keys[i], nullptr));
    REQUIRE(find(t, keys.back()).session);
    t.erase(find(t, keys.back()).session);
    // orig fits in a fresh bucket; its reply key collides with the full chain... almost: the
    // one free slot. A second such insert finds the chain full and must leave nothing behind.
    FlowKey o1 = key_n(11), o2 = key_n(12);
    auto more = colliding_keys(chain_slots + 2, 12, 0x0a0a0a0au);
    FlowKey r1 = more[chain_slots], r2 = more[chain_slots + 1];
    REQUIRE((flow_hash(o1) & 511) != (flow_hash(keys[0]) & 511));
    REQUIRE((flow_hash(o2) & 511) != (flow_hash(keys[0]) & 511));
    Session* s1 = insert(t, o1, &r1);
    REQUIRE(s1);
    const uint32_t size_before = t.size();
    CHECK(insert(t, o2, &r2) == nullptr);
    CHECK(t.size() == size_before);
    CHECK(find(t, o2).session == nullptr);
    CHECK(find(t, r2).session == nullptr);
    CHECK(find(t, r1).session == s1);
    CHECK(find(t, r1).reply);
    // Room again in the chain: the insert succeeds, into the session index the failed one
    // tried. Once erased, nothing of o2 may be left in the index (a leftover entry of the
    // failed attempt would find the freed session again).
    t.erase(find(t, keys[0]).session);  // a free slot in the chain; its session index is next
    FlowKey filler = key_n(13);
    REQUIRE((flow_hash(filler) & 511) != (flow_hash(keys[0]) & 511));
    REQUIRE(insert(t, filler, nullptr));  // takes that index back
    Session* s2 = insert(t, o2, &r2);
    REQUIRE(s2);
    CHECK(find(t, o2).session == s2);
    t.erase(s2);
    CHECK(find(t, o2).session == nullptr);
    CHECK(find(t, r2).session == nullptr);
    CHECK(find(t, r1).session == s1);
}

TEST_CASE("SessionTable: randomized operations agree with std::unordered_map", "[session_table]") {
    struct KeyHash {
        size_t operator()(const FlowKey& k) const { return flow_hash(k, 1); }
    };
    struct Entry {
        Session* s;
        bool reply;
    };
    const uint32_t cap = 2048;
    SessionTable t(cap);
    std::unordered_map<FlowKey, Entry, KeyHash> model;
    std::vector<Session*> live;  // sessions in the table
    std::mt19937_64 rng(20240611);
    auto random_key = [&] {
        // A small key space so finds hit and inserts sometimes collide with live keys.
        uint64_t r = rng();
        return FlowKey(uint32_t(0x0a000000u | (r & 0x3ff)), 0xc0000264u, uint16_t(r >> 10 & 0x7),
                       uint16_t(80 + (r >> 13 & 1)), (r >> 14 & 1) ? 6 : 17);
    };
    size_t inserts = 0, full = 0, erases = 0, hits = 0;
    for (int op = 0; op < 100000; ++op) {
        unsigned what = unsigned(rng() % 10);
        if (what < 4) {  // insert (the caller checks both keys are absent, as the forwarder does)
            FlowKey k = random_key(), r = random_key();
            bool with_reply = rng() & 1;
            if (model.count(k) || (with_reply && (model.count(r) || r == k))) continue;
            Session* s = insert(t, k, with_reply ? &r : nullptr);
            if (live.size() == cap) {
                REQUIRE(s == nullptr);
                ++full;
                continue;
            }
            REQUIRE(s != nullptr);
            ++inserts;
            live.push_back(s);
            model[k] = {s, false};
            if (with_reply) model[r] = {s, true};
        } else if (what < 7) {  // erase a random live session
            if (live.empty()) continue;
            size_t i = size_t(rng() % live.size());
            Session* s = live[i];
            model.erase(s->orig);
            if (s->flags & session_reply_indexed) model.erase(s->reply);
            t.erase(s);
            live[i] = live.back();
            live.pop_back();
            ++erases;
        } else {  // find
            FlowKey k = random_key();
            auto it = model.find(k);
            auto hit = find(t, k);
            if (it == model.end()) {
                REQUIRE(hit.session == nullptr);
            } else {
                ++hits;
                REQUIRE(hit.session == it->second.s);
                REQUIRE(hit.reply == it->second.reply);
            }
        }
        REQUIRE(t.size() == live.size());
    }
    // Every key the model holds is found, with its direction.
    for (const auto& [k, e] : model) {
        auto hit = find(t, k);
        REQUIRE(hit.session == e.s);
        REQUIRE(hit.reply == e.reply);
    }
    // The run exercised what it claims to.
    CHECK(inserts > 10000);
    CHECK(erases > 10000);
    CHECK(hits > 1000);
    CHECK(full > 100);
}

TEST_CASE("SessionTable: memory per session at 1M capacity", "[session_table]") {
    const uint32_t cap = 1u << 20;
    SessionTable t(cap);
    const double per_session = double(t.memory_bytes()) / cap;
    WARN("SessionTable(1M): " << t.memory_bytes() << " bytes mapped, " << per_session << " bytes/session");
    CHECK(per_session <= 256.0);
    CHECK(t.memory_bytes() >= size_t(cap) * sizeof(Session));
    // A full table at this size still finds what it holds.
    uint32_t inserted = 0;
    for (uint32_t i = 0; i < cap; ++i) inserted += insert(t, key_n(i), nullptr) != nullptr;
    REQUIRE(inserted == cap);
    CHECK(t.size() == cap);
    CHECK(insert(t, key_n(cap), nullptr) == nullptr);
    for (uint32_t i = 0; i < cap; i += 4099) CHECK(find(t, key_n(i)).session == t.at(i));
}
