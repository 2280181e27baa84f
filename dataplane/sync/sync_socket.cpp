#include "dataplane/sync/sync_socket.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/netns.hpp"

namespace dplb {

namespace {

model::Error sys_error(const std::string& what, const std::string& iface = {}) {
    return model::Error{"sync socket", what + (iface.empty() ? "" : " " + iface) + ": " + std::strerror(errno)};
}

sockaddr_in address(uint32_t addr_be, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = addr_be;
    a.sin_port = htons(port);
    return a;
}

}  // namespace

model::Result<SyncSocket> SyncSocket::open(const SyncSocketParams& p) {
    auto created = socket_in_netns(p.netns, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!created) return created.error();
    SyncSocket s(*created, p);  // closes the descriptor on every error below
    const int fd = s.fd_;
    const int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return sys_error("SO_REUSEADDR");
    int ifindex = 0;
    if (!p.interface.empty()) {
        ifreq ifr{};
        if (p.interface.size() >= sizeof ifr.ifr_name)
            return model::Error{"sync socket", "interface name '" + p.interface + "' is too long"};
        std::strncpy(ifr.ifr_name, p.interface.c_str(), sizeof ifr.ifr_name - 1);
        if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) return sys_error("no interface", p.interface);
        ifindex = ifr.ifr_ifindex;
        ifreq addr{};
        std::strncpy(addr.ifr_name, p.interface.c_str(), sizeof addr.ifr_name - 1);
        addr.ifr_addr.sa_family = AF_INET;
        if (ioctl(fd, SIOCGIFADDR, &addr) == 0)  // none yet is fine: only the peers' messages arrive
            s.p_.own.push_back(reinterpret_cast<const sockaddr_in*>(&addr.ifr_addr)->sin_addr.s_addr);
        if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p.interface.c_str(), socklen_t(p.interface.size())) != 0)
            return sys_error("SO_BINDTODEVICE", p.interface);
    }
    const bool multicast = p.peers.empty();
    // Multicast: bound to the group, so only its datagrams arrive.
    sockaddr_in local = address(multicast ? p.group : htonl(INADDR_ANY), p.bind_port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return sys_error("bind");
    if (multicast) {
        ip_mreqn m{};
        m.imr_multiaddr.s_addr = p.group;
        m.imr_ifindex = ifindex;
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0)
            return sys_error("IP_ADD_MEMBERSHIP on", p.interface);
        ip_mreqn out{};
        out.imr_ifindex = ifindex;
        if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out) != 0)
            return sys_error("IP_MULTICAST_IF", p.interface);
        const int ttl = p.ttl, loop = 0;
        if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0) return sys_error("IP_MULTICAST_TTL");
        if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0)
            return sys_error("IP_MULTICAST_LOOP");
    } else {
        const int ttl = p.ttl;
        if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) != 0) return sys_error("IP_TTL");
    }
    return s;
}

SyncSocket& SyncSocket::operator=(SyncSocket&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        p_ = std::move(o.p_);
        o.fd_ = -1;
    }
    return *this;
}

SyncSocket::~SyncSocket() {
    if (fd_ >= 0) ::close(fd_);
}

bool SyncSocket::send(std::span<const uint8_t> bytes) {
    bool ok = true;
    auto to = [&](uint32_t addr) {
        sockaddr_in a = address(addr, p_.port);
        if (::sendto(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&a), sizeof a) !=
            ssize_t(bytes.size()))
            ok = false;
    };
    if (p_.peers.empty())
        to(p_.group);
    else
        for (uint32_t peer : p_.peers) to(peer);
    return ok;
}

uint16_t SyncSocket::local_port() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
    return ntohs(a.sin_port);
}

ssize_t SyncSocket::receive(uint8_t* buf, size_t cap, Source* source) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd_, buf, cap, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    const uint32_t src = from.sin_addr.s_addr;
    *source = Source::peer;
    if (std::find(p_.own.begin(), p_.own.end(), src) != p_.own.end())
        *source = Source::own;
    else if (!p_.peers.empty() && std::find(p_.peers.begin(), p_.peers.end(), src) == p_.peers.end())
        *source = Source::foreign;
    if (n >= 0) return n;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

}  // namespace dplb
