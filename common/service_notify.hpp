// Readiness and shutdown notifications to the service manager (systemd's Type=notify units,
// dist/systemd/): READY=1 once the process serves, STOPPING=1 when it begins to stop, and a
// STATUS= line `systemctl status` shows. Sent through libsystemd's sd_notify (docs/packaging.md
// says why the library and not a hand-written datagram): a no-op when NOTIFY_SOCKET is unset,
// i.e. whenever the process is not started by systemd (tests, tools/demo, a shell).
//
// Threading: stateless; safe from any thread (each call is one datagram on its own socket).
// Not for the fast path (a syscall per call).
#pragma once

#include <string_view>

#include "common/result.hpp"

namespace dplb::service {

// READY=1 with STATUS=status.
model::Status notify_ready(std::string_view status);
// STOPPING=1 with STATUS=status.
model::Status notify_stopping(std::string_view status);
// STATUS=status alone.
model::Status notify_status(std::string_view status);

}  // namespace dplb::service
