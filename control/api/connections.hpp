// The `connections` request (ipvsadm -L -c): dplb-control asks the dataplane for its
// connection table and answers with it, for one service or all, cut to a limit.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "model/connections.hpp"
#include "common/result.hpp"
#include "dplb/config.hpp"
#include "codec/connections_json.hpp"

namespace dplb::api {

inline constexpr std::size_t default_connection_limit = 100000;
// ~200 bytes each: the largest reply stays well below the dataplane link's line limit.
inline constexpr std::size_t max_connection_limit = 200000;

struct ConnectionsQuery {
    std::optional<config::ServiceKey> service;  // only this service's entries
    std::size_t limit = default_connection_limit;
};

// `service` (optional, must exist) and `limit` (1..max_connection_limit).
model::Result<ConnectionsQuery> read_connections_query(const config::Config&, const nlohmann::json& request);

// What dplb-control sends the dataplane: {"cmd":"connections","limit":N}. The dataplane does
// not filter, so a query for one service asks for as many entries as allowed.
nlohmann::json dataplane_connections_request(const ConnectionsQuery&);

// Whether an entry belongs to the service `key` of `config`: by mark for fwmark services; by
// protocol (or "ip" for templates), address and port otherwise, where a port-0 service takes
// the ports no other service of its address has.
class ServiceMatcher {
public:
    ServiceMatcher(const config::ServiceKey& key, const config::Config& config);
    bool operator()(const model::ConnectionEntry&) const;

private:
    config::ServiceKey key_;
    std::set<std::pair<config::Protocol, uint16_t>> taken_;  // ports of the address's other services
};

// {"ok":true,"dataplane":"connected","truncated":bool,"connections":[...]}: the entries of the
// query's service (or all), at most `limit`; truncated when the dataplane or the limit left
// some out.
nlohmann::json connections_reply(const model::ConnectionList& all, const config::Config&, const ConnectionsQuery&);

}  // namespace dplb::api
