#include "dataplane/config/owned_addresses.hpp"

#include <algorithm>
#include <map>

namespace dplb {

OwnedAddresses build_owned(const std::vector<uint32_t>& kernel, const Snapshot& snap,
                           const LocalAddressRegistry& laddrs) {
    std::vector<uint32_t> held(kernel);
    std::sort(held.begin(), held.end());
    auto is_held = [&](uint32_t a) { return std::binary_search(held.begin(), held.end(), a); };

    std::map<uint32_t, uint8_t> owned;  // sorted by address value: status lists come out ordered
    for (uint32_t a : held)
        if (const LocalAddressInfo* la = snap.find_local(a); la && (la->kinds & local_vip)) owned[a] |= local_vip;
    // Every address:port a service is filed under (services, port groups' mark services,
    // port-0 services): its local addresses move with that address.
    snap.services.for_each([&](uint64_t key, const ServiceSnap* svc) {
        if (!svc || !is_held(uint32_t(key))) return;
        for (uint16_t id : svc->laddr_ids)
            if (const LocalAddress* la = laddrs.entry(id)) owned[la->address()] |= local_snat;
    });

    OwnedAddresses out;
    std::vector<std::pair<uint64_t, uint8_t>> items;
    for (const auto& [addr, kinds] : owned) {
        items.emplace_back(addr, kinds);
        if (kinds & local_vip) out.vips.push_back(addr);
        if (kinds & local_snat) out.laddrs.push_back(addr);
    }
    out.addresses = FlatMap<uint8_t>(items);
    return out;
}

}  // namespace dplb
