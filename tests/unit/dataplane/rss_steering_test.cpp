// RSS prediction for FULLNAT local ports: RssSteering's hash against DPDK's rte_softrss and
// Microsoft's published verification vectors, its split of a hash into the local port's part,
// the pool's preferring allocation, and the Forwarder choosing local ports whose replies the
// NIC would put on the owning worker's queue (checked with rte_softrss, independently).
#include <rte_thash.h>

#include <random>
#include <set>
#include <vector>

#include "catch_print.hpp"
#include "dataplane/flow/owner.hpp"
#include "dataplane/flow/rss_steering.hpp"
#include "forwarder_fixture.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }

// rte_softrss on a tuple laid out as DPDK documents it (struct rte_ipv4_tuple, host order).
uint32_t dpdk_hash(const uint8_t* key, uint32_t saddr_be, uint32_t daddr_be, uint16_t sport_be, uint16_t dport_be) {
    rte_ipv4_tuple t{};
    t.src_addr = be32(saddr_be);
    t.dst_addr = be32(daddr_be);
    t.sport = be16(sport_be);
    t.dport = be16(dport_be);
    return rte_softrss(reinterpret_cast<uint32_t*>(&t), RTE_THASH_V4_L4_LEN, key);
}

std::vector<uint16_t> round_robin_table(uint16_t size, uint16_t queues) {
    std::vector<uint16_t> t(size);
    for (uint16_t i = 0; i < size; ++i) t[i] = uint16_t(i % queues);
    return t;
}

}  // namespace

TEST_CASE("RssSteering hashes like Microsoft's RSS verification suite (IPv4 with TCP ports)", "[rss]") {
    const std::vector<uint16_t> table = round_robin_table(128, 4);
    RssSteering rss(RssSteering::default_key, table.data(), 128);
    struct Vector {
        const char *src, *dst;
        uint16_t sport, dport;
        uint32_t hash;
    };
    // "Verifying the RSS Hash Calculation", IPv4 with TCP, default key.
    const Vector vectors[] = {
        {"66.9.149.187", "161.142.100.80", 2794, 1766, 0x51ccc178},
        {"199.92.111.2", "65.69.140.83", 14230, 4739, 0xc626b0ea},
        {"24.19.198.95", "12.22.207.184", 12898, 38024, 0x5c2b394a},
        {"38.27.205.30", "209.142.163.6", 48228, 2217, 0xafc7327f},
        {"153.39.163.191", "202.188.127.2", 44251, 1303, 0x10e828a2},
    };
    for (const Vector& v : vectors) {
        INFO(v.src << ":" << v.sport << " -> " << v.dst << ":" << v.dport);
        const uint32_t h = rss.hash(test::ip(v.src), test::ip(v.dst), be16(v.sport), be16(v.dport));
        CHECK(h == v.hash);
        CHECK(dpdk_hash(RssSteering::default_key.data(), test::ip(v.src), test::ip(v.dst), be16(v.sport), be16(v.dport)) == v.hash);
        CHECK(rss.queue(h) == table[h & 127]);
    }
}

TEST_CASE("RssSteering agrees with rte_softrss and splits off the destination port's part", "[rss]") {
    const std::vector<uint16_t> table = round_robin_table(512, 3);
    RssSteering rss(RssSteering::default_key, table.data(), 512);
    // The converted-key variant too, as a second opinion on the byte order.
    uint8_t converted[RssSteering::key_size];
    rte_convert_rss_key(reinterpret_cast<const uint32_t*>(RssSteering::default_key.data()),
                        reinterpret_cast<uint32_t*>(converted), int(RssSteering::key_size));
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        const uint32_t s = rng(), d = rng();
        const uint16_t sp = uint16_t(rng()), dp = uint16_t(rng());
        const uint32_t h = rss.hash(s, d, sp, dp);
        REQUIRE(h == dpdk_hash(RssSteering::default_key.data(), s, d, sp, dp));
        rte_ipv4_tuple t{};
        t.src_addr = be32(s);
        t.dst_addr = be32(d);
        t.sport = be16(sp);
        t.dport = be16(dp);
        REQUIRE(h == rte_softrss_be(reinterpret_cast<uint32_t*>(&t), RTE_THASH_V4_L4_LEN, converted));
        REQUIRE(h == (rss.hash(s, d, sp, 0) ^ rss.dport_part(be16(dp))));
    }
}

TEST_CASE("RssSteering refuses tables a NIC cannot index by the hash's low bits", "[rss]") {
    const std::vector<uint16_t> table = round_robin_table(512, 2);
    CHECK_FALSE(RssSteering(RssSteering::default_key, table.data(), 0).enabled());
    CHECK_FALSE(RssSteering(RssSteering::default_key, table.data(), 100).enabled());
    CHECK(RssSteering(RssSteering::default_key, table.data(), 64).enabled());
    CHECK_FALSE(RssSteering().enabled());
}

