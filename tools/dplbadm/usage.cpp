// dplbadm --help: one line per command and option.
#include "tools/dplbadm/args.hpp"

namespace dplb::dplbadm {

std::string usage() {
    return R"(Usage:
  dplbadm -A|E -t|u service-address [-s scheduler]
  dplbadm -D -t|u service-address
  dplbadm -C
  dplbadm -a|e -t|u service-address -r server-address [-m|-b|-g|-i] [-w weight] [-x upper] [-y lower]
  dplbadm -d -t|u service-address -r server-address
  dplbadm -L|l [-t|u service-address] [-n] [--stats] [--exact] | -L --timeout
  dplbadm -Z [-t|u service-address]
  dplbadm --set tcp tcpfin udp
  dplbadm --add-laddr|--del-laddr -z local-address -t|u service-address
  dplbadm --get-laddr [-t|u service-address]
  dplbadm --status
  dplbadm -h

Commands (ipvsadm syntax; local addresses as in DPVS):
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service (an omitted -s keeps the scheduler)
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server (omitted options keep their values)
  --delete-server   -d        delete real server
  --list            -L|-l     list the table, sorted as ipvsadm sorts it (protocol, address,
                              port); always numeric: -n is accepted and implied
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeouts in seconds (0 = unchanged)
  --add-laddr       -P        add a FULLNAT local (SNAT) address to a service
  --del-laddr       -Q        delete a local address from a service
  --get-laddr       -G        list local addresses
  --status                    dataplane connection, generation, workers, ports and drops
  --help            -h        display this help message

Options:
  --tcp-service  -t service-address   service-address is VIP:PORT
  --udp-service  -u service-address   service-address is VIP:PORT
  --scheduler    -s scheduler         rr or wrr (the other IPVS names are not supported yet);
                                      the default is wlc, as in ipvsadm
  --real-server  -r server-address    server-address is RIP[:PORT] (default port: the service's)
  --masquerading -m                   masquerading (NAT)
  --fullnat      -b                   full NAT (needs a local address, see --add-laddr)
  --gatewaying   -g                   gatewaying (direct routing) (default; not supported yet)
  --ipip         -i                   ipip encapsulation (tunneling) (not supported yet)
  --weight       -w weight            capacity of real server, 0..65535 (default 1)
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --laddr        -z local-address     local address for --add-laddr / --del-laddr
  --numeric      -n                   numeric output (the only output dplbadm has)
  --stats                             output of statistics information
  --exact                             expand numbers (display exact values)
  --timeout                           with -L: output of timeouts (tcp tcpfin udp)
  --json                              print the reply JSON instead of a table, for scripts
  --socket PATH                       control socket (default $DPLB_CONTROL_SOCKET, else /run/dplb/control.sock)
)";
}

}  // namespace dplb::dplbadm
