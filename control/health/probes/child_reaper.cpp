#include "control/health/probes/child_reaper.hpp"

#include <errno.h>
#include <sys/wait.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "control/health/probe.hpp"

namespace dplb::health {
namespace {

std::mutex& reaper_mutex() {
    static std::mutex m;
    return m;
}

std::vector<pid_t>& orphans() {
    static std::vector<pid_t> pids;
    return pids;
}

// True when `pid` is gone: reaped now, or no longer ours to wait for.
bool collect(pid_t pid) {
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    return r == pid || (r < 0 && errno == ECHILD);
}

}  // namespace

std::size_t reap_children() {
    std::lock_guard lock(reaper_mutex());
    auto& pids = orphans();
    pids.erase(std::remove_if(pids.begin(), pids.end(), collect), pids.end());
    return pids.size();
}

namespace probes {

void hand_to_reaper(pid_t pid) {
    if (collect(pid)) return;
    std::lock_guard lock(reaper_mutex());
    orphans().push_back(pid);
}

}  // namespace probes
}  // namespace dplb::health
