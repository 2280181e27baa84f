// The merge of a RTM_GETADDR dump with the announcements around it (RtnlAddrTable), fed the
// events the parser would hand over: one dump at a time, a resync wanted during a dump waits
// for its NLMSG_DONE, a refused request (-EBUSY) is asked for again.
#include <cerrno>
#include <vector>

#include <catch2/catch.hpp>

#include "dataplane/runtime/rtnl_addr_table.hpp"

using namespace dplb::runtime;

namespace {

constexpr uint32_t twin = 7, other = 9;
constexpr uint32_t vip1 = 0x6401a8c0, vip2 = 0x6501a8c0, vip3 = 0x6601a8c0;  // 192.168.1.100..102

AddrEvent add(uint32_t addr, uint32_t ifindex = twin) { return AddrEvent{true, ifindex, addr, 32}; }
AddrEvent del(uint32_t addr, uint32_t ifindex = twin) { return AddrEvent{false, ifindex, addr, 32}; }
const RtnlResult more{RtnlStatus::more, 0};
const RtnlResult done{RtnlStatus::done, 0};

std::set<uint32_t> held(const RtnlAddrTable& t) {
    auto it = t.held().find(twin);
    return it == t.held().end() ? std::set<uint32_t>{} : it->second;
}

// A table whose first dump found `addrs`.
RtnlAddrTable synced_with(std::vector<AddrEvent> addrs) {
    RtnlAddrTable t;
    t.watch_ifindex(twin);
    REQUIRE(t.dump_due());
    t.dump_sent(1);
    t.apply(addrs, more);
    t.apply({}, done);
    REQUIRE(t.synced());
    return t;
}

}  // namespace

TEST_CASE("rtnl table: the first dump, then announcements; other interfaces ignored", "[rtnl]") {
    RtnlAddrTable t;
    t.watch_ifindex(twin);
    CHECK_FALSE(t.synced());
    REQUIRE(t.dump_due());
    t.dump_sent(1);
    CHECK_FALSE(t.dump_due());
    // Applied to what is known at once, and to the table the dump builds.
    CHECK(t.apply({add(vip1), add(vip3, other)}, more));
    CHECK_FALSE(t.synced());
    CHECK_FALSE(t.apply({}, done));  // the dump found what was known
    CHECK(t.synced());
    CHECK(held(t) == std::set<uint32_t>{vip1});
    CHECK(t.held().count(other) == 0);
    CHECK(t.apply({add(vip2)}, more));
    CHECK(t.apply({del(vip1)}, more));
    CHECK_FALSE(t.apply({del(vip1)}, more));  // already gone: no change
    CHECK(held(t) == std::set<uint32_t>{vip2});
}

TEST_CASE("rtnl table: an announcement during a dump is kept in the new table", "[rtnl]") {
    RtnlAddrTable t = synced_with({add(vip1)});
    t.lost_events();
    REQUIRE(t.dump_due());
    t.dump_sent(2);
    t.apply({add(vip1)}, more);  // the dump's part
    t.apply({add(vip2)}, more);  // announced meanwhile, after the dump passed its place
    t.apply({}, done);
    CHECK(held(t) == std::set<uint32_t>{vip1, vip2});
}

TEST_CASE("rtnl table: events lost during a dump: the new dump starts after its DONE, nothing is dropped",
          "[rtnl]") {
    RtnlAddrTable t = synced_with({add(vip1), add(vip2)});
    t.lost_events();
    t.dump_sent(2);
    t.apply({add(vip1), add(vip2)}, more);  // the running dump has delivered both
    t.lost_events();                        // ENOBUFS mid-dump
    CHECK_FALSE(t.dump_due());              // the kernel would answer -EBUSY: wait for DONE
    t.apply({add(vip3)}, more);
    t.apply({}, done);
    // Before the fix the table was cleared at ENOBUFS and this DONE installed {vip3} alone.
    CHECK(held(t) == std::set<uint32_t>{vip1, vip2, vip3});
    CHECK(t.dump_due());  // the resync wanted during the dump
    t.dump_sent(3);
    t.apply({add(vip1), add(vip3)}, more);  // vip2 was deleted while its event was lost
    CHECK(t.apply({}, done));
    CHECK(held(t) == std::set<uint32_t>{vip1, vip3});
    CHECK_FALSE(t.dump_due());
}

TEST_CASE("rtnl table: a refused dump request (-EBUSY) keeps the table and is asked for again", "[rtnl]") {
    RtnlAddrTable t = synced_with({add(vip1), add(vip2)});
    t.lost_events();
    t.dump_sent(2);
    CHECK_FALSE(t.apply({}, RtnlResult{RtnlStatus::error, -EBUSY}));
    CHECK(t.refused() == 1);
    CHECK_FALSE(t.dumping());
    CHECK(held(t) == std::set<uint32_t>{vip1, vip2});
    REQUIRE(t.dump_due());
    t.dump_sent(3);
    t.apply({add(vip2)}, more);
    CHECK(t.apply({}, done));
    CHECK(held(t) == std::set<uint32_t>{vip2});
}
