// Semantic rules of a configuration (docs/api.md "Objects"), beyond what the JSON codec
// checks: usable addresses, ports that the forwarding method can use, scheduler options
// that fit the scheduler, uniqueness, port groups that do not overlap, FULLNAT needing a
// local address. Every function names the offending member with a path under `path`.
//
// dplb-control runs validate_config on every configuration it is about to accept, and the
// codec runs it on every decoded configuration, so an invalid one never reaches the state
// file or the dataplane.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dplb/config.hpp"

namespace dplb::model {

inline constexpr uint32_t min_timeout = 1;
// 23 days: the dataplane keeps deadlines in a wrapping 32-bit millisecond clock, whose
// comparisons hold within 2^31 ms (~24.8 days).
inline constexpr uint32_t max_timeout = 2000000;
inline constexpr uint32_t min_mh_table_size = 7;
inline constexpr uint32_t max_mh_table_size = 1048573;  // the largest prime below 2^20
inline constexpr uint32_t max_threshold = 2147483647;   // ipvsadm's INT_MAX
// A sync daemon's datagram payload (--sync-maxlen). ipvsadm accepts 1..65535-20-8 and the
// kernel clamps; dplb refuses what cannot work instead: below 128 a message cannot hold its
// header and the largest record dplb writes (sync::min_max_payload, 84 bytes, with room for
// options added later); above 65507 it is no longer one IPv4 UDP datagram.
inline constexpr uint16_t min_sync_maxlen = 128;
inline constexpr uint16_t max_sync_maxlen = 65535 - 20 - 8;
// IFNAMSIZ - 1: the kernel's limit on an interface name.
inline constexpr std::size_t max_interface_name = 15;

bool is_prime(uint32_t n);
// 255.255.255.0 yes, 255.0.255.0 no; 0.0.0.0 (all clients alike) and /32 yes.
bool is_contiguous_netmask(Ip4 mask);

// A VIP, RIP or LIP: not 0.0.0.0, not 255.255.255.255, not multicast.
Status check_unicast(Ip4 address, const std::string& field);
Status check_scheduler(config::Scheduler, const std::string& field);
Status check_forward(config::ForwardMethod, const std::string& field);

Status validate_timeouts(const config::Timeouts&, const std::string& path);
Status validate_timeout_overrides(const config::TimeoutOverrides&, const std::string& path);
Status validate_persistence(const config::Persistence&, const std::string& path);
// The key alone: a fwmark key is canonical (tcp, 0.0.0.0, 0); an address key has a unicast
// address; port 0 only on a persistent service (needs `persistent`).
Status validate_service_key(const config::ServiceKey&, bool persistent, const std::string& path);
// Scheduler flags that belong to the scheduler, mh_table_size a prime in range and only
// changed for mh.
Status validate_scheduler_options(const config::Service&, const std::string& path);
// One real server of `service`: address, port (0 only in fwmark and port-0 services; DR and
// TUN keep the service's port), weight, forward method, thresholds.
Status validate_real_server(const config::Service& service, const config::RealServer&, const std::string& path);
// The sorry server of `service`: a real server's rules (sorry_as_real), and a fullnat one
// needs a local address of the service.
Status validate_sorry_server(const config::Service& service, const config::SorryServer&, const std::string& path);
// Key, scheduler options, persistence, timeouts, every real server and local address,
// duplicates inside the service, "fullnat needs a local address", the sorry server, and
// sorry_active only with a sorry server.
Status validate_service(const config::Service&, const std::string& path);
// Mark, at least one match, each match's address and ports (1..65535, first <= last).
Status validate_port_group(const config::PortGroup&, const std::string& path);
// A kernel interface name as the kernel accepts it (dev_valid_name): 1..15 characters, not
// "." or "..", no '/', ':' or white space.
Status check_interface_name(const std::string& name, const std::string& field);
// One sync daemon alone: its interface name, syncid (any u8), sync_maxlen within
// [min_sync_maxlen, max_sync_maxlen], a multicast group, port 1..65535, ttl 1..255, peers
// unicast and not repeated.
Status validate_sync_daemon(const config::SyncDaemon&, const std::string& path);
// Each daemon (under `path`, the list's path), and at most one master and one backup.
Status validate_sync_daemons(const std::vector<config::SyncDaemon>&, const std::string& path);
// A master and a backup side by side: with unicast peers both would bind 0.0.0.0:mcast_port
// and each datagram would reach one of them only, so their ports must differ. `port_field`
// names the mcast_port reported (the daemon added last).
Status validate_sync_daemon_pair(const config::SyncDaemon&, const config::SyncDaemon&, const std::string& port_field);
// Everything above for every port group and service, plus: no two port groups with the same
// mark, no two matches overlapping, no match taking an address service's packets, no two
// services with the same key; and the sync daemons (validate_sync_daemons).
Status validate_config(const config::Config&, const std::string& path = "config");

}  // namespace dplb::model
