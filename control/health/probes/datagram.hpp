// The two socket steps the datagram probes (UDP_CHECK, PING_CHECK, DNS_CHECK) share on their
// connected, non-blocking sockets: one request out whole, one answer in.
//
// Threading: plain functions on the caller's socket.
#pragma once

#include <errno.h>
#include <sys/socket.h>

#include <cstddef>
#include <optional>
#include <string>

#include "control/health/probes/errno_text.hpp"

namespace dplb::health::probes {

// Sends the datagram; the failure reason if it did not leave whole.
inline std::optional<std::string> send_datagram(int fd, const void* data, std::size_t size) {
    ssize_t n = ::send(fd, data, size, 0);
    if (n == ssize_t(size)) return std::nullopt;
    return n < 0 ? syscall_failure("send", errno) : std::string("send: short write");
}

struct DatagramRead {
    std::size_t size = 0;           // the datagram's length (its real one with MSG_TRUNC)
    bool nothing = false;           // none waiting (EAGAIN): wait for the next event
    std::optional<std::string> error;  // recv failed (ECONNREFUSED: an ICMP port unreachable)
};

// Reads one datagram (retrying EINTR).
inline DatagramRead recv_datagram(int fd, void* buffer, std::size_t size, int flags = 0) {
    for (;;) {
        ssize_t n = ::recv(fd, buffer, size, flags);
        if (n >= 0) return DatagramRead{std::size_t(n), false, std::nullopt};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return DatagramRead{0, true, std::nullopt};
        return DatagramRead{0, false, syscall_failure("recv", errno)};
    }
}

}  // namespace dplb::health::probes
