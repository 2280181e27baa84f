// Shorthands for writing service configurations and port setups in tests.
#pragma once

#include <cstdlib>
#include <vector>

#include "dataplane/config/snapshot.hpp"
#include "dplb/config.hpp"
#include "packet_builder.hpp"

namespace dplb::test {

inline Ip4 addr(const char* dotted) { return Ip4{ip(dotted)}; }

inline config::RealServer real(const char* address, uint16_t port,
                               config::ForwardMethod fwd = config::ForwardMethod::fullnat, uint32_t weight = 1) {
    config::RealServer r;
    r.address = addr(address);
    r.port = port;
    r.forward = fwd;
    r.weight = weight;
    return r;
}

inline config::Service service(config::Protocol proto, const char* vip, uint16_t port, config::Scheduler sched,
                               std::vector<config::RealServer> reals, std::vector<const char*> laddrs = {}) {
    config::Service s;
    s.key = config::ServiceKey{proto, addr(vip), port};
    s.scheduler = sched;
    s.reals = std::move(reals);
    for (const char* a : laddrs) s.local_addresses.push_back(addr(a));
    return s;
}

// ipvsadm -p `timeout` -M `netmask` on `s`.
inline config::Service persistent(config::Service s, uint32_t timeout = 300, const char* netmask = "255.255.255.255") {
    s.persistence = config::Persistence{timeout, addr(netmask)};
    return s;
}

// A port group (mark) and the service keyed by it (ipvsadm -f MARK).
inline config::PortMatch match(config::Protocol proto, const char* address, uint16_t first, uint16_t last) {
    return config::PortMatch{proto, addr(address), first, last};
}
inline config::PortGroup port_group(uint32_t mark, std::vector<config::PortMatch> matches) {
    return config::PortGroup{mark, std::move(matches)};
}
inline config::Service mark_service(uint32_t mark, config::Scheduler sched, std::vector<config::RealServer> reals,
                                    std::vector<const char*> laddrs = {}) {
    config::Service s = service(config::Protocol::tcp, "0.0.0.0", 0, sched, std::move(reals), std::move(laddrs));
    s.key.fwmark = mark;
    return s;
}

inline PortSnap port_with(uint8_t mac_last, std::vector<const char*> prefixes) {
    PortSnap p;
    p.mac = mac(mac_last);
    for (const char* text : prefixes) {
        auto pfx = Ip4Prefix::parse(text);
        if (!pfx) std::abort();
        p.addresses.push_back(*pfx);
    }
    return p;
}

}  // namespace dplb::test
