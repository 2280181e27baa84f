#include "model/config_diff.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace dplb::model {

namespace {

auto key_tuple(const config::ServiceKey& k) {
    return std::make_tuple(k.fwmark, uint8_t(k.protocol), k.address.host(), k.port);
}
struct KeyLess {
    bool operator()(const config::ServiceKey& a, const config::ServiceKey& b) const { return key_tuple(a) < key_tuple(b); }
};
auto real_tuple(const config::RealServer& r) { return std::make_pair(r.address.host(), r.port); }

void diff_service(const config::Service& from, const config::Service& to, std::vector<Change>& out) {
    const auto& key = to.key;
    for (const Ip4& a : to.local_addresses)
        if (std::find(from.local_addresses.begin(), from.local_addresses.end(), a) == from.local_addresses.end())
            out.push_back(AddLocalAddress{key, a});
    if (!(attributes_of(from) == attributes_of(to))) out.push_back(EditService{attributes_of(to)});

    std::map<std::pair<uint32_t, uint16_t>, const config::RealServer*> old_reals;
    for (const auto& r : from.reals) old_reals[real_tuple(r)] = &r;
    for (const auto& r : to.reals) {
        auto it = old_reals.find(real_tuple(r));
        if (it == old_reals.end()) {
            out.push_back(AddReal{key, r});
            continue;
        }
        if (!(*it->second == r)) out.push_back(EditReal{key, r});
        old_reals.erase(it);
    }
    for (const auto& [addr_port, r] : old_reals) out.push_back(DeleteReal{key, r->address, r->port});

    for (const Ip4& a : from.local_addresses)
        if (std::find(to.local_addresses.begin(), to.local_addresses.end(), a) == to.local_addresses.end())
            out.push_back(DeleteLocalAddress{key, a});
}

const config::SyncDaemon* daemon_of(const std::vector<config::SyncDaemon>& ds, config::SyncState state) {
    for (const auto& d : ds)
        if (d.state == state) return &d;
    return nullptr;
}

// Per state: a daemon that went or changed is stopped, one that came or changed is started
// (a daemon is restarted to change, as with ipvsadm).
void diff_sync_daemons(const std::vector<config::SyncDaemon>& from, const std::vector<config::SyncDaemon>& to,
                       std::vector<Change>& out) {
    for (auto state : {config::SyncState::master, config::SyncState::backup}) {
        const config::SyncDaemon* before = daemon_of(from, state);
        const config::SyncDaemon* after = daemon_of(to, state);
        if (before && after && *before == *after) continue;
        if (before) out.push_back(StopSyncDaemon{state});
        if (after) out.push_back(StartSyncDaemon{*after});
    }
}

}  // namespace

std::optional<std::vector<Change>> diff_config(const config::Config& from, const config::Config& to) {
    if (!(from.port_groups == to.port_groups)) return std::nullopt;
    std::vector<Change> out;
    if (!(from.timeouts == to.timeouts)) out.push_back(SetTimeouts{to.timeouts});

    std::map<config::ServiceKey, const config::Service*, KeyLess> old_services;
    for (const auto& s : from.services) old_services[s.key] = &s;
    std::map<config::ServiceKey, const config::Service*, KeyLess> new_services;
    for (const auto& s : to.services) new_services[s.key] = &s;

    for (const auto& s : from.services)
        if (!new_services.count(s.key)) out.push_back(DeleteService{s.key});
    for (const auto& s : to.services) {
        auto it = old_services.find(s.key);
        if (it != old_services.end() && !(*it->second == s)) diff_service(*it->second, s, out);
    }
    for (const auto& s : to.services)
        if (!old_services.count(s.key)) out.push_back(AddService{s});
    diff_sync_daemons(from.sync_daemons, to.sync_daemons, out);
    return out;
}

}  // namespace dplb::model
