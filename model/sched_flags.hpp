// Names of the scheduler flags (ipvsadm -b / --sched-flags, JSON "sched_flags"), as ipvsadm
// spells them. Each flag belongs to one scheduler: sh-* to sh, mh-* to mh.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dplb/config.hpp"

namespace dplb::model {

inline constexpr uint32_t all_sched_flags = config::sched_flag_sh_fallback | config::sched_flag_sh_port |
                                            config::sched_flag_mh_fallback | config::sched_flag_mh_port;

// "sh-fallback", "sh-port", "mh-fallback", "mh-port".
std::string_view sched_flag_name(config::SchedFlag);
std::optional<config::SchedFlag> parse_sched_flag(std::string_view name);
// The scheduler a flag applies to.
config::Scheduler sched_flag_scheduler(config::SchedFlag);
// The flags that belong to `scheduler` (none for schedulers without flags).
uint32_t sched_flags_of(config::Scheduler scheduler);
// The names of the bits set in `flags`, in bit order (ipvsadm's order: fallback, then port).
std::vector<std::string_view> sched_flag_names(uint32_t flags);
// "sh-fallback, sh-port, mh-fallback, mh-port", for error messages.
std::string all_sched_flag_names();

}  // namespace dplb::model
