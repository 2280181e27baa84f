// The IPv4 addresses of the ports' kernel twins, followed over rtnetlink (docs/ha.md, "VIP
// ownership follows the kernel"): one NETLINK_ROUTE socket per network namespace the twins
// live in, subscribed to RTMGRP_IPV4_IFADDR, a RTM_GETADDR dump at start, then the kernel's
// announcements. Non-blocking: poll() reads what is queued and returns.
//
// If the socket's receive buffer overflowed (ENOBUFS: events were lost), the whole table is
// dumped again and replaces what was known (`resyncs`); one dump at a time per socket, the
// merge of dump and events is RtnlAddrTable's (rtnl_addr_table.hpp).
//
// Also the move of a twin into its namespace (`kernel_twin.netns`), over rtnetlink too.
//
// Threading: one thread (the main lcore after start-up). Not for the fast path.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dataplane/runtime/rtnl_addr_table.hpp"

namespace dplb::runtime {

// Moves interface `ifname` of the caller's namespace into namespace `netns` (/run/netns/NAME)
// and sets it up there (RTM_NEWLINK with IFLA_NET_NS_FD and IFF_UP). Waits for the kernel's
// answer; the error names the interface, the namespace and errno's text.
model::Status move_link_to_netns(const std::string& ifname, const std::string& netns);

class KernelAddressWatch {
public:
    struct Twin {
        std::string iface;
        std::string netns;  // empty: the dataplane's own namespace
    };

    // Opens the sockets, finds every twin's interface index in its namespace, asks for the
    // dumps. Nothing is known until poll() has read them.
    static model::Result<KernelAddressWatch> open(const std::vector<Twin>& twins);
    KernelAddressWatch(KernelAddressWatch&&) noexcept;
    KernelAddressWatch& operator=(KernelAddressWatch&&) = delete;
    ~KernelAddressWatch();

    // Reads every queued message; true when the set of addresses changed.
    bool poll();
    // Every address the twins hold now (network order, ascending, no duplicates).
    std::vector<uint32_t> addresses() const;
    // Every dump has been answered at least once (before that, addresses() may be partial).
    bool synced() const;

    uint64_t events() const { return events_; }    // address messages read
    uint64_t resyncs() const { return resyncs_; }  // dumps redone after lost events
    uint64_t errors() const { return errors_; }    // failed reads, error answers, malformed messages

private:
    struct Socket {
        int fd = -1;
        std::string netns;
        RtnlAddrTable table;  // the twins in this namespace and their addresses
    };
    KernelAddressWatch() = default;
    bool read_socket(Socket& s);
    // Asks for a dump if the table wants one and none runs; false if the request failed.
    bool request_dump(Socket& s);

    std::vector<Socket> sockets_;
    uint32_t seq_ = 0;
    uint64_t events_ = 0, resyncs_ = 0, errors_ = 0;
};

}  // namespace dplb::runtime
