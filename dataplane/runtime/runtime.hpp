// Everything the dataplane's threads share, and who may touch what.
//
// Threads: the main lcore (housekeeping: signals, ARP/neighbours, gratuitous ARP), one
// worker lcore per RX queue, and the control thread (dataplane socket, snapshot builds,
// stats). The table below is the threading contract:
//
//   member            written by                      read by
//   config, ports,    main thread before launch       everyone (immutable afterwards)
//     routes, pool, rss
//   snapshot          control thread (publish)        workers, main lcore (QSBR readers)
//   neighbors         main lcore (publish)            workers (QSBR readers)
//   owned             main lcore (publish, through    workers (QSBR readers); null with
//                     `ownership`)                    vip_ownership "always"
//   ownership         main lcore (update)             control thread (status(), mutex)
//   laddrs            control thread (entries)        workers (see LocalAddressRegistry)
//   load              each worker attaches its own    workers (see LoadBoard)
//                     connection gauges once
//   redirect[s][d]    worker s (SP enqueue)           worker d (SC dequeue)
//   to_main[w]        worker w (SP enqueue)           main lcore (SC dequeue)
//   from_main[w]      main lcore (SP enqueue)         worker w (SC dequeue, transmits);
//                                                     from_main[0] also carries what the
//                                                     kernel twins send down
//   to_twin[w][c]     worker w (SP enqueue)           main lcore (SC dequeue; tx on the twin)
//   twin ports        main lcore alone (rx and tx; workers never poll or send on them)
//   forwarders[w]     worker w, once at start         control thread (counters only); the
//                     (owned by forwarder_storage,    Forwarder lives until main has joined
//                     freed by main after every join) every thread
//   start_errors[w]   worker w, once at start         main, after workers_ready
//   dumps[w]          control thread / worker w, handed over by its state (connection_dump.hpp)
//   wake[w]           worker w (sleeping flag)        other workers (eventfd write)
//   main_counters     main lcore                      control thread
//   sync_taps[w]      worker w / main lcore: see SyncTap (events ring, dump handshake)
//   sync_installs[w]  main lcore (SP push)            worker w (SC pop, installs)
//   sync              control thread / main lcore: see SyncShared
//   sync_counters     main lcore (the sync engine)    control thread
//   stop              main lcore                      everyone
//   capture,          main thread before launch       control thread (status); immutable
//     telemetry_commands
//   links[p],         main lcore (link monitor)       workers (pause handshake), control
//     link_epoch                                      thread (status): see port_link.hpp
#pragma once

#include <rte_ring.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/config/snapshot.hpp"
#include "dataplane/forward/forwarder.hpp"
#include "dataplane/runtime/capture.hpp"
#include "dataplane/l3/neighbor_snapshot.hpp"
#include "dataplane/l3/route_table.hpp"
#include "dataplane/runtime/connection_dump.hpp"
#include "dataplane/runtime/dataplane_config.hpp"
#include "dataplane/runtime/packet_meta.hpp"
#include "dataplane/runtime/port_link.hpp"
#include "dataplane/runtime/rcu.hpp"
#include "dataplane/runtime/vip_ownership.hpp"
#include "dataplane/sched/load.hpp"
#include "dataplane/snat/local_address_registry.hpp"
#include "dataplane/stats/worker_counters.hpp"
#include "dataplane/sync/spsc_ring.hpp"
#include "dataplane/sync/sync_counters.hpp"
#include "dataplane/sync/sync_install.hpp"
#include "dataplane/sync/sync_shared.hpp"
#include "dataplane/sync/sync_tap.hpp"

struct rte_mempool;

