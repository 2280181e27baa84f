// dplb-dataplane: start EAL and the ports from the dataplane configuration, launch one
// worker per worker lcore, serve the dataplane socket on a control thread, and keep house
// on the main lcore until SIGINT/SIGTERM.
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/line_channel.hpp"
#include "common/log.hpp"
#include "common/service_notify.hpp"
#include "dataplane/runtime/control_server.hpp"
#include "dataplane/runtime/kernel_address_watch.hpp"
#include "dataplane/runtime/log_fields.hpp"
#include "dataplane/runtime/main_loop.hpp"
#include "dataplane/runtime/ports.hpp"
#include "dataplane/runtime/telemetry.hpp"
#include "dataplane/runtime/worker.hpp"

namespace {

using namespace dplb;
using namespace dplb::runtime;

const char* usage =
    "usage: dplb-dataplane --config FILE [--control-socket PATH] [--log-level LEVEL] [-- EAL-ARGS...]\n"
    "\n"
    "  --config FILE          dataplane configuration (ports, EAL arguments, limits);\n"
    "                         see docs/configuration.md\n"
    "  --control-socket PATH  socket dplb-control connects to (overrides the config)\n"
    "  --log-level LEVEL      least severe log lines written: debug, info (default), notice,\n"
    "                         warning or error (docs/operations.md, Logs; DPDK's own lines\n"
    "                         follow EAL's --log-level)\n"
    "  -- EAL-ARGS            appended to the configuration's \"eal\" arguments\n"
    "\n"
    "The first EAL lcore is the main (housekeeping) lcore; every other lcore runs a worker.\n";

// A notification that could not be sent is logged; the process goes on (the service manager
// then times the start out, which names the unit).
void notify(const char* state, const dplb::model::Status& e) {
    if (e) log::Logger{}.warning("service_notify_failed", {{"state", state}, {"error", e->str()}});
}

int fail(const std::string& msg) {
    log::Logger{}.error("start_refused", {{"error", msg}});
    return 1;
}

bool create_rings(Runtime& rt, std::string& err) {
    const unsigned n = rt.workers;
    rt.redirect.assign(n, std::vector<rte_ring*>(n, nullptr));
    for (unsigned s = 0; s < n; ++s)
        for (unsigned d = 0; d < n; ++d) {
            if (s == d) continue;
            std::string name = "dplb_rd_" + std::to_string(s) + "_" + std::to_string(d);
            rt.redirect[s][d] = rte_ring_create(name.c_str(), 1024, int(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (!rt.redirect[s][d]) return err = "cannot create ring " + name, false;
        }
    for (unsigned w = 0; w < n; ++w)
        for (auto [prefix, list] : {std::pair{"dplb_tm_", &rt.to_main}, std::pair{"dplb_fm_", &rt.from_main}}) {
            std::string name = prefix + std::to_string(w);
            rte_ring* r = rte_ring_create(name.c_str(), 1024, int(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (!r) return err = "cannot create ring " + name, false;
            list->push_back(r);
        }
    bool twins = false;
    for (const auto& p : rt.config.ports) twins |= !p.twin_name.empty();
    if (twins)
        for (unsigned w = 0; w < n; ++w) {
            std::array<rte_ring*, 2> pair{};
            for (unsigned c = 0; c < 2; ++c) {
                std::string name = "dplb_tt_" + std::to_string(w) + "_" + std::to_string(c);
                pair[c] = rte_ring_create(name.c_str(), 1024, int(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
                if (!pair[c]) return err = "cannot create ring " + name, false;
            }
            rt.to_twin.push_back(pair);
        }
    return true;
}

void free_rings(Runtime& rt) {
    // Workers flush into each other's rings as they stop: give those packets back too.
    auto drain_and_free = [](rte_ring* r) {
        if (!r) return;
        void* m = nullptr;
        while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        rte_ring_free(r);
    };
    for (auto& row : rt.redirect)
        for (rte_ring* r : row) drain_and_free(r);
    for (auto* list : {&rt.to_main, &rt.from_main})
        for (rte_ring* r : *list) drain_and_free(r);
    for (auto& pair : rt.to_twin)
        for (rte_ring* r : pair) drain_and_free(r);
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path, socket_override;
    std::vector<std::string> extra_eal;
    log::OutputOptions log_options;
    log_options.proc = "dplb-dataplane";
    log::configure(log_options);  // before any line, also the refusals below
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--config" && i + 1 < argc) config_path = argv[++i];
        else if (a == "--control-socket" && i + 1 < argc) socket_override = argv[++i];
        else if (a == "--log-level" && i + 1 < argc) {
            auto l = log::parse_level(argv[++i]);
            if (!l) {
                std::fputs(usage, stderr);
                return fail(std::string("--log-level: '") + argv[i] +
                            "' is not one of debug, info, notice, warning, error");
            }
            log_options.min_level = *l;
            log::configure(log_options);
        }
        else if (a == "--") {
            for (++i; i < argc; ++i) extra_eal.emplace_back(argv[i]);
        } else if (a == "-h" || a == "--help") {
            std::fputs(usage, stdout);
            return 0;
        } else {
            std::fputs(usage, stderr);
            return fail("unknown argument '" + a + "'");
        }
    }
    if (config_path.empty()) {
        std::fputs(usage, stderr);
        return fail("--config is required");
    }
    auto loaded = load_dataplane_config(config_path);
    if (!loaded) return fail(loaded.error().str());

    // Signals are read from a signalfd by the main lcore; block them before any thread starts.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) return fail(std::string("signalfd: ") + std::strerror(errno));

    Runtime rt;
    rt.config = std::move(*loaded);
    if (!socket_override.empty()) rt.config.control_socket = socket_override;

    std::vector<std::string> eal_args{"dplb-dataplane"};
    eal_args.insert(eal_args.end(), rt.config.eal_args.begin(), rt.config.eal_args.end());
    eal_args.insert(eal_args.end(), extra_eal.begin(), extra_eal.end());
    std::vector<char*> eal_argv;
    for (auto& s : eal_args) eal_argv.push_back(s.data());
    if (rte_eal_init(int(eal_argv.size()), eal_argv.data()) < 0)
        return fail(std::string("EAL initialisation failed: ") + rte_strerror(rte_errno));

    rt.capture = enable_capture(eal_args);
    if (rt.capture.available)
        log::Logger{}.info("capture_available", {{"file_prefix", rt.capture.file_prefix}});
    else
        log::Logger{}.notice("capture_unavailable", {{"reason", rt.capture.reason}});
    rt.telemetry_commands = register_telemetry_commands();
    if (!rt.telemetry_commands) log::Logger{}.warning("telemetry_commands_unregistered", {});

    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore) rt.worker_lcores.push_back(lcore);
    if (rt.config.workers > rt.worker_lcores.size()) {
        size_t have = rt.worker_lcores.size();
        rte_eal_cleanup();
        return fail("workers: " + std::to_string(rt.config.workers) + " workers asked for, but the EAL lcore list has " +
                    std::to_string(have) + " worker lcore(s) after the main one (give EAL more lcores, e.g. -l 0-" +
                    std::to_string(rt.config.workers) + ")");
    }
    if (rt.config.workers) rt.worker_lcores.resize(rt.config.workers);
    rt.workers = unsigned(rt.worker_lcores.size());
    int rc = 0;
    std::string err;
    if (rt.workers == 0) {
        rte_eal_cleanup();
        return fail("no worker lcore: give EAL at least two lcores (e.g. -l 0,1): the first is the main lcore");
    }
    if (!rt.meta.register_field()) {
        rte_eal_cleanup();
        return fail("cannot register the mbuf metadata field");
    }
    rt.rcu = std::make_unique<Rcu>(rt.workers + 1);
    rt.laddrs = std::make_unique<LocalAddressRegistry>(rt.workers, rt.config.local_port_first, rt.config.local_port_last);
    rt.load = std::make_unique<LoadBoard>(rt.workers);
    rt.forwarders = std::vector<std::atomic<fwd::Forwarder*>>(rt.workers);
    rt.forwarder_storage.resize(rt.workers);
    rt.start_errors.resize(rt.workers);
    for (unsigned w = 0; w < rt.workers; ++w) rt.dumps.push_back(std::make_unique<ConnectionDump>());
    for (unsigned w = 0; w < rt.workers; ++w) {
        rt.sync_taps.push_back(std::make_unique<SyncTap>(rt.config.sync_event_ring));
        rt.sync_installs.push_back(std::make_unique<SpscRing<SyncInstall>>(rt.config.sync_install_ring));
    }
    rt.wake = std::vector<WorkerWake>(rt.workers);
    for (auto& w : rt.wake) w.eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    if (auto e = start_ports(rt)) {
        rte_eal_cleanup();
        return fail(e->str());
    }
    auto routes = l3::RouteTable::build(rt.config.ports, rt.config.routes, int(rte_socket_id()));
    if (!routes || !create_rings(rt, err)) {
        stop_ports(rt);
        rte_eal_cleanup();
        return fail(routes ? err : routes.error().str());
    }
    rt.routes = std::move(*routes);
    if (rt.config.vip_ownership == VipOwnershipMode::kernel) {
        std::vector<KernelAddressWatch::Twin> twins;
        for (const auto& p : rt.config.ports)
            if (!p.twin_name.empty()) twins.push_back({p.twin_name, p.twin_netns});
        auto watch = KernelAddressWatch::open(twins);
        if (!watch) {
            free_rings(rt);
            stop_ports(rt);
            rte_eal_cleanup();
            return fail("vip_ownership: " + watch.error().str());
        }
        rt.ownership = std::make_unique<runtime::VipOwnership>(rt.owned, *rt.rcu, *rt.laddrs, std::move(*watch));
    }
    log::Logger logger;
    for (const auto& ps : rt.ports) {
        log::Event e{log::Level::info, "port_started",
                     {{"port", ps.name},
                      {"dpdk_port", ps.port_id},
                      {"driver", ps.driver},
                      {"mac", mac_text(ps.mac)},
                      {"mtu", ps.mtu},
                      {"rx_interrupts", ps.rx_interrupts},
                      {"steering", to_string(ps.steering)}}};
        if (!ps.steering_detail.empty()) e.fields.emplace_back("steering_detail", ps.steering_detail);
        e.fields.emplace_back("link_detection", ps.link_detection + (ps.link_lsc ? "+lsc" : ""));
        e.fields.emplace_back("link_recovery", ps.link_restart ? "restart" : "watch");
        logger(e);
    }
    for (const auto& ps : rt.ports)
        if (ps.has_twin)
            logger.info("twin_started", {{"port", ps.name},
                                         {"twin", ps.twin_iface},
                                         {"dpdk_port", ps.twin_port_id},
                                         {"exception_pps", rt.config.exception_pps},
                                         {"exception_control_pps_per_worker", rt.config.exception_control_pps}});

    std::vector<WorkerLaunch> launches(rt.workers);
    unsigned launched = 0;
    for (unsigned w = 0; w < rt.workers; ++w) {
        launches[w] = {&rt, w};
        if (rte_eal_remote_launch(worker_main, &launches[w], rt.worker_lcores[w]) != 0) {
            rt.start_errors[w] = "cannot launch worker " + std::to_string(w) + " on lcore " +
                                 std::to_string(rt.worker_lcores[w]);
            break;
        }
        ++launched;
    }
    while (rt.workers_ready.load() < launched) std::this_thread::yield();
    for (const auto& e : rt.start_errors)
        if (!e.empty() && err.empty()) err = e;

    std::thread control;
    int listen_fd = -1;
    if (err.empty()) listen_fd = model::listen_unix(rt.config.control_socket, 0600, err);
    if (listen_fd < 0) {
        rc = fail(err);
        rt.stop.store(true);
    } else {
        control = std::thread([&rt, listen_fd] {
            ControlServer server(rt);
            TelemetryAttachment telemetry(server);
            server.run(listen_fd);
        });
        logger.info("started", {{"workers", rt.workers},
                                {"idle_mode", to_string(rt.config.idle)},
                                {"socket", rt.config.control_socket}});
        // Ready (systemd Type=notify): the ports are started, the workers run and the socket
        // listens, so dplb-control's first connection is served.
        notify("READY", service::notify_ready(std::to_string(rt.ports.size()) + " port(s), " + std::to_string(rt.workers) +
                                              " worker(s), serving " + rt.config.control_socket));
        run_main_loop(rt, sfd);
        notify("STOPPING", service::notify_stopping("stopping"));
        rt.stop.store(true);
    }

    // The control thread reads every worker's counters: stop it before the workers go.
    if (control.joinable()) control.join();
    rte_eal_mp_wait_lcore();
    if (listen_fd >= 0) {
        ::close(listen_fd);
        ::unlink(rt.config.control_socket.c_str());
    }
    // Every reader has stopped: the live snapshots can go without a grace period.
    delete rt.snapshot.exchange(nullptr);
    delete rt.neighbors.exchange(nullptr);
    rt.ownership.reset();
    free_rings(rt);
    rt.forwarders.clear();
    rt.forwarder_storage.clear();  // after every thread that could read them has stopped
    stop_ports(rt);
    for (auto& w : rt.wake) ::close(w.eventfd);
    rt.routes.reset();
    disable_capture(rt.capture);
    rte_eal_cleanup();
    log::process().flush(true);  // what the rate limiter still holds back
    logger.info("stopped");
    return rc;
}
