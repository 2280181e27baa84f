#include "control/metrics/render.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "common/ip4_text.hpp"
#include "control/metrics/exposition.hpp"

namespace dplb::metrics {

using nlohmann::json;

namespace {

constexpr auto counter = MetricType::counter;
constexpr auto gauge = MetricType::gauge;

// Label sets written straight into one flat buffer (one allocation for all of them, not two
// strings per real server): at 10,000 services x 8 the strings' malloc/free was a tenth of a
// scrape. Addresses, numbers and protocol names never need escaping.
void append_service_labels(std::string& out, const config::ServiceKey& k) {
    out += "vip=\"";
    if (!k.is_fwmark()) append_ip4(out, k.address);
    out += "\",port=\"";
    append_number(out, uint64_t(k.is_fwmark() ? 0 : k.port));
    out += "\",proto=\"";
    out += config::to_string(k.protocol);
    out += "\",fwmark=\"";
    if (k.is_fwmark()) append_number(out, uint64_t(k.fwmark));
    out += '"';
}

void append_real_labels(std::string& out, std::string_view service, Ip4 address, uint16_t port) {
    out += service;
    out += ",real=\"";
    append_ip4(out, address);
    out += "\",real_port=\"";
    append_number(out, uint64_t(port));
    out += '"';
}

// Many label sets in one buffer; [i] is the i-th added.
class LabelTable {
public:
    void reserve(std::size_t n) {
        ends_.reserve(n);
        text_.reserve(n * 80);
    }
    std::string& text() { return text_; }  // append a set, then end()
    void end() { ends_.push_back(text_.size()); }
    std::size_t size() const { return ends_.size(); }
    std::string_view operator[](std::size_t i) const {
        std::size_t begin = i ? ends_[i - 1] : 0;
        return std::string_view(text_).substr(begin, ends_[i] - begin);
    }

private:
    std::string text_;
    std::vector<std::size_t> ends_;
};

std::string service_label_text(const config::ServiceKey& k) {
    std::string s;
    append_service_labels(s, k);
    return s;
}

// A member of a dataplane reply, which is trusted for nothing: absent or not a number is 0.
uint64_t u64(const json& o, std::string_view key) {
    if (!o.is_object()) return 0;
    auto it = o.find(key);
    return it != o.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

const json& member(const json& o, std::string_view key) {
    static const json null;
    if (!o.is_object()) return null;
    auto it = o.find(key);
    return it != o.end() ? *it : null;
}

std::string str(const json& o, std::string_view key) {
    const json& v = member(o, key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

// ---- control-side families

void dataplane_up(ExpositionWriter& w, bool up) {
    w.family("dplb_dataplane_up", gauge, "1 when dplb-control reaches the dataplane and it answers stats and status");
    w.sample({}, uint64_t(up));
}

void change_duration(ExpositionWriter& w, const Histogram& h) {
    w.family("dplb_control_change_duration_seconds", MetricType::histogram,
             "Configuration change requests on the control socket: request received to reply sent, in seconds");
    w.histogram({}, h);
}

// Weight (configured) and up (the health checks' view as applied to the configuration; 1 for
// unchecked servers) of every configured real server; check duration and transitions of the
// checked ones.
void real_config(ExpositionWriter& w, const config::Config& c, const std::vector<health::ServiceStatus>* health) {
    LabelTable labels;
    std::vector<const config::RealServer*> reals;
    std::size_t n = 0;
    for (const auto& s : c.services) n += s.reals.size();
    labels.reserve(n);
    reals.reserve(n);
    for (const auto& s : c.services) {
        const std::string svc = service_label_text(s.key);
        for (const auto& r : s.reals) {
            append_real_labels(labels.text(), svc, r.address, r.port);
            labels.end();
            reals.push_back(&r);
        }
    }
    w.family("dplb_real_server_weight", gauge, "Configured weight of the real server");
    for (std::size_t i = 0; i < reals.size(); ++i) w.sample(labels[i], uint64_t(reals[i]->weight));
    w.family("dplb_real_server_up", gauge,
             "1 when the health checks let the real server take connections (1 when unchecked), 0 when they took it out");
    for (std::size_t i = 0; i < reals.size(); ++i) w.sample(labels[i], uint64_t(reals[i]->health == config::RealHealth::up));

    if (!health || health->empty()) return;
    struct Checked {
        std::string labels;
        std::optional<double> duration;
        uint64_t transitions;
    };
    std::vector<Checked> checked;
    for (const auto& s : *health)
        for (const auto& r : s.reals) {
            std::optional<double> longest;
            for (const auto& ch : r.checkers)
                if (ch.last_duration) {
                    double d = std::chrono::duration<double>(*ch.last_duration).count();
                    longest = std::max(longest.value_or(0.0), d);
                }
            std::string lbl;
            append_real_labels(lbl, service_label_text(s.service), r.address, r.port);
            checked.push_back({std::move(lbl), longest, r.transitions});
        }
    w.family("dplb_real_server_check_duration_seconds", gauge,
             "Duration of the last health check attempt of the real server (the longest of its checkers' last attempts)");
    for (const auto& ch : checked)
        if (ch.duration) w.sample(ch.labels, *ch.duration);
    w.family("dplb_real_server_check_transitions_total", counter,
             "Times the health checks flipped the real server between up and down");
    for (const auto& ch : checked) w.sample(ch.labels, ch.transitions);
}

// ---- the dataplane's `stats`

struct CounterFamily {
    const char* suffix;
    const char* help;
    uint64_t model::Counters::*member;
};
constexpr CounterFamily counter_families[] = {
    {"connections_total", "Connections scheduled", &model::Counters::conns},
    {"incoming_packets_total", "Packets from clients", &model::Counters::inpkts},
    {"outgoing_packets_total", "Packets to clients", &model::Counters::outpkts},
    {"incoming_bytes_total", "Bytes from clients", &model::Counters::inbytes},
    {"outgoing_bytes_total", "Bytes to clients", &model::Counters::outbytes},
};

void traffic(ExpositionWriter& w, const model::StatsSnapshot& s) {
    LabelTable svc_labels;
    svc_labels.reserve(s.services.size());
    for (const auto& svc : s.services) {
        append_service_labels(svc_labels.text(), svc.key);
        svc_labels.end();
    }
    for (const auto& f : counter_families) {
        w.family(std::string("dplb_virtual_service_") + f.suffix, counter,
                 std::string(f.help) + " by the virtual service, since the dataplane started");
        for (std::size_t i = 0; i < s.services.size(); ++i) w.sample(svc_labels[i], s.services[i].stats.*f.member);
    }
    LabelTable labels;
    std::vector<const model::RealServerStats*> reals;
    std::size_t n = 0;
    for (const auto& svc : s.services) n += svc.reals.size();
    labels.reserve(n);
    reals.reserve(n);
    for (std::size_t i = 0; i < s.services.size(); ++i)
        for (const auto& r : s.services[i].reals) {
            append_real_labels(labels.text(), svc_labels[i], r.address, r.port);
            labels.end();
            reals.push_back(&r);
        }
    for (const auto& f : counter_families) {
        w.family(std::string("dplb_real_server_") + f.suffix, counter,
                 std::string(f.help) + " through the real server, since the dataplane started");
        for (std::size_t i = 0; i < reals.size(); ++i) w.sample(labels[i], reals[i]->stats.*f.member);
    }
    w.family("dplb_real_server_active_connections", gauge, "Connections of the real server in ESTABLISHED (ipvsadm ActiveConn)");
    for (std::size_t i = 0; i < reals.size(); ++i) w.sample(labels[i], reals[i]->active_conns);
    w.family("dplb_real_server_inactive_connections", gauge, "Connections of the real server in other states (ipvsadm InActConn)");
    for (std::size_t i = 0; i < reals.size(); ++i) w.sample(labels[i], reals[i]->inactive_conns);
}

// ---- the dataplane's `status`

struct WorkerFamily {
    const char* name;
    const char* key;
    const char* help;
    MetricType type;
};
constexpr WorkerFamily worker_families[] = {
    {"dplb_worker_rx_packets_total", "rx_packets", "Packets received by the worker", counter},
    {"dplb_worker_tx_packets_total", "tx_packets", "Packets sent by the worker", counter},
    {"dplb_worker_rx_bytes_total", "rx_bytes", "Bytes received by the worker", counter},
    {"dplb_worker_tx_bytes_total", "tx_bytes", "Bytes sent by the worker", counter},
    {"dplb_worker_redirected_out_total", "redirected_out", "Packets the worker handed to the worker owning their flow", counter},
    {"dplb_worker_redirected_in_total", "redirected_in", "Packets the worker received from other workers", counter},
    {"dplb_worker_sessions", "sessions", "Sessions in the worker's table", gauge},
    {"dplb_worker_sessions_capacity", "session_capacity", "Size of the worker's session table", gauge},
};

void workers(ExpositionWriter& w, const json& status) {
    const json& list = member(status, "workers");
    if (!list.is_array()) return;
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < list.size(); ++i)
        labels.push_back(Labels().add("worker", std::to_string(u64(list[i], "worker"))).text());
    for (const auto& f : worker_families) {
        w.family(f.name, f.type, f.help);
        for (std::size_t i = 0; i < list.size(); ++i) w.sample(labels[i], u64(list[i], f.key));
    }
    w.family("dplb_worker_drops_total", counter,
             "Packets dropped by the worker, by reason (worker \"main\": the main lcore; every reason, zeros included)");
    auto drops = [&](const std::string& lbl, const json& d) {
        if (!d.is_object()) return;
        for (const auto& [reason, n] : d.items()) w.sample(lbl, "reason", reason, n.is_number_unsigned() ? n.get<uint64_t>() : 0);
    };
    for (std::size_t i = 0; i < list.size(); ++i) drops(labels[i], member(list[i], "drops"));
    drops(Labels().add("worker", "main").text(), member(member(status, "main"), "drops"));
}

void local_addresses(ExpositionWriter& w, const json& status) {
    const json& list = member(status, "local_addresses");
    if (!list.is_array()) return;
    std::vector<std::string> labels;
    for (const auto& a : list) labels.push_back(Labels().add("laddr", str(a, "address")).text());
    w.family("dplb_local_address_ports_in_use", gauge, "FULLNAT local ports of the local address in use, over every worker");
    for (std::size_t i = 0; i < list.size(); ++i) w.sample(labels[i], u64(list[i], "ports_in_use"));
    w.family("dplb_local_address_ports_capacity", gauge, "FULLNAT local ports of the local address, over every worker");
    for (std::size_t i = 0; i < list.size(); ++i) w.sample(labels[i], u64(list[i], "ports_capacity"));
}

// Link faults (docs/hardening.md): per port, whether its link is up and what happened to it.
void port_links(ExpositionWriter& w, const json& status) {
    const json& list = member(status, "ports");
    if (!list.is_array() || list.empty() || !list[0].contains("link")) return;  // a dataplane without them
    std::vector<std::string> labels;
    for (const auto& p : list) labels.push_back(Labels().add("port", str(p, "name")).text());
    w.family("dplb_port_link_up", gauge, "1 when the port's link is up; 0 when down, restarting or unreadable");
    for (std::size_t i = 0; i < list.size(); ++i) w.sample(labels[i], uint64_t(str(list[i], "link") == "up"));
    struct Family {
        const char* field;
        const char* name;
        const char* help;
    };
    static constexpr Family families[] = {
        {"link_down_events", "dplb_port_link_down_events_total", "Times the port's link was seen going down"},
        {"link_recoveries", "dplb_port_link_recoveries_total", "Times the port's link came back"},
        {"link_recovery_attempts", "dplb_port_link_recovery_attempts_total",
         "Restarts of the port to bring its link back"},
        {"link_recovery_failures", "dplb_port_link_recovery_failures_total", "Restarts of the port whose start failed"},
    };
    for (const Family& f : families) {
        w.family(f.name, counter, f.help);
        for (std::size_t i = 0; i < list.size(); ++i) w.sample(labels[i], u64(list[i], f.field));
    }
}

void snapshot(ExpositionWriter& w, const json& status) {
    w.family("dplb_snapshot_generation", gauge, "Generation of the configuration snapshot the dataplane runs");
    w.sample({}, u64(status, "generation"));
    const json& age = member(status, "snapshot_age_seconds");
    if (!age.is_number()) return;
    w.family("dplb_snapshot_age_seconds", gauge, "Seconds since the dataplane published the snapshot it runs");
    w.sample({}, age.get<double>());
}

// "kernel" VIP ownership (docs/ha.md): 1 for each configured VIP this node holds.
void vip_ownership(ExpositionWriter& w, const json& status, const config::Config& c) {
    const json& own = member(status, "vip_ownership");
    if (str(own, "mode") != "kernel") return;
    std::unordered_set<std::string> owned;
    const json& list = member(own, "owned_vips");
    if (list.is_array())
        for (const auto& v : list)
            if (v.is_string()) owned.insert(v.get<std::string>());
    std::vector<std::string> vips;
    for (const auto& s : c.services)
        if (!s.key.is_fwmark()) vips.push_back(s.key.address.str());
    std::sort(vips.begin(), vips.end());
    vips.erase(std::unique(vips.begin(), vips.end()), vips.end());
    w.family("dplb_vip_owned", gauge, "1 when this node holds the VIP (vip_ownership \"kernel\"), else 0");
    for (const auto& v : vips) w.sample(Labels().add("vip", v).text(), uint64_t(owned.count(v)));
}

// Session sync (docs/ha.md, "Counters"): every counter `dplbadm --status` shows.
void sync(ExpositionWriter& w, const json& status) {
    const json& s = member(status, "sync");
    if (!s.is_object()) return;
    const json& daemons = member(s, "daemons");
    if (daemons.is_array() && !daemons.empty()) {
        w.family("dplb_sync_daemon_info", gauge, "A session sync daemon the dataplane runs (always 1)");
        for (const auto& d : daemons) {
            const json& id = member(d, "syncid");
            w.sample(Labels()
                         .add("state", str(d, "state"))
                         .add("interface", str(d, "mcast_interface"))
                         .add("syncid", std::to_string(id.is_number_unsigned() ? id.get<uint64_t>() : 0))
                         .text(),
                     uint64_t(1));
        }
    }
    auto plain = [&](const json& counters, std::string_view prefix) {
        if (!counters.is_object()) return;
        for (const auto& [name, n] : counters.items()) {
            w.family(std::string(prefix) + name + "_total", counter, "Session sync counter " + name + " (docs/ha.md)");
            w.sample({}, n.is_number_unsigned() ? n.get<uint64_t>() : 0);
        }
    };
    plain(member(s, "counters"), "dplb_sync_");
    plain(member(s, "workers_total"), "dplb_");  // already named sync_*
    for (const char* group : {"decode_errors", "image_errors", "resolve_errors"}) {
        const json& g = member(s, group);
        if (!g.is_object()) continue;
        w.family(std::string("dplb_sync_") + group + "_total", counter,
                 std::string("Session sync ") + group + " by reason (docs/ha.md)");
        for (const auto& [reason, n] : g.items()) w.sample({}, "reason", reason, n.is_number_unsigned() ? n.get<uint64_t>() : 0);
    }
}

}  // namespace

std::string render(const MetricsInput& in, std::string buffer) {
    ExpositionWriter w(std::move(buffer));
    // ~110 bytes a line: 9 lines per real server, 5 per service, a few kB for the rest.
    std::size_t reals = 0;
    for (const auto& s : in.config->services) reals += s.reals.size();
    w.reserve((reals * 9 + in.config->services.size() * 5) * 120 + (64 << 10));
    const bool up = in.stats && in.status;
    dataplane_up(w, up);
    change_duration(w, *in.change_duration);
    real_config(w, *in.config, in.health);
    if (up) {
        traffic(w, *in.stats);
        workers(w, *in.status);
        local_addresses(w, *in.status);
        port_links(w, *in.status);
        snapshot(w, *in.status);
        vip_ownership(w, *in.status, *in.config);
        sync(w, *in.status);
    }
    return w.take();
}

}  // namespace dplb::metrics
