#include "dataplane/runtime/sync_engine.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "dataplane/runtime/idle.hpp"
#include "sync/control_message.hpp"
#include "sync/decode_error.hpp"

namespace dplb::runtime {

namespace {
constexpr unsigned events_per_poll = 4096;  // per worker: bounds one round of the main loop
constexpr unsigned datagrams_per_poll = 64;
constexpr size_t max_datagram = 65536;

// A sync daemon's log fields: as dplbadm --status names it.
void daemon_fields(std::vector<log::Field>& out, const SyncDaemonStatus& s) {
    out.emplace_back("state", config::to_string(s.daemon.state));
    out.emplace_back("interface", s.daemon.mcast_interface);
    out.emplace_back("syncid", unsigned(s.daemon.syncid));
    if (!s.netns.empty()) out.emplace_back("netns", s.netns);
}
}  // namespace

SyncEngine::SyncEngine(Runtime& rt) : rt_(rt), buf_(max_datagram) {
    for (auto& r : rt_.sync_installs) rings_.push_back(r.get());
}

SyncEngine::~SyncEngine() { set_master(false); }

void SyncEngine::set_master(bool on) {
    if (on == master_on_) return;
    master_on_ = on;
    for (auto& t : rt_.sync_taps) t->enabled.store(on, std::memory_order_relaxed);
}

void SyncEngine::reconfigure(Tick now) {
    set_master(false);
    dumping_ = false;
    for (auto& d : daemons_)  // what the old master batched is still worth sending
        if (d->socket && d->batcher) d->batcher->flush();
    for (auto& d : daemons_) {
        if (!d->socket) continue;
        log::Event e{log::Level::notice, "sync_daemon_stopped", {}};
        daemon_fields(e.fields, d->status);
        log::Logger{}(e);
    }
    daemons_.clear();  // closes every socket
    for (const config::SyncDaemon& cfg : rt_.sync.config(&version_)) {
        auto d = std::make_unique<Daemon>();
        d->status.daemon = cfg;
        for (const PortConfig& p : rt_.config.ports)  // a kernel twin moved into a namespace
            if (!p.twin_name.empty() && p.twin_name == cfg.mcast_interface) d->status.netns = p.twin_netns;
        open(*d, now);
        daemons_.push_back(std::move(d));
    }
    publish_status();
}

void SyncEngine::open(Daemon& d, Tick now) {
    const config::SyncDaemon& cfg = d.status.daemon;
    SyncSocketParams p;
    p.netns = d.status.netns;
    p.interface = cfg.mcast_interface;
    p.group = cfg.mcast_group.be;
    p.port = p.bind_port = cfg.mcast_port;
    p.ttl = cfg.mcast_ttl;
    for (const Ip4& a : cfg.peers) p.peers.push_back(a.be);
    for (const PortConfig& port : rt_.config.ports)  // a twin usually has its port's address
        for (const Ip4Prefix& a : port.addresses) p.own.push_back(a.address.be);
    auto s = SyncSocket::open(p);
    if (!s) {
        // Retried every retry_interval_ms while the interface is missing: rate-limited.
        log::Event e{log::Level::warning, "sync_daemon_open_failed", {}, true};
        daemon_fields(e.fields, d.status);
        e.fields.emplace_back("error", s.error().str());
        log::Logger{}(e);
        d.status.running = false;
        d.status.error = s.error().str();
        d.retry_at = now + retry_interval_ms;
        return;
    }
    d.socket.emplace(std::move(*s));
    log::Event started{log::Level::notice, "sync_daemon_started", {}};
    daemon_fields(started.fields, d.status);
    log::Logger{}(started);
    d.status.running = true;
    d.status.error.clear();
    d.receiver = std::make_unique<SyncReceiver>(cfg.syncid, rt_.workers, rt_.config.sync_install_pps, now,
                                                rt_.sync_counters);
    if (cfg.state == config::SyncState::master) {
        SyncSocket* sock = &*d.socket;
        d.batcher = std::make_unique<SyncBatcher>(
            cfg.syncid, cfg.sync_maxlen, [sock](std::span<const uint8_t> b) { return sock->send(b); },
            rt_.sync_counters);
        set_master(true);
    } else {
        // Any value the peer echoes; different across restarts so a late answer to a
        // previous life's request is not taken for this one's.
        d.request_id = (uint32_t(::getpid()) << 16 ^ now) | 1;
        d.next_request = now;
        d.status.table_complete = false;
    }
}

unsigned SyncEngine::poll(Tick now, const Snapshot* snap) {
    if (rt_.sync.version() != version_) reconfigure(now);
    unsigned work = 0;
    Daemon* master = nullptr;
    bool changed = false;
    for (auto& d : daemons_) {
        if (!d->socket && tick_reached(now, d->retry_at)) {
            open(*d, now);
            changed = true;
        }
        if (d->socket && d->batcher) master = d.get();
    }
    // Master: events to messages. Without a master the taps are off; what they still hold
    // from before is dropped, counted (events_no_master).
    work += drain_events(master, now, snap, events_per_poll);
    for (auto& d : daemons_) {
        if (!d->socket) continue;
        const bool was_complete = d->status.table_complete;
        work += poll_socket(*d, now, snap);
        changed |= was_complete != d->status.table_complete;
        if (d->batcher) d->batcher->tick(now);
        if (d->status.daemon.state == config::SyncState::backup && !d->status.table_complete &&
            tick_reached(now, d->next_request)) {
            sync::ControlMessage m{sync::ControlKind::full_table_request, d->request_id, uint16_t(rt_.workers), 0};
            if (d->socket->send(sync::encode_control(d->status.daemon.syncid, m)))
                rt_.sync_counters.full_table_requests_sent.add();
            else
                rt_.sync_counters.send_errors.add();
            d->next_request = now + request_interval_ms;
        }
    }
    if (dumping_ && master) finish_dump(*master, now, snap);
    if (changed) publish_status();
    return work;
}

unsigned SyncEngine::drain_events(Daemon* master, Tick now, const Snapshot* snap, unsigned limit) {
    unsigned n = 0;
    for (auto& tap : rt_.sync_taps) n += drain_tap(*tap, master, now, snap, limit);
    return n;
}

unsigned SyncEngine::drain_tap(SyncTap& tap, Daemon* master, Tick now, const Snapshot* snap, unsigned limit) {
    unsigned n = 0;
    SyncEvent e;
    for (; n < limit && tap.events.pop(e); ++n)
        if (master && snap) master->batcher->add(e, *snap, now);
        else if (master) rt_.sync_counters.events_no_context.add();  // no configuration yet
        else rt_.sync_counters.events_no_master.add();  // made before the master daemon went away
    return n;
}

unsigned SyncEngine::poll_socket(Daemon& d, Tick now, const Snapshot* snap) {
    const bool backup = d.status.daemon.state == config::SyncState::backup;
    unsigned n = 0;
    for (; n < datagrams_per_poll; ++n) {
        SyncSocket::Source source = SyncSocket::Source::peer;
        const ssize_t len = d.socket->receive(buf_.data(), buf_.size(), &source);
        if (len == 0) break;
        if (len < 0) {
            rt_.sync_counters.receive_errors.add();
            log::Event e{log::Level::warning, "sync_receive_failed", {}, true};
            daemon_fields(e.fields, d.status);
            e.fields.emplace_back("error", std::strerror(errno));
            log::Logger{}(e);
            break;
        }
        if (source == SyncSocket::Source::own) {
            rt_.sync_counters.own_messages.add();
            continue;
        }
        if (source == SyncSocket::Source::foreign) {
            rt_.sync_counters.foreign_source.add();
            continue;
        }
        auto r = d.receiver->receive(std::span<const uint8_t>(buf_.data(), size_t(len)), snap, now,
                                     backup ? &rings_ : nullptr);
        if (r.refused != sync::DecodeError::none) {
            // A peer sending garbage (or another version) would repeat it per datagram.
            log::Event e{log::Level::warning, "sync_message_refused", {}, true};
            daemon_fields(e.fields, d.status);
            e.fields.emplace_back("reason", sync::to_string(r.refused));
            e.fields.emplace_back("bytes", len);
            log::Logger{}(e);
        }
        for (unsigned w = 0; w < rt_.workers && w < max_workers; ++w)
            if (r.workers_fed.test(w)) wake_worker(rt_, w);
        if (!r.control) continue;
        if (!backup && r.control->kind == sync::ControlKind::full_table_request) {
            rt_.sync_counters.full_table_requests_received.add();
            start_dump(r.control->request_id, now);
        } else if (backup && r.control->kind == sync::ControlKind::full_table_end &&
                   r.control->request_id == d.request_id && !d.status.table_complete) {
            rt_.sync_counters.full_table_ends_received.add();
            rt_.sync_counters.full_table_records_announced.add(r.control->records);
            d.status.table_complete = true;
        }
    }
    return n;
}

void SyncEngine::start_dump(uint32_t request_id, Tick now) {
    if (dumping_) return;  // the requester asks again until it has its end marker
    if (!dump_gate_.admit(now)) {  // a request flood: at most one dump per DumpGate interval
        rt_.sync_counters.full_table_requests_refused.add();
        return;
    }
    if (++dump_seq_ == 0) ++dump_seq_;
    dumping_ = true;
    dump_request_id_ = request_id;
    rt_.sync_counters.full_table_dumps.add();
    for (unsigned w = 0; w < rt_.workers; ++w) {
        rt_.sync_taps[w]->dump_request.store(dump_seq_, std::memory_order_release);
        wake_worker(rt_, w);
    }
}

void SyncEngine::finish_dump(Daemon& d, Tick now, const Snapshot* snap) {
    uint32_t records = 0;
    for (auto& tap : rt_.sync_taps) {
        if (tap->dump_served.load(std::memory_order_acquire) != dump_seq_) return;
        records += tap->dump_records.load(std::memory_order_relaxed);
    }
    // Every dumped event is in a ring now, ahead of whatever the workers push from here on:
    // send what each ring holds at this moment before the end marker, and no more (under a
    // high connection rate the rings never run empty; the main lcore must get back to its
    // other work, and report its RCU quiescent state).
    for (auto& tap : rt_.sync_taps) drain_tap(*tap, &d, now, snap, tap->events.size());
    d.batcher->flush();
    sync::ControlMessage m{sync::ControlKind::full_table_end, dump_request_id_, uint16_t(rt_.workers), records};
    if (d.socket->send(sync::encode_control(d.status.daemon.syncid, m)))
        rt_.sync_counters.full_table_ends_sent.add();
    else
        rt_.sync_counters.send_errors.add();
    dumping_ = false;
}

void SyncEngine::publish_status() {
    std::vector<SyncDaemonStatus> s;
    for (auto& d : daemons_) s.push_back(d->status);
    rt_.sync.set_status(std::move(s));
}

}  // namespace dplb::runtime
