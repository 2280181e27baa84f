// Names of the configuration enums, as ipvsadm and docs/api.md spell them.
#include <array>
#include <utility>

#include "dplb/config.hpp"

namespace dplb::config {

namespace {

// One table per enum so printing and parsing can never disagree.
constexpr std::array<std::pair<Protocol, std::string_view>, 2> protocol_names{{
    {Protocol::tcp, "tcp"},
    {Protocol::udp, "udp"},
}};

constexpr std::array<std::pair<ForwardMethod, std::string_view>, 4> forward_names{{
    {ForwardMethod::nat, "nat"},
    {ForwardMethod::fullnat, "fullnat"},
    {ForwardMethod::dr, "dr"},
    {ForwardMethod::tunnel, "tunnel"},
}};

constexpr std::array<std::pair<RealHealth, std::string_view>, 3> health_names{{
    {RealHealth::up, "up"},
    {RealHealth::removed, "removed"},
    {RealHealth::inhibited, "inhibited"},
}};

constexpr std::array<std::pair<SyncState, std::string_view>, 2> sync_state_names{{
    {SyncState::master, "master"},
    {SyncState::backup, "backup"},
}};

// In the order ipvsadm(8) lists them.
constexpr std::array<std::pair<Scheduler, std::string_view>, 13> scheduler_names{{
    {Scheduler::rr, "rr"},
    {Scheduler::wrr, "wrr"},
    {Scheduler::lc, "lc"},
    {Scheduler::wlc, "wlc"},
    {Scheduler::lblc, "lblc"},
    {Scheduler::lblcr, "lblcr"},
    {Scheduler::dh, "dh"},
    {Scheduler::sh, "sh"},
    {Scheduler::sed, "sed"},
    {Scheduler::nq, "nq"},
    {Scheduler::fo, "fo"},
    {Scheduler::ovf, "ovf"},
    {Scheduler::mh, "mh"},
}};

template <class Table, class E>
std::string_view name_of(const Table& table, E value) {
    for (const auto& [v, name] : table)
        if (v == value) return name;
    return "?";
}

template <class Table>
auto value_of(const Table& table, std::string_view name) -> std::optional<typename Table::value_type::first_type> {
    for (const auto& [v, n] : table)
        if (n == name) return v;
    return std::nullopt;
}

}  // namespace

std::string_view to_string(Protocol p) { return name_of(protocol_names, p); }
std::string_view to_string(ForwardMethod f) { return name_of(forward_names, f); }
std::string_view to_string(Scheduler s) { return name_of(scheduler_names, s); }
std::string_view to_string(RealHealth h) { return name_of(health_names, h); }
std::string_view to_string(SyncState s) { return name_of(sync_state_names, s); }

std::string_view ipvsadm_name(ForwardMethod f) {
    switch (f) {
        case ForwardMethod::nat: return "Masq";
        case ForwardMethod::fullnat: return "FullNat";
        case ForwardMethod::dr: return "Route";
        case ForwardMethod::tunnel: return "Tunnel";
    }
    return "?";
}

std::optional<Protocol> parse_protocol(std::string_view s) { return value_of(protocol_names, s); }
std::optional<ForwardMethod> parse_forward(std::string_view s) { return value_of(forward_names, s); }
std::optional<Scheduler> parse_scheduler(std::string_view s) { return value_of(scheduler_names, s); }
std::optional<RealHealth> parse_health(std::string_view s) { return value_of(health_names, s); }
std::optional<SyncState> parse_sync_state(std::string_view s) { return value_of(sync_state_names, s); }

// The dataplane implements every IPVS scheduler and all four forwarding methods.
bool scheduler_supported(Scheduler) { return true; }
bool forward_supported(ForwardMethod) { return true; }

std::string supported_scheduler_names() {
    std::string out;
    for (const auto& [s, name] : scheduler_names) {
        if (!scheduler_supported(s)) continue;
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

}  // namespace dplb::config
