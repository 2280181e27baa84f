// keepalived.conf -> dplb: reads the file and its includes, keeps what describes the LVS
// table (virtual_server blocks, DPVS's local_address_group), global_defs' notify FIFOs
// (lvs_notify_fifo, notify_fifo) and its lvs_sync_daemon (sync_daemon.hpp), and lists what it leaves to keepalived (the rest of
// global_defs, vrrp_* and the other non-LVS blocks) as warnings.
//
// All or nothing: the first problem is the Error, "file:line: keyword: what is wrong", and
// nothing else is returned. The services also pass the model's rules (validate_service and
// validate_config), with a failure named by the virtual_server or real_server line.
// `virtual_server group NAME` gives one service per address and fwmark of its
// virtual_server_group, each with its own VirtualServerHealth (and so its own checkers).
//
// Threading: none; reads files.
#pragma once

#include <string>

#include "common/result.hpp"
#include "control/keepalived/keepalived_config.hpp"
#include "dplb/config.hpp"

namespace dplb::keepalived {

model::Result<KeepalivedConfig> parse_keepalived(const std::string& path);

// What `dplbadm --import-keepalived` sends: the file's services replace every service of
// `current`, whose timeouts and port groups are kept (the file has none; fwmark services
// need their port group). The file's sync daemons (lvs_sync_daemon) replace `current`'s when
// it has any; a file without lvs_sync_daemon keeps `current`'s. A fwmark service whose port group is missing is an error naming
// its line; the result passes validate_config.
model::Result<config::Config> replacement_config(const config::Config& current, const KeepalivedConfig& file);

}  // namespace dplb::keepalived
