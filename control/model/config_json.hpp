// JSON codec of the configuration (docs/api.md "Objects"): the control socket's requests,
// dplb-control's state file and the dataplane's `apply` request all use it.
//
// Decoders are strict (unknown members, wrong types and out-of-range numbers are errors) and
// report the path of the member at fault, built from `path` ("config.services[2].port").
// Only `config_from_json` also runs the semantic checks of validate.hpp; the per-object
// decoders are building blocks for request handlers, which validate what they build.
// Nothing here throws.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "control/model/json_reader.hpp"
#include "control/model/result.hpp"
#include "dplb/config.hpp"

namespace dplb::model {

// A whole configuration, decoded and validated (validate_config). This is what the
// dataplane calls on an `apply` request's `config` member.
Result<config::Config> config_from_json(const nlohmann::json& j, const std::string& path = "config");

// Exactly {"protocol","address","port"}; other members are errors.
Result<config::ServiceKey> service_key_from_json(const nlohmann::json& j, const std::string& path);
// Reads "protocol", "address" and "port" of an object whose other members the caller reads.
Status read_service_key(ObjectReader& r, config::ServiceKey& key);
// A full service object; `scheduler` defaults to wlc, the lists to empty.
Result<config::Service> service_from_json(const nlohmann::json& j, const std::string& path);
// Members that are absent keep their value from `defaults` (whose `port` should be the
// service's port); `address` is required.
Result<config::RealServer> real_server_from_json(const nlohmann::json& j, const std::string& path,
                                                 const config::RealServer& defaults);
// Any subset of {"tcp","tcp_fin","udp"}; missing members keep the value from `base`.
Result<config::Timeouts> timeouts_from_json(const nlohmann::json& j, const std::string& path,
                                            const config::Timeouts& base = {});
// A dotted-quad string (syntax only; validate.hpp says whether it may be used).
Result<Ip4> address_from_json(const nlohmann::json& j, const std::string& path);

// Field-level decoders shared with request handlers that read single members.
Result<config::Scheduler> scheduler_from_json(const nlohmann::json& j, const std::string& path);
Result<config::ForwardMethod> forward_from_json(const nlohmann::json& j, const std::string& path);

nlohmann::json to_json(const config::Config&);
nlohmann::json to_json(const config::Service&);
nlohmann::json to_json(const config::RealServer&);
nlohmann::json to_json(const config::Timeouts&);
// {"protocol","address","port"}: the key alone, e.g. to address a request at a service.
nlohmann::json key_to_json(const config::ServiceKey&);

// "tcp 10.0.0.100:80", as error messages name a service.
std::string describe(const config::ServiceKey&);
// "192.168.100.11:80".
std::string describe(Ip4 address, uint16_t port);

}  // namespace dplb::model
