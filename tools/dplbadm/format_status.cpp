// dplbadm --status: dplb-control's own state, then whatever the dataplane reports.
#include "tools/dplbadm/format.hpp"
#include "tools/dplbadm/reply_fields.hpp"

namespace dplb::dplbadm {

using nlohmann::json;

namespace {

std::string scalar(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// "rx_packets=10 tx_packets=9 ..." for an object of counters; nested values stay JSON.
std::string key_values(const json& o) {
    if (!o.is_object()) return scalar(o);
    std::string out;
    for (const auto& [k, v] : o.items()) {
        if (!out.empty()) out += ' ';
        out += k + "=" + scalar(v);
    }
    return out;
}

// A worker's (or the main lcore's) own drops by reason are for /metrics: the totals are
// printed under "drops:".
json without_drops(json o) {
    if (o.is_object()) o.erase("drops");
    return o;
}

void append_dataplane(std::string& out, const json& st) {
    for (const auto& [key, value] : st.items()) {
        if (key == "drops" && value.is_object()) {
            out += "drops:\n";
            for (const auto& [reason, count] : value.items())
                if (!(count.is_number() && count == 0)) out += "  drop " + reason + " " + scalar(count) + "\n";
        } else if ((key == "workers" || key == "ports") && value.is_array()) {
            std::string item = key == "workers" ? "worker" : "port";
            for (std::size_t i = 0; i < value.size(); ++i)
                out += item + " " + std::to_string(i) + ": " + key_values(without_drops(value[i])) + "\n";
        } else if (key == "sync" && value.is_object()) {  // session sync: one line per daemon and per group
            for (const auto& [part, v] : value.items()) {
                if (part == "daemons" && v.is_array()) {
                    for (const auto& d : v) out += "sync daemon: " + key_values(d) + "\n";
                } else {
                    out += "sync " + part + ": " + key_values(v) + "\n";
                }
            }
        } else if (value.is_object()) {
            out += key + ": " + key_values(without_drops(value)) + "\n";
        } else {
            out += key + ": " + scalar(value) + "\n";
        }
    }
}

}  // namespace

model::Result<std::string> format_status(const json& reply) {
    ReplyFields f;
    std::string out = "dataplane: " + f.str(reply, "dataplane") + "\n";
    out += "generation: " + std::to_string(f.u64(reply, "generation")) + "\n";
    if (reply.is_object() && reply.contains("services")) out += "services: " + std::to_string(f.u64(reply, "services")) + "\n";
    if (reply.is_object() && reply.contains("sync_daemons")) {
        auto daemons = format_daemons(reply);
        if (!daemons) return daemons.error();
        out += *daemons;
    }
    if (reply.is_object() && reply.contains("last_push_error"))
        out += "last push error: " + f.str(reply, "last_push_error") + "\n";
    if (reply.is_object() && reply.contains("dataplane_error"))
        out += "dataplane error: " + f.str(reply, "dataplane_error") + "\n";
    if (reply.is_object() && reply.contains("dataplane_status")) {
        out += "dataplane status:\n";
        append_dataplane(out, f.object(reply, "dataplane_status"));
    }
    if (f.error()) return *f.error();
    return out;
}

}  // namespace dplb::dplbadm
