#include "common/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstring>
#include <string>

namespace dplb::service {

namespace {

// head: "READY=1", "STOPPING=1" or empty.
model::Status send(std::string_view head, std::string_view status) {
    // STATUS= is one line: a newline would start another assignment.
    std::string message(head);
    if (!message.empty()) message += '\n';
    message += "STATUS=";
    for (char c : status) message += (c == '\n') ? ' ' : c;
    // unset_environment = 0: STOPPING=1 is sent later through the same NOTIFY_SOCKET. Children
    // (MISC_CHECK scripts) inherit it, but Type=notify's NotifyAccess=main makes systemd
    // ignore what they might send.
    int rc = sd_notify(0, message.c_str());
    if (rc < 0)
        return model::Error{"", "cannot notify the service manager (" + (head.empty() ? std::string("STATUS") : std::string(head)) +
                                    "): " + std::strerror(-rc)};
    return std::nullopt;
}

}  // namespace

model::Status notify_ready(std::string_view status) { return send("READY=1", status); }

model::Status notify_stopping(std::string_view status) { return send("STOPPING=1", status); }

model::Status notify_status(std::string_view status) { return send("", status); }

}  // namespace dplb::service
