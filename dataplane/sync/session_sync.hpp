// dplb sessions <-> IPVS sync records (sync/sync_conn.hpp), as pure functions.
//
// Master side: session_to_sync() takes a session and what the snapshot says about its ids
// (SessionContext: the service key and the real server as configured; the caller resolves
// service_id / real_id, which mean nothing on another node).
// Backup side: sync_to_image() turns a record into the session it describes (SessionImage:
// keys, state, flags, timeout) plus what to look up in the backup's own snapshot (service
// key, real server, FULLNAT local address); sync_owner.hpp says which worker installs it.
//
// The mapping (docs/ha.md, "Session sync wire format"):
//   ForwardMode nat/tunnel/dr/fullnat  <->  IP_VS_CONN_F_MASQ/TUNNEL/DROUTE/FULLNAT (5)
//   DR/TUN (input only)                 ->  IP_VS_CONN_F_NOOUTPUT, as IPVS's destinations
//   not ESTABLISHED (UDP: always)       ->  IP_VS_CONN_F_INACTIVE
//   template                           <->  IP_VS_CONN_F_TEMPLATE, state IP_VS_CTPL_S_NONE,
//                                           IPVS's template tuple (below)
//   SessionState tcp_*                 <->  IP_VS_TCP_S_* (same numbers: dplb keeps IPVS's order)
//   SessionState udp                   <->  IP_VS_UDP_S_NORMAL (0)
//   FULLNAT LIP:lport                  <->  option opt_dplb_fullnat
//   configured service/real ports      <->  option opt_dplb_ports
//   expires - now (rounded up, >= 1 s)  ->  timeout (seconds). Received: 0 = the state's default.
// Templates, as ip_vs_sched_persist() makes them:
//   <proto, client&mask, 0, VIP, vport, RIP, rport>     port service
//   <proto, client&mask, 0, VIP, 0,     RIP, 0>         port-0 service
//   <0 (IPPROTO_IP), client&mask, 0, htonl(mark), 0, RIP, 0>, fwmark = mark   mark service
//
// Threading: pure functions.
#pragma once

#include <cstdint>

#include "dataplane/session/session.hpp"
#include "sync/sync_conn.hpp"

namespace dplb {

// IPVS's state number for a session (templates: IP_VS_CTPL_S_NONE).
uint16_t to_ipvs_state(const Session& s);
// dplb's state for an IPVS state number of `protocol`; false if out of range.
bool from_ipvs_state(uint8_t protocol, uint16_t ipvs_state, SessionState* out);

uint32_t fwd_method_flag(ForwardMode m);
// false for LOCALNODE, BYPASS and the unused values.
bool mode_from_fwd_method(uint32_t flags, ForwardMode* out);

// What the master's snapshot says about a session's service and real server.
struct SessionContext {
    uint8_t service_proto = 0;   // the service's protocol (templates)
    uint32_t vip = 0;            // network order (templates; 0 for a mark service)
    uint16_t service_port = 0;   // network order; 0 = port-0 (or mark) service
    uint32_t fwmark = 0;         // host order; 0 = not a mark service
    uint32_t real_addr = 0;      // network order (templates: the only place it is)
    uint16_t real_port = 0;      // network order, as configured; 0 = the client's port
    ForwardMode real_mode = ForwardMode::nat;  // templates (a connection has its own)
};

// `now` and s.expires give the timeout. A session whose deadline has passed is sent with 1 s.
sync::SyncConn session_to_sync(const Session& s, const SessionContext& ctx, Tick now);

// Why a well-formed record cannot become a dplb session (counted by the receiver).
enum class ImageError : uint8_t {
    none,
    unsupported_forwarding_method,  // LOCALNODE, BYPASS, 6, 7
    fullnat_without_local_address,  // method FULLNAT but no opt_dplb_fullnat
    persistence_engine,             // PE_DATA / PE_NAME: dplb has no persistence engines
    sequence_adjust,                // IN_SEQ / OUT_SEQ: dplb never rewrites sequence numbers
    no_client_port,                 // NO_CPORT (an FTP data connection not yet bound)
    bad_state,                      // (the decoder already refuses these)
    count_
};
const char* to_string(ImageError);

// A session as a record describes it.
struct SessionImage {
    bool is_template = false;
    FlowKey orig;   // a template: template_flow_key()
    FlowKey reply;  // connections only: RIP:rport -> client (NAT, DR, TUN) or LIP:lport (FULLNAT)
    SessionState state = SessionState::tcp_none;
    ForwardMode mode = ForwardMode::nat;
    uint8_t flags = 0;       // SessionFlags: reply_indexed, active, input_only, template, mode
    Tick timeout_ms = 0;     // 0: the backup's timeout for the state (or the service's persistence)
    // To look up in the backup's snapshot.
    uint8_t service_proto = 0;  // a mark template: 0
    uint32_t vaddr = 0;         // network order (0 for a mark template)
    uint16_t vport = 0;         // network order: the port the client asked for (find_service)
    uint32_t fwmark = 0;        // host order
    bool has_ports = false;     // opt_dplb_ports was present (a dplb master)
    uint16_t service_port = 0;  // network order, as configured (if has_ports)
    uint16_t real_port = 0;     // network order, as configured (if has_ports)
    uint32_t real_addr = 0;     // network order
    uint16_t dport = 0;         // network order: the port the real server is reached on
    uint32_t laddr = 0;         // FULLNAT, network order
    uint16_t lport = 0;         // FULLNAT, network order
};

ImageError sync_to_image(const sync::SyncConn& c, SessionImage* out);

}  // namespace dplb
