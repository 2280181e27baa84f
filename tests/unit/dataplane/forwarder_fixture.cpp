#include "forwarder_fixture.hpp"

#include <algorithm>

#include "catch_print.hpp"
#include "dataplane/flow/owner.hpp"

namespace dplb::test {

using config::ForwardMethod;
using config::Protocol;
using config::Scheduler;

const uint32_t Net::vip = ip("192.0.2.100"), Net::vip2 = ip("192.0.2.101"), Net::lip = ip("10.0.0.200"),
               Net::port0_addr = ip("192.0.2.1"), Net::port1_addr = ip("10.0.0.1"), Net::client = ip("198.51.100.7"),
               Net::unknown = ip("203.0.113.9");
const pkt::Mac Net::port0_mac = mac(0x10), Net::port1_mac = mac(0x11), Net::client_gw_mac = mac(0xc1),
               Net::server_mac = mac(0x5e);

config::Config default_lb_config() {
    config::Config c;
    c.services = {
        service(Protocol::tcp, "192.0.2.100", 80, Scheduler::rr, {real("10.0.0.11", 8080), real("10.0.0.12", 8080)},
                {"10.0.0.200"}),
        service(Protocol::tcp, "192.0.2.100", 443, Scheduler::rr,
                {real("10.0.0.21", 443, ForwardMethod::nat), real("10.0.0.22", 443, ForwardMethod::nat)}),
        service(Protocol::tcp, "192.0.2.101", 443, Scheduler::rr, {real("10.0.0.21", 443, ForwardMethod::nat)}),
        service(Protocol::udp, "192.0.2.100", 53, Scheduler::rr, {real("10.0.0.31", 5353)}, {"10.0.0.200"}),
        service(Protocol::udp, "192.0.2.100", 5353, Scheduler::rr, {real("10.0.0.41", 5353, ForwardMethod::nat)}),
        // NAT that translates ports: a reply leaving with the server's port instead of the
        // VIP's would pass every test of the same-port services above.
        service(Protocol::tcp, "192.0.2.100", 4443, Scheduler::rr, {real("10.0.0.71", 8443, ForwardMethod::nat)}),
        service(Protocol::udp, "192.0.2.100", 5300, Scheduler::rr, {real("10.0.0.81", 53, ForwardMethod::nat)}),
    };
    return c;
}

const uint32_t DrTunNet::d1 = ip("10.0.0.51"), DrTunNet::d2 = ip("10.0.0.52"), DrTunNet::t1 = ip("172.16.1.10"),
               DrTunNet::t2 = ip("172.16.2.20"), DrTunNet::n1 = ip("10.0.0.61"), DrTunNet::t1_source = ip("10.0.0.1"),
               DrTunNet::t2_source = ip("10.0.0.250");

config::Config dr_tun_config() {
    config::Config c;
    c.services = {
        service(Protocol::tcp, "192.0.2.100", 80, Scheduler::rr,
                {real("10.0.0.51", 80, ForwardMethod::dr), real("10.0.0.52", 80, ForwardMethod::dr)}),
        service(Protocol::tcp, "192.0.2.100", 443, Scheduler::rr,
                {real("172.16.1.10", 443, ForwardMethod::tunnel), real("172.16.2.20", 443, ForwardMethod::tunnel)}),
        service(Protocol::udp, "192.0.2.100", 53, Scheduler::rr, {real("172.16.1.10", 53, ForwardMethod::tunnel)}),
        persistent(service(Protocol::tcp, "192.0.2.101", 0, Scheduler::rr, {real("10.0.0.51", 0, ForwardMethod::dr)})),
        persistent(service(Protocol::udp, "192.0.2.101", 0, Scheduler::rr, {real("10.0.0.61", 0, ForwardMethod::nat)})),
    };
    return c;
}

TunnelRoute dr_tun_routes(uint32_t a) {
    if ((a & ip("255.255.255.0")) == ip("172.16.1.0")) return {true, DrTunNet::t1_source, DrTunNet::t1_mtu};
    if ((a & ip("255.255.255.0")) == ip("172.16.2.0")) return {true, DrTunNet::t2_source, DrTunNet::t2_mtu};
    return {};
}

LbOptions dr_tun_options() {
    LbOptions o;
    o.config = dr_tun_config();
    o.tunnel_route = dr_tun_routes;
    return o;
}

Lb::Lb(LbOptions o)
    : opts(std::move(o)),
      laddrs(opts.nworkers, opts.first_lport, opts.last_lport),
      builder(opts.nworkers, {port_with(0x10, {"192.0.2.1/24"}), port_with(0x11, {"10.0.0.1/24"})}, opts.limits,
              laddrs, opts.tunnel_route),
      fwd(fwd::ForwarderParams{opts.worker, opts.nworkers, opts.session_capacity, opts.limits.max_services,
                               opts.limits.max_reals, nullptr, opts.rss, opts.sync, opts.sloppy_tcp},
          laddrs, opts.start),
      now(opts.start) {
    reconfigure(opts.config);
}

void Lb::reconfigure(const config::Config& c) {
    auto r = builder.build(c, generation++);
    if (!r) FAIL("snapshot build failed: " << r.error().str());
    snap = std::move(*r);
}

fwd::Verdict Lb::send(Bytes& frame, uint16_t port) {
    Bytes buf(opts.headroom + frame.size());
    std::copy(frame.begin(), frame.end(), buf.begin() + opts.headroom);
    uint8_t* const start = buf.data() + opts.headroom;
    moved_back = 0;
    headroom_left = opts.headroom;
    pkt::ParsedIpv4 p;
    if (DropReason r = pkt::parse_ipv4(start, uint32_t(frame.size()), true, p); r != DropReason::none)
        return fwd::Verdict::drop(r);
    p.headroom = opts.headroom;
    fwd::Verdict v = fwd.handle_ipv4(p, port, *snap, now);
    moved_back = start - p.frame;
    headroom_left = p.headroom;
    REQUIRE(p.frame >= buf.data());
    REQUIRE(p.frame + p.frame_len <= buf.data() + buf.size());
    CHECK(long(p.headroom) == p.frame - buf.data());
    frame.assign(p.frame, p.frame + p.frame_len);
    return v;
}

fwd::Verdict Lb::send_arp(Bytes& frame, uint16_t port) {
    return fwd.handle_arp(frame.data(), uint32_t(frame.size()), port, *snap);
}

unsigned Lb::expire_at(Tick t, unsigned budget) {
    now = t;
    return fwd.expire(now, budget, snap.get());
}

void Lb::collect() {
    builder.collect(
        [this](uint32_t id) {
            const RealCounters& r = fwd.real_counters()[id];
            return r.live.get() + r.persistent.get() != 0;
        },
        [this](uint32_t id) { return fwd.service_counters()[id].live.get() != 0; });
}

unsigned Lb::owner(const FrameSpec& s) const {
    Bytes f = build_frame(s);
    pkt::ParsedIpv4 p;
    REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
    return owner_of(p, *snap);
}

const ServiceSnap& Lb::service(uint8_t proto, uint32_t vip, uint16_t port) const {
    const ServiceSnap* s = snap->find_service(proto, vip, be16(port));
    REQUIRE(s);
    return *s;
}

uint32_t Lb::real_id(uint8_t proto, uint32_t vip, uint16_t port, uint32_t rip) const {
    for (const auto& r : service(proto, vip, port).reals)
        if (r.addr == rip) return r.id;
    FAIL("no such real server");
    return 0;
}

const RealCounters& Lb::real(uint8_t proto, uint32_t vip, uint16_t port, uint32_t rip) const {
    return fwd.real_counters()[real_id(proto, vip, port, rip)];
}

const ServiceCounters& Lb::service_counters(uint8_t proto, uint32_t vip, uint16_t port) const {
    return fwd.service_counters()[service(proto, vip, port).id];
}

LocalPortPool& Lb::lip_pool() {
    const auto& ids = service(pkt::proto_tcp, Net::vip, 80).laddr_ids;
    REQUIRE(ids.size() == 1);
    REQUIRE(laddrs.entry(ids[0]));
    return laddrs.entry(ids[0])->pool(opts.worker);
}

const Session* Lb::session(uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport, uint8_t proto) const {
    FlowKey k(saddr, daddr, be16(sport), be16(dport), proto);
    return fwd.sessions().find(k, flow_hash(k)).session;
}

namespace {
std::vector<Session> sessions_where(const fwd::Forwarder& f, bool templates) {
    std::vector<Session> out;
    uint32_t cursor = 0;
    while (f.visit_sessions(cursor, 64, [&](const Session& s) {
        if (s.is_template() == templates) out.push_back(s);
    })) {
    }
    return out;
}
}  // namespace

std::vector<Session> Lb::templates() const { return sessions_where(fwd, true); }
std::vector<Session> Lb::connections() const { return sessions_where(fwd, false); }

Bytes expect_forward(Lb& lb, Bytes f, uint16_t port, uint32_t route_to) {
    fwd::Verdict v = lb.send(f, port);
    INFO("dropped for " << to_string(v.reason));
    REQUIRE(v.action == fwd::Verdict::Action::forward);
    CHECK(v.route_to == route_to);
    return f;
}

Bytes expect_forward(Lb& lb, const FrameSpec& in, uint16_t port, uint32_t route_to) {
    return expect_forward(lb, build_frame(in), port, route_to);
}

void expect_drop(Lb& lb, const FrameSpec& in, uint16_t port, DropReason reason) {
    Bytes f = build_frame(in);
    const Bytes before = f;
    fwd::Verdict v = lb.send(f, port);
    CHECK(v.action == fwd::Verdict::Action::drop);
    CHECK(v.reason == reason);
    CHECK(f == before);
}

FrameSpec client_packet(uint16_t cport, uint32_t vip, uint16_t vport, uint8_t flags, uint8_t proto, size_t payload) {
    FrameSpec s;
    s.src_mac = Net::client_gw_mac;
    s.dst_mac = Net::port0_mac;
    s.proto = proto;
    s.saddr = Net::client;
    s.daddr = vip;
    s.sport = cport;
    s.dport = vport;
    s.tcp_flags = flags;
    s.ttl = 60;
    s.payload = payload_of(payload, uint8_t(cport));
    return s;
}

FrameSpec server_packet(uint32_t rip, uint16_t rport, uint32_t dst, uint16_t dport, uint8_t flags, uint8_t proto,
                        size_t payload) {
    FrameSpec s;
    s.src_mac = Net::server_mac;
    s.dst_mac = Net::port1_mac;
    s.proto = proto;
    s.saddr = rip;
    s.daddr = dst;
    s.sport = rport;
    s.dport = dport;
    s.tcp_flags = flags;
    s.ttl = 64;
    s.seq = 0x7000;
    s.ack = 0x01020305;
    s.payload = payload_of(payload, uint8_t(dport + 1));
    return s;
}

FrameSpec rewritten(FrameSpec in, uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport) {
    in.saddr = saddr;
    in.sport = sport;
    in.daddr = daddr;
    in.dport = dport;
    in.ttl = uint8_t(in.ttl - 1);
    return in;
}

}  // namespace dplb::test
