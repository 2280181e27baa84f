#include "dataplane/l3/route_table.hpp"

#include <rte_errno.h>
#include <rte_lpm.h>

#include <atomic>
#include <string>

namespace dplb::l3 {

model::Result<std::unique_ptr<RouteTable>> RouteTable::build(const std::vector<runtime::PortConfig>& ports,
                                                             const std::vector<runtime::RouteConfig>& routes,
                                                             int socket_id) {
    static std::atomic<unsigned> instance{0};  // rte_lpm names must be unique in the process
    std::unique_ptr<RouteTable> t(new RouteTable());
    std::string name = "dplb_routes_" + std::to_string(instance++);
    rte_lpm_config cfg{};
    cfg.max_rules = 1024 + uint32_t(routes.size());
    cfg.number_tbl8s = 256;
    t->lpm_ = rte_lpm_create(name.c_str(), socket_id, &cfg);
    if (!t->lpm_) return model::Error{"routes", "rte_lpm_create failed: " + std::string(rte_strerror(rte_errno))};

    auto add = [&](const Ip4Prefix& pfx, Nexthop nh, const std::string& field) -> model::Status {
        if (pfx.length == 0) {
            t->default_ = nh;
            return std::nullopt;
        }
        uint32_t idx = uint32_t(t->nexthops_.size());
        t->nexthops_.push_back(nh);
        if (rte_lpm_add(t->lpm_, pfx.network().host(), pfx.length, idx) != 0)
            return model::Error{field, "cannot add route " + pfx.str()};
        return std::nullopt;
    };
    for (size_t p = 0; p < ports.size(); ++p) {
        t->port_addresses_.push_back(ports[p].addresses);
        for (size_t a = 0; a < ports[p].addresses.size(); ++a)
            if (auto e = add(ports[p].addresses[a], Nexthop{uint16_t(p), 0},
                             "ports[" + std::to_string(p) + "].addresses[" + std::to_string(a) + "]"))
                return *e;
    }
    for (size_t r = 0; r < routes.size(); ++r) {
        const auto& rc = routes[r];
        for (size_t p = 0; p < ports.size(); ++p)
            for (const auto& a : ports[p].addresses)
                if (a.contains(rc.via)) {
                    if (auto e = add(rc.prefix, Nexthop{uint16_t(p), rc.via.be}, "routes[" + std::to_string(r) + "]"))
                        return *e;
                    goto next_route;
                }
    next_route:;
    }
    return t;
}

RouteTable::~RouteTable() {
    if (lpm_) rte_lpm_free(lpm_);
}

const Nexthop* RouteTable::lookup(uint32_t dst_be) const {
    uint32_t idx;
    if (rte_lpm_lookup(lpm_, __builtin_bswap32(dst_be), &idx) != 0) return default_ ? &*default_ : nullptr;
    return &nexthops_[idx];
}

uint32_t RouteTable::source_for(uint16_t port, uint32_t addr_be) const {
    if (port >= port_addresses_.size() || port_addresses_[port].empty()) return 0;
    for (const auto& a : port_addresses_[port])
        if (a.contains(Ip4{addr_be})) return a.address.be;
    return port_addresses_[port].front().address.be;
}

}  // namespace dplb::l3
