// ipvsadm -L --daemon, from a get-sync-daemons reply: one line per daemon, master first, in
// the format of ipvsadm 1.31's list_daemon ("master sync daemon (mcast=eth0, syncid=1,
// maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"); dplb's unicast peers, when there are
// any, are appended as ", peers=A,B" before the ")". Nothing when no daemon runs, as ipvsadm.
#include "codec/config_json.hpp"
#include "tools/dplbadm/format.hpp"

namespace dplb::dplbadm {

using nlohmann::json;

std::string daemon_line(const config::SyncDaemon& d) {
    std::string out = std::string(config::to_string(d.state)) + " sync daemon (mcast=" + d.mcast_interface +
                      ", syncid=" + std::to_string(d.syncid) + ", maxlen=" + std::to_string(d.sync_maxlen) +
                      ", group=" + d.mcast_group.str() + ", port=" + std::to_string(d.mcast_port) +
                      ", ttl=" + std::to_string(d.mcast_ttl);
    if (!d.peers.empty()) {
        out += ", peers=";
        for (std::size_t i = 0; i < d.peers.size(); ++i) out += (i ? "," : "") + d.peers[i].str();
    }
    return out + ")\n";
}

model::Result<std::string> format_daemons(const json& reply) {
    if (!reply.is_object() || !reply.contains("sync_daemons") || !reply["sync_daemons"].is_array())
        return model::Error{"", "malformed reply from dplb-control: missing 'sync_daemons'"};
    std::string lines[2];  // master, backup: the kernel's order
    const json& daemons = reply["sync_daemons"];
    for (std::size_t i = 0; i < daemons.size(); ++i) {
        auto d = model::sync_daemon_from_json(daemons[i], "sync_daemons[" + std::to_string(i) + "]");
        if (!d) return model::Error{"", "malformed reply from dplb-control: " + d.error().str()};
        lines[d->state == config::SyncState::master ? 0 : 1] = daemon_line(*d);
    }
    return lines[0] + lines[1];
}

}  // namespace dplb::dplbadm
