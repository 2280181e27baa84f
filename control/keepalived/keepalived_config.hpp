// What a keepalived.conf says about the LVS table, typed: the services as dplb's model
// (config::Service, in file order) and, beside them, what keepalived's checker process would
// do with them (per virtual server and per real server), with keepalived's defaults filled
// in, for dplb-control's checker engine (issue 11) to consume. Parsed by parse_keepalived
// (parse.hpp).
//
// Times are seconds, fractions allowed (keepalived reads them as doubles).
//
// Threading: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/keepalived/token.hpp"
#include "dplb/config.hpp"
#include "dplb/ip4.hpp"

namespace dplb::keepalived {

enum class CheckerType : uint8_t { tcp, http, ssl, misc, udp, ping, dns, smtp };

// "TCP_CHECK", "HTTP_GET", ...
const char* keyword_of(CheckerType);

// url { path digest status_code virtualhost } of HTTP_GET / SSL_GET.
struct UrlCheck {
    std::string path;
    std::optional<std::string> digest;  // lower-case hex MD5 of the body
    // Inclusive ranges; empty = keepalived's default, any 2xx (200-299).
    std::vector<std::pair<uint16_t, uint16_t>> status_codes;
    std::optional<std::string> virtualhost;

    friend bool operator==(const UrlCheck&, const UrlCheck&) = default;
};

struct CheckerSpec {
    CheckerType type = CheckerType::tcp;
    Location where;

    // Common to every checker. Unset connect_ip/connect_port: the real server's.
    std::optional<Ip4> connect_ip;
    std::optional<uint16_t> connect_port;
    std::optional<Ip4> bindto;
    std::optional<uint16_t> bind_port;
    double connect_timeout = 5;
    uint32_t retry = 1;                // DNS_CHECK 3, MISC_CHECK 0
    double delay_before_retry = 1;     // HTTP_GET / SSL_GET 3, DNS_CHECK its delay_loop
    // The first attempt waits 1 s plus a random delay up to this. Unset: the real server's
    // warmup, else the checker's delay_loop (keepalived 2.x scatters by default); 0 = none.
    std::optional<double> warmup;
    std::optional<double> delay_loop;  // unset: the virtual server's

    // HTTP_GET / SSL_GET
    std::vector<UrlCheck> urls;
    std::string http_protocol = "1.0";  // "1.0", "1.0C" (Connection: close), "1.1", "1.0C"
    std::optional<std::string> virtualhost;
    bool enable_sni = false;
    std::optional<std::string> sni_name;

    // MISC_CHECK
    std::string misc_path;                // the command line, as written
    std::optional<double> misc_timeout;  // unset: delay_loop
    bool misc_dynamic = false;
    std::optional<std::string> user;     // "user [group]"

    // UDP_CHECK
    std::optional<std::string> payload;  // hex, as written
    bool require_reply = false;
    std::optional<std::string> reply_data;  // require_reply's optional hex

    // DNS_CHECK
    std::string dns_type = "SOA";
    std::string dns_name = ".";

    // SMTP_CHECK
    std::optional<std::string> helo_name;

    // The same checker: every field but `where` (a checker moved to another line of the
    // file on a reload is still the same checker and keeps its state).
    friend bool operator==(const CheckerSpec&, const CheckerSpec&);
};

struct RealServerHealth {
    Location where;
    Ip4 address;
    uint16_t port = 0;
    uint32_t weight = 1;
    bool inhibit_on_failure = false;  // the virtual server's unless the real server says
    std::optional<std::string> notify_up, notify_down;
    std::vector<CheckerSpec> checkers;  // none: always up (keepalived's behaviour)
};

struct SorryServer {
    Ip4 address;
    uint16_t port = 0;
    bool inhibit = false;  // sorry_server_inhibit
};

struct VirtualServerHealth {
    Location where;  // the virtual_server line (the same for every service of a group)
    config::ServiceKey key;
    double delay_loop = 60;
    bool ha_suspend = false;
    bool alpha = false;
    bool omega = false;
    uint32_t quorum = 1;
    uint32_t hysteresis = 0;
    std::optional<std::string> quorum_up, quorum_down;
    std::optional<SorryServer> sorry_server;
    bool inhibit_on_failure = false;
    std::vector<RealServerHealth> reals;  // in the order of config::Service::reals
};

struct KeepalivedConfig {
    std::vector<config::Service> services;     // file order; a group's in entry order
    std::vector<VirtualServerHealth> health;   // health[i] belongs to services[i]
    // global_defs: the FIFOs keepalived writes its checker events to ("RS ... UP", "VS ...
    // DOWN"); it writes each line to both when both are set. Paths as written; a user/group
    // after the path is ignored (with a warning).
    std::optional<std::string> lvs_notify_fifo;
    std::optional<std::string> notify_fifo;
    // lvs_sync_daemon (or a vrrp_instance's lvs_sync_daemon_interface): a master and a backup
    // daemon with the same settings (sync_daemon.hpp); nullopt when the file has neither.
    std::optional<std::vector<config::SyncDaemon>> sync_daemons;
    std::vector<std::string> warnings;         // "file:line: ..."
    std::vector<std::string> files;            // the file and every file it included
};

}  // namespace dplb::keepalived
