// Constants shared by the processes that talk over dplb's sockets.
//
// Framing on every dplb socket: one JSON object per line (UTF-8, no raw newline inside the
// object, '\n' terminates it). A line longer than the receiver's limit is answered with an
// error and the connection is closed. docs/api.md lists every request.
#pragma once

#include <cstddef>

namespace dplb::api {

// Operators' socket, served by dplb-control.
inline constexpr const char* default_control_socket = "/run/dplb/control.sock";
// Internal socket, served by dplb-dataplane, used only by dplb-control.
inline constexpr const char* default_dataplane_socket = "/run/dplb/dataplane.sock";
// Where dplb-control keeps the accepted configuration.
inline constexpr const char* default_state_file = "/var/lib/dplb/config.json";

// Large enough for 10,000 services x 8 real servers in JSON (~8 MB) with room to spare.
inline constexpr std::size_t default_max_message_bytes = 64u << 20;

}  // namespace dplb::api
