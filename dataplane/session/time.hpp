// The fast path's clock: milliseconds in a wrapping 32-bit counter. Workers read it once per
// burst and pass it down, so session code is deterministic under test.
#pragma once

#include <cstdint>

namespace dplb {

using Tick = uint32_t;  // milliseconds, wraps every ~49 days

// a is later than b (valid while they are less than ~24 days apart).
constexpr bool tick_after(Tick a, Tick b) { return int32_t(a - b) > 0; }
constexpr bool tick_reached(Tick now, Tick deadline) { return int32_t(now - deadline) >= 0; }

}  // namespace dplb
