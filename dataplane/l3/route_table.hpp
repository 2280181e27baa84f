// IPv4 routes: connected networks of the ports' addresses plus static routes, looked up with
// rte_lpm. Built once at start from the dataplane configuration.
//
// Threading: immutable after build(); any thread may look up.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/result.hpp"
#include "dataplane/runtime/dataplane_config.hpp"

struct rte_lpm;

namespace dplb::l3 {

struct Nexthop {
    uint16_t port = 0;     // dataplane port index
    uint32_t gateway = 0;  // network order; 0 = on-link, resolve the destination itself
};

class RouteTable {
public:
    static model::Result<std::unique_ptr<RouteTable>> build(const std::vector<runtime::PortConfig>& ports,
                                                            const std::vector<runtime::RouteConfig>& routes,
                                                            int socket_id);
    ~RouteTable();

    // nullptr when no route matches.
    const Nexthop* lookup(uint32_t dst_be) const;
    // The port address to use as source toward `addr` on `port` (ARP requests): the address
    // whose network holds it, else the port's first address; 0 if the port has none.
    uint32_t source_for(uint16_t port, uint32_t addr_be) const;

private:
    RouteTable() = default;
    rte_lpm* lpm_ = nullptr;
    std::vector<Nexthop> nexthops_;
    std::optional<Nexthop> default_;  // 0.0.0.0/0: rte_lpm takes depths 1..32 only
    std::vector<std::vector<Ip4Prefix>> port_addresses_;
};

}  // namespace dplb::l3
