// The one way every network probe opens its socket: non-blocking and close-on-exec from the
// start (SOCK_NONBLOCK | SOCK_CLOEXEC: a MISC_CHECK forked meanwhile inherits nothing),
// bound first when the checker names bindto / bind_port (keepalived binds before connecting
// so the real server sees the source it expects), then connected without waiting.
//
// Threading: plain functions.
#pragma once

#include <netinet/in.h>

#include <string>

#include "control/health/probe.hpp"
#include "control/health/probes/unique_fd.hpp"

namespace dplb::health::probes {

enum class ConnectState : uint8_t {
    connected,    // usable now (datagram sockets always; a stream socket whose connect completed)
    in_progress,  // stream socket: wait for EPOLLOUT, then call connect_outcome()
    failed,       // `error` says why ("connect: Connection refused", "bind 10.0.0.9:0: ...")
};

struct Connecting {
    UniqueFd fd;  // closed when failed
    ConnectState state = ConnectState::failed;
    std::string error;
};

// socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol), bind, connect.
Connecting connect_to(int type, int protocol, const ProbeTarget& target);

// The two halves of connect_to, for a probe that picks its socket kind by what the kernel
// allows (PING_CHECK): open_socket sets `err` (an errno) when it fails.
UniqueFd open_socket(int type, int protocol, int& err);
Connecting bind_and_connect(UniqueFd fd, int type, const ProbeTarget& target);

// After a connecting stream socket reported EPOLLOUT/ERR/HUP: SO_ERROR says how it went.
// in_progress when the wake-up was early (the engine may report spurious readiness).
ConnectState connect_outcome(int fd, std::string& error);

sockaddr_in to_sockaddr(Ip4 address, uint16_t port);

}  // namespace dplb::health::probes
