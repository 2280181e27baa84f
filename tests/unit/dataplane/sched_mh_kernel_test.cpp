// mh against the Linux kernel's ip_vs_mh: the permutation (offset, skip), the turns, the
// whole filled table and client lookups of a few fixed server sets, as computed by an
// independent Python re-implementation of the kernel's code (tests/unit/sched/
// mh_reference.py, which wrote mh_kernel_expected.hpp). The property tests of
// sched_mh_test.cpp cannot see an off-by-one in an offset; these do.
#include <arpa/inet.h>

#include <catch2/catch.hpp>

#include "dataplane/sched/mh_table.hpp"
#include "mh_kernel_expected.hpp"
#include "sched_fixture.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

uint32_t addr_be(const char* a) {
    in_addr x{};
    REQUIRE(inet_pton(AF_INET, a, &x) == 1);
    return x.s_addr;
}

uint64_t fnv1a(const std::vector<uint16_t>& t) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint16_t v : t)
        for (uint8_t byte : {uint8_t(v & 0xff), uint8_t(v >> 8)}) h = (h ^ byte) * 0x100000001b3ULL;
    return h;
}

// A bench whose servers are the case's, in the case's (configuration) order.
SchedBench bench_of(const mh_kernel::Case& c, uint32_t flags) {
    std::vector<uint32_t> weights;
    for (const auto& s : c.servers) weights.push_back(s.weight);
    SchedBench b(config::Scheduler::mh, weights, 1, flags, c.size);
    for (size_t i = 0; i < c.servers.size(); ++i) {
        b.svc.reals[i].addr = addr_be(c.servers[i].addr);
        b.svc.reals[i].port = be_port(c.servers[i].port);
    }
    prepare_scheduler(b.svc, 1);
    return b;
}

}  // namespace

TEST_CASE("mh against the kernel: offset and skip of each server", "[sched][mh][kernel]") {
    for (const auto& c : mh_kernel::cases()) {
        INFO(c.what);
        for (const auto& s : c.servers) {
            INFO(s.addr << ":" << s.port);
            CHECK(mh_hashkey(addr_be(s.addr), s.port, 0, mh_key1) % c.size == s.offset);
            CHECK(mh_hashkey(addr_be(s.addr), s.port, 0, mh_key2) % (c.size - 1) + 1 == s.skip);
        }
    }
}

TEST_CASE("mh against the kernel: turns", "[sched][mh][kernel]") {
    for (const auto& c : mh_kernel::cases()) {
        INFO(c.what);
        std::vector<uint32_t> weights;
        std::vector<int32_t> turns;
        for (const auto& s : c.servers) {
            weights.push_back(s.weight);
            turns.push_back(s.turns);
        }
        CHECK(mh_turns(weights, c.size) == turns);
    }
}

TEST_CASE("mh against the kernel: the filled table, position by position", "[sched][mh][kernel]") {
    for (const auto& c : mh_kernel::cases()) {
        INFO(c.what);
        SchedBench b = bench_of(c, 0);
        const std::vector<uint16_t>& got = b.svc.sched.mh_lookup;
        REQUIRE(got.size() == c.size);
        if (!c.table.empty()) {
            REQUIRE(c.table.size() == c.size);
            size_t differ = 0, first = c.size;
            for (size_t i = 0; i < c.size; ++i)
                if (got[i] != c.table[i]) {
                    ++differ;
                    first = std::min(first, i);
                }
            INFO(differ << " positions differ, the first at " << first);
            CHECK(differ == 0);
        }
        CHECK(fnv1a(got) == c.digest);
    }
}

TEST_CASE("mh against the kernel: where clients land, without and with mh-port", "[sched][mh][kernel]") {
    for (const auto& c : mh_kernel::cases()) {
        INFO(c.what);
        SchedBench plain = bench_of(c, 0);
        SchedBench port = bench_of(c, config::sched_flag_mh_port);
        for (const auto& l : c.lookups) {
            INFO(l.client << " port " << l.port);
            const int want = l.server == mh_none ? -1 : int(l.server);
            if (l.port == 0) CHECK(plain.pick_from(addr_be(l.client), 4321) == want);
            CHECK(port.pick_from(addr_be(l.client), l.port) == want);
        }
    }
}
