// Sockets in a named network namespace (`ip netns add NAME` makes /run/netns/NAME).
//
// A socket belongs for its whole life to the namespace it was created in, so the dataplane
// can watch a kernel twin's addresses (rtnetlink) or send session sync through it after the
// twin was moved into another namespace, without moving the process: the socket is made on a
// short-lived thread that enters the namespace (setns changes only the calling thread).
//
// Threading: stateless; safe from any thread. Not for the fast path (it starts a thread).
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace dplb {

// A name `ip netns` accepts: 1..255 characters, no '/', not "." or "..".
bool valid_netns_name(std::string_view name);

// socket(domain, type, protocol) created in namespace `netns` (empty = the caller's own).
// The caller owns the descriptor. Error names the namespace and errno's text.
model::Result<int> socket_in_netns(const std::string& netns, int domain, int type, int protocol);

}  // namespace dplb
