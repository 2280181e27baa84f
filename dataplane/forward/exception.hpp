// The exception path's decisions (docs/architecture.md, "Exception path"): which received
// frames belong to a port's kernel twin rather than to the dataplane, in which class, and
// the per-worker token bucket that limits them. Pure functions over bytes and a snapshot:
// no mbuf, no EAL, so they are unit-tested on crafted frames.
//
// Threading: the functions are pure; a TokenBucket belongs to one worker.
#pragma once

#include <algorithm>
#include <cstdint>

#include "dataplane/config/snapshot.hpp"
#include "dataplane/packet/headers.hpp"
#include "dataplane/packet/parse.hpp"
#include "dataplane/session/time.hpp"

namespace dplb::fwd {

// control: what keeps the control plane alive (VRRP, IGMP, ARP, BGP): limited separately
// and with a larger budget, so that a flood of `other` cannot starve it.
enum class ExceptionClass : uint8_t { none = 0, control = 1, other = 2 };

inline constexpr uint8_t proto_igmp = 2;
inline constexpr uint8_t proto_vrrp = 112;
inline constexpr uint16_t bgp_port_be = uint16_t((179 >> 8) | ((179 & 0xff) << 8));

// A parsed IPv4 packet received on port index `port`: whether it goes up to the port's twin.
// Only a port with a twin sends anything up; without one the answer is always none (today's
// behaviour). VIPs and FULLNAT local addresses stay the dataplane's even if they are also an
// interface address.
inline ExceptionClass classify_ipv4_exception(const pkt::ParsedIpv4& p, const Snapshot& snap, uint16_t port) {
    if (port >= snap.ports.size() || !snap.ports[port].twin) [[likely]]
        return ExceptionClass::none;
    if (p.proto == proto_vrrp || p.proto == proto_igmp) return ExceptionClass::control;
    const uint32_t d = Ip4{p.daddr}.host();
    if ((d >> 28) == 0xe || d == 0xffffffffu) return ExceptionClass::other;  // multicast, broadcast
    for (const Ip4Prefix& a : snap.ports[port].addresses) {
        if (a.address.be == p.daddr) {
            const LocalAddressInfo* la = snap.find_local(p.daddr);
            if (la && (la->kinds & (local_vip | local_snat))) return ExceptionClass::none;
            // The hook for BGP: a session to or from TCP 179 is control-plane traffic.
            if (p.proto == pkt::proto_tcp && (p.dport == bgp_port_be || p.sport == bgp_port_be))
                return ExceptionClass::control;
            return ExceptionClass::other;
        }
        if (a.length <= 30 && (d & ~a.mask_host()) == ~a.mask_host() && (d & a.mask_host()) == a.network().host())
            return ExceptionClass::other;  // the subnet's directed broadcast
    }
    return ExceptionClass::none;
}

// What an ARP frame received on a twin port means for the twin.
enum class ArpException : uint8_t {
    none,     // the dataplane's alone (or no twin): as before
    up,       // the kernel's alone: a request for one of its addresses
    copy_up,  // both: a reply or an announcement, which the dataplane learns from too
};

// `frame`/`len` from the Ethernet header. Malformed ARP is left to the forwarder (it drops
// and counts it).
inline ArpException classify_arp_exception(const uint8_t* frame, uint32_t len, const Snapshot& snap, uint16_t port) {
    if (port >= snap.ports.size() || !snap.ports[port].twin) [[likely]]
        return ArpException::none;
    if (len < sizeof(pkt::EthHdr) + sizeof(pkt::ArpHdr)) return ArpException::none;
    const auto* arp = pkt::at<pkt::ArpHdr>(frame, sizeof(pkt::EthHdr));
    if (arp->htype_be != pkt::arp_htype_ether_be || arp->ptype_be != pkt::ethertype_ipv4_be || arp->hlen != 6 ||
        arp->plen != 4)
        return ArpException::none;
    if (arp->op_be == pkt::arp_op_reply_be || (arp->op_be == pkt::arp_op_request_be && arp->spa == arp->tpa))
        return ArpException::copy_up;
    if (arp->op_be != pkt::arp_op_request_be) return ArpException::none;
    for (const Ip4Prefix& a : snap.ports[port].addresses)
        if (a.address.be == arp->tpa) {
            const LocalAddressInfo* la = snap.find_local(arp->tpa);
            return la && (la->kinds & (local_vip | local_snat)) ? ArpException::none : ArpException::up;
        }
    return ArpException::none;
}

// A token bucket on the worker's millisecond clock, in thousandths of a packet so that low
// rates work: `pps` packets per second, at most `burst` at once. pps 0 = unlimited.
class TokenBucket {
public:
    TokenBucket() = default;
    TokenBucket(uint32_t pps, uint32_t burst, Tick now)
        : rate_(pps), cap_(uint64_t(std::max<uint32_t>(burst, 1)) * 1000), tokens_(cap_), last_(now) {}

    bool take(Tick now) {
        if (rate_ == 0) return true;
        if (tick_after(now, last_)) {
            const uint64_t elapsed = std::min<uint64_t>(Tick(now - last_), cap_);  // bounds the product
            tokens_ = std::min(cap_, tokens_ + elapsed * rate_);
            last_ = now;
        }
        if (tokens_ < 1000) return false;
        tokens_ -= 1000;
        return true;
    }
    uint32_t rate() const { return rate_; }

private:
    uint32_t rate_ = 0;
    uint64_t cap_ = 0;
    uint64_t tokens_ = 0;  // thousandths of a packet
    Tick last_ = 0;
};

// The burst a rate allows: a tenth of a second of it, at least 16 packets.
inline uint32_t exception_burst(uint32_t pps) { return std::max<uint32_t>(pps / 10, 16); }

}  // namespace dplb::fwd
