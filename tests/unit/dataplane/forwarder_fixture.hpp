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
#pragma once

#include <memory>

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

struct LbOptions {
    unsigned nworkers = 1;
    unsigned worker = 0;
    uint32_t session_capacity = 1024;
    uint16_t first_lport = 1024, last_lport = 65535;
    config::Config config = default_lb_config();
    Tick start = 1000000;
};

class Lb {
public:
    explicit Lb(LbOptions o = {});

    // Parses and hands `frame` to the forwarder as received on `port` at `now`; the frame is
    // rewritten in place. Parse failures come back as drops with the parse reason.
    fwd::Verdict send(Bytes& frame, uint16_t port);
    fwd::Verdict send_arp(Bytes& frame, uint16_t port);
    // Installs a new configuration (same builder, so ids and unchanged services carry over).
    void reconfigure(const config::Config& c);
    // Moves the clock to `t` and expires what is due then.
    unsigned expire_at(Tick t, unsigned budget = 1u << 20);

    const ServiceSnap& service(uint8_t proto, uint32_t vip, uint16_t port) const;
    uint32_t real_id(uint8_t proto, uint32_t vip, uint16_t port, uint32_t rip) const;
    const RealCounters& real(uint8_t proto, uint32_t vip, uint16_t port, uint32_t rip) const;
    const ServiceCounters& service_counters(uint8_t proto, uint32_t vip, uint16_t port) const;
    // The LIP's port pool of this worker.
    LocalPortPool& lip_pool();
    // The session of a tuple as a packet carries it (either direction), or nullptr.
    const Session* session(uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport,
                           uint8_t proto = pkt::proto_tcp) const;

    LbOptions opts;
    LocalAddressRegistry laddrs;
    SnapshotBuilder builder;
    std::unique_ptr<Snapshot> snap;
    fwd::Forwarder fwd;
    Tick now;
    uint64_t generation = 1;
};

// Packets a client at Net::client:cport sends to vip:vport, and that a real server sends.
FrameSpec client_packet(uint16_t cport, uint32_t vip, uint16_t vport, uint8_t flags,
                        uint8_t proto = pkt::proto_tcp, size_t payload = 0);
FrameSpec server_packet(uint32_t rip, uint16_t rport, uint32_t dst, uint16_t dport, uint8_t flags,
                        uint8_t proto = pkt::proto_tcp, size_t payload = 0);
// `in` after the load balancer: the new tuple and TTL - 1, everything else as it was.
FrameSpec rewritten(FrameSpec in, uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport);

}  // namespace dplb::test
