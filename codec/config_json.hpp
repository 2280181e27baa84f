// JSON codec of the configuration (docs/api.md "Objects"): the control socket's requests,
// dplb-control's state file and the dataplane's `apply` request all use it.
//
// Decoders are strict (unknown members, wrong types and out-of-range numbers are errors) and
// report the path of the member at fault, built from `path` ("config.services[2].port").
//
// Runtime health state (config.hpp: a real server's "health" and "dynamic_weight", a
// service's "sorry_active") is encoded only where it differs from "up, none, false", and
// only with RuntimeState::include: the dataplane push and get-config carry it, the state file
// (RuntimeState::omit) does not. Decoders accept it either way (absent: the default).
// A configuration's "sync_daemons" is written only when it has any, so configurations without
// sync daemons encode as they did before the member existed.
// Only `config_from_json` also runs the semantic checks of validate.hpp; the per-object
// decoders are building blocks for request handlers, which validate what they build.
// Nothing here throws.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "codec/json_reader.hpp"
#include "common/result.hpp"
#include "model/describe.hpp"
#include "dplb/config.hpp"

namespace dplb::model {

// Whether encoders write the runtime health state.
enum class RuntimeState : uint8_t { include, omit };

// A whole configuration, decoded and validated (validate_config). This is what the
// dataplane calls on an `apply` request's `config` member.
Result<config::Config> config_from_json(const nlohmann::json& j, const std::string& path = "config");

// Exactly {"fwmark"} or {"protocol","address","port"}; other members are errors.
Result<config::ServiceKey> service_key_from_json(const nlohmann::json& j, const std::string& path);
// Reads the key members ("fwmark", or "protocol", "address" and "port") of an object whose
// other members the caller reads.
Status read_service_key(ObjectReader& r, config::ServiceKey& key);
// A full service object; `scheduler` defaults to wlc, the lists to empty.
Result<config::Service> service_from_json(const nlohmann::json& j, const std::string& path);

// Which of a service's attributes an object gave (read_service_attributes).
struct AttributesGiven {
    bool scheduler = false, sched_flags = false, mh_table_size = false, persistence = false, timeouts = false,
         sorry_server = false, expire_nodest_conn = false;
};
// The attributes of a service besides its key and lists: "scheduler", "sched_flags",
// "mh_table_size", "persistence" (null = not persistent), "timeouts" (merged into the
// service's overrides: a member sets, null clears), "sorry_server" (null = none) and
// "expire_nodest_conn" (a boolean). Absent members leave `svc` as it was. Not the runtime
// "sorry_active" (service_from_json reads it).
Status read_service_attributes(ObjectReader& r, config::Service& svc, AttributesGiven* given = nullptr);

// Members that are absent keep their value from `defaults` (whose `port` should be the
// service's port); `address` is required.
Result<config::RealServer> real_server_from_json(const nlohmann::json& j, const std::string& path,
                                                 const config::RealServer& defaults);
// {"address", "port", "forward", "inhibit"}: `address` required, the port defaults to
// `default_port` (the service's), forward to nat, inhibit to false.
Result<config::SorryServer> sorry_server_from_json(const nlohmann::json& j, const std::string& path,
                                                   uint16_t default_port);
// Any subset of {"tcp","tcp_fin","udp"}; missing members keep the value from `base`.
Result<config::Timeouts> timeouts_from_json(const nlohmann::json& j, const std::string& path,
                                            const config::Timeouts& base = {});
// Any subset of {"tcp","tcp_fin","udp"} applied to `base`: a number sets the override, null
// removes it.
Result<config::TimeoutOverrides> timeout_overrides_from_json(const nlohmann::json& j, const std::string& path,
                                                             const config::TimeoutOverrides& base = {});
// {"timeout":300,"netmask":"255.255.255.255"}, both optional (these are the defaults).
Result<config::Persistence> persistence_from_json(const nlohmann::json& j, const std::string& path);
// ["sh-fallback","sh-port","mh-fallback","mh-port"] (any subset) as SchedFlag bits.
Result<uint32_t> sched_flags_from_json(const nlohmann::json& j, const std::string& path);
// {"mark":66,"matches":[<port match>,...]}.
Result<config::PortGroup> port_group_from_json(const nlohmann::json& j, const std::string& path);
// {"protocol","address","port"} or {"protocol","address","port_range":[first,last]}.
Result<config::PortMatch> port_match_from_json(const nlohmann::json& j, const std::string& path);
// {"state","mcast_interface","syncid","sync_maxlen","mcast_group","mcast_port","mcast_ttl",
// "peers"}: `state` ("master" or "backup") and `mcast_interface` required, the rest default as
// ipvsadm (config::SyncDaemon). Not validated (validate_sync_daemon).
Result<config::SyncDaemon> sync_daemon_from_json(const nlohmann::json& j, const std::string& path);
// "master" or "backup".
Result<config::SyncState> sync_state_from_json(const nlohmann::json& j, const std::string& path);
// A dotted-quad string (syntax only; validate.hpp says whether it may be used).
Result<Ip4> address_from_json(const nlohmann::json& j, const std::string& path);

// Field-level decoders shared with request handlers that read single members.
Result<config::Scheduler> scheduler_from_json(const nlohmann::json& j, const std::string& path);
Result<config::ForwardMethod> forward_from_json(const nlohmann::json& j, const std::string& path);

nlohmann::json to_json(const config::Config&, RuntimeState = RuntimeState::include);
nlohmann::json to_json(const config::Service&, RuntimeState = RuntimeState::include);
nlohmann::json to_json(const config::RealServer&, RuntimeState = RuntimeState::include);
nlohmann::json to_json(const config::SorryServer&);
nlohmann::json to_json(const config::Timeouts&);
nlohmann::json to_json(const config::TimeoutOverrides&);  // only the overrides that are set
nlohmann::json to_json(const config::Persistence&);
nlohmann::json to_json(const config::PortGroup&);
nlohmann::json to_json(const config::PortMatch&);
nlohmann::json to_json(const config::SyncDaemon&);  // every member, defaults included
nlohmann::json sched_flags_to_json(uint32_t flags);
// {"fwmark":N} or {"protocol","address","port"}: the key alone, e.g. to address a request
// at a service.
nlohmann::json key_to_json(const config::ServiceKey&);

}  // namespace dplb::model
