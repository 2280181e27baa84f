#include "model/nat_owners.hpp"

namespace dplb::model {

namespace {

uint64_t key_of(uint8_t proto, const config::RealServer& r) {
    return uint64_t(proto) << 48 | uint64_t(r.address.host()) << 16 | r.port;
}

template <class F>
void for_each_proto(uint8_t protocols, F&& f) {
    if (protocols & proto_tcp_bit) f(uint8_t(config::Protocol::tcp));
    if (protocols & proto_udp_bit) f(uint8_t(config::Protocol::udp));
}

}  // namespace

NatOwners::Owner NatOwners::owner_of(const config::Service& s) {
    if (!s.persistence) return {};
    return {true, s.persistence->netmask.host()};
}

bool NatOwners::add(uint8_t protocols, const config::RealServer& r, Owner owner) {
    if (r.forward != config::ForwardMethod::nat) return true;
    bool ok = true;
    for_each_proto(protocols, [&](uint8_t p) {
        auto it = entries_.find(key_of(p, r));
        if (it != entries_.end() && !(it->second.owner == owner)) ok = false;
    });
    if (!ok) return false;  // checked first, so that a refusal adds nothing
    for_each_proto(protocols, [&](uint8_t p) {
        Entry& e = entries_[key_of(p, r)];
        e.owner = owner;
        ++e.count;
    });
    return true;
}

void NatOwners::remove(uint8_t protocols, const config::RealServer& r) {
    if (r.forward != config::ForwardMethod::nat) return;
    for_each_proto(protocols, [&](uint8_t p) {
        auto it = entries_.find(key_of(p, r));
        if (it != entries_.end() && --it->second.count == 0) entries_.erase(it);
    });
}

std::string nat_owner_message(const config::RealServer& r) {
    return "NAT real server " + r.address.str() + ":" + std::to_string(r.port) +
           " is in services with different persistence; its replies could not be matched to one worker";
}

}  // namespace dplb::model
