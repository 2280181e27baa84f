// The main lcore's housekeeping loop: drains the workers' to_main rings into the neighbour
// manager, announces new VIPs and local addresses with gratuitous ARP when a new snapshot
// appears, handles SIGINT/SIGTERM (signalfd, so no global flag), and sleeps with back-off
// when there is nothing to do.
//
// Threading: main lcore only; reads the config snapshot as QSBR reader `rt.main_rcu_id()`.
#pragma once

#include "dataplane/runtime/runtime.hpp"

namespace dplb::runtime {

// Returns when a stop signal arrives (or rt.stop is set). `signal_fd` is a signalfd for
// SIGINT/SIGTERM, blocked in every thread.
void run_main_loop(Runtime& rt, int signal_fd);

}  // namespace dplb::runtime
