#include "dataplane/runtime/control_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <map>
#include <memory>

#include "codec/config_json.hpp"
#include "codec/json_parse.hpp"
#include "common/line_channel.hpp"
#include "model/validate.hpp"
#include "dplb/api.hpp"
#include "dataplane/runtime/idle.hpp"
#include "dataplane/session/tcp_state.hpp"
#include "codec/stats_json.hpp"

namespace dplb::runtime {

namespace {

using nlohmann::json;

json error_reply(const model::Error& e) {
    json r = {{"ok", false}, {"error", e.str()}};
    if (!e.field.empty()) r["field"] = e.field;
    return r;
}

std::vector<PortSnap> port_snaps(const Runtime& rt) {
    std::vector<PortSnap> out;
    for (size_t i = 0; i < rt.ports.size(); ++i) {
        PortSnap p;
        p.mac = rt.ports[i].mac;
        p.mtu = rt.ports[i].mtu;
        p.addresses = rt.config.ports[i].addresses;
        out.push_back(p);
    }
    return out;
}

std::string mac_text(const pkt::Mac& m) {
    char b[18];
    std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m.bytes[0], m.bytes[1], m.bytes[2], m.bytes[3],
                  m.bytes[4], m.bytes[5]);
    return b;
}

config::ServiceKey key_of(const ServiceSnap& s) {
    if (s.fwmark) return config::ServiceKey{config::Protocol::tcp, Ip4{}, 0, s.fwmark};
    return config::ServiceKey{config::Protocol(s.proto), Ip4{s.vip}, __builtin_bswap16(s.vport), 0};
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

std::string endpoint(uint32_t addr_be, uint16_t port_be) {
    return Ip4{addr_be}.str() + ":" + std::to_string(__builtin_bswap16(port_be));
}

const char* mode_name(ForwardMode m) {
    switch (m) {
    case ForwardMode::nat: return "nat";
    case ForwardMode::fullnat: return "fullnat";
    case ForwardMode::dr: return "dr";
    case ForwardMode::tunnel: return "tunnel";
    }
    return "?";
}

}  // namespace

ControlServer::ControlServer(Runtime& rt)
    : rt_(rt),
      builder_(rt.workers, port_snaps(rt), SnapshotLimits{rt.config.max_services, rt.config.max_real_servers},
               *rt.laddrs, tunnel_routes(rt)),
      real_baseline_(rt.config.max_real_servers),
      service_baseline_(rt.config.max_services) {
    // Until dplb-control pushes services, the ports still answer ARP and ping.
    if (!rt_.snapshot.load()) {
        auto empty = builder_.build(config::Config{}, 0);
        if (empty) rt_.snapshot.exchange(empty->release());
    }
}

ControlServer::~ControlServer() = default;

namespace {

// Sums one id's ipvsadm counters over every worker; `pick` selects the per-worker array.
template <class Pick>
model::Counters sum_over_workers(const Runtime& rt, uint32_t id, Pick pick) {
    model::Counters c;
    for (const auto& f : rt.forwarders) {
        const auto& x = pick(*f.load(std::memory_order_acquire))[id];
        c.conns += x.conns.get();
        c.inpkts += x.in_packets.get();
        c.outpkts += x.out_packets.get();
        c.inbytes += x.in_bytes.get();
        c.outbytes += x.out_bytes.get();
    }
    return c;
}

}  // namespace

model::Counters ControlServer::real_totals(uint32_t id) const {
    return sum_over_workers(rt_, id, [](const fwd::Forwarder& f) -> const auto& { return f.real_counters(); });
}

model::Counters ControlServer::service_totals(uint32_t id) const {
    return sum_over_workers(rt_, id, [](const fwd::Forwarder& f) -> const auto& { return f.service_counters(); });
}

json ControlServer::apply(const json& req) {
    if (!req.contains("generation") || !req["generation"].is_number_unsigned())
        return error_reply({"generation", "must be a non-negative integer"});
    if (!req.contains("config")) return error_reply({"config", "is required"});
    auto cfg = model::config_from_json(req["config"], "config");
    if (!cfg) return error_reply(cfg.error());
    if (auto e = model::validate_config(*cfg)) return error_reply(*e);
    uint64_t generation = req["generation"].get<uint64_t>();

    auto built = builder_.build(*cfg, generation);
    if (!built) return error_reply(built.error());
    for (uint32_t id : builder_.recycled_real_ids()) real_baseline_[id] = real_totals(id);
    for (uint32_t id : builder_.recycled_service_ids()) service_baseline_[id] = service_totals(id);

    const Snapshot* old = rt_.snapshot.exchange(built->release());
    flow_rules_.sync(*rt_.snapshot.load());  // steering for new local addresses (a hint only)
    rt_.rcu->synchronize();  // every reader has moved past `old`
    delete old;
    builder_.collect(
        [this](uint32_t id) {
            int64_t n = 0;
            for (const auto& f : rt_.forwarders) {
                // `live` and `persistent` change only when a connection or template is created or
                // ended, never in between (active/inactive move in two steps).
                const RealCounters& r = f.load(std::memory_order_acquire)->real_counters()[id];
                n += int64_t(r.live.get() + r.persistent.get());
            }
            return n != 0;
        },
        [this](uint32_t id) {
            uint64_t n = 0;
            for (const auto& f : rt_.forwarders) n += f.load(std::memory_order_acquire)->service_counters()[id].live.get();
            return n != 0;
        });
    return {{"ok", true}, {"generation", generation}};
}

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
                    for (const auto& r : svc->reals)
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

json ControlServer::stats() const {
    model::StatsSnapshot s;
    const Snapshot* snap = rt_.snapshot.load();  // the control thread is the only one that frees it
    if (snap) {
        s.generation = snap->generation;
        for (const ServiceSnap* svc : snap->service_list) {
            model::ServiceStats ss;
            ss.key = key_of(*svc);
            ss.stats = model::minus(service_totals(svc->id), service_baseline_[svc->id]);
            for (const auto& r : svc->reals) {
                model::RealServerStats rs;
                rs.address = Ip4{r.addr};
                rs.port = __builtin_bswap16(r.port);
                rs.stats = model::minus(real_totals(r.id), real_baseline_[r.id]);
                for (const auto& f : rt_.forwarders) {
                    const RealCounters& rc = f.load(std::memory_order_acquire)->real_counters()[r.id];
                    rs.active_conns += rc.active.get();
                    rs.inactive_conns += rc.inactive.get();
                }
                ss.reals.push_back(rs);
            }
            s.services.push_back(std::move(ss));
        }
    }
    json reply = model::stats_reply_to_json(s);
    // Persistence templates per real server (ipvsadm --persistent-conn), in the same order.
    if (snap && reply.contains("services"))
        for (size_t i = 0; i < snap->service_list.size() && i < reply["services"].size(); ++i) {
            const ServiceSnap& svc = *snap->service_list[i];
            json& reals = reply["services"][i]["real_servers"];
            for (size_t k = 0; k < svc.reals.size() && k < reals.size(); ++k) {
                uint64_t n = 0;
                for (const auto& f : rt_.forwarders)
                    n += f.load(std::memory_order_acquire)->real_counters()[svc.reals[k].id].persistent.get();
                reals[k]["persistent_conns"] = n;
            }
        }
    return reply;
}

json ControlServer::status() const {
    const Snapshot* snap = rt_.snapshot.load();
    json workers = json::array();
    std::map<std::string, uint64_t> drops;
    auto add_drops = [&](const WorkerCounters& c) {
        for (unsigned r = 1; r < drop_reason_count; ++r)
            if (uint64_t n = c.drops[r].get()) drops[std::string(to_string(DropReason(r)))] += n;
    };
    uint64_t sessions = 0;
    for (unsigned w = 0; w < rt_.workers; ++w) {
        const fwd::Forwarder* f = rt_.forwarders[w].load(std::memory_order_acquire);
        const WorkerCounters& c = f->counters();
        uint64_t live = c.sessions_created.get() - c.sessions_expired.get();
        sessions += live;
        add_drops(c);
        workers.push_back({{"worker", w},
                           {"lcore", rt_.worker_lcores[w]},
                           {"rx_packets", c.rx_packets.get()},
                           {"rx_bytes", c.rx_bytes.get()},
                           {"tx_packets", c.tx_packets.get()},
                           {"tx_bytes", c.tx_bytes.get()},
                           {"redirected_in", c.redirected_in.get()},
                           {"redirected_out", c.redirected_out.get()},
                           {"to_main", c.to_main.get()},
                           {"sessions", live},
                           {"sessions_created", c.sessions_created.get()},
                           {"sessions_created_not_owner", c.sessions_created_not_owner.get()},
                           {"lports_steered", c.lports_steered.get()},
                           {"lports_unsteered", c.lports_unsteered.get()},
                           {"arp_replies", c.arp_replies.get()},
                           {"icmp_echo_replies", c.icmp_echo_replies.get()},
                           {"idle_sleeps", c.idle_sleeps.get()}});
    }
    add_drops(rt_.main_counters);
    json ports = json::array();
    for (size_t i = 0; i < rt_.ports.size(); ++i) {
        const PortState& p = rt_.ports[i];
        json addrs = json::array();
        for (const auto& a : rt_.config.ports[i].addresses) addrs.push_back(a.str());
        ports.push_back({{"name", p.name},
                         {"port_id", p.port_id},
                         {"driver", p.driver},
                         {"mac", mac_text(p.mac)},
                         {"mtu", p.mtu},
                         {"rx_interrupts", p.rx_interrupts},
                         {"rx_queues", p.queues},
                         {"steering", to_string(p.steering)},
                         {"addresses", addrs}});
        if (!p.steering_detail.empty()) ports.back()["steering_detail"] = p.steering_detail;
        if (!p.steering_table.empty()) ports.back()["reta_size"] = p.steering_table.size();
        if (p.steering == Steering::rte_flow) {
            ports.back()["flow_rules"] = flow_rules_.rules(uint16_t(i));
            ports.back()["flow_rule_failures"] = flow_rules_.failures(uint16_t(i));
        }
    }
    return {{"ok", true},
            {"generation", snap ? snap->generation : 0},
            {"idle", to_string(rt_.config.idle)},
            {"workers", workers},
            {"main", {{"tx_packets", rt_.main_counters.tx_packets.get()}}},
            {"ports", ports},
            {"drops", drops},
            {"sessions", sessions},
            {"session_capacity", uint64_t(rt_.config.sessions_per_worker) * rt_.workers}};
}

json ControlServer::handle(const json& req) {
    json reply;
    if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string())
        reply = error_reply({"cmd", "every request needs a string member \"cmd\""});
    else if (req["cmd"] == "apply")
        reply = apply(req);
    else if (req["cmd"] == "stats")
        reply = stats();
    else if (req["cmd"] == "status")
        reply = status();
    else if (req["cmd"] == "connections")
        reply = connections(req);
    else
        reply = error_reply({"cmd", "unknown request '" + req["cmd"].get<std::string>() +
                                        "' (expected apply, stats, status or connections)"});
    if (req.is_object() && req.contains("id")) reply["id"] = req["id"];
    return reply;
}

