// dplb's DPDK telemetry commands (docs/operations.md, "DPDK telemetry"): /dplb/services,
// /dplb/workers and /dplb/drops, answered beside DPDK's own (/ethdev/stats, ...) on the
// telemetry socket /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2 (dpdk-telemetry.py -f PREFIX).
//
// Threading: the callbacks run on DPDK's telemetry thread, which is not a QSBR reader. They
// answer through ControlServer::handle_shared (`status`) and stats_snapshot_shared (the
// counters /dplb/services reshapes after releasing the mutex), which run under the
// control server's serving mutex: the control thread holds it while it handles a request,
// and only then does it publish or free a snapshot, so the snapshot a callback reads stays
// alive. DPDK 22.11's callbacks take no argument: the server is found through one
// process-wide pointer (guarded by its own mutex), set for the control server's lifetime by
// TelemetryAttachment; without one, a command answers {"error": ...}.
#pragma once

namespace dplb::runtime {

class ControlServer;

// Registers the commands. Main thread, after rte_eal_init; false if DPDK refused one.
bool register_telemetry_commands();

// Telemetry commands are answered by `server` while this object lives (control thread).
class TelemetryAttachment {
public:
    explicit TelemetryAttachment(ControlServer& server);
    ~TelemetryAttachment();
    TelemetryAttachment(const TelemetryAttachment&) = delete;
    TelemetryAttachment& operator=(const TelemetryAttachment&) = delete;
};

}  // namespace dplb::runtime
