#include "model/sched_flags.hpp"

#include <array>

namespace dplb::model {

namespace cfg = dplb::config;

namespace {

struct FlagName {
    cfg::SchedFlag flag;
    std::string_view name;
    cfg::Scheduler scheduler;
};

// In bit order, which is the order ipvsadm prints them in.
constexpr std::array<FlagName, 4> flag_names{{
    {cfg::sched_flag_sh_fallback, "sh-fallback", cfg::Scheduler::sh},
    {cfg::sched_flag_sh_port, "sh-port", cfg::Scheduler::sh},
    {cfg::sched_flag_mh_fallback, "mh-fallback", cfg::Scheduler::mh},
    {cfg::sched_flag_mh_port, "mh-port", cfg::Scheduler::mh},
}};

}  // namespace

std::string_view sched_flag_name(cfg::SchedFlag f) {
    for (const auto& n : flag_names)
        if (n.flag == f) return n.name;
    return "?";
}

std::optional<cfg::SchedFlag> parse_sched_flag(std::string_view name) {
    for (const auto& n : flag_names)
        if (n.name == name) return n.flag;
    return std::nullopt;
}

cfg::Scheduler sched_flag_scheduler(cfg::SchedFlag f) {
    for (const auto& n : flag_names)
        if (n.flag == f) return n.scheduler;
    return cfg::Scheduler::sh;
}

uint32_t sched_flags_of(cfg::Scheduler scheduler) {
    uint32_t out = 0;
    for (const auto& n : flag_names)
        if (n.scheduler == scheduler) out |= n.flag;
    return out;
}

std::vector<std::string_view> sched_flag_names(uint32_t flags) {
    std::vector<std::string_view> out;
    for (const auto& n : flag_names)
        if (flags & n.flag) out.push_back(n.name);
    return out;
}

std::string all_sched_flag_names() {
    std::string out;
    for (const auto& n : flag_names) {
        if (!out.empty()) out += ", ";
        out += n.name;
    }
    return out;
}

}  // namespace dplb::model
