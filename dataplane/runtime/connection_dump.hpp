// `dplbadm -L -c`: the control thread asks each worker for a copy of its sessions.
//
// Workers own their session tables, so nobody else may read them. The control thread posts
// a request with room for `limit` sessions (allocated by it, never by the worker); the worker
// copies at most a chunk per loop iteration, so a large table never stalls forwarding, and
// marks the request done.
//
// Threading: the control thread writes the request while `state` is idle and reads it when
// `state` is done; the owning worker touches it only while `state` is requested.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/session/session.hpp"

namespace dplb::runtime {

struct ConnectionDump {
    enum State : int { idle = 0, requested = 1, done = 2 };
    std::atomic<int> state{idle};
    size_t limit = 0;
    uint32_t cursor = 0;
    bool truncated = false;
    Tick now = 0;                  // the worker's clock when it finished (for expiry times)
    std::vector<Session> sessions;  // capacity reserved to `limit` by the control thread
};

}  // namespace dplb::runtime
