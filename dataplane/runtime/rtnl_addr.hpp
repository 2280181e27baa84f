// rtnetlink's IPv4 address messages (RTM_NEWADDR / RTM_DELADDR), as bytes: the request that
// dumps every address, and the parser of what the kernel sends back or announces to the
// RTMGRP_IPV4_IFADDR group. Pure functions over buffers, unit-tested on crafted messages;
// the sockets are KernelAddressWatch's (kernel_address_watch.hpp).
//
// Threading: stateless.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dplb::runtime {

struct AddrEvent {
    bool added = false;      // RTM_NEWADDR (true) or RTM_DELADDR
    uint32_t ifindex = 0;
    uint32_t addr_be = 0;    // IFA_LOCAL (the interface's own address), else IFA_ADDRESS
    uint8_t prefixlen = 0;
};

enum class RtnlStatus : uint8_t {
    more,       // the datagram held events (or nothing of interest); a dump goes on
    done,       // NLMSG_DONE: the end of a dump
    error,      // NLMSG_ERROR with a non-zero error (`error` holds -errno); 0 is an ACK: `more`
    malformed,  // a header or attribute runs past the datagram or its message
};

struct RtnlResult {
    RtnlStatus status = RtnlStatus::more;
    int error = 0;
};

// Appends to `out` the IPv4 address events of one datagram (`len` bytes), in order. Other
// families and message types are skipped. Stops at the first NLMSG_DONE, error or malformed
// message; events before it are kept.
RtnlResult parse_rtnl_addr(const uint8_t* buf, size_t len, std::vector<AddrEvent>& out);

// RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, family AF_INET, sequence `seq`.
std::vector<uint8_t> rtnl_addr_dump_request(uint32_t seq);

}  // namespace dplb::runtime