namespace dplb::runtime {

// How packets received on a port reach their owning worker (docs/architecture.md, "Steering").
enum class Steering : uint8_t {
    single_worker,      // one worker: owned where they land
    rss_predicted,      // our RSS key and RETA programmed; FULLNAT ports chosen to match them
    rte_flow,           // flow rules per local address steer FULLNAT replies
    software_redirect,  // the owner is reached through the SPSC rings, on any NIC
};
inline const char* to_string(Steering s) {
    switch (s) {
    case Steering::single_worker: return "single-worker";
    case Steering::rss_predicted: return "rss-predicted";
    case Steering::rte_flow: return "rte-flow";
    case Steering::software_redirect: return "software-redirect";
    }
    return "?";
}

struct PortState {
    std::string name;
    uint16_t port_id = 0;  // DPDK port id
    std::string driver;
    pkt::Mac mac{};
    uint16_t mtu = 1500;
    bool rx_interrupts = false;
    uint16_t queues = 0;  // RX and TX queues: one pair per worker
    Steering steering = Steering::single_worker;
    std::string steering_detail;           // why it is not rss_predicted, when that is not obvious
    std::vector<uint16_t> steering_table;  // rss_predicted: RX queue of each RETA entry, as read back
    // The kernel twin (docs/architecture.md, "Exception path"): a net_tap port with this
    // port's MAC, one queue pair, polled and transmitted on by the main lcore only.
    bool has_twin = false;
    uint16_t twin_port_id = 0;
    std::string twin_iface;
    // Link faults (docs/hardening.md): how the link is read ("pmd": rte_eth_link_get_nowait,
    // "kernel": the kernel interface's IFF_UP|IFF_RUNNING, for af_packet/af_xdp whose PMD
    // always says up), whether LSC events wake the monitor, whether a restart can bring the
    // link back (a memif client, a net_tap), and the kernel interface behind the port.
    std::string link_detection = "pmd";
    bool link_lsc = false;
    bool link_restart = false;
    std::string link_iface;
};

// How a sleeping worker is woken when another worker hands it packets.
struct alignas(64) WorkerWake {
    std::atomic<bool> sleeping{false};
    std::atomic<bool> uses_interrupts{false};  // set once by the worker; else it never blocks long
    int eventfd = -1;
};

struct Runtime {
    DataplaneConfig config;
    unsigned workers = 1;
    std::vector<unsigned> worker_lcores;
    std::vector<PortState> ports;
    rte_mempool* pool = nullptr;
    std::unique_ptr<l3::RouteTable> routes;
    RssSteering rss;  // what every RSS-programmed port does (disabled: none is)
    PacketMeta meta;

    std::unique_ptr<Rcu> rcu;  // reader ids: workers 0..N-1, main lcore N
    Published<Snapshot> snapshot;
    Published<l3::NeighborSnapshot> neighbors;
    std::unique_ptr<LocalAddressRegistry> laddrs;
    std::unique_ptr<LoadBoard> load;
    // VIP ownership following the kernel (docs/ha.md): what the workers may serve, and its
    // keeper; both empty with vip_ownership "always" (every VIP served).
    Published<OwnedAddresses> owned;
    std::unique_ptr<VipOwnership> ownership;

    std::vector<std::vector<rte_ring*>> redirect;  // [from][to]
    std::vector<rte_ring*> to_main;
    // The main lcore has no queue of its own (net_tap, for one, wants as many TX as RX queues
    // and an unpolled RX queue would swallow flows): what it sends goes through a worker.
    std::vector<rte_ring*> from_main;
    // Exception path, by worker then class (fwd::ExceptionClass - 1: 0 control, 1 other):
    // frames for the kernel twins, PendingMeta::port = the port they arrived on. Two rings
    // so that a flood of other traffic never fills the control plane's.
    std::vector<std::array<rte_ring*, 2>> to_twin;
    std::vector<std::atomic<fwd::Forwarder*>> forwarders;
    std::vector<std::unique_ptr<fwd::Forwarder>> forwarder_storage;
    std::vector<std::string> start_errors;  // empty = the worker started
    std::vector<std::unique_ptr<ConnectionDump>> dumps;
    std::vector<WorkerWake> wake;
    WorkerCounters main_counters;
    // Session sync (docs/ha.md): per worker, its event tap (master) and its install ring (backup).
    std::vector<std::unique_ptr<SyncTap>> sync_taps;
    std::vector<std::unique_ptr<SpscRing<SyncInstall>>> sync_installs;
    SyncShared sync;
    SyncCounters sync_counters;
    std::atomic<unsigned> workers_ready{0};
    std::atomic<bool> stop{false};
    // Operator tools (docs/operations.md): pdump for dpdk-dumpcap, and whether dplb's DPDK
    // telemetry commands are registered (telemetry.hpp).
    CaptureSupport capture;
    bool telemetry_commands = false;
    // Link faults: per port (same index as `ports`), and the epoch workers watch.
    std::unique_ptr<PortLink[]> links;
    std::atomic<uint32_t> link_epoch{0};

    unsigned main_rcu_id() const { return workers; }
};

}  // namespace dplb::runtime
