// `connections`: every worker dumps its sessions (ConnectionDump), the control thread lists them.
#include <chrono>
#include <thread>

#include "dataplane/runtime/control_server.hpp"
#include "dataplane/runtime/control_util.hpp"
#include "dataplane/runtime/idle.hpp"
#include "dataplane/session/tcp_state.hpp"

namespace dplb::runtime {

using nlohmann::json;

json ControlServer::connections(const json& req) {
    size_t limit = 100000;
    if (req.contains("limit")) {
        if (!req["limit"].is_number_unsigned() || req["limit"].get<uint64_t>() == 0)
            return error_reply({"limit", "must be a positive integer"});
        limit = std::min<uint64_t>(req["limit"].get<uint64_t>(), 10000000);
    }
    // Ask every worker at once, then wait for each (they answer within a few loop iterations).
    for (unsigned w = 0; w < rt_.workers; ++w) {
        ConnectionDump& d = *rt_.dumps[w];
        d.sessions.clear();
        d.sessions.reserve(limit);
        d.limit = limit;
        d.cursor = 0;
        d.truncated = false;
        d.state.store(ConnectionDump::requested, std::memory_order_release);
        wake_worker(rt_, w);
    }
    bool truncated = false;
    std::vector<std::pair<ConnectionDump*, unsigned>> answered;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (unsigned w = 0; w < rt_.workers; ++w) {
        ConnectionDump& d = *rt_.dumps[w];
        while (d.state.load(std::memory_order_acquire) != ConnectionDump::done &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        if (d.state.load(std::memory_order_acquire) != ConnectionDump::done) {
            // Take the request back before answering: the worker must not write any more.
            int expected = ConnectionDump::requested;
            if (d.state.compare_exchange_strong(expected, ConnectionDump::idle)) {
                truncated = true;
                continue;
            }
        }
        truncated |= d.truncated;
        answered.emplace_back(&d, w);
    }
    const Snapshot* snap = rt_.snapshot.load();
    json list = json::array();
    for (const auto& [d, w] : answered) {
        for (const Session& s : d->sessions) {
            if (list.size() >= limit) {
                truncated = true;
                break;
            }
            const ServiceSnap* svc =
                snap && s.service_id < snap->service_by_id.size() ? snap->service_by_id[s.service_id] : nullptr;
            json c;
            bool tpl = s.is_template();
            bool any_port = svc && (svc->fwmark || svc->vport == 0);
            uint8_t proto = tpl ? (svc ? svc->proto : 0) : s.orig.proto;
            c["protocol"] = tpl && (any_port || !svc) ? "ip" : proto == pkt::proto_udp ? "udp" : "tcp";
            c["state"] = tpl ? "NONE" : to_string(s.state);
            c["expires_ms"] = tick_after(s.expires, d->now) ? uint64_t(s.expires - d->now) : 0;
            c["client"] = endpoint(s.orig.src, s.orig.sport);
            if (svc && svc->fwmark)
                c["fwmark"] = svc->fwmark;
            else
                c["virtual"] = tpl && svc ? endpoint(svc->vip, svc->vport) : endpoint(s.orig.dst, s.orig.dport);
            c["template"] = tpl;
            c["worker"] = w;
            if (tpl) {
                const RealSnap* real = nullptr;
                if (svc)
                    for (const auto* servers : {&svc->reals, &svc->standby})
                        for (const auto& r : *servers)
                            if (r.id == s.real_id) real = &r;
                c["real"] = real ? endpoint(real->addr, real->port) : "0.0.0.0:0";
                c["forward"] = real ? mode_name(real->mode) : "nat";
            } else {
                c["real"] = endpoint(s.reply.src, s.reply.sport);
                c["forward"] = mode_name(s.mode());
                if (s.mode() == ForwardMode::fullnat) c["local"] = endpoint(s.reply.dst, s.reply.dport);
            }
            list.push_back(std::move(c));
        }
        d->sessions = {};  // give the memory back
        d->state.store(ConnectionDump::idle, std::memory_order_release);
    }
    return {{"ok", true}, {"truncated", truncated}, {"connections", std::move(list)}};
}

}  // namespace dplb::runtime
