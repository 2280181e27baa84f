// The service configuration: what an operator sets with dplbadm / the JSON API.
//
// Owned by dplb-control (validated, persisted) and pushed whole to dplb-dataplane, which
// turns it into an immutable forwarding snapshot. Plain values, no behaviour: the JSON codec
// lives in codec/, validation in model/, the fast-path form in dataplane/config.
//
// Runtime health state (RealServer::health, dynamic_weight, Service::sorry_active) is set by
// dplb-control's health checker through typed changes (model/change.hpp) and travels with the
// configuration to the dataplane and to get-config/list, but is never persisted: the state
// file and the journal omit it (codec RuntimeState::omit), so a restart starts every server
// up and lets the checker decide again, as keepalived does. It takes part in operator==:
// the dataplane's snapshot builder detects changed services by comparing them, and a health
// change must rebuild the service's scheduling set.
//
// Threading: plain data, copied between threads/processes, never shared mutable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dplb/ip4.hpp"

namespace dplb::config {

enum class Protocol : uint8_t { tcp = 6, udp = 17 };

// How a packet reaches a real server (ipvsadm -m / -g / -i, DPVS -b).
enum class ForwardMethod : uint8_t { nat, fullnat, dr, tunnel };

// Every IPVS scheduler name is known to the model so errors can say "not supported yet"
// instead of "unknown"; `scheduler_supported` says which ones the dataplane implements.
enum class Scheduler : uint8_t { rr, wrr, lc, wlc, sed, nq, sh, dh, lblc, lblcr, fo, ovf, mh };

// What the health checker says of a real server (keepalived's two ways of taking a failed
// one out of IPVS). Runtime state: see the top of this file.
enum class RealHealth : uint8_t {
    up,         // in the scheduling set with its weight (or its dynamic weight)
    removed,    // out of the scheduling set; its connections are left as a deleted server's
    inhibited,  // in the set with weight 0 (inhibit_on_failure): no new connections, old ones kept
};

struct RealServer {
    Ip4 address;
    uint16_t port = 0;  // host order; 0 only for port-0 and fwmark services: keep the packet's port
    uint32_t weight = 1;  // 0..65535; 0 = quiesced (no new connections)
    ForwardMethod forward = ForwardMethod::nat;
    uint32_t upper_threshold = 0;  // ipvsadm -x; 0 = none
    uint32_t lower_threshold = 0;  // ipvsadm -y; 0 = none

    // Runtime, never persisted (see the top of this file).
    RealHealth health = RealHealth::up;
    std::optional<uint32_t> dynamic_weight;  // MISC_CHECK misc_dynamic: replaces `weight` while up

    friend bool operator==(const RealServer&, const RealServer&) = default;
};

// keepalived's sorry_server: takes every new connection of its service while the service's
// quorum is lost (Service::sorry_active). Persisted configuration.
struct SorryServer {
    Ip4 address;
    uint16_t port = 0;  // host order; the same rules as a real server's port
    // sorry_server_lvs_method; keepalived's default is the virtual server's lb_kind, itself
    // NAT by default: the JSON API's default is nat, the keepalived importer passes lb_kind.
    ForwardMethod forward = ForwardMethod::nat;
    // sorry_server_inhibit: while not active it stays in the table at weight 0 (and is
    // "disabled", not removed, when the quorum comes back).
    bool inhibit = false;

    friend bool operator==(const SorryServer&, const SorryServer&) = default;
};
inline constexpr uint32_t sorry_server_weight = 1;  // keepalived's, not configurable

// A service is keyed by (protocol, address, port), or by a firewall mark (ipvsadm -f) that a
// port group defines. For a mark service `fwmark` != 0 and the other members are canonical
// (tcp, 0.0.0.0, 0). Port 0 means "every port of the address" (persistent services only).
struct ServiceKey {
    Protocol protocol = Protocol::tcp;
    Ip4 address;
    uint16_t port = 0;  // host order
    uint32_t fwmark = 0;

    bool is_fwmark() const { return fwmark != 0; }
    friend bool operator==(const ServiceKey&, const ServiceKey&) = default;
};

// ipvsadm -p [timeout] -M netmask.
struct Persistence {
    uint32_t timeout = 300;  // seconds
    Ip4 netmask = Ip4::from_host(0xffffffffu);

    friend bool operator==(const Persistence&, const Persistence&) = default;
};

// ipvsadm -b / --sched-flags on -A/-E.
enum SchedFlag : uint32_t {
    sched_flag_sh_fallback = 1,  // sh: skip unavailable servers
    sched_flag_sh_port = 2,      // sh: hash the source port too
    sched_flag_mh_fallback = 4,  // mh: skip unavailable servers
    sched_flag_mh_port = 8,      // mh: hash the source port too
};

// Per-service overrides of the global timeouts; nullopt = use the global value.
struct TimeoutOverrides {
    std::optional<uint32_t> tcp, tcp_fin, udp;

