#include "control/server/change_events.hpp"

#include "common/overloaded.hpp"
#include "control/health/names.hpp"

namespace dplb::server {

namespace {

log::Event service_event(std::string_view name, const config::ServiceKey& key) {
    log::Event e{log::Level::info, name, {}, true};
    health::service_fields(e.fields, key);
    return e;
}

log::Event real_event(std::string_view name, const config::ServiceKey& key, Ip4 address, uint16_t port) {
    log::Event e{log::Level::info, name, {}, true};
    health::real_fields(e.fields, key, address, port);
    return e;
}

void add_real_settings(log::Event& e, const config::RealServer& r) {
    e.fields.emplace_back("forward", config::to_string(r.forward));
    e.fields.emplace_back("weight", r.weight);
}

}  // namespace

std::vector<log::Event> change_events(const model::Batch& batch) {
    std::vector<log::Event> out;
    for (const auto& change : batch.changes) {
        std::visit(
            Overloaded{
                [&](const model::AddService& c) {
                    auto e = service_event("service_added", c.service.key);
                    e.fields.emplace_back("scheduler", config::to_string(c.service.scheduler));
                    e.fields.emplace_back("reals", c.service.reals.size());
                    out.push_back(std::move(e));
                },
                [&](const model::EditService& c) {
                    auto e = service_event("service_edited", c.service.key);
                    e.fields.emplace_back("scheduler", config::to_string(c.service.scheduler));
                    out.push_back(std::move(e));
                },
                [&](const model::DeleteService& c) { out.push_back(service_event("service_deleted", c.key)); },
                [&](const model::AddReal& c) {
                    auto e = real_event("real_server_added", c.service, c.real.address, c.real.port);
                    add_real_settings(e, c.real);
                    out.push_back(std::move(e));
                },
                [&](const model::EditReal& c) {
                    auto e = real_event("real_server_edited", c.service, c.real.address, c.real.port);
                    add_real_settings(e, c.real);
                    out.push_back(std::move(e));
                },
                [&](const model::DeleteReal& c) {
                    out.push_back(real_event("real_server_deleted", c.service, c.address, c.port));
                },
                [&](const model::AddLocalAddress& c) {
                    auto e = service_event("laddr_added", c.service);
                    e.fields.emplace_back("laddr", c.address.str());
                    out.push_back(std::move(e));
                },
                [&](const model::DeleteLocalAddress& c) {
                    auto e = service_event("laddr_deleted", c.service);
                    e.fields.emplace_back("laddr", c.address.str());
                    out.push_back(std::move(e));
                },
                [&](const model::AddPortGroup& c) {
                    out.push_back(log::Event{log::Level::info, "port_group_added",
                                             {{"fwmark", c.group.mark}, {"matches", c.group.matches.size()}}, true});
                },
                [&](const model::DeletePortGroup& c) {
                    out.push_back(log::Event{log::Level::info, "port_group_deleted", {{"fwmark", c.mark}}, true});
                },
                [&](const model::SetTimeouts& c) {
                    out.push_back(log::Event{log::Level::info, "timeouts_set",
                                             {{"tcp", c.timeouts.tcp}, {"tcp_fin", c.timeouts.tcp_fin},
                                              {"udp", c.timeouts.udp}},
                                             true});
                },
                [&](const model::SetServiceTimeouts& c) {
                    out.push_back(service_event("service_timeouts_set", c.service));
                },
                [&](const model::Clear&) {
                    out.push_back(log::Event{log::Level::notice, "config_cleared", {}, true});
                },
                [&](const model::ReplaceConfig& c) {
                    out.push_back(log::Event{log::Level::notice, "config_replaced",
                                             {{"services", c.config.services.size()}}, true});
                },
                [&](const model::StartSyncDaemon& c) {
                    out.push_back(log::Event{log::Level::notice, "sync_daemon_added",
                                             {{"state", config::to_string(c.daemon.state)},
                                              {"interface", c.daemon.mcast_interface},
                                              {"syncid", unsigned(c.daemon.syncid)}},
                                             true});
                },
                [&](const model::StopSyncDaemon& c) {
                    out.push_back(log::Event{log::Level::notice, "sync_daemon_removed",
                                             {{"state", config::to_string(c.state)}}, true});
                },
                [&](const model::SetRealHealth&) {},
                [&](const model::SetSorryActive&) {},
            },
            change);
    }
    return out;
}

}  // namespace dplb::server
