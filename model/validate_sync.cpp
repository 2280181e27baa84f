// The rules of the sync daemons (ipvsadm --start-daemon): what ipvsadm and the kernel refuse,
// plus what dplb cannot use (a datagram too small for one record, a unicast "group").
#include <algorithm>
#include <cctype>
#include <set>

#include "model/paths.hpp"
#include "model/validate.hpp"

namespace dplb::model {

namespace cfg = dplb::config;

Status check_interface_name(const std::string& name, const std::string& field) {
    if (name.empty()) return Error{field, "an interface name is required"};
    if (name.size() > max_interface_name)
        return Error{field, "interface name '" + name + "' is longer than " + std::to_string(max_interface_name) +
                                " characters"};
    if (name == "." || name == "..") return Error{field, "'" + name + "' is not a valid interface name"};
    auto bad = std::find_if(name.begin(), name.end(), [](unsigned char c) {
        return c == '/' || c == ':' || std::isspace(c) || !std::isprint(c);
    });
    if (bad != name.end())
        return Error{field, "interface name '" + name + "' contains a character the kernel refuses ('/', ':', "
                                                        "white space or a control character)"};
    return std::nullopt;
}

Status validate_sync_daemon(const cfg::SyncDaemon& d, const std::string& path) {
    if (auto e = check_interface_name(d.mcast_interface, member_path(path, "mcast_interface"))) return e;
    if (d.sync_maxlen < min_sync_maxlen || d.sync_maxlen > max_sync_maxlen)
        return Error{member_path(path, "sync_maxlen"), "must be between " + std::to_string(min_sync_maxlen) + " and " +
                                                           std::to_string(max_sync_maxlen) + " (got " +
                                                           std::to_string(d.sync_maxlen) + ")"};
    if ((d.mcast_group.host() >> 28) != 0xe)
        return Error{member_path(path, "mcast_group"),
                     "'" + d.mcast_group.str() + "' is not a multicast address (224.0.0.0/4)"};
    if (d.mcast_port == 0) return Error{member_path(path, "mcast_port"), "must be between 1 and 65535"};
    if (d.mcast_ttl == 0) return Error{member_path(path, "mcast_ttl"), "must be between 1 and 255"};
    const std::string peers = member_path(path, "peers");
    std::set<uint32_t> seen;
    for (std::size_t i = 0; i < d.peers.size(); ++i) {
        if (auto e = check_unicast(d.peers[i], index_path(peers, i))) return e;
        if (!seen.insert(d.peers[i].host()).second)
            return Error{index_path(peers, i), "peer " + d.peers[i].str() + " is listed twice"};
    }
    return std::nullopt;
}

Status validate_sync_daemon_pair(const cfg::SyncDaemon& a, const cfg::SyncDaemon& b, const std::string& port_field) {
    // Unicast sockets bind 0.0.0.0:mcast_port (multicast ones the group), and Linux hands a
    // unicast datagram to one of the sockets sharing the port: the other daemon never sees it.
    if (a.state != b.state && !a.peers.empty() && !b.peers.empty() && a.mcast_port == b.mcast_port)
        return Error{port_field, "a master and a backup daemon with unicast peers need different mcast_port values "
                                 "(both " + std::to_string(a.mcast_port) + ")"};
    return std::nullopt;
}

Status validate_sync_daemons(const std::vector<cfg::SyncDaemon>& daemons, const std::string& path) {
    // IPVS keeps one slot per state (ip_vs_sync_daemon: master and backup), so does dplb.
    std::optional<std::size_t> first[2];
    for (std::size_t i = 0; i < daemons.size(); ++i) {
        const std::string item = index_path(path, i);
        if (auto e = validate_sync_daemon(daemons[i], item)) return e;
        auto& slot = first[daemons[i].state == cfg::SyncState::master ? 0 : 1];
        if (slot)
            return Error{member_path(item, "state"), "a " + std::string(cfg::to_string(daemons[i].state)) +
                                                         " sync daemon is already configured (" +
                                                         index_path(path, *slot) +
                                                         "); a node runs at most one master and one backup"};
        slot = i;
    }
    if (first[0] && first[1])
        return validate_sync_daemon_pair(daemons[*first[0]], daemons[*first[1]],
                                         member_path(index_path(path, std::max(*first[0], *first[1])), "mcast_port"));
    return std::nullopt;
}

}  // namespace dplb::model
