// ipvsadm -L --timeout, from a get-config reply: the global timeouts as ipvsadm prints them,
// then one line per service that overrides them (or, with a service, its effective values).
#include "model/config_find.hpp"
#include "codec/config_json.hpp"
#include "tools/dplbadm/format.hpp"

namespace dplb::dplbadm {

using nlohmann::json;

namespace {

std::string values(uint32_t tcp, uint32_t tcp_fin, uint32_t udp) {
    return std::to_string(tcp) + " " + std::to_string(tcp_fin) + " " + std::to_string(udp) + "\n";
}

std::string effective(const config::Timeouts& g, const config::TimeoutOverrides& o) {
    return values(o.tcp.value_or(g.tcp), o.tcp_fin.value_or(g.tcp_fin), o.udp.value_or(g.udp));
}

}  // namespace

std::string ipvsadm_service_name(const config::ServiceKey& k) {
    if (k.is_fwmark()) return "FWM  " + std::to_string(k.fwmark);
    return std::string(k.protocol == config::Protocol::udp ? "UDP" : "TCP") + "  " + model::describe(k.address, k.port);
}

model::Result<std::string> format_timeouts(const json& reply, const json& service) {
    if (!reply.is_object() || !reply.contains("config"))
        return model::Error{"", "malformed reply from dplb-control: missing 'config'"};
    auto c = model::config_from_json(reply["config"], "config");
    if (!c) return model::Error{"", "malformed reply from dplb-control: " + c.error().str()};
    const char* label = "Timeout (tcp tcpfin udp): ";
    if (!service.is_null()) {
        auto key = model::service_key_from_json(service, "service");
        if (!key) return key.error();
        const config::Service* s = model::find_service(*c, *key);
        if (!s) return model::Error{"service", "no service " + model::describe(*key)};
        return label + effective(c->timeouts, s->timeouts);
    }
    std::string out = label + values(c->timeouts.tcp, c->timeouts.tcp_fin, c->timeouts.udp);
    for (const auto& s : c->services)
        if (!s.timeouts.empty()) out += ipvsadm_service_name(s.key) + " " + label + effective(c->timeouts, s.timeouts);
    return out;
}

}  // namespace dplb::dplbadm
