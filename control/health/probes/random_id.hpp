// Identifiers an answer must echo (DNS query id, ICMP echo id and sequence): unpredictable,
// so a stale or spoofed answer does not pass for the current attempt's. getrandom(2) never
// blocks once the kernel's pool is initialised, which it is long before dplb-control runs;
// GRND_NONBLOCK makes sure of it, with a clock-based fallback.
#pragma once

#include <cstdint>

namespace dplb::health::probes {

uint32_t random_u32();

}  // namespace dplb::health::probes
