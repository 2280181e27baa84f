// Which worker of the receiving node installs a synced session: the worker owner_of() will
// hand the session's packets to (flow/owner.hpp), computed with the receiver's own worker
// count and its own service's persistence:
//   connection of a plain service        client_owner(caddr, cport)
//   connection or template of a
//   persistent service                   client_owner(caddr & netmask, 0)
//   FULLNAT                               also local_port_owner(lport) must be that worker
//                                         (its replies are owned by the local port)
// With the same worker count on both nodes the two FULLNAT rules agree by construction (the
// master picked lport % N == its owner). With different counts, NAT, DR, TUN and templates
// still land on their owner, but a FULLNAT session can only be installed where the rules
// happen to agree (about 1 in N): the others are refused (nullopt) and counted. Run both
// nodes with the same number of workers (docs/ha.md).
#pragma once

#include <optional>

#include "dataplane/flow/owner.hpp"
#include "dataplane/sync/session_sync.hpp"

namespace dplb {

// persist_mask: network order, of the receiver's service (all ones if not persistent).
inline std::optional<unsigned> sync_owner(const SessionImage& im, bool persistent, uint32_t persist_mask,
                                          unsigned nworkers) {
    if (nworkers <= 1) return 0u;
    if (im.is_template) return client_owner(im.orig.src & persist_mask, 0, nworkers);
    const unsigned w = persistent ? client_owner(im.orig.src & persist_mask, 0, nworkers)
                                  : client_owner(im.orig.src, im.orig.sport, nworkers);
    if (im.mode == ForwardMode::fullnat && local_port_owner(__builtin_bswap16(im.lport), nworkers) != w)
        return std::nullopt;
    return w;
}

}  // namespace dplb
