// The addresses of the kernel twins in one network namespace, as KernelAddressWatch learns
// them from one rtnetlink socket: a RTM_GETADDR dump, merged with the announcements that
// arrive while it runs, replaces the table at its NLMSG_DONE. Pure state, no socket: the
// watch sends the requests and feeds the parsed datagrams in; unit-tested on crafted events.
//
// One dump at a time. The kernel runs one dump per socket and answers a second request with
// -EBUSY while the first goes on; so a resync wanted during a dump (events lost: ENOBUFS) is
// remembered and its dump asked for after the running one's NLMSG_DONE, and a request the
// kernel refused (any error answer while a dump is asked for, -EBUSY above all) is asked for
// again. Clearing the table being built while the old dump still runs would let that dump's
// NLMSG_DONE install only what arrived after the clear.
//
// Threading: one thread (KernelAddressWatch's).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "dataplane/runtime/rtnl_addr.hpp"

namespace dplb::runtime {

class RtnlAddrTable {
public:
    using Table = std::map<uint32_t, std::set<uint32_t>>;  // per twin interface: its addresses

    void watch_ifindex(uint32_t ifindex) { ifindexes_.insert(ifindex); }

    // Events were lost (ENOBUFS): a new dump is wanted, now or after the running one.
    void lost_events() { dump_wanted_ = true; }
    // A dump should be asked for now: wanted, and none running.
    bool dump_due() const { return dump_wanted_ && !dump_seq_; }
    // The request with sequence `seq` was sent: the new table starts empty.
    void dump_sent(uint32_t seq);

    // One parsed datagram: its events (of every interface; other ones are ignored), then its
    // outcome. True when the held addresses changed. An error answer while a dump is asked
    // for ends that dump: it is wanted again (the socket sends nothing but dump requests).
    bool apply(const std::vector<AddrEvent>& events, RtnlResult outcome);

    const Table& held() const { return held_; }
    bool synced() const { return synced_; }          // a dump has completed at least once
    bool dumping() const { return dump_seq_ != 0; }  // a dump is running
    uint64_t refused() const { return refused_; }    // dump requests answered with an error

private:
    std::set<uint32_t> ifindexes_;
    uint32_t dump_seq_ = 0;    // the dump in progress, 0 = none
    bool dump_wanted_ = true;  // the first dump
    bool synced_ = false;
    uint64_t refused_ = 0;
    Table held_, fresh_;       // known now; being rebuilt by the dump
};

}  // namespace dplb::runtime
