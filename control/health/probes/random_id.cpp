#include "control/health/probes/random_id.hpp"

#include <sys/random.h>
#include <time.h>

namespace dplb::health::probes {

uint32_t random_u32() {
    uint32_t v = 0;
    if (::getrandom(&v, sizeof v, GRND_NONBLOCK) == ssize_t(sizeof v)) return v;
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    // Not unpredictable, but distinct from one attempt to the next.
    return uint32_t(ts.tv_nsec) ^ uint32_t(ts.tv_sec * 2654435761u);
}

}  // namespace dplb::health::probes
