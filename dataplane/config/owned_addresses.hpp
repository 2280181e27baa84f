// Which VIPs and FULLNAT local addresses this node serves now, when VIP ownership follows
// the kernel (`"vip_ownership": "kernel"`, docs/ha.md "VIP ownership follows the kernel").
//
// A VIP is owned while it is configured on a port's kernel twin (keepalived's
// `virtual_ipaddress` puts it there on a VRRP transition); a FULLNAT local address is owned
// while a VIP of a service that uses it is owned. Only owned addresses are answered for
// (ARP, ping) and only an owned VIP's services create sessions; sessions that exist keep
// forwarding whatever the ownership.
//
// This is a set of its own, not part of the Snapshot: the kernel's addresses are learnt on
// the main lcore while snapshots are built by the control thread, and an ownership change
// (a VRRP takeover) must reach the workers at once without rebuilding anything.
//
// Threading: built by the main lcore, published with one release store
// (Runtime::owned), read-only afterwards; freed after an rte_rcu_qsbr grace period.
// A worker reads it through Forwarder::set_owned() once per loop iteration.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/config/flat_map.hpp"
#include "dataplane/config/snapshot.hpp"
#include "dataplane/snat/local_address_registry.hpp"

namespace dplb {

struct OwnedAddresses {
    FlatMap<uint8_t> addresses;  // key: address (network order); value: LocalAddressKind bits
    std::vector<uint32_t> vips;    // the owned VIPs, ascending (status)
    std::vector<uint32_t> laddrs;  // the owned local addresses, ascending (status)

    // One probe: the fast path's whole cost of ownership.
    bool owns(uint32_t addr_be) const { return addresses.find(addr_be) != nullptr; }
};

// The owned set for the kernel's addresses `kernel` (network order, any order, duplicates
// allowed) under `snap`: the VIPs of `snap` that the kernel holds, and the local addresses of
// the services filed under them (port groups and port-0 services included). `laddrs` resolves
// ServiceSnap::laddr_ids; the caller must be a QSBR reader of `snap` (see
// LocalAddressRegistry). An address of the kernel's that is no VIP of `snap` is left out: it
// becomes owned when a service appears on it (the caller rebuilds on every new snapshot).
OwnedAddresses build_owned(const std::vector<uint32_t>& kernel, const Snapshot& snap,
                           const LocalAddressRegistry& laddrs);

}  // namespace dplb
