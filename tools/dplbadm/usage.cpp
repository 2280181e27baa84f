// dplbadm --help: one line per command and option.
#include "tools/dplbadm/args.hpp"

namespace dplb::dplbadm {

std::string usage() {
    return R"(Usage:
  dplbadm -A|E -t|u|f service-address [-s scheduler] [-p [timeout]] [-M netmask] [-b sched-flags]
          [--mh-table-size size] [--expire-nodest-conn]
  dplbadm -D -t|u|f service-address
  dplbadm -C
  dplbadm -R
  dplbadm -S [-n]
  dplbadm -a|e -t|u|f service-address -r server-address [-m|-b|-g|-i] [-w weight] [-x upper] [-y lower]
  dplbadm -d -t|u|f service-address -r server-address
  dplbadm -L|l [-t|u|f service-address] [options]
  dplbadm -Z [-t|u|f service-address]
  dplbadm --set tcp tcpfin udp [-t|u|f service-address]
  dplbadm --add-laddr|--del-laddr -z local-address -t|u|f service-address
  dplbadm --get-laddr [-t|u|f service-address]
  dplbadm --add-mark -f mark -t|u address:port[-port]
  dplbadm --del-mark -f mark [-t|u address:port[-port]]
  dplbadm --get-mark [-f mark]
  dplbadm --status
  dplbadm --start-daemon master|backup --mcast-interface interface [--syncid sid]
          [--sync-maxlen length] [--mcast-group address] [--mcast-port port] [--mcast-ttl ttl]
          [--sync-peer address]...
  dplbadm --stop-daemon master|backup
  dplbadm -L --daemon
  dplbadm --import-keepalived FILE
  dplbadm --capture PORT [-f FILTER] [-c COUNT] [--duration SECONDS] [-w FILE]
  dplbadm --health [--json]
  dplbadm -h

Commands (ipvsadm syntax; local addresses as in DPVS; marks are dplb's):
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service: as in ipvsadm, it gets exactly the options given
                              (-s omitted: wlc; -p omitted: not persistent; -b omitted: no flags)
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table (services and port groups)
  --restore         -R        restore rules from stdin (the form -S writes): all of them, or
                              none and the first bad line is named
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server (omitted options keep their values)
  --delete-server   -d        delete real server
  --list            -L|-l     list the table, sorted as ipvsadm sorts it; always numeric
  --zero            -Z        zero counters (and rates) in a service or all services
  --set tcp tcpfin udp        set connection timeouts in seconds (0 = unchanged); with a
                              service, that service's own timeouts
  --add-laddr       -P        add a FULLNAT local (SNAT) address to a service
  --del-laddr       -Q        delete a local address from a service
  --get-laddr       -G        list local addresses
  --add-mark                  add a match to the port group of a mark (what iptables -j MARK
                              does for ipvsadm -f): TCP or UDP packets to address:port or to a
                              port range belong to the fwmark service of that mark
  --del-mark                  delete a port group, or one match of it
  --get-mark                  list port groups
  --status                    dataplane connection, generation, workers, ports and drops
  --import-keepalived FILE    make a keepalived.conf the table and the health checks:
                              dplb-control reads it (includes followed; port groups and
                              timeouts kept), applies only what differs, runs its checkers
                              and reloads it on SIGHUP; all or nothing (docs/keepalived.md)
  --start-daemon master|backup
                              start a connection synchronisation daemon: the master sends
                              session events, the backup installs the ones it receives; one
                              of each state at most (both may run, see docs/ha.md). Kept by
                              dplb-control across its restarts, not written by -S
  --stop-daemon master|backup stop the connection synchronisation daemon of that state
  --health                    each real server's health: state, checkers, last result, since
                              when, reason of the last failure (docs/health.md)
  --capture PORT               capture the packets a dataplane port (or kernel twin) receives
                              and sends, with dpdk-dumpcap: -f FILTER (libpcap syntax,
                              pcap-filter(7)), stop after -c COUNT packets (default 1000) or
                              --duration SECONDS (default 60; 0 turns one bound off), write
                              pcapng to -w FILE (default: a file dpdk-dumpcap names). Needs a
                              dataplane whose EAL shares memory (not --in-memory; --status
                              says "capture: available")
  --help            -h        display this help message

Options:
  --tcp-service  -t service-address   service-address is VIP[:PORT] (no port = port 0: every
                                      port, for persistent services)
  --udp-service  -u service-address   service-address is VIP[:PORT]
  --fwmark-service -f fwmark          fwmark is an integer greater than zero (see --add-mark)
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                      the default scheduler is wlc
  --persistent   -p [timeout]         persistent service (default timeout 300 seconds)
  --netmask      -M netmask           persistent granularity mask
  --sched-flags  -b sched-flags       with -A/-E: sh-fallback,sh-port (sh) or mh-fallback,mh-port
                                      (mh); flag-1 and flag-2 name the same for sh and mh
  --mh-table-size size                mh lookup table size, a prime (default 65537)
  --expire-nodest-conn                with -A/-E: reset and expire a connection at its next packet
                                      once its real server has left the service (IPVS's sysctl
                                      expire_nodest_conn, per service; default: it continues)
  --real-server  -r server-address    server-address is RIP[:PORT] (default port: the service's)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --fullnat      -b                   with -a/-e: full NAT (needs a local address, see --add-laddr)
  --weight       -w weight            capacity of real server, 0..65535 (default 1; 0 quiesces)
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --laddr        -z local-address     local address for --add-laddr / --del-laddr
  --mcast-interface interface         with --start-daemon: the interface the sync messages use
                                      (the kernel twin, e.g. dplb0); required
  --syncid sid                        syncid of the sync daemon, 0..255 (default 0; a backup
                                      with 0 accepts every syncid)
  --sync-maxlen length                largest sync message payload, 128..65507 (default 1472)
  --mcast-group address               multicast group of the sync messages (default 224.0.0.81)
  --mcast-port port                   UDP port of the sync messages (default 8848)
  --mcast-ttl ttl                     multicast TTL, 1..255 (default 1)
  --sync-peer address                 dplb's: send sync messages to this unicast address
                                      instead of the group (repeat for several peers)
  --daemon                            with -L: output of the sync daemons
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --stats                             output of statistics information
  --rate                              output of rate information (computed every 2 seconds)
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --sort                              does nothing: sorting is the default, as in ipvsadm
  --nosort                            disable sorting output of service/server entries
  --numeric      -n                   numeric output (the only output dplbadm has)
  --json                              print the reply JSON instead of a table, for scripts
  --socket PATH                       control socket (default $DPLB_CONTROL_SOCKET, else /run/dplb/control.sock)
)";
}

}  // namespace dplb::dplbadm
