// `status`: per-worker counters (every counter of stats/worker_counters.hpp, by its name),
// drops by reason, ports and their steering.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "codec/config_json.hpp"
#include "dataplane/runtime/control_server.hpp"
#include "dataplane/runtime/control_util.hpp"
#include "dataplane/runtime/idle.hpp"
#include "sync/decode_error.hpp"

namespace dplb::runtime {

using nlohmann::json;

namespace {

std::string mac_text(const pkt::Mac& m) {
    char b[18];
    std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m.bytes[0], m.bytes[1], m.bytes[2], m.bytes[3],
                  m.bytes[4], m.bytes[5]);
    return b;
}

json address_list(const std::vector<uint32_t>& addrs) {
    json out = json::array();
    for (uint32_t a : addrs) out.push_back(Ip4{a}.str());
    return out;
}

// docs/ha.md, "VIP ownership follows the kernel": the mode, and in "kernel" mode what the
// twins hold, what is served, and how often it changed.
json vip_ownership_status(const Runtime& rt) {
    json out = {{"mode", to_string(rt.config.vip_ownership)}, {"sloppy_tcp", rt.config.sloppy_tcp}};
    if (!rt.ownership) return out;
    const VipOwnership::Status st = rt.ownership->status();
    out["synced"] = st.synced;
    out["kernel_addresses"] = address_list(st.kernel);
    out["owned_vips"] = address_list(st.vips);
    out["owned_local_addresses"] = address_list(st.laddrs);
    out["vips_gained"] = st.vips_gained;
    out["vips_lost"] = st.vips_lost;
    out["local_addresses_gained"] = st.laddrs_gained;
    out["local_addresses_lost"] = st.laddrs_lost;
    out["publications"] = st.publications;
    out["netlink_events"] = st.netlink_events;
    out["netlink_resyncs"] = st.netlink_resyncs;
    out["netlink_errors"] = st.netlink_errors;
    return out;
}

// Capture (capture.hpp) and DPDK telemetry (telemetry.hpp): whether an operator can use them
// on this process, and what they need to find it (the EAL file prefix).
json operator_tools_status(const Runtime& rt) {
    json capture = {{"available", rt.capture.available}, {"file_prefix", rt.capture.file_prefix}};
    if (!rt.capture.available) capture["reason"] = rt.capture.reason;
    const std::string socket = rt.capture.runtime_dir + "/dpdk_telemetry.v2";
    std::error_code ec;
    const bool listening = std::filesystem::exists(socket, ec);
    json telemetry = {{"available", rt.telemetry_commands && listening}, {"socket", socket}};
    if (!rt.telemetry_commands)
        telemetry["reason"] = "the /dplb commands could not be registered";
    else if (!listening)
        telemetry["reason"] = "no telemetry socket (EAL started with --no-telemetry?)";
    return {{"capture", capture}, {"telemetry", telemetry}};
}

}  // namespace

