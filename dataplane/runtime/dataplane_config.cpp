#include "dataplane/runtime/dataplane_config.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/netns.hpp"
#include "dataplane/flow/owner.hpp"

namespace dplb::runtime {

namespace {

using nlohmann::json;
using model::Error;

// Small typed readers that name the member on failure. Each returns false and sets err.
struct Reader {
    Error err;
    bool failed = false;

    bool fail(const std::string& field, const std::string& msg) {
        if (!failed) err = Error{field, msg};
        failed = true;
        return false;
    }
    bool check_members(const json& obj, const std::string& path, std::initializer_list<const char*> allowed) {
        if (!obj.is_object()) return fail(path, "must be an object");
        for (auto it = obj.begin(); it != obj.end(); ++it) {
            bool known = false;
            for (const char* a : allowed) known |= it.key() == a;
            if (!known) return fail(path.empty() ? it.key() : path + "." + it.key(), "unknown member");
        }
        return true;
    }
    template <class T>
    bool uint(const json& obj, const char* key, const std::string& path, T& out, uint64_t min, uint64_t max) {
        if (!obj.contains(key)) return true;
        const json& v = obj[key];
        std::string f = path.empty() ? key : path + "." + key;
        if (!v.is_number_unsigned()) return fail(f, "must be a non-negative integer");
        uint64_t x = v.get<uint64_t>();
        if (x < min || x > max)
            return fail(f, "must be between " + std::to_string(min) + " and " + std::to_string(max));
        out = T(x);
        return true;
    }
    bool string(const json& obj, const char* key, const std::string& path, std::string& out, bool required) {
        std::string f = path.empty() ? key : path + "." + key;
        if (!obj.contains(key)) return required ? fail(f, "is required") : true;
        if (!obj[key].is_string() || obj[key].get<std::string>().empty()) return fail(f, "must be a non-empty string");
        out = obj[key].get<std::string>();
        return true;
    }
};

bool parse_mac(const std::string& s, pkt::Mac& mac) {
    unsigned b[6];
    char tail;
    if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
        return false;
    for (int i = 0; i < 6; ++i) mac.bytes[i] = uint8_t(b[i]);
    return true;
}

bool parse_port(Reader& r, const json& j, const std::string& path, PortConfig& port) {
    if (!r.check_members(j, path, {"name", "device", "addresses", "mac", "mtu", "rx_descriptors", "tx_descriptors",
                                   "kernel_twin"}))
        return false;
    if (!r.string(j, "name", path, port.name, true) || !r.string(j, "device", path, port.device, true)) return false;
    if (j.contains("addresses")) {
        const json& a = j["addresses"];
        if (!a.is_array()) return r.fail(path + ".addresses", "must be an array of \"A.B.C.D/LEN\" strings");
        for (size_t i = 0; i < a.size(); ++i) {
            std::string f = path + ".addresses[" + std::to_string(i) + "]";
            auto pfx = a[i].is_string() ? Ip4Prefix::parse(a[i].get<std::string>()) : std::nullopt;
            if (!pfx || pfx->address.is_zero()) return r.fail(f, "must be an interface address like \"10.0.0.1/24\"");
            port.addresses.push_back(*pfx);
        }
    }
    if (j.contains("mac")) {
        if (!j["mac"].is_string() || !parse_mac(j["mac"].get<std::string>(), port.mac))
            return r.fail(path + ".mac", "must be a MAC address like \"02:00:00:00:00:01\"");
        port.has_mac = true;
    }
    if (j.contains("kernel_twin")) {
        const json& t = j["kernel_twin"];
        if (!r.check_members(t, path + ".kernel_twin", {"name", "netns"})) return false;
        if (!r.string(t, "name", path + ".kernel_twin", port.twin_name, true)) return false;
        // IFNAMSIZ is 16 with the terminating zero; net_tap's devargs cannot hold ',' or '='.
        if (port.twin_name.empty() || port.twin_name.size() > 15 ||
            port.twin_name.find_first_of(",=/ \t") != std::string::npos)
            return r.fail(path + ".kernel_twin.name", "must be an interface name of 1 to 15 characters");
        if (!r.string(t, "netns", path + ".kernel_twin", port.twin_netns, false)) return false;
        if (t.contains("netns") && !valid_netns_name(port.twin_netns))
            return r.fail(path + ".kernel_twin.netns", "must be the name of a network namespace in /run/netns");
    }
    return r.uint(j, "mtu", path, port.mtu, 68, 9600) &&
           r.uint(j, "rx_descriptors", path, port.rx_descriptors, 64, 16384) &&
           r.uint(j, "tx_descriptors", path, port.tx_descriptors, 64, 16384);
}

}  // namespace

model::Result<DataplaneConfig> parse_dataplane_config(const std::string& text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return Error{"", "not valid JSON"};
    Reader r;
    DataplaneConfig c;
    if (!r.check_members(j, "", {"eal", "workers", "idle", "control_socket", "sessions_per_worker", "max_services",
                                 "max_real_servers", "local_port_range", "mbufs_per_port", "neighbor_reachable_seconds",
                                 "neighbor_max_entries", "tunnel_source", "ports", "routes", "neighbors",
                                 "exception_pps", "exception_control_pps", "vip_ownership", "sloppy_tcp",
                                 "sync_event_ring", "sync_install_ring", "sync_install_pps"}))
        return r.err;
    if (j.contains("eal")) {
        if (!j["eal"].is_array()) return Error{"eal", "must be an array of strings"};
        for (size_t i = 0; i < j["eal"].size(); ++i) {
            if (!j["eal"][i].is_string()) return Error{"eal[" + std::to_string(i) + "]", "must be a string"};
            c.eal_args.push_back(j["eal"][i].get<std::string>());
        }
    }
    if (j.contains("idle")) {
        std::string m = j["idle"].is_string() ? j["idle"].get<std::string>() : "";
        if (m == "auto") c.idle = IdleMode::automatic;
        else if (m == "interrupt") c.idle = IdleMode::interrupt;
        else if (m == "sleep") c.idle = IdleMode::sleep;
        else if (m == "busy") c.idle = IdleMode::busy;
        else return Error{"idle", "must be one of \"auto\", \"interrupt\", \"sleep\", \"busy\""};
    }
    if (j.contains("vip_ownership")) {
        std::string m = j["vip_ownership"].is_string() ? j["vip_ownership"].get<std::string>() : "";
        if (m == "always") c.vip_ownership = VipOwnershipMode::always;
        else if (m == "kernel") c.vip_ownership = VipOwnershipMode::kernel;
        else return Error{"vip_ownership", "must be \"always\" or \"kernel\""};
    }
    if (j.contains("sloppy_tcp")) {
        if (!j["sloppy_tcp"].is_boolean()) return Error{"sloppy_tcp", "must be true or false"};
        c.sloppy_tcp = j["sloppy_tcp"].get<bool>();
    }
    if (!r.string(j, "control_socket", "", c.control_socket, false) ||
        !r.uint(j, "workers", "", c.workers, 0, max_workers) ||
        !r.uint(j, "sessions_per_worker", "", c.sessions_per_worker, 1024, 1u << 30) ||
        !r.uint(j, "max_services", "", c.max_services, 1, 1u << 20) ||
        !r.uint(j, "max_real_servers", "", c.max_real_servers, 1, 1u << 24) ||
        !r.uint(j, "mbufs_per_port", "", c.mbufs_per_port, 0, 1u << 24) ||
        !r.uint(j, "neighbor_reachable_seconds", "", c.neighbor_reachable_s, 1, 86400) ||
        !r.uint(j, "neighbor_max_entries", "", c.neighbor_max_entries, 16, 1u << 20) ||
        !r.uint(j, "exception_pps", "", c.exception_pps, 0, 100000000) ||
        !r.uint(j, "exception_control_pps", "", c.exception_control_pps, 0, 100000000) ||
        !r.uint(j, "sync_event_ring", "", c.sync_event_ring, 64, 1u << 22) ||
        !r.uint(j, "sync_install_ring", "", c.sync_install_ring, 64, 1u << 22) ||
        !r.uint(j, "sync_install_pps", "", c.sync_install_pps, 0, 100000000))
        return r.err;
    if (j.contains("tunnel_source")) {
        auto a = j["tunnel_source"].is_string() ? Ip4::parse(j["tunnel_source"].get<std::string>()) : std::nullopt;
        if (!a || a->is_zero()) return Error{"tunnel_source", "must be an IPv4 address"};
        c.tunnel_source = *a;
    }
    if (j.contains("local_port_range")) {
        const json& pr = j["local_port_range"];
        if (!pr.is_array() || pr.size() != 2 || !pr[0].is_number_unsigned() || !pr[1].is_number_unsigned() ||
            pr[0].get<uint64_t>() < 1 || pr[1].get<uint64_t>() > 65535 || pr[0].get<uint64_t>() > pr[1].get<uint64_t>())
            return Error{"local_port_range", "must be [first, last] with 1 <= first <= last <= 65535"};
        c.local_port_first = uint16_t(pr[0].get<uint64_t>());
        c.local_port_last = uint16_t(pr[1].get<uint64_t>());
    }
    if (!j.contains("ports") || !j["ports"].is_array() || j["ports"].empty())
        return Error{"ports", "must be a non-empty array of ports"};
    if (j["ports"].size() > 32) return Error{"ports", "at most 32 ports are supported"};
    std::set<std::string> names;
    for (size_t i = 0; i < j["ports"].size(); ++i) {
        PortConfig p;
        std::string path = "ports[" + std::to_string(i) + "]";
        if (!parse_port(r, j["ports"][i], path, p)) return r.err;
        if (!names.insert(p.name).second) return Error{path + ".name", "duplicate port name '" + p.name + "'"};
        for (const auto& q : c.ports)
            if (!p.twin_name.empty() && q.twin_name == p.twin_name)
                return Error{path + ".kernel_twin.name", "kernel twin '" + p.twin_name + "' already used by port '" +
                                                             q.name + "'"};
        c.ports.push_back(std::move(p));
    }
    if (c.vip_ownership == VipOwnershipMode::kernel &&
        std::none_of(c.ports.begin(), c.ports.end(), [](const PortConfig& p) { return !p.twin_name.empty(); }))
        return Error{"vip_ownership", "\"kernel\" needs a port with a kernel_twin (its addresses say which VIPs are held)"};
    if (j.contains("routes")) {
        const json& rs = j["routes"];
        if (!rs.is_array()) return Error{"routes", "must be an array"};
        for (size_t i = 0; i < rs.size(); ++i) {
            std::string path = "routes[" + std::to_string(i) + "]";
            if (!r.check_members(rs[i], path, {"prefix", "via"})) return r.err;
            RouteConfig rc;
            std::string pfx, via;
            if (!r.string(rs[i], "prefix", path, pfx, true) || !r.string(rs[i], "via", path, via, true)) return r.err;
            auto p = Ip4Prefix::parse(pfx);
            if (!p) return Error{path + ".prefix", "must be a prefix like \"0.0.0.0/0\""};
            auto v = Ip4::parse(via);
            if (!v || v->is_zero()) return Error{path + ".via", "must be a gateway address"};
            rc.prefix = Ip4Prefix{p->network(), p->length};
            rc.via = *v;
            bool connected = false;
            for (const auto& port : c.ports)
                for (const auto& a : port.addresses) connected |= a.contains(rc.via);
            if (!connected) return Error{path + ".via", "gateway " + via + " is not on any port's network"};
            c.routes.push_back(rc);
        }
    }
    if (j.contains("neighbors")) {
        const json& ns = j["neighbors"];
        if (!ns.is_array()) return Error{"neighbors", "must be an array of {\"port\", \"address\", \"mac\"}"};
        for (size_t i = 0; i < ns.size(); ++i) {
            std::string path = "neighbors[" + std::to_string(i) + "]";
            if (!r.check_members(ns[i], path, {"port", "address", "mac"})) return r.err;
            std::string port, address, mac;
            if (!r.string(ns[i], "port", path, port, true) || !r.string(ns[i], "address", path, address, true) ||
                !r.string(ns[i], "mac", path, mac, true))
                return r.err;
            NeighborConfig n;
            size_t p = 0;
            while (p < c.ports.size() && c.ports[p].name != port) ++p;
            if (p == c.ports.size()) return Error{path + ".port", "no port named '" + port + "'"};
            n.port = uint16_t(p);
            auto a = Ip4::parse(address);
            if (!a || a->is_zero()) return Error{path + ".address", "must be an IPv4 address"};
            bool on_link = false;
            for (const auto& pa : c.ports[p].addresses) on_link |= pa.contains(*a);
            if (!on_link) return Error{path + ".address", address + " is not on a network of port '" + port + "'"};
            n.address = *a;
            if (!parse_mac(mac, n.mac)) return Error{path + ".mac", "must be a MAC address like \"02:00:00:00:00:01\""};
            for (const auto& other : c.neighbors)
                if (other.port == n.port && other.address == n.address)
                    return Error{path + ".address", "duplicate neighbour " + address + " on port '" + port + "'"};
            c.neighbors.push_back(n);
        }
    }
    return c;
}

model::Result<DataplaneConfig> load_dataplane_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Error{"", "cannot read " + path};
    std::stringstream ss;
    ss << in.rdbuf();
    auto r = parse_dataplane_config(ss.str());
    if (!r) return Error{r.error().field, path + ": " + r.error().message};
    return r;
}

const char* to_string(VipOwnershipMode m) { return m == VipOwnershipMode::kernel ? "kernel" : "always"; }

const char* to_string(IdleMode m) {
    switch (m) {
    case IdleMode::automatic: return "auto";
    case IdleMode::interrupt: return "interrupt";
    case IdleMode::sleep: return "sleep";
    case IdleMode::busy: return "busy";
    }
    return "?";
}

}  // namespace dplb::runtime
