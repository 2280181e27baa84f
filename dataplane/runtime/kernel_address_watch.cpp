#include "dataplane/runtime/kernel_address_watch.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "common/netns.hpp"
#include "dataplane/runtime/rtnl_addr.hpp"

namespace dplb::runtime {

namespace {

std::string err_text(int e) { return std::strerror(e); }

// The index of `ifname` in namespace `netns`: SIOCGIFINDEX answers for the socket's namespace.
model::Result<uint32_t> ifindex_in(const std::string& netns, const std::string& ifname) {
    auto fd = socket_in_netns(netns, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (!fd) return fd.error();
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    const int rc = ::ioctl(*fd, SIOCGIFINDEX, &ifr);
    const int e = errno;
    ::close(*fd);
    if (rc != 0)
        return model::Error{"kernel_twin", "no interface '" + ifname + "' in namespace '" +
                                               (netns.empty() ? std::string("(own)") : netns) + "': " + err_text(e)};
    return uint32_t(ifr.ifr_ifindex);
}

}  // namespace

model::Status move_link_to_netns(const std::string& ifname, const std::string& netns) {
    const std::string what = "cannot move kernel twin '" + ifname + "' into namespace '" + netns + "': ";
    const unsigned index = if_nametoindex(ifname.c_str());
    if (!index) return model::Error{"kernel_twin.netns", what + err_text(errno)};
    const std::string path = "/run/netns/" + netns;
    const int ns = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return model::Error{"kernel_twin.netns", what + "cannot open " + path + ": " + err_text(errno)};
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        ::close(ns);
        return model::Error{"kernel_twin.netns", what + err_text(errno)};
    }
    struct {
        nlmsghdr h;
        ifinfomsg ifi;
        rtattr a;
        uint32_t fd;
    } req{};
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_NEWLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.h.nlmsg_seq = 1;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = int(index);
    // Moving a link takes it down; the same request sets it up in its new namespace (the
    // kernel moves it first, then applies the flags).
    req.ifi.ifi_flags = IFF_UP;
    req.ifi.ifi_change = IFF_UP;
    req.a.rta_type = IFLA_NET_NS_FD;
    req.a.rta_len = sizeof(rtattr) + sizeof(uint32_t);
    req.fd = uint32_t(ns);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    std::string failure;
    if (::sendto(fd, &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) != ssize_t(sizeof req)) {
        failure = err_text(errno);
    } else {
        uint8_t buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        std::vector<AddrEvent> ignored;
        const RtnlResult r = n < 0 ? RtnlResult{RtnlStatus::error, -errno} : parse_rtnl_addr(buf, size_t(n), ignored);
        if (r.status == RtnlStatus::error) failure = err_text(-r.error);
        else if (r.status == RtnlStatus::malformed) failure = "malformed answer from the kernel";
    }
    ::close(fd);
    ::close(ns);
    if (!failure.empty()) return model::Error{"kernel_twin.netns", what + failure};
    return std::nullopt;
}

model::Result<KernelAddressWatch> KernelAddressWatch::open(const std::vector<Twin>& twins) {
    KernelAddressWatch w;
    for (const Twin& t : twins) {
        auto index = ifindex_in(t.netns, t.iface);
        if (!index) return index.error();
        Socket* s = nullptr;
        for (Socket& existing : w.sockets_)
            if (existing.netns == t.netns) s = &existing;
        if (!s) {
            auto fd = socket_in_netns(t.netns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
            if (!fd) return fd.error();
            w.sockets_.push_back(Socket{});
            s = &w.sockets_.back();
            s->fd = *fd;
            s->netns = t.netns;
            // A burst of keepalived's addresses must not overflow it. SO_RCVBUFFORCE (root, as
            // the dataplane runs) passes net.core.rmem_max, which SO_RCVBUF is capped at.
            const int rcvbuf = 1 << 20;
            if (::setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
                ::setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
            sockaddr_nl local{};
            local.nl_family = AF_NETLINK;
            local.nl_groups = RTMGRP_IPV4_IFADDR;
            if (::bind(s->fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
                return model::Error{"kernel_twin", "cannot subscribe to address changes in namespace '" + t.netns +
                                                       "': " + err_text(errno)};
        }
        s->table.watch_ifindex(*index);
    }
    // Subscribed first, dumped second: nothing that changes in between is missed.
    for (Socket& s : w.sockets_)
        if (!w.request_dump(s)) return model::Error{"kernel_twin", "cannot ask for the addresses: " + err_text(errno)};
    return w;
}

KernelAddressWatch::KernelAddressWatch(KernelAddressWatch&& o) noexcept
    : sockets_(std::move(o.sockets_)), seq_(o.seq_), events_(o.events_), resyncs_(o.resyncs_), errors_(o.errors_) {
    o.sockets_.clear();
}

KernelAddressWatch::~KernelAddressWatch() {
    for (Socket& s : sockets_)
        if (s.fd >= 0) ::close(s.fd);
}

bool KernelAddressWatch::request_dump(Socket& s) {
    if (!s.table.dump_due()) return true;
    const uint32_t seq = ++seq_;
    const std::vector<uint8_t> req = rtnl_addr_dump_request(seq);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(s.fd, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) !=
        ssize_t(req.size()))
        return false;  // still due: asked for again at the next poll
    s.table.dump_sent(seq);
    return true;
}

bool KernelAddressWatch::read_socket(Socket& s) {
    bool changed = false;
    alignas(nlmsghdr) uint8_t buf[16384];
    std::vector<AddrEvent> events;
    for (;;) {
        const ssize_t n = ::recv(s.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
            ++errors_;
            // The kernel (or a busy peer moving addresses) can repeat these: rate-limited.
            log::Logger{}.limited(log::Level::warning, errno == ENOBUFS ? "rtnetlink_resync" : "rtnetlink_error",
                                  {{"netns", s.netns}, {"call", "recv"}, {"error", std::strerror(errno)}});
            if (errno == ENOBUFS) {  // events were lost: start again from a full dump
                ++resyncs_;
                s.table.lost_events();
                continue;
            }
            break;
        }
        events.clear();
        const RtnlResult r = parse_rtnl_addr(buf, size_t(n), events);
        events_ += events.size();
        changed |= s.table.apply(events, r);
        if (r.status == RtnlStatus::error || r.status == RtnlStatus::malformed) {
            ++errors_;
            log::Logger{}.limited(log::Level::warning, "rtnetlink_error",
                                  {{"netns", s.netns},
                                   {"call", "parse"},
                                   {"error", r.status == RtnlStatus::error ? std::strerror(-r.error) : "malformed message"}});
        }
    }
    // A dump wanted (lost events, a refused request) and none running: now.
    if (!request_dump(s)) {
        ++errors_;
        log::Logger{}.limited(log::Level::warning, "rtnetlink_error",
                              {{"netns", s.netns}, {"call", "sendto"}, {"error", std::strerror(errno)}});
    }
    return changed;
}

bool KernelAddressWatch::poll() {
    bool changed = false;
    for (Socket& s : sockets_) changed |= read_socket(s);
    return changed;
}

std::vector<uint32_t> KernelAddressWatch::addresses() const {
    std::set<uint32_t> all;
    for (const Socket& s : sockets_)
        for (const auto& [index, addrs] : s.table.held()) all.insert(addrs.begin(), addrs.end());
    return {all.begin(), all.end()};
}

bool KernelAddressWatch::synced() const {
    for (const Socket& s : sockets_)
        if (!s.table.synced()) return false;
    return true;
}

}  // namespace dplb::runtime