json ControlServer::status() const {
    const Snapshot* snap = rt_.snapshot.load();
    json workers = json::array();
    std::map<std::string, uint64_t> drops;
    auto add_drops = [&](const WorkerCounters& c) {
        for (unsigned r = 1; r < drop_reason_count; ++r)
            if (uint64_t n = c.drops[r].get()) drops[std::string(to_string(DropReason(r)))] += n;
    };
    // Every reason, zeros included, per lcore: a monitoring system sees each series from the
    // start instead of a reason appearing at its first drop.
    auto all_drops = [](const WorkerCounters& c) {
        json d = json::object();
        for (unsigned r = 1; r < drop_reason_count; ++r) d[std::string(to_string(DropReason(r)))] = c.drops[r].get();
        return d;
    };
    uint64_t sessions = 0;
    for (unsigned w = 0; w < rt_.workers; ++w) {
        const fwd::Forwarder* f = rt_.forwarders[w].load(std::memory_order_acquire);
        const WorkerCounters& c = f->counters();
        // Sessions in use, read while the worker keeps creating and ending them. `expired`
        // first: every session the worker ended by then was created before, so `created`
        // read afterwards is at least as large (the fence keeps the compiler and CPU from
        // hoisting the second load). Read the other way round, a session created and ended
        // between the two loads made `created - expired` wrap to ~1.8e19. The clamp
        // guards what relaxed counters do not promise on every architecture.
        const uint64_t expired = c.sessions_expired.get();
        std::atomic_thread_fence(std::memory_order_acquire);
        const uint64_t created = c.sessions_created.get();
        const uint64_t live = created > expired ? created - expired : 0;
        sessions += live;
        add_drops(c);
        json wj = {{"worker", w}, {"lcore", rt_.worker_lcores[w]}, {"sessions", live},
                   {"session_capacity", rt_.config.sessions_per_worker}};
        for (const WorkerCounterField& field : worker_counter_fields) wj[field.name] = (c.*field.member).get();
        wj["drops"] = all_drops(c);
        workers.push_back(std::move(wj));
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
        if (p.has_twin) ports.back()["kernel_twin"] = {{"name", p.twin_iface}, {"port_id", p.twin_port_id}};
        if (!p.steering_table.empty()) ports.back()["reta_size"] = p.steering_table.size();
        if (p.steering == Steering::rte_flow) {
            ports.back()["flow_rules"] = flow_rules_.rules(uint16_t(i));
            ports.back()["flow_rule_failures"] = flow_rules_.failures(uint16_t(i));
        }
        // Link faults (docs/hardening.md): the link as the main lcore last read it, how it is
        // read and recovered, and what happened to it since start.
        const PortLink& l = rt_.links[i];
        json& pj = ports.back();
        pj["link"] = to_string(l.state.load(std::memory_order_relaxed));
        pj["link_detection"] = p.link_detection + (p.link_lsc ? "+lsc" : "");
        pj["link_recovery"] = p.link_restart ? "restart" : "watch";
        pj["link_down_events"] = l.down_events.load(std::memory_order_relaxed);
        pj["link_recoveries"] = l.recoveries.load(std::memory_order_relaxed);
        pj["link_recovery_attempts"] = l.recovery_attempts.load(std::memory_order_relaxed);
        pj["link_recovery_failures"] = l.recovery_failures.load(std::memory_order_relaxed);
        pj["link_last_outage_ms"] = l.last_outage_ms.load(std::memory_order_relaxed);
    }
    json out = {{"ok", true},
            {"generation", snap ? snap->generation : 0},
            {"idle", to_string(rt_.config.idle)},
            {"workers", workers},
            {"main", {{"tx_packets", rt_.main_counters.tx_packets.get()},
                      {"exception_down", rt_.main_counters.exception_down.get()},
                      {"drops", all_drops(rt_.main_counters)}}},
            {"ports", ports},
            {"vip_ownership", vip_ownership_status(rt_)},
            {"drops", drops},
            {"sessions", sessions},
            {"session_capacity", uint64_t(rt_.config.sessions_per_worker) * rt_.workers}};
    out["sync"] = sync_status();
    out.update(operator_tools_status(rt_));
    out["local_addresses"] = local_address_status();
    // Since this thread published the live snapshot (publish(): after its grace period).
    out["snapshot_age_seconds"] =
        snap ? std::chrono::duration<double>(std::chrono::steady_clock::now() - published_at_).count() : 0.0;
    return out;
}

// FULLNAT local-port pools: ports in use and owned, summed over the workers' pools (each read
// relaxed: a worker's pool is never locked for this).
json ControlServer::local_address_status() const {
    json out = json::array();
    if (!rt_.laddrs) return out;
    rt_.laddrs->for_each_entry([&](const LocalAddress& a) {
        out.push_back({{"address", Ip4{a.address()}.str()}, {"ports_in_use", a.in_use()}, {"ports_capacity", a.capacity()}});
    });
    return out;
}

// Session sync (docs/ha.md, "Counters"): the daemons and the engine's counters; the
// workers' sync_* counters are in "workers" and summed here under "workers_total".
json ControlServer::sync_status() const {
    json daemons = json::array();
    for (const SyncDaemonStatus& d : rt_.sync.status()) {
        json dj = model::to_json(d.daemon);  // the configuration's own form (docs/api.md)
        dj["running"] = d.running;
        if (!d.error.empty()) dj["error"] = d.error;
        if (!d.netns.empty()) dj["netns"] = d.netns;
        if (d.daemon.state == config::SyncState::backup) dj["table_complete"] = d.table_complete;
        daemons.push_back(std::move(dj));
    }
    const SyncCounters& c = rt_.sync_counters;
    json counters = json::object();
    for (const SyncCounterField& f : sync_counter_fields) counters[f.name] = (c.*f.member).get();
    json decode = json::object(), image = json::object(), resolve = json::object();
    for (unsigned i = 1; i < sync::decode_error_count; ++i) decode[sync::to_string(sync::DecodeError(i))] = c.decode[i].get();
    for (unsigned i = 1; i < unsigned(ImageError::count_); ++i) image[to_string(ImageError(i))] = c.image[i].get();
    for (unsigned i = 1; i < unsigned(ResolveError::count_); ++i) resolve[to_string(ResolveError(i))] = c.resolve[i].get();
    json workers = json::object();
    for (const WorkerCounterField& field : worker_counter_fields) {
        if (std::string_view(field.name).substr(0, 5) != "sync_") continue;
        uint64_t n = 0;
        for (unsigned w = 0; w < rt_.workers; ++w) n += (rt_.forwarders[w].load(std::memory_order_acquire)->counters().*field.member).get();
        workers[field.name] = n;
    }
    return {{"daemons", daemons}, {"counters", counters}, {"decode_errors", decode}, {"image_errors", image},
            {"resolve_errors", resolve}, {"workers_total", workers}, {"install_pps", rt_.config.sync_install_pps}};
}

}  // namespace dplb::runtime
