// Where a MISC_CHECK child goes when its probe gives up on it. The probe sends SIGKILL to
// the script's process group on timeout, but death is asynchronous (a process in
// uninterruptible sleep dies when the sleep ends) and the probe must let go at once: the
// pid is handed over here, and reap_children() (probe.hpp), which the health engine calls
// from run_due(), collects it with waitpid(WNOHANG) once it has died. No zombie outlives
// its next reap_children() after its death.
//
// This list is the one piece of global mutable state of the probes; a mutex guards it, so
// any thread may hand over or reap (the engine does both from its own thread).
#pragma once

#include <sys/types.h>

namespace dplb::health::probes {

// Takes a child that was already sent SIGKILL; reaps it now if it is already dead.
void hand_to_reaper(pid_t pid);

}  // namespace dplb::health::probes
