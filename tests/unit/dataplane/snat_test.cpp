// SNAT ports: LocalPortPool (ownership, bounds, exhaustion, next-fit, accounting) and
// LocalAddressRegistry (ids, collect).
#include <catch2/catch.hpp>
#include <set>
#include <unordered_set>
#include <vector>

#include "dataplane/session/session.hpp"
#include "dataplane/snat/local_address_registry.hpp"
#include "dataplane/snat/local_port_pool.hpp"
#include "dataplane/snat/port_owner.hpp"

using namespace dplb;

namespace {

// Everything the pool hands out until it says 0.
std::vector<uint16_t> drain(LocalPortPool& p) {
    std::vector<uint16_t> out;
    for (uint16_t port; (port = p.acquire()) != 0;) {
        out.push_back(port);
        REQUIRE(out.size() <= 65536);
    }
    return out;
}

}  // namespace

TEST_CASE("LocalPortPool: each worker gets exactly its ports of the range, once each", "[snat]") {
    struct Range {
        uint16_t first, last;
        unsigned nworkers;
    };
    const Range ranges[] = {
        {1024, 65535, 1}, {1024, 65535, 4}, {1025, 1030, 3}, {5000, 5000, 2}, {5000, 5001, 2},
        {60000, 65535, 7}, {2000, 2063, 1}, {2000, 2064, 1}, {10, 9, 1},  // empty range
    };
    for (const auto& r : ranges) {
        std::set<uint16_t> seen;
        size_t total = 0;
        for (unsigned w = 0; w < r.nworkers; ++w) {
            INFO("range " << r.first << "-" << r.last << " worker " << w << "/" << r.nworkers);
            LocalPortPool p(r.first, r.last, w, r.nworkers);
            auto ports = drain(p);
            CHECK(ports.size() == p.size());
            CHECK(p.in_use() == p.size());
            CHECK(p.acquire() == 0);  // still exhausted
            for (uint16_t port : ports) {
                CHECK(port >= r.first);
                CHECK(port <= r.last);
                CHECK(port % r.nworkers == w);
                CHECK(local_port_owner(port, r.nworkers) == w);
                CHECK(seen.insert(port).second);
            }
            // In increasing order on first use.
            CHECK(std::is_sorted(ports.begin(), ports.end()));
            total += ports.size();
        }
        INFO("range " << r.first << "-" << r.last << " over " << r.nworkers << " workers");
        CHECK(total == (r.last >= r.first ? size_t(r.last - r.first + 1) : 0));
    }
}

TEST_CASE("LocalPortPool: exhaustion after exactly size() acquisitions, release and reacquire", "[snat]") {
    LocalPortPool p(1000, 1099, 1, 4);  // 1001, 1005, ..., 1097: 25 ports
    CHECK(p.size() == 25);
    std::vector<uint16_t> got;
    for (uint32_t i = 0; i < p.size(); ++i) {
        uint16_t port = p.acquire();
        REQUIRE(port != 0);
        got.push_back(port);
        CHECK(p.in_use() == i + 1);
    }
    CHECK(got.front() == 1001);
    CHECK(got.back() == 1097);
    CHECK(p.acquire() == 0);
    CHECK(p.in_use() == 25);
    p.release(1041);
    CHECK(p.in_use() == 24);
    CHECK(p.acquire() == 1041);  // the only free one
    CHECK(p.acquire() == 0);
    // Releasing what is not held changes nothing.
    p.release(1041);
    p.release(1041);
    CHECK(p.in_use() == 24);
    CHECK(p.acquire() == 1041);
    CHECK(p.in_use() == 25);
}

TEST_CASE("LocalPortPool: ports outside the worker's share are ignored by release()", "[snat]") {
    LocalPortPool p(1000, 1099, 1, 4);
    auto all = drain(p);
    REQUIRE(all.size() == 25);
    for (uint16_t foreign : {uint16_t(0), uint16_t(999), uint16_t(1000), uint16_t(1002), uint16_t(1003),
                             uint16_t(1042), uint16_t(1100), uint16_t(1101), uint16_t(65535)}) {
        INFO("port " << foreign);
        p.release(foreign);
        CHECK(p.in_use() == 25);
        CHECK(p.acquire() == 0);
    }
}

