// strerror for failure reasons ("connect: Connection refused"), without strerror's shared
// buffer: the health engine's thread is not the only one in dplb-control.
#pragma once

#include <string.h>

#include <string>

namespace dplb::health::probes {

inline std::string errno_text(int err) {
    char buf[128];
    // GNU strerror_r: returns the message, which may or may not live in buf.
    return ::strerror_r(err, buf, sizeof buf);
}

// "what: message", the form every probe reason takes for a failed system call.
inline std::string syscall_failure(const char* what, int err) { return std::string(what) + ": " + errno_text(err); }

}  // namespace dplb::health::probes
