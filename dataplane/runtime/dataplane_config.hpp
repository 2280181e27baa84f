// The dataplane's own startup configuration (ports, EAL, limits): what DPVS keeps in
// dpvs.conf. Read once at start; services come later from dplb-control over the socket.
// docs/configuration.md describes every member.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dataplane/packet/headers.hpp"
#include "dplb/ip4.hpp"

namespace dplb::runtime {

enum class IdleMode : uint8_t {
    automatic,  // rx interrupts where the port supports them, else sleep
    interrupt,  // rx interrupts; fail to start if a port cannot do them
    sleep,      // back-off sleep when idle
    busy,       // poll forever (production, isolated cores)
};

// Which VIPs this node serves (docs/ha.md, "VIP ownership follows the kernel").
enum class VipOwnershipMode : uint8_t {
    always,  // every configured VIP, always (a single director)
    kernel,  // a VIP only while it is configured on a port's kernel twin (keepalived VRRP)
};

struct PortConfig {
    std::string name;    // operator's name for the port ("lan0")
    std::string device;  // PCI address or vdev devargs ("net_tap0,iface=dplb0")
    std::vector<Ip4Prefix> addresses;
    bool has_mac = false;
    pkt::Mac mac{};
    uint16_t mtu = 1500;
    uint16_t rx_descriptors = 1024;
    uint16_t tx_descriptors = 1024;
    // The kernel twin's interface name ("kernel_twin": {"name": ...}); empty = no twin.
    std::string twin_name;
    // The network namespace the twin lives in ("kernel_twin": {"netns": ...}, a name under
    // /run/netns as `ip netns` makes them); empty = the dataplane's own. The twin's address
    // watch (VIP ownership) and sync sockets on it are opened there (common/netns.hpp).
    std::string twin_netns;
};

// A static neighbour: `address` on port index `port` is at `mac`, never resolved by ARP.
struct NeighborConfig {
    uint16_t port = 0;
    Ip4 address;
    pkt::Mac mac{};
};

struct RouteConfig {
    Ip4Prefix prefix;
    Ip4 via;
};

struct DataplaneConfig {
    std::vector<std::string> eal_args;
    // Worker threads, each polling one RX/TX queue pair of every port: the first `workers`
    // worker lcores of the EAL lcore list (0 = all of them; more than there are is an error).
    uint32_t workers = 0;
    IdleMode idle = IdleMode::automatic;
    std::string control_socket = "/run/dplb/dataplane.sock";
    uint32_t sessions_per_worker = 1u << 20;
    uint32_t max_services = 1u << 14;
    uint32_t max_real_servers = 1u << 17;
    uint16_t local_port_first = 1024;
    uint16_t local_port_last = 65535;
    uint32_t mbufs_per_port = 0;  // 0 = derived from descriptors and workers
    uint32_t neighbor_reachable_s = 60;
    uint32_t neighbor_max_entries = 8192;
    Ip4 tunnel_source;  // TUN outer source; 0 = the address of the port toward each real server
    // Exception path budgets, per worker, in packets per second (0 = unlimited).
    uint32_t exception_pps = 10000;
    uint32_t exception_control_pps = 100000;
    // Session sync (docs/ha.md): per worker, the ring of session events toward the sender and
    // the ring of sessions to install; installs per second at the backup (0 = unlimited).
    uint32_t sync_event_ring = 16384;
    uint32_t sync_install_ring = 16384;
    uint32_t sync_install_pps = 200000;
    VipOwnershipMode vip_ownership = VipOwnershipMode::always;
    // IPVS's net.ipv4.vs.sloppy_tcp (docs/ha.md, "Mid-flow pickup").
    bool sloppy_tcp = false;
    std::vector<PortConfig> ports;
    std::vector<RouteConfig> routes;
    std::vector<NeighborConfig> neighbors;
};

model::Result<DataplaneConfig> load_dataplane_config(const std::string& path);
model::Result<DataplaneConfig> parse_dataplane_config(const std::string& json_text);

const char* to_string(IdleMode);
const char* to_string(VipOwnershipMode);

}  // namespace dplb::runtime