    bool empty() const { return !tcp && !tcp_fin && !udp; }
    friend bool operator==(const TimeoutOverrides&, const TimeoutOverrides&) = default;
};

struct Service {
    ServiceKey key;
    Scheduler scheduler = Scheduler::wlc;  // ipvsadm's default
    uint32_t sched_flags = 0;              // SchedFlag bits
    uint32_t mh_table_size = 65537;        // mh lookup table size, a prime
    std::optional<Persistence> persistence;
    TimeoutOverrides timeouts;
    std::optional<SorryServer> sorry_server;
    // IPVS's sysctl expire_nodest_conn, per service: a connection whose real server left the
    // service is reset and expired at its next packet instead of continuing (the default,
    // false, keeps it). docs/architecture.md, "Real servers that leave".
    bool expire_nodest_conn = false;
    std::vector<RealServer> reals;
    std::vector<Ip4> local_addresses;  // FULLNAT source (SNAT) pool

    // Runtime, never persisted (see the top of this file): the quorum is lost, the sorry
    // server takes the real servers' place. Only with a sorry_server.
    bool sorry_active = false;

    friend bool operator==(const Service&, const Service&) = default;
};

// Seconds. IPVS defaults (ipvsadm --set tcp tcpfin udp).
struct Timeouts {
    uint32_t tcp = 900;
    uint32_t tcp_fin = 120;
    uint32_t udp = 300;

    friend bool operator==(const Timeouts&, const Timeouts&) = default;
};

// The dataplane's answer to iptables -j MARK: packets to (protocol, address, port in
// [first_port, last_port]) belong to the mark's service (ipvsadm -f MARK).
struct PortMatch {
    Protocol protocol = Protocol::tcp;
    Ip4 address;
    uint16_t first_port = 0;  // host order, 1..65535
    uint16_t last_port = 0;   // >= first_port

    friend bool operator==(const PortMatch&, const PortMatch&) = default;
};

struct PortGroup {
    uint32_t mark = 0;  // 1..2^32-1
    std::vector<PortMatch> matches;

    friend bool operator==(const PortGroup&, const PortGroup&) = default;
};

// A connection synchronisation daemon (ipvsadm --start-daemon): the master streams session
// events, the backup installs what it receives (docs/ha.md). A node runs at most one of each
// state, as IPVS. Sessions travel in the IPVS sync protocol v1 over UDP, multicast to
// `mcast_group` on `mcast_interface` unless `peers` lists unicast destinations (dplb's
// extension). Not part of the virtual server table: `-S` does not save it, as ipvsadm.
enum class SyncState : uint8_t { master, backup };

struct SyncDaemon {
    SyncState state = SyncState::master;
    std::string mcast_interface;              // a kernel interface name, e.g. the twin "dplb0"
    uint8_t syncid = 0;                       // 0..255; a backup with 0 takes every syncid
    uint16_t sync_maxlen = 1472;              // max datagram payload (--sync-maxlen)
    Ip4 mcast_group = Ip4::from_host(0xe0000051u);  // 224.0.0.81
    uint16_t mcast_port = 8848;
    uint8_t mcast_ttl = 1;
    std::vector<Ip4> peers;                   // unicast destinations; empty = multicast

    friend bool operator==(const SyncDaemon&, const SyncDaemon&) = default;
};

struct Config {
    Timeouts timeouts;
    std::vector<PortGroup> port_groups;
    std::vector<Service> services;
    std::vector<SyncDaemon> sync_daemons;  // at most one master and one backup

    friend bool operator==(const Config&, const Config&) = default;
};

// Names as ipvsadm and the JSON API spell them.
std::string_view to_string(Protocol);
std::string_view to_string(ForwardMethod);   // "nat", "fullnat", "dr", "tunnel"
std::string_view ipvsadm_name(ForwardMethod);  // "Masq", "FullNat", "Route", "Tunnel"
std::string_view to_string(Scheduler);
std::string_view to_string(RealHealth);          // "up", "removed", "inhibited"
std::string_view to_string(SyncState);           // "master", "backup"

// Parsing the same names; nullopt for anything else (case-sensitive, as ipvsadm).
std::optional<Protocol> parse_protocol(std::string_view);
std::optional<ForwardMethod> parse_forward(std::string_view);  // "nat", "fullnat", "dr", "tunnel"
std::optional<Scheduler> parse_scheduler(std::string_view);    // every IPVS name
std::optional<RealHealth> parse_health(std::string_view);      // "up", "removed", "inhibited"
std::optional<SyncState> parse_sync_state(std::string_view);   // "master", "backup"

// What the dataplane implements today; the model rejects the rest as "not supported yet".
bool scheduler_supported(Scheduler);
bool forward_supported(ForwardMethod);
// "rr, wrr": the supported names, for error messages.
std::string supported_scheduler_names();

}  // namespace dplb::config
