// dplbadm --health: what the checks decided and why, one line per checker.
//
//   Prot LocalAddress:Port Quorum (alive weight / quorum)
//     -> RemoteAddress:Port           State      Checker     Target                 Last  Since   Last failure
//   TCP  192.168.227.128:80 up (2)
//     -> 192.168.253.143:80           up         TCP_CHECK   192.168.253.143:80     up    12s
//     -> 192.168.253.144:80           removed    TCP_CHECK   192.168.253.144:80     down  3s      connect: Connection refused
#include <cstdio>

#include "codec/config_json.hpp"
#include "tools/dplbadm/format.hpp"

namespace dplb::dplbadm {

using nlohmann::json;

namespace {

std::string seconds(const json& v) {
    if (!v.is_number()) return "-";
    double s = v.get<double>();
    char buf[32];
    if (s < 0) s = 0;
    if (s < 120) std::snprintf(buf, sizeof buf, "%.0fs", s);
    else if (s < 7200) std::snprintf(buf, sizeof buf, "%.0fm", s / 60);
    else std::snprintf(buf, sizeof buf, "%.0fh", s / 3600);
    return buf;
}

std::string str(const json& o, const char* key, const char* otherwise = "-") {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return otherwise;
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string line(const char* fmt, const std::string& a, const std::string& b, const std::string& c,
                 const std::string& d, const std::string& e, const std::string& f, const std::string& g) {
    char buf[1024];
    std::snprintf(buf, sizeof buf, fmt, a.c_str(), b.c_str(), c.c_str(), d.c_str(), e.c_str(), f.c_str(), g.c_str());
    std::string out = buf;
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
}

constexpr const char* row = "  -> %-28s %-10s %-11s %-22s %-5s %-7s %s";

}  // namespace

model::Result<std::string> format_health(const json& reply) {
    auto services = reply.find("services");
    if (services == reply.end() || !services->is_array())
        return model::Error{"", "malformed reply from dplb-control: no services"};
    std::string out;
    if (auto k = reply.find("keepalived_conf"); k != reply.end() && k->is_string() && !k->get<std::string>().empty())
        out += "keepalived.conf: " + k->get<std::string>() + "\n";
    out += "Prot LocalAddress:Port Quorum (alive weight)\n";
    out += line(row, "RemoteAddress:Port", "State", "Checker", "Target", "Last", "Since", "Last failure");
    for (const auto& s : *services) {
        auto key = model::service_key_from_json(s.value("service", json()), "service");
        if (!key) return model::Error{"", "malformed reply from dplb-control: " + key.error().str()};
        std::string quorum = s.value("quorum_up", true) ? "up" : "lost";
        if (s.value("sorry_active", false)) quorum += ", sorry server";
        out += ipvsadm_service_name(*key) + " " + quorum + " (" + str(s, "alive_weight", "0") + ")\n";
        for (const auto& r : s.value("reals", json::array())) {
            std::string state = str(r, "state");
            if (r.value("passive_down", false)) state += "*";
            if (!r["weight"].is_null()) state += "/" + r["weight"].dump();
            std::string name = str(r, "address") + ":" + str(r, "port");
            const auto& checkers = r.value("checkers", json::array());
            if (checkers.empty()) out += line(row, name, state, "-", "-", "-", "-", "");
            bool first = true;
            for (const auto& c : checkers) {
                out += line(row, first ? name : "", first ? state : "", str(c, "type"), str(c, "target"),
                            str(c, "last_result"), seconds(c.value("since_seconds", json())),
                            c.value("up", true) ? "" : str(c, "last_failure", ""));
                first = false;
            }
        }
    }
    return out;
}

}  // namespace dplb::dplbadm
