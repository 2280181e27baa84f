#include "dataplane/runtime/control_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>

#include "control/model/config_json.hpp"
#include "control/model/json_parse.hpp"
#include "control/model/line_channel.hpp"
#include "control/model/validate.hpp"
#include "dplb/api.hpp"

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
    return config::ServiceKey{config::Protocol(s.proto), Ip4{s.vip}, __builtin_bswap16(s.vport)};
}

}  // namespace

ControlServer::ControlServer(Runtime& rt)
    : rt_(rt),
      builder_(rt.workers, port_snaps(rt), SnapshotLimits{rt.config.max_services, rt.config.max_real_servers},
               *rt.laddrs),
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

json ControlServer::stats() const {
    model::StatsSnapshot s;
    const Snapshot* snap = rt_.snapshot.load();  // the control thread is the only one that frees it
    if (snap) {
        s.generation = snap->generation;
        for (const auto& svc : snap->service_objects) {
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
    return model::stats_reply_to_json(s);
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
                         {"addresses", addrs}});
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
    else
        reply = error_reply({"cmd", "unknown request '" + req["cmd"].get<std::string>() +
                                        "' (expected apply, stats or status)"});
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
