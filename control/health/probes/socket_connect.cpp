#include "control/health/probes/socket_connect.hpp"

#include <errno.h>
#include <sys/socket.h>

#include "control/health/probes/errno_text.hpp"

namespace dplb::health::probes {

sockaddr_in to_sockaddr(Ip4 address, uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = address.be;
    sa.sin_port = htons(port);
    return sa;
}

UniqueFd open_socket(int type, int protocol, int& err) {
    UniqueFd fd(::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol));
    err = fd ? 0 : errno;
    return fd;
}

Connecting connect_to(int type, int protocol, const ProbeTarget& target) {
    int err = 0;
    UniqueFd fd = open_socket(type, protocol, err);
    if (!fd) {
        Connecting c;
        c.error = syscall_failure("socket", err);
        return c;
    }
    return bind_and_connect(std::move(fd), type, target);
}

Connecting bind_and_connect(UniqueFd fd, int type, const ProbeTarget& target) {
    Connecting c;
    c.fd = std::move(fd);
    if (target.bind_address || target.bind_port) {
        if (target.bind_port) {
            // A fixed source port is reused by every attempt: let bind() take it while the
            // previous attempt's connection lingers, and (below) reset rather than close
            // gracefully so no TIME_WAIT pins the 4-tuple (keepalived's "free the tcp port").
            int on = 1;
            ::setsockopt(c.fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
            if (type == SOCK_STREAM) {
                linger li{1, 0};
                ::setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &li, sizeof li);
            }
        }
        Ip4 from = target.bind_address.value_or(Ip4{});
        sockaddr_in local = to_sockaddr(from, target.bind_port.value_or(0));
        if (::bind(c.fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
            int err = errno;
            c.fd.reset();
            c.error = "bind " + from.str() + ":" + std::to_string(target.bind_port.value_or(0)) + ": " + errno_text(err);
            return c;
        }
    }
    sockaddr_in remote = to_sockaddr(target.address, target.port);
    if (::connect(c.fd.get(), reinterpret_cast<const sockaddr*>(&remote), sizeof remote) == 0) {
        c.state = ConnectState::connected;
    } else if (errno == EINPROGRESS) {
        c.state = ConnectState::in_progress;
    } else {
        int err = errno;
        c.fd.reset();
        c.error = syscall_failure("connect", err);
    }
    return c;
}

ConnectState connect_outcome(int fd, std::string& error) {
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
    if (so_error == 0) {
        // SO_ERROR is 0 both when connected and while still connecting: ask the peer.
        sockaddr_in peer{};
        socklen_t plen = sizeof peer;
        if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0) return ConnectState::connected;
        if (errno == ENOTCONN) return ConnectState::in_progress;
        so_error = errno;
    }
    if (so_error == EINPROGRESS || so_error == EALREADY) return ConnectState::in_progress;
    error = syscall_failure("connect", so_error);
    return ConnectState::failed;
}

}  // namespace dplb::health::probes
