// A small load balancer for end-to-end Forwarder tests: two ports, a handful of services
// built with SnapshotBuilder, one Forwarder, a clock the test moves, and helpers that craft
// the packets clients and real servers send and the frames the load balancer must emit.
//
//   port 0 (clients)  mac ..:10  192.0.2.1/24      VIP 192.0.2.100, VIP2 192.0.2.101
//   port 1 (servers)  mac ..:11  10.0.0.1/24       LIP 10.0.0.200
//
//   TCP VIP:80    rr  FULLNAT  RS1 10.0.0.11:8080, RS2 10.0.0.12:8080   laddr LIP
//   TCP VIP:443   rr  NAT      RS3 10.0.0.21:443,  RS4 10.0.0.22:443
//   TCP VIP2:443  rr  NAT      RS3 10.0.0.21:443  (the same server behind a second VIP)
//   UDP VIP:53    rr  FULLNAT  RS5 10.0.0.31:5353                        laddr LIP
//   UDP VIP:5353  rr  NAT      RS6 10.0.0.41:5353
//   TCP VIP:4443  rr  NAT      RS7 10.0.0.71:8443  (NAT translating ports; FULLNAT's above do)
//   UDP VIP:5300  rr  NAT      RS8 10.0.0.81:53
#pragma once

#include <memory>
#include <vector>

#include "dataplane/config/snapshot_builder.hpp"
#include "dataplane/forward/forwarder.hpp"
#include "packet_builder.hpp"
#include "test_config.hpp"

namespace dplb::test {

struct Net {
    static const uint32_t vip, vip2, lip, port0_addr, port1_addr, client, unknown;
    static const pkt::Mac port0_mac, port1_mac, client_gw_mac, server_mac;
    static constexpr uint16_t client_port = 0, server_port = 1;
};

config::Config default_lb_config();

// DR and TUN services on the same two ports (and TUN real servers behind routers):
//
//   TCP VIP:80        rr  DR   D1 10.0.0.51:80, D2 10.0.0.52:80
//   TCP VIP:443       rr  TUN  T1 172.16.1.10:443, T2 172.16.2.20:443
//   UDP VIP:53        rr  TUN  T1 172.16.1.10:53
//   TCP VIP2:0  -p    rr  DR   D1 10.0.0.51:0       (every port of VIP2)
//   UDP VIP2:0  -p    rr  NAT  N1 10.0.0.61:0
//
// Tunnel routes: 172.16.1.0/24 leaves from 10.0.0.1 with MTU 1500, 172.16.2.0/24 from the
// tunnel source 10.0.0.250 with MTU 1400; nothing else is routed.
struct DrTunNet {
    static const uint32_t d1, d2, t1, t2, n1, t1_source, t2_source;
    static constexpr uint16_t t1_mtu = 1500, t2_mtu = 1400;
};
config::Config dr_tun_config();
TunnelRoute dr_tun_routes(uint32_t real_addr_be);

struct LbOptions;
LbOptions dr_tun_options();  // dr_tun_config() with dr_tun_routes

struct LbOptions {
    unsigned nworkers = 1;
    unsigned worker = 0;
    uint32_t session_capacity = 1024;
    uint16_t first_lport = 1024, last_lport = 65535;
    config::Config config = default_lb_config();
    Tick start = 1000000;
    SnapshotLimits limits{64, 256};
    TunnelRouteFn tunnel_route;  // empty: the builder's default (connected networks)
    uint16_t headroom = 128;     // free bytes before each received frame, as in an mbuf
    const RssSteering* rss = nullptr;  // the NIC's RSS, when FULLNAT ports are to match it
    SyncTap* sync = nullptr;           // session sync's event tap (master side)
    bool sloppy_tcp = false;           // ForwarderParams::sloppy_tcp
};

class Lb {
public:
    explicit Lb(LbOptions o = {});

    // Parses and hands `frame` to the forwarder as received on `port` at `now`, placed after
    // opts.headroom free bytes; `frame` becomes what the forwarder leaves (rewritten in place,
    // grown into the headroom or replaced, as the worker would transmit it). Parse failures
    // come back as drops with the parse reason.
    fwd::Verdict send(Bytes& frame, uint16_t port);
    fwd::Verdict send_arp(Bytes& frame, uint16_t port);
    // Installs a new configuration (same builder, so ids and unchanged services carry over).
    void reconfigure(const config::Config& c);
    // Moves the clock to `t` and expires what is due then.
    unsigned expire_at(Tick t, unsigned budget = 1u << 20);
    // builder.collect() with the runtime's predicates, asked of this forwarder alone: a real
    // server is busy while it has connections or templates, a service while it has connections.
    void collect();
    // Worker owning `s` under the current snapshot (flow/owner.hpp).
    unsigned owner(const FrameSpec& s) const;

    const ServiceSnap& service(uint8_t proto, uint32_t vip, uint16_t port) const;
    uint32_t real_id(uint8_t proto, uint32_t vip, uint16_t port, uint32_t rip) const;
    const RealCounters& real(uint8_t proto, uint32_t vip, uint16_t port, uint32_t rip) const;
    const ServiceCounters& service_counters(uint8_t proto, uint32_t vip, uint16_t port) const;
    // The LIP's port pool of this worker.
    LocalPortPool& lip_pool();
    // The session of a tuple as a packet carries it (either direction), or nullptr.
    const Session* session(uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport,
                           uint8_t proto = pkt::proto_tcp) const;
    // Copies of the live persistence templates / connections (visit_sessions), in table order.
    std::vector<Session> templates() const;
    std::vector<Session> connections() const;

    LbOptions opts;
    LocalAddressRegistry laddrs;
    SnapshotBuilder builder;
    std::unique_ptr<Snapshot> snap;
    fwd::Forwarder fwd;
    Tick now;
    uint64_t generation = 1;
    // Of the last send(): how far the frame's start moved back, and the headroom left.
    long moved_back = 0;
    uint16_t headroom_left = 0;
};

// Sends `in` (or `frame`) on `port`: requires a forward to `route_to` and returns the frame
// that leaves, or requires a drop for `reason` with the frame untouched.
Bytes expect_forward(Lb& lb, Bytes frame, uint16_t port, uint32_t route_to);
Bytes expect_forward(Lb& lb, const FrameSpec& in, uint16_t port, uint32_t route_to);
void expect_drop(Lb& lb, const FrameSpec& in, uint16_t port, DropReason reason);

// Packets a client at Net::client:cport sends to vip:vport, and that a real server sends.
FrameSpec client_packet(uint16_t cport, uint32_t vip, uint16_t vport, uint8_t flags,
                        uint8_t proto = pkt::proto_tcp, size_t payload = 0);
FrameSpec server_packet(uint32_t rip, uint16_t rport, uint32_t dst, uint16_t dport, uint8_t flags,
                        uint8_t proto = pkt::proto_tcp, size_t payload = 0);
// `in` after the load balancer: the new tuple and TTL - 1, everything else as it was.
FrameSpec rewritten(FrameSpec in, uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport);

}  // namespace dplb::test
