// The UDP socket of one sync daemon: multicast (join `group` on `interface`, send to it with
// IP_MULTICAST_IF, TTL `ttl`, our own copies not looped back) or unicast (send to each of
// `peers`), bound to `interface` (SO_BINDTODEVICE) and to `bind_port`, non-blocking.
// Created in the network namespace `netns` when the interface is a kernel twin moved there
// (common/netns.hpp); the interface index is asked of the socket itself (SIOCGIFINDEX), so it
// is the namespace's.
//
// Both states receive: a backup its records, a master the full_table_request of a backup.
//
// Threading: one thread (the sync engine's). Never on a worker: every call is a syscall.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace dplb {

struct SyncSocketParams {
    std::string netns;      // empty: the dataplane's own namespace
    std::string interface;  // empty: none (unicast only; tests)
    uint32_t group = 0;     // network order; multicast when peers is empty
    uint16_t port = 8848;   // destination port (host order)
    uint16_t bind_port = 8848;  // 0: any (tests)
    uint8_t ttl = 1;
    std::vector<uint32_t> peers;  // network order
    // This node's addresses (network order): a datagram from one of them is our own (a peer
    // list naming this node, a looped copy) and is reported as such. The interface's own
    // address is added at open.
    std::vector<uint32_t> own;
};

class SyncSocket {
public:
    static model::Result<SyncSocket> open(const SyncSocketParams& p);
    SyncSocket(SyncSocket&& o) noexcept : fd_(o.fd_), p_(std::move(o.p_)) { o.fd_ = -1; }
    SyncSocket& operator=(SyncSocket&& o) noexcept;
    ~SyncSocket();

    // To the group or to every peer; false if any send failed.
    bool send(std::span<const uint8_t> bytes);
    // Where a received datagram came from. `own`: one of this node's addresses (ignored).
    // `foreign`: with unicast `peers`, any other address than a peer's — the socket is bound
    // to the port's address, which every host on the segment can reach, and a record installs
    // sessions and takes local ports, so only the configured peers are believed (multicast
    // has no such list: keep the group on a segment the directors own, docs/ha.md).
    enum class Source : uint8_t { peer, own, foreign };
    // One datagram into `buf`: its length, 0 when none is waiting, -1 on an error.
    ssize_t receive(uint8_t* buf, size_t cap, Source* source);
    int fd() const { return fd_; }
    uint16_t local_port() const;  // host order (bind_port 0: the one the kernel chose)

private:
    SyncSocket(int fd, SyncSocketParams p) : fd_(fd), p_(std::move(p)) {}
    int fd_ = -1;
    SyncSocketParams p_;
};

}  // namespace dplb