TEST_CASE("LocalPortPool::acquire_preferring takes the first wanted port within its budget, else the first free",
          "[rss][snat]") {
    LocalPortPool pool(1000, 1999, 1, 2);  // odd ports: 1001, 1003, ...
    bool matched = false;
    // Wanted: a multiple of 7 (1001 is one): the very first.
    CHECK(pool.acquire_preferring([](uint16_t p) { return p % 7 == 0; }, 8, matched) == 1001);
    CHECK(matched);
    // Next wanted multiple of 7 among odd ports after 1001 is 1015, the 7th candidate.
    CHECK(pool.acquire_preferring([](uint16_t p) { return p % 7 == 0; }, 8, matched) == 1015);
    CHECK(matched);
    // Not within a budget of 3 (1017, 1019, 1021): the first free one, unmatched.
    CHECK(pool.acquire_preferring([](uint16_t p) { return p % 1000 == 999; }, 3, matched) == 1017);
    CHECK_FALSE(matched);
    // Next-fit still: the ports skipped over are handed out afterwards.
    CHECK(pool.acquire() == 1019);
    CHECK(pool.acquire_preferring([](uint16_t) { return false; }, 1000, matched) == 1021);
    CHECK_FALSE(matched);
    CHECK(pool.in_use() == 5);
    // 1003..1013 were skipped by the second call and come back after the cursor wraps.
    std::set<uint16_t> rest;
    for (uint16_t p; (p = pool.acquire());) rest.insert(p);
    CHECK(rest.size() == pool.size() - 5);
    CHECK(rest.count(1003));
    CHECK(pool.acquire_preferring([](uint16_t) { return true; }, 8, matched) == 0);
}

TEST_CASE("FULLNAT local ports are chosen so that replies reach the owning worker's RSS queue", "[rss][fullnat][owner]") {
    for (unsigned n : {2u, 4u})
        for (uint16_t reta_size : {uint16_t(64), uint16_t(128), uint16_t(512)}) {
            const std::vector<uint16_t> table = round_robin_table(reta_size, uint16_t(n));
            const RssSteering rss(RssSteering::default_key, table.data(), reta_size);
            for (unsigned w = 0; w < n; ++w) {
                LbOptions o;
                o.nworkers = n;
                o.worker = w;
                o.rss = &rss;
                o.session_capacity = 4096;
                Lb lb(o);
                unsigned made = 0;
                for (uint16_t cport = 30000; made < 200; ++cport) {
                    FrameSpec syn = client_packet(cport, Net::vip, 80, pkt::tcp_syn);
                    if (lb.owner(syn) != w) continue;  // the worker sees only what it owns
                    Bytes f = build_frame(syn);
                    fwd::Verdict v = lb.send(f, Net::client_port);
                    REQUIRE(v.action == fwd::Verdict::Action::forward);
                    const uint32_t rip = ip_of(f).daddr;
                    const uint16_t lport = be16(tcp_of(f).sport);
                    const uint16_t rport = be16(tcp_of(f).dport);
                    INFO(n << " workers, RETA " << reta_size << ", worker " << w << ", local port " << lport);
                    // The reply RIP:rport -> LIP:lport: owned by w, and the NIC puts it on queue w.
                    CHECK(local_port_owner(lport, n) == w);
                    const uint32_t h = dpdk_hash(RssSteering::default_key.data(), rip, Net::lip, be16(rport), be16(lport));
                    CHECK(table[h & (reta_size - 1)] == w);
                    CHECK(lb.owner(server_packet(rip, rport, Net::lip, lport, pkt::tcp_syn | pkt::tcp_ack)) == w);
                    ++made;
                }
                CHECK(lb.fwd.counters().lports_steered.get() == made);
                CHECK(lb.fwd.counters().lports_unsteered.get() == 0);
                CHECK(lb.fwd.counters().sessions_created_not_owner.get() == 0);
            }
        }
}

TEST_CASE("Without RSS prediction local ports are plain next-fit, and a non-owner's session is counted",
          "[rss][fullnat][owner]") {
    LbOptions o;
    o.nworkers = 2;
    o.worker = 0;
    Lb lb(o);
    uint16_t last = 0;
    unsigned foreign = 0;
    for (uint16_t cport = 30000; cport < 30040; ++cport) {
        FrameSpec syn = client_packet(cport, Net::vip, 80, pkt::tcp_syn);
        if (lb.owner(syn) != 0) ++foreign;  // handed to this worker anyway, as a bug would
        Bytes f = build_frame(syn);
        REQUIRE(lb.send(f, Net::client_port).action == fwd::Verdict::Action::forward);
        const uint16_t lport = be16(tcp_of(f).sport);
        if (last) CHECK(lport == last + 2);
        last = lport;
    }
    CHECK(foreign > 0);
    CHECK(lb.fwd.counters().sessions_created_not_owner.get() == foreign);
    CHECK(lb.fwd.counters().lports_steered.get() == 0);
    CHECK(lb.fwd.counters().lports_unsteered.get() == 0);
}