TEST_CASE("LocalPortPool: next-fit, a released port comes back only after the others", "[snat]") {
    LocalPortPool p(2000, 2199, 0, 1);  // 200 ports: several bitmap words
    std::vector<uint16_t> first;
    for (int i = 0; i < 10; ++i) first.push_back(p.acquire());
    CHECK(first.front() == 2000);
    CHECK(first.back() == 2009);
    p.release(2003);
    p.release(2000);
    // The cursor goes on from 2010, through the end of the range, then wraps.
    for (uint16_t want = 2010; want <= 2199; ++want) REQUIRE(p.acquire() == want);
    CHECK(p.acquire() == 2000);
    CHECK(p.acquire() == 2003);
    CHECK(p.acquire() == 0);
    // Release two in different words; next-fit continues from after 2003.
    p.release(2150);
    p.release(2070);
    p.release(2001);
    CHECK(p.in_use() == 197);
    CHECK(p.acquire() == 2070);
    CHECK(p.acquire() == 2150);
    CHECK(p.acquire() == 2001);
    CHECK(p.in_use() == 200);
}

TEST_CASE("LocalPortPool: a two-port range", "[snat]") {
    LocalPortPool p(40000, 40001, 0, 1);
    CHECK(p.size() == 2);
    CHECK(p.acquire() == 40000);
    CHECK(p.acquire() == 40001);
    CHECK(p.acquire() == 0);
    p.release(40000);
    CHECK(p.acquire() == 40000);
    p.release(40001);
    p.release(40000);
    CHECK(p.in_use() == 0);
    CHECK(p.acquire() == 40001);  // next-fit: the cursor was past 40000
}

TEST_CASE("LocalAddressRegistry: ids, pools per worker, collect", "[snat]") {
    LocalAddressRegistry reg(2, 5000, 5009);
    const uint32_t a = 0x0100000a, b = 0x0200000a, c = 0x0300000a;  // 10.0.0.1/2/3 in network order
    uint16_t ia = reg.acquire(a);
    uint16_t ib = reg.acquire(b);
    CHECK(ia == 0);
    CHECK(ib == 1);
    CHECK(reg.acquire(a) == ia);  // same address, same id
    CHECK(reg.size() == 2);
    REQUIRE(reg.entry(ia));
    CHECK(reg.entry(ia)->address() == a);
    CHECK(reg.entry(ib)->address() == b);
    CHECK(reg.entry(2) == nullptr);
    // One pool per worker over the registry's range.
    CHECK(reg.entry(ia)->pool(0).size() == 5);
    CHECK(reg.entry(ia)->pool(1).size() == 5);
    CHECK(reg.entry(ia)->pool(1).acquire() == 5001);
    CHECK(reg.entry(ia)->in_use() == 1);

    // a holds a port, b is still referenced, c is neither: only c goes.
    uint16_t ic = reg.acquire(c);
    CHECK(ic == 2);
    reg.collect({b});
    CHECK(reg.size() == 2);
    CHECK(reg.entry(ia) != nullptr);
    CHECK(reg.entry(ib) != nullptr);
    CHECK(reg.entry(ic) == nullptr);
    // b unreferenced and idle: freed; a survives until its port comes back.
    reg.collect({});
    CHECK(reg.size() == 1);
    CHECK(reg.entry(ib) == nullptr);
    REQUIRE(reg.entry(ia) != nullptr);
    reg.entry(ia)->pool(1).release(5001);
    CHECK(reg.entry(ia)->in_use() == 0);
    reg.collect({});
    CHECK(reg.size() == 0);
    CHECK(reg.entry(ia) == nullptr);
    // Freed ids are reused, and a re-added address gets a fresh entry with empty pools.
    std::set<uint16_t> reused = {reg.acquire(c), reg.acquire(a), reg.acquire(b)};
    CHECK(reused == std::set<uint16_t>{0, 1, 2});
    CHECK(reg.entry(reg.acquire(a))->in_use() == 0);
}

TEST_CASE("LocalAddressRegistry: all ids taken -> no_laddr", "[snat]") {
    LocalAddressRegistry reg(1, 5000, 5000);
    uint32_t in_order = 0;
    for (uint32_t i = 0; i < LocalAddressRegistry::max_ids; ++i) in_order += reg.acquire(0x0a000000u + i) == i;
    CHECK(in_order == LocalAddressRegistry::max_ids);
    CHECK(reg.size() == LocalAddressRegistry::max_ids);
    CHECK(reg.acquire(0x0b000000u) == no_laddr);
    CHECK(reg.acquire(0x0a000005u) == 5);  // existing ones still resolve
    reg.collect({});
    CHECK(reg.size() == 0);
    CHECK(reg.acquire(0x0b000000u) != no_laddr);
}
