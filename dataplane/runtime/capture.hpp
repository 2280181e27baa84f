// Packet capture by a DPDK secondary process (Debian's dpdk-dumpcap, or `dplbadm --capture`,
// which runs it; docs/operations.md, "Capturing packets").
//
// rte_pdump_init() registers pdump's handler on the EAL's multi-process channel and nothing
// else: the rx/tx callbacks that copy packets (filtered by the secondary's BPF program) into
// the secondary's ring are installed on a port's queues when a capture asks for it, and
// removed when it ends. With no capture running, the fast path is what it is without pdump.
//
// A secondary process can attach only when the EAL shares its configuration and memory:
// not with --in-memory or --no-shconf (no shared configuration file), --no-huge (anonymous
// memory) or --huge-unlink (the hugepage files are gone): EAL's documentation says each
// "implies no secondary process support". Then capture is unavailable, pdump is not
// initialised, and `status` says why.
//
// Threading: written by the main thread before the workers launch, read-only afterwards.
#pragma once

#include <string>
#include <vector>

namespace dplb::runtime {

struct CaptureSupport {
    bool available = false;
    std::string reason;       // why not, when !available
    std::string file_prefix;  // the EAL's --file-prefix: what dpdk-dumpcap --file-prefix= needs
    std::string runtime_dir;  // /var/run/dpdk/<prefix> (the telemetry socket is there too)
};

// After rte_eal_init, on the main thread. `eal_args`: the arguments EAL was given (for the
// options it cannot be asked about).
CaptureSupport enable_capture(const std::vector<std::string>& eal_args);
// Before rte_eal_cleanup.
void disable_capture(const CaptureSupport&);

}  // namespace dplb::runtime
