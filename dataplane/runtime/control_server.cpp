#include "dataplane/runtime/control_server.hpp"

#include "common/log.hpp"
#include "dataplane/runtime/control_util.hpp"
#include "codec/json_parse.hpp"

namespace dplb::runtime {

using nlohmann::json;

namespace {

std::vector<PortSnap> port_snaps(const Runtime& rt) {
    std::vector<PortSnap> out;
    for (size_t i = 0; i < rt.ports.size(); ++i) {
        PortSnap p;
        p.mac = rt.ports[i].mac;
        p.mtu = rt.ports[i].mtu;
        p.addresses = rt.config.ports[i].addresses;
        p.twin = rt.ports[i].has_twin;
        out.push_back(p);
    }
    return out;
}

// TUN real servers may be anywhere routes lead: the outer header leaves by the routed port,
// from `tunnel_source` or that port's address, and must fit its MTU.
TunnelRouteFn tunnel_routes(const Runtime& rt) {
    return [&rt](uint32_t addr) {
        const l3::Nexthop* nh = rt.routes->lookup(addr);
        if (!nh) return TunnelRoute{};
        uint32_t src = rt.config.tunnel_source.is_zero() ? rt.routes->source_for(nh->port, nh->gateway ? nh->gateway : addr)
                                                          : rt.config.tunnel_source.be;
        return TunnelRoute{src != 0, src, rt.ports[nh->port].mtu};
    };
}

}  // namespace

ControlServer::ControlServer(Runtime& rt)
    : rt_(rt),
      builder_(rt.workers, port_snaps(rt), SnapshotLimits{rt.config.max_services, rt.config.max_real_servers},
               *rt.laddrs, tunnel_routes(rt)),
      real_baseline_(rt.config.max_real_servers),
      service_baseline_(rt.config.max_services),
      passive_baseline_(rt.config.max_real_servers) {
    // Until dplb-control pushes services, the ports still answer ARP and ping.
    if (!rt_.snapshot.load()) {
        auto empty = builder_.build(config::Config{}, 0);
        if (empty) {
            rt_.snapshot.exchange(empty->release());
            published_at_ = std::chrono::steady_clock::now();  // snapshot_age counts from here, not boot
        }
    }
}

ControlServer::~ControlServer() = default;

std::string ControlServer::handle_text(const json& req) {
    std::lock_guard lock(serving_);  // the telemetry thread's handle_shared() waits meanwhile
    if (req.is_object() && req.contains("cmd") && req["cmd"] == "counters") return counters_text();
    return model::dump_line(handle(req));
}

json ControlServer::handle(const json& req) {
    json reply;
    if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string())
        reply = error_reply({"cmd", "every request needs a string member \"cmd\""});
    else if (req["cmd"] == "apply")
        reply = apply(req);
    else if (req["cmd"] == "apply-batch")
        reply = apply_batch(req);
    else if (req["cmd"] == "zero-rates")
        reply = zero_rates(req);
    else if (req["cmd"] == "stats")
        reply = stats();
    else if (req["cmd"] == "counters")
        reply = json::parse(counters_text());  // (the socket sends the text itself: handle_text)
    else if (req["cmd"] == "status")
        reply = status();
    else if (req["cmd"] == "connections")
        reply = connections(req);
    else if (req["cmd"] == "passive-failures")
        reply = passive_failures();
    else
        reply = error_reply({"cmd", "unknown request '" + req["cmd"].get<std::string>() +
                                        "' (expected apply, apply-batch, stats, counters, zero-rates, status, "
                                        "connections or passive-failures)"});
    if (!reply.value("ok", true)) {
        // dplb-control reads the error; a trace here within limits (a client looping on a bad
        // request must not fill the journal).
        std::string cmd = req.is_object() && req.contains("cmd") && req["cmd"].is_string() ? req["cmd"].get<std::string>()
                                                                                            : std::string();
        log_.limited(log::Level::warning, "request_refused", {{"cmd", cmd}, {"error", reply.value("error", std::string())}});
    } else if (req["cmd"] == "apply" || req["cmd"] == "apply-batch") {
        log_.limited(log::Level::info, "config_applied", {{"cmd", req["cmd"].get<std::string>()},
                                                          {"generation", reply.value("generation", uint64_t(0))}});
    }
    if (req.is_object() && req.contains("id")) reply["id"] = req["id"];
    return reply;
}

json ControlServer::handle_shared(const json& req) {
    std::lock_guard lock(serving_);
    return handle(req);
}

model::StatsSnapshot ControlServer::stats_snapshot_shared() {
    std::lock_guard lock(serving_);
    return stats_snapshot();
}

}  // namespace dplb::runtime
