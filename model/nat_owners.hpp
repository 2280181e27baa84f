// The owner rule of NAT real servers (docs/architecture.md "Ownership"): a reply from a NAT
// real server carries no service, so the worker that owns it is computed from the server's
// (protocol, address, port) and the persistence netmask of its service. A server in two
// services with different persistence could then belong to two workers at once; the
// dataplane's SnapshotBuilder::check refuses it, and this refcounted index lets the editor
// refuse it per change instead of per snapshot.
//
// Threading: owned by one ConfigEditor; not shared.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "dplb/config.hpp"

namespace dplb::model {

// Bit set of protocols: what a service's packets (and so its NAT servers' replies) use.
inline constexpr uint8_t proto_tcp_bit = 1, proto_udp_bit = 2;

class NatOwners {
public:
    struct Owner {
        bool persistent = false;
        uint32_t netmask = 0;  // host order; 0 when not persistent
        friend bool operator==(const Owner&, const Owner&) = default;
    };
    static Owner owner_of(const config::Service&);

    // Adds the server's keys (one per protocol of `protocols`) under `owner`, or nothing at
    // all when one key is held by a different owner (then false).
    bool add(uint8_t protocols, const config::RealServer&, Owner);
    void remove(uint8_t protocols, const config::RealServer&);
    void clear() { entries_.clear(); }

private:
    struct Entry {
        Owner owner;
        uint32_t count = 0;
    };
    std::unordered_map<uint64_t, Entry> entries_;
};

// "NAT real server 10.0.0.1:80 is in services with different persistence; ...".
std::string nat_owner_message(const config::RealServer&);

}  // namespace dplb::model
