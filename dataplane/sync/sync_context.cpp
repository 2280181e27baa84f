#include "dataplane/sync/sync_context.hpp"

namespace dplb {

namespace {

const RealSnap* real_by_id(const ServiceSnap& svc, uint32_t id) {
    if (int i = index_of_real(svc, id); i >= 0) return &svc.reals[size_t(i)];
    for (const RealSnap& r : svc.standby)
        if (r.id == id) return &r;
    return nullptr;
}

bool real_matches(const RealSnap& r, const SessionImage& im) {
    if (r.addr != im.real_addr) return false;
    if (im.has_ports) return r.port == im.real_port;
    return r.port == im.dport || r.port == 0 || im.dport == 0;
}

}  // namespace

bool session_context(const Session& s, const Snapshot& snap, SessionContext* out) {
    const ServiceSnap* svc = s.service_id < snap.service_by_id.size() ? snap.service_by_id[s.service_id] : nullptr;
    if (!svc) return false;
    const RealSnap* r = real_by_id(*svc, s.real_id);
    if (!r) return false;
    SessionContext c;
    c.service_proto = svc->proto;
    c.vip = svc->fwmark ? 0 : svc->vip;
    c.service_port = svc->fwmark ? 0 : svc->vport;
    c.fwmark = svc->fwmark;
    c.real_addr = r->addr;
    c.real_port = r->port;
    c.real_mode = r->mode;
    *out = c;
    return true;
}

const char* to_string(ResolveError e) {
    static const char* const names[] = {"none", "no_service", "service_mismatch", "no_real_server"};
    static_assert(sizeof names / sizeof names[0] == unsigned(ResolveError::count_));
    return unsigned(e) < unsigned(ResolveError::count_) ? names[unsigned(e)] : "?";
}

ResolveError resolve_image(const SessionImage& im, const Snapshot& snap, ResolvedImage* out) {
    const ServiceSnap* svc = nullptr;
    if (im.is_template && im.service_proto == sync::ipproto_ip) {
        // A mark service's template: found by its mark (a walk: the receiver is off the fast path).
        for (const ServiceSnap* s : snap.service_list)
            if (s->fwmark == im.fwmark) svc = s;
    } else {
        svc = snap.find_service(im.service_proto, im.vaddr, im.vport);
    }
    if (!svc) return ResolveError::no_service;
    if (im.has_ports && !svc->fwmark && svc->vport != im.service_port) return ResolveError::service_mismatch;
    const RealSnap* real = nullptr;
    for (const RealSnap& r : svc->reals)
        if (real_matches(r, im)) {
            real = &r;
            break;
        }
    if (!real)
        for (const RealSnap& r : svc->standby)
            if (real_matches(r, im)) {
                real = &r;
                break;
            }
    if (!real) return ResolveError::no_real_server;
    out->service = svc;
    out->real = real;
    return ResolveError::none;
}

}  // namespace dplb
