// dplbadm's option table and tokenizer: ipvsadm(8)'s commands and options (popt style:
// clustered short options "-Ln", attached values "-w3", "--scheduler=rr", optional values
// "-p [timeout]"), DPVS's local-address options and dplb's own. Which options a command
// takes is args.cpp's business.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace dplb::dplbadm {

enum class Cmd {
    none, add_service, edit_service, delete_service, clear, add_real, edit_real, delete_real, list, zero, save,
    restore, add_laddr, del_laddr, get_laddr, add_mark, del_mark, get_mark, status, set_timeouts, import_keepalived, health, help,
    start_daemon, stop_daemon
};

enum class Opt {
    tcp, udp, fwmark, scheduler, persistent, netmask, sched_flags, mh_table_size, expire_nodest_conn, real, masq, fullnat, gatewaying,
    ipip, weight, uthreshold, lthreshold, numeric, connection, stats, rate, thresholds, persistent_conn, sort, nosort,
    exact, timeout, laddr, socket, json,
    daemon, mcast_interface, syncid, sync_maxlen, mcast_group, mcast_port, mcast_ttl, sync_peer
};

enum class Arg { none, required, optional };

struct Spec {
    const char* long_name;
    char short_name;  // 0 = long only
    bool is_command;
    int id;           // Cmd or Opt
    Arg arg;          // commands too: --start-daemon STATE
};

// What the command line said, before any meaning is checked.
struct Parsed {
    Cmd cmd = Cmd::none;
    const Spec* cmd_spec = nullptr;
    std::string cmd_value;              // the command's own value (--start-daemon master)
    std::map<Opt, std::string> values;  // option -> value ("" for flags and absent optional values)
    // Every value of an option that may be repeated (--sync-peer), in order; `values` has the last.
    std::map<Opt, std::vector<std::string>> repeated;
    std::map<Opt, const Spec*> given;   // option -> how it was spelt, for messages
    std::vector<std::string> positional;
};

// "-A" or "--set": how an option is named in messages.
std::string spelling(const Spec& s);
// The spelling of an option that takes a value, for "needs" messages.
std::string spelling(Opt o);

// `-b` is --sched-flags after -A/-E and --fullnat otherwise (ipvsadm and DPVS), so, as in
// ipvsadm, the command comes before it.
model::Result<Parsed> tokenize(const std::vector<std::string>& args);

}  // namespace dplb::dplbadm
