#include "dataplane/sync/session_sync.hpp"

#include "dataplane/session/template_key.hpp"

namespace dplb {

using namespace dplb::sync;

uint16_t to_ipvs_state(const Session& s) {
    if (s.is_template()) return ipvs_ctpl_none;
    if (s.state == SessionState::udp) return ipvs_udp_normal;
    return uint16_t(s.state);  // tcp_none..tcp_synack are IP_VS_TCP_S_NONE..SYNACK
}

bool from_ipvs_state(uint8_t protocol, uint16_t st, SessionState* out) {
    static_assert(unsigned(SessionState::tcp_synack) == ipvs_tcp_synack && unsigned(SessionState::tcp_listen) == ipvs_tcp_listen &&
                  unsigned(SessionState::tcp_established) == ipvs_tcp_established);
    if (protocol == ipproto_tcp && st < ipvs_tcp_last) {
        *out = SessionState(st);
        return true;
    }
    if (protocol == ipproto_udp && st == ipvs_udp_normal) {
        *out = SessionState::udp;
        return true;
    }
    return false;
}

uint32_t fwd_method_flag(ForwardMode m) {
    switch (m) {
    case ForwardMode::nat: return conn_f_masq;
    case ForwardMode::fullnat: return conn_f_fullnat;
    case ForwardMode::dr: return conn_f_droute;
    case ForwardMode::tunnel: return conn_f_tunnel;
    }
    return conn_f_masq;
}

bool mode_from_fwd_method(uint32_t flags, ForwardMode* out) {
    switch (flags & conn_f_fwd_mask) {
    case conn_f_masq: *out = ForwardMode::nat; return true;
    case conn_f_fullnat: *out = ForwardMode::fullnat; return true;
    case conn_f_droute: *out = ForwardMode::dr; return true;
    case conn_f_tunnel: *out = ForwardMode::tunnel; return true;
    default: return false;
    }
}

namespace {

// IPVS marks every destination that is not NAT NOOUTPUT (__ip_vs_update_dest); dplb's
// FULLNAT sees replies like NAT.
uint32_t mode_flags(ForwardMode m) {
    uint32_t f = fwd_method_flag(m);
    if (m == ForwardMode::dr || m == ForwardMode::tunnel) f |= conn_f_nooutput;
    return f;
}

uint32_t timeout_seconds(Tick expires, Tick now) {
    if (!tick_after(expires, now)) return 1;
    return uint32_t((uint64_t(expires - now) + 999) / 1000);
}

}  // namespace

SyncConn session_to_sync(const Session& s, const SessionContext& ctx, Tick now) {
    SyncConn c;
    c.timeout_s = timeout_seconds(s.expires, now);
    c.state = to_ipvs_state(s);
    c.ports = PortsData{ctx.service_port, ctx.real_port};
    if (s.is_template()) {
        c.flags = conn_f_template | conn_f_inactive | mode_flags(ctx.real_mode);
        c.caddr = s.orig.src;  // already masked
        c.daddr = ctx.real_addr;
        c.fwmark = ctx.fwmark;
        if (ctx.fwmark) {
            c.protocol = ipproto_ip;
            c.vaddr = __builtin_bswap32(ctx.fwmark);  // htonl(mark), as the kernel's template
        } else {
            c.protocol = ctx.service_proto;
            c.vaddr = ctx.vip;
            c.vport = ctx.service_port;
            c.dport = ctx.service_port ? ctx.real_port : 0;
        }
        return c;
    }
    const ForwardMode m = s.mode();
    c.protocol = s.orig.proto;
    c.flags = mode_flags(m);
    if (s.state != SessionState::tcp_established) c.flags |= conn_f_inactive;
    c.caddr = s.orig.src;
    c.cport = s.orig.sport;
    c.vaddr = s.orig.dst;
    c.vport = s.orig.dport;
    c.daddr = s.reply.src;
    c.dport = s.reply.sport;
    c.fwmark = ctx.fwmark;
    if (m == ForwardMode::fullnat) c.fullnat = FullnatData{s.reply.dst, s.reply.dport};
    return c;
}

const char* to_string(ImageError e) {
    static const char* const names[] = {"none", "unsupported_forwarding_method", "fullnat_without_local_address",
                                        "persistence_engine", "sequence_adjust", "no_client_port", "bad_state"};
    static_assert(sizeof names / sizeof names[0] == unsigned(ImageError::count_));
    return unsigned(e) < unsigned(ImageError::count_) ? names[unsigned(e)] : "?";
}

ImageError sync_to_image(const SyncConn& c, SessionImage* out) {
    SessionImage im;
    if (!mode_from_fwd_method(c.flags, &im.mode)) return ImageError::unsupported_forwarding_method;
    if (c.pe) return ImageError::persistence_engine;
    if (c.flags & conn_f_seq_mask) return ImageError::sequence_adjust;
    if (c.timeout_s) im.timeout_ms = c.timeout_s > 86400u * 24 ? 86400u * 24 * 1000 : c.timeout_s * 1000;  // Tick is 32-bit ms
    im.has_ports = c.ports.has_value();
    if (c.ports) {
        im.service_port = c.ports->service_port;
        im.real_port = c.ports->real_port;
    }
    im.real_addr = c.daddr;
    im.dport = c.dport;
    im.fwmark = c.fwmark;

    if (c.is_template()) {
        if (c.state >= ipvs_ctpl_last) return ImageError::bad_state;
        im.is_template = true;
        im.state = SessionState::tcp_none;
        im.flags = session_template;
        if (c.protocol == ipproto_ip) {  // a mark service's template
            if (!im.fwmark) im.fwmark = __builtin_bswap32(c.vaddr);
        } else {
            im.service_proto = c.protocol;
            im.vaddr = c.vaddr;
            im.vport = c.vport;
        }
        im.orig = template_flow_key(c.caddr, im.vaddr, im.vport, c.protocol == ipproto_ip ? im.fwmark : 0);
        *out = im;
        return ImageError::none;
    }

    if (c.flags & conn_f_no_cport) return ImageError::no_client_port;
    if (!from_ipvs_state(c.protocol, c.state, &im.state)) return ImageError::bad_state;
    if (im.mode == ForwardMode::fullnat && !c.fullnat) return ImageError::fullnat_without_local_address;
    im.service_proto = c.protocol;
    im.vaddr = c.vaddr;
    im.vport = c.vport;
    im.orig = FlowKey(c.caddr, c.vaddr, c.cport, c.vport, c.protocol);
    if (im.mode == ForwardMode::fullnat) {
        im.laddr = c.fullnat->laddr;
        im.lport = c.fullnat->lport;
        im.reply = FlowKey(c.daddr, im.laddr, c.dport, im.lport, c.protocol);
    } else {
        im.reply = FlowKey(c.daddr, c.caddr, c.dport, c.cport, c.protocol);
    }
    Session probe;
    probe.set_mode(im.mode);
    probe.flags |= (im.mode == ForwardMode::nat || im.mode == ForwardMode::fullnat) ? session_reply_indexed : session_input_only;
    // dplb's invariant (Forwarder::track_state): active exactly while ESTABLISHED.
    if (im.state == SessionState::tcp_established) probe.flags |= session_active;
    im.flags = probe.flags;
    *out = im;
    return ImageError::none;
}

}  // namespace dplb