void ControlServer::run(int listen_fd) {
    struct Client {
        int fd;
        std::unique_ptr<model::LineReader> reader;
    };
    std::vector<Client> clients;
    while (!rt_.stop.load(std::memory_order_relaxed)) {
        std::vector<pollfd> fds{{listen_fd, POLLIN, 0}};
        for (const auto& c : clients) fds.push_back({c.fd, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
        // fds[i + 1] belongs to clients[i] as they were polled; new clients come after.
        for (size_t i = fds.size() - 1; i-- > 0;) {
            if (!(fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Client& c = clients[i];
            bool close_it = false;
            std::string line;
            for (;;) {
                auto st = c.reader->read_line(c.fd, line);
                if (st == model::LineReader::Status::would_block) break;
                if (st == model::LineReader::Status::too_long) {
                    model::write_line(c.fd, model::dump_line(error_reply({"", "request too long"})));
                    close_it = true;
                    break;
                }
                if (st != model::LineReader::Status::line) {
                    close_it = true;
                    break;
                }
                auto parsed = model::parse_json(line);
                json reply = parsed ? handle(*parsed) : error_reply(parsed.error());
                if (!model::write_line(c.fd, model::dump_line(reply))) {
                    close_it = true;
                    break;
                }
            }
            if (close_it) {
                ::close(c.fd);
                clients.erase(clients.begin() + long(i));
            }
        }
        if (fds[0].revents & POLLIN) {
            int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) clients.push_back({fd, std::make_unique<model::LineReader>(api::default_max_message_bytes)});
        }
    }
    for (auto& c : clients) ::close(c.fd);
}

}  // namespace dplb::runtime
