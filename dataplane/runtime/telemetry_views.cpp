#include "dataplane/runtime/telemetry_views.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "codec/config_json.hpp"
#include "codec/stats_json.hpp"
#include "dataplane/stats/drop_reason.hpp"

namespace dplb::runtime::telemetry {

using nlohmann::json;

namespace {

// Keeps a reply under reply_budget: the JSON text of each entry is counted as it is added.
class Budget {
public:
    explicit Budget(const json& base) : used_(base.dump().size()) {}
    // Adds `value` under `key` of `obj` if it fits; false (and nothing added) if not.
    bool add(json& obj, const std::string& key, json value) {
        std::size_t need = key.size() + value.dump().size() + 4;  // quotes, colon, comma
        if (used_ + need > reply_budget) return false;
        used_ += need;
        obj[key] = std::move(value);
        return true;
    }
    bool push(json& arr, json value) {
        std::size_t need = value.dump().size() + 1;
        if (used_ + need > reply_budget) return false;
        used_ += need;
        arr.push_back(std::move(value));
        return true;
    }

private:
    std::size_t used_;
};

std::optional<std::size_t> parse_index(std::string_view s) {
    std::size_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

const json& array_member(const json& reply, const char* name) {
    static const json empty = json::array();
    auto it = reply.find(name);
    return it != reply.end() && it->is_array() ? *it : empty;
}

// Counters ({"conns":..}) and rates ({"cps":..}) of a stats entry, flattened into `out`.
void flatten_counters(const json& entry, json& out) {
    for (const char* group : {"stats", "rates"})
        if (auto it = entry.find(group); it != entry.end() && it->is_object())
            for (const auto& [k, v] : it->items()) out[k] = v;
}

json one_service(const json& svc) {
    json out = {{"service", service_name(svc)}};
    flatten_counters(svc, out);
    const json& reals = array_member(svc, "real_servers");
    out["real_servers"] = reals.size();
    out["listed"] = 0;
    Budget budget(out);
    std::size_t listed = 0;
    for (const json& r : reals) {
        json rj = json::object();
        for (const auto& [k, v] : r.items())
            if (!v.is_structured()) rj[k] = v;
        flatten_counters(r, rj);
        // 255: the dictionary's other entries leave that many for real servers.
        if (listed + out.size() >= 255 || !budget.add(out, "real" + std::to_string(listed), std::move(rj))) break;
        ++listed;
    }
    out["listed"] = listed;
    return out;
}

}  // namespace

std::string service_name(const json& svc) {
    if (auto m = svc.find("fwmark"); m != svc.end()) return "FWM " + m->dump();
    std::string proto = svc.value("protocol", "");
    std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    return proto + " " + svc.value("address", "") + ":" + (svc.contains("port") ? svc["port"].dump() : "0");
}

std::string service_name(const config::ServiceKey& key) { return service_name(model::key_to_json(key)); }

model::Result<json> services_view(const model::StatsSnapshot& stats, std::string_view params) {
    const std::vector<model::ServiceStats>& services = stats.services;
    // The one service as the `stats` reply has it: the only entry converted to JSON.
    auto one = [&](const model::ServiceStats& s) {
        return one_service(model::stats_reply_to_json(model::StatsSnapshot{stats.generation, {s}})["services"][0]);
    };
    if (params.empty()) {
        json out = {{"count", services.size()}, {"listed", 0}, {"services", json::array()}};
        Budget budget(out);
        std::size_t listed = 0;
        for (const model::ServiceStats& s : services) {
            if (listed == 512 || !budget.push(out["services"], service_name(s.key))) break;
            ++listed;
        }
        out["listed"] = listed;
        return out;
    }
    if (auto i = parse_index(params)) {
        if (*i >= services.size())
            return model::Error{"", "no service " + std::string(params) + " (there are " +
                                        std::to_string(services.size()) + "; /dplb/services lists them)"};
        return one(services[*i]);
    }
    for (const model::ServiceStats& s : services)
        if (same_name(service_name(s.key), params)) return one(s);
    return model::Error{"", "no service '" + std::string(params) +
                                "' (give a name as /dplb/services lists it, e.g. 'TCP 10.0.0.1:80', or its index)"};
}

model::Result<json> workers_view(const json& status_reply, std::string_view params) {
    const json& workers = array_member(status_reply, "workers");
    if (params.empty()) {
        json out = json::object();
        Budget budget(out);
        for (std::size_t w = 0; w < workers.size() && w < 256; ++w) {
            json summary = json::object();
            for (const char* k : {"lcore", "sessions", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
                                  "redirected_in", "redirected_out"})
                if (auto it = workers[w].find(k); it != workers[w].end()) summary[k] = *it;
            if (!budget.add(out, std::to_string(w), std::move(summary))) break;
        }
        return out;
    }
    auto i = parse_index(params);
    if (!i || *i >= workers.size())
        return model::Error{"", "no worker '" + std::string(params) + "' (workers are 0 to " +
                                    std::to_string(workers.size() ? workers.size() - 1 : 0) + ")"};
    return workers[*i];
}

model::Result<json> drops_view(const json& status_reply, std::string_view params) {
    if (!params.empty()) return model::Error{"", "/dplb/drops takes no parameter"};
    json drops = status_reply.contains("drops") && status_reply["drops"].is_object() ? status_reply["drops"]
                                                                                      : json::object();
    json out = json::object();
    for (unsigned r = 1; r < drop_reason_count; ++r) {
        std::string name(to_string(DropReason(r)));
        out[name] = drops.value(name, uint64_t(0));
    }
    return out;
}

}  // namespace dplb::runtime::telemetry
