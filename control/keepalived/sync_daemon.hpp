// keepalived's connection sync daemon settings -> dplb's sync daemons (docs/keepalived.md
// "lvs_sync_daemon").
//
// global_defs' `lvs_sync_daemon INTERFACE [VRRP_INSTANCE | inst VRRP_INSTANCE] [id SYNC_ID]
// [maxlen LEN] [port PORT] [ttl TTL] [group ADDRESS]` (keepalived 2.2; a bare number after the
// instance is the old spelling of `id`), or, deprecated since keepalived 1.2.19 but still
// honoured by it, a vrrp_instance's `lvs_sync_daemon_interface INTERFACE` (the same as
// `lvs_sync_daemon INTERFACE THAT_INSTANCE`). The syncid defaults to the instance's
// virtual_router_id, as keepalived's, or 0 without an instance.
//
// keepalived runs the kernel's sync daemon as master while the named VRRP instance is MASTER
// and as backup otherwise, switching on every transition. dplb runs a master and a backup
// daemon with the same settings on every node at all times instead: a node's receiver ignores
// the messages it sent itself, so each node sends what it serves and installs what its peer
// serves, and nothing has to follow VRRP's state (docs/ha.md "Configuration").
//
// Threading: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "control/keepalived/statement.hpp"
#include "dplb/config.hpp"

namespace dplb::keepalived {

// The sync daemons the file's top-level statements ask for: none (nullopt) when the file has
// neither keyword, else a master and a backup with the same settings. Errors name the line;
// what keepalived itself would ignore with a message (a second lvs_sync_daemon) is a warning.
model::Result<std::optional<std::vector<config::SyncDaemon>>> parse_sync_daemons(const std::vector<Statement>& top,
                                                                                 std::vector<std::string>& warnings);

}  // namespace dplb::keepalived
