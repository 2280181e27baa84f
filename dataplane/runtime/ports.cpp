#include "dataplane/runtime/ports.hpp"

#include "dataplane/runtime/flow_rules.hpp"
#include "dataplane/runtime/kernel_address_watch.hpp"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace dplb::runtime {

namespace {

std::string err_text(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

constexpr uint16_t twin_descriptors = 512;

// "net_tap0,iface=x" -> "net_tap0"; a PCI address is its own name.
std::string device_name(const std::string& devargs) { return devargs.substr(0, devargs.find(',')); }

model::Status find_or_probe(const PortConfig& pc, const std::string& field, uint16_t& port_id) {
    std::string name = device_name(pc.device);
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port_id) == 0) return std::nullopt;
    int rc = rte_dev_probe(pc.device.c_str());
    if (rc < 0) return model::Error{field, "cannot probe device '" + pc.device + "': " + err_text(rc)};
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port_id) != 0)
        return model::Error{field, "device '" + pc.device + "' probed but no ethernet port named '" + name + "'"};
    return std::nullopt;
}

// Entry i -> queue i % queues, then reads the table back into `reta`.
int write_reta(uint16_t port_id, uint16_t reta_size, uint16_t queues, std::vector<rte_eth_rss_reta_entry64>& reta) {
    reta.assign(reta_size / RTE_ETH_RETA_GROUP_SIZE + 1, rte_eth_rss_reta_entry64{});
    for (uint16_t i = 0; i < reta_size; ++i) {
        auto& group = reta[i / RTE_ETH_RETA_GROUP_SIZE];
        group.mask |= uint64_t(1) << (i % RTE_ETH_RETA_GROUP_SIZE);
        group.reta[i % RTE_ETH_RETA_GROUP_SIZE] = uint16_t(i % queues);
    }
    int rc = rte_eth_dev_rss_reta_update(port_id, reta.data(), reta_size);
    if (rc == 0) rc = rte_eth_dev_rss_reta_query(port_id, reta.data(), reta_size);
    return rc;
}

// With several workers: programs the redirection table (entry i -> queue i % queues) and
// reads back key, hash types and table, to decide whether this port's RSS is known exactly.
// Anything unknown leaves the port to the software redirect, which is always correct.
void program_rss(PortState& ps, const rte_eth_dev_info& info, const rte_eth_rss_conf& asked,
                 const std::vector<uint8_t>& key) {
    ps.steering = Steering::software_redirect;
    const uint64_t l4 = RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP;
    if (info.reta_size == 0 || info.reta_size > RssSteering::max_reta) {
        ps.steering_detail = "no RSS redirection table (RETA size " + std::to_string(info.reta_size) + ")";
        return;
    }
    if (!asked.rss_key) {
        ps.steering_detail = "the PMD refused our RSS key";
        return;
    }
    if ((asked.rss_hf & l4) != l4) {
        ps.steering_detail = "no TCP/UDP port hashing for IPv4";
        return;
    }
    std::vector<rte_eth_rss_reta_entry64> reta;
    int rc = write_reta(ps.port_id, info.reta_size, ps.queues, reta);
    if (rc != 0) {
        ps.steering_detail = "cannot program the RSS redirection table: " + err_text(rc);
        return;
    }
    std::vector<uint8_t> got(key.size());
    rte_eth_rss_conf now{};
    now.rss_key = got.data();
    now.rss_key_len = uint8_t(got.size());
    rc = rte_eth_dev_rss_hash_conf_get(ps.port_id, &now);
    if (rc != 0 || !std::equal(key.begin(), key.begin() + 16, got.begin()) || (now.rss_hf & l4) != l4) {
        ps.steering_detail = rc ? "cannot read the RSS key back: " + err_text(rc) : "the RSS key or hash types did not stick";
        return;
    }
    std::vector<uint16_t> queue_of_entry(info.reta_size);
    for (uint16_t i = 0; i < info.reta_size; ++i)
        queue_of_entry[i] = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
    ps.steering = Steering::rss_predicted;
    ps.steering_table = std::move(queue_of_entry);
}

// The value of `key` in the device's arguments ("role=client,socket=/x" -> "client" for
// "role"), whether they came with the port's `device` or an EAL --vdev; "" when absent.
std::string device_arg(const rte_eth_dev_info& info, const std::string& key) {
    const rte_devargs* da = info.device ? rte_dev_devargs(info.device) : nullptr;
    if (!da || !da->args) return "";
    const std::string args = da->args;
    for (size_t at = 0; at < args.size();) {
        size_t end = args.find(',', at);
        if (end == std::string::npos) end = args.size();
        const std::string item = args.substr(at, end - at);
        if (item.compare(0, key.size() + 1, key + "=") == 0) return item.substr(key.size() + 1);
        at = end + 1;
    }
    return "";
}

// docs/hardening.md, "Link faults": how this port's link is read, and whether stopping and
// starting the port can bring it back. A memif client connects only on start (its peer's
// restart needs ours); a net_tap's start sets its kernel side up. af_packet's and af_xdp's
// PMDs say "up" whatever the kernel interface does, so its flags are read instead; their
// sockets stay bound across a kernel link flap, and a start would not raise the link.
void describe_link(PortState& ps, const rte_eth_dev_info& info) {
    ps.link_iface = device_arg(info, "iface");
    if (ps.driver == "net_memif") {
        const std::string role = device_arg(info, "role");
        ps.link_restart = role == "client" || role == "slave";
    } else if (ps.driver == "net_tap") {
        char name[IF_NAMESIZE] = {};
        if (ps.link_iface.empty() && info.if_index && if_indextoname(info.if_index, name)) ps.link_iface = name;
        ps.link_restart = !ps.link_iface.empty();
    } else if ((ps.driver == "net_af_packet" || ps.driver == "net_af_xdp") && !ps.link_iface.empty()) {
        ps.link_detection = "kernel";
    }
}

model::Status configure_port(Runtime& rt, const PortConfig& pc, const std::string& field, PortState& ps) {
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(ps.port_id, &info);
    if (rc != 0) return model::Error{field, "cannot query device: " + err_text(rc)};
    ps.driver = info.driver_name ? info.driver_name : "";
    ps.queues = uint16_t(rt.workers);
    if (ps.queues > info.max_rx_queues || ps.queues > info.max_tx_queues)
        return model::Error{field, "device has " + std::to_string(info.max_rx_queues) + " RX / " +
                                       std::to_string(info.max_tx_queues) + " TX queues; " +
                                       std::to_string(rt.workers) + " workers need " + std::to_string(ps.queues) +
                                       " of each"};

    rte_eth_conf conf{};
    // Our Toeplitz key, padded with zeros to the NIC's key length: an IPv4 4-tuple hash uses
    // only the first 16 bytes, which are the same whatever the length.
    std::vector<uint8_t> key(std::max<size_t>(RssSteering::key_size, info.hash_key_size), 0);
    std::copy(RssSteering::default_key.begin(), RssSteering::default_key.end(), key.begin());
    if (rt.workers > 1) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
        if (conf.rx_adv_conf.rss_conf.rss_hf == 0) conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
        if (info.hash_key_size) {
            conf.rx_adv_conf.rss_conf.rss_key = key.data();
            conf.rx_adv_conf.rss_conf.rss_key_len = uint8_t(key.size());
        }
    }
    // Link-state-change interrupts where the PMD has them (docs/hardening.md, "Link faults"):
    // they wake the link monitor, which polls the link anyway. Not net_tap's: its handler
    // needs the kernel side in our namespace, where one ioctl per poll reads the same.
    if (info.dev_flags && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) && ps.driver != "net_tap") conf.intr_conf.lsc = 1;
    ps.link_lsc = conf.intr_conf.lsc != 0;
    bool want_intr = rt.config.idle == IdleMode::automatic || rt.config.idle == IdleMode::interrupt;
    conf.intr_conf.rxq = want_intr ? 1 : 0;
    // Fallbacks, most wanted first: RX interrupts go before our RSS key in `auto` mode (a
    // worker can sleep instead; losing the key loses RSS prediction), then the key.
    rc = rte_eth_dev_configure(ps.port_id, ps.queues, ps.queues, &conf);
    if (rc != 0 && want_intr && rt.config.idle == IdleMode::automatic) {
        conf.intr_conf.rxq = 0;  // this PMD has no RX interrupts: the worker sleeps instead
        rc = rte_eth_dev_configure(ps.port_id, ps.queues, ps.queues, &conf);
    }
    if (rc != 0 && conf.rx_adv_conf.rss_conf.rss_key) {
        conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // the PMD's own key: no prediction
        conf.rx_adv_conf.rss_conf.rss_key_len = 0;
        conf.intr_conf.rxq = want_intr ? 1 : 0;
        rc = rte_eth_dev_configure(ps.port_id, ps.queues, ps.queues, &conf);
        if (rc != 0 && want_intr && rt.config.idle == IdleMode::automatic) {
            conf.intr_conf.rxq = 0;
            rc = rte_eth_dev_configure(ps.port_id, ps.queues, ps.queues, &conf);
        }
    }
    if (rc != 0) return model::Error{field, "cannot configure device: " + err_text(rc)};
    ps.rx_interrupts = conf.intr_conf.rxq != 0;

    // memif and some others cannot set an MTU: keep their default rather than fail.
    rc = rte_eth_dev_set_mtu(ps.port_id, pc.mtu);
    if (rc != 0 && rc != -ENOTSUP) return model::Error{field + ".mtu", "cannot set MTU: " + err_text(rc)};
    uint16_t mtu = 0;
    ps.mtu = rte_eth_dev_get_mtu(ps.port_id, &mtu) == 0 && mtu ? mtu : pc.mtu;

    if (pc.has_mac) {
        rte_ether_addr a;
        std::memcpy(a.addr_bytes, pc.mac.bytes, 6);
        rc = rte_eth_dev_default_mac_addr_set(ps.port_id, &a);
        if (rc != 0) return model::Error{field + ".mac", "cannot set MAC address: " + err_text(rc)};
    }
    rte_ether_addr a;
    rte_eth_macaddr_get(ps.port_id, &a);
    std::memcpy(ps.mac.bytes, a.addr_bytes, 6);

    uint16_t rxd = pc.rx_descriptors, txd = pc.tx_descriptors;
    rte_eth_dev_adjust_nb_rx_tx_desc(ps.port_id, &rxd, &txd);
    int socket = rte_eth_dev_socket_id(ps.port_id);
    if (socket < 0) socket = int(rte_socket_id());
    for (uint16_t q = 0; q < ps.queues; ++q) {
        rc = rte_eth_rx_queue_setup(ps.port_id, q, rxd, unsigned(socket), nullptr, rt.pool);
        if (rc != 0) return model::Error{field, "RX queue " + std::to_string(q) + " setup failed: " + err_text(rc)};
    }
    for (uint16_t q = 0; q < ps.queues; ++q) {
        rc = rte_eth_tx_queue_setup(ps.port_id, q, txd, unsigned(socket), nullptr);
        if (rc != 0) return model::Error{field, "TX queue " + std::to_string(q) + " setup failed: " + err_text(rc)};
    }
    rc = rte_eth_dev_start(ps.port_id);
    if (rc != 0) return model::Error{field, "cannot start device: " + err_text(rc)};
    if (rt.workers > 1) program_rss(ps, info, conf.rx_adv_conf.rss_conf, key);
    describe_link(ps, info);
    return std::nullopt;
}

// The kernel twin of port `ps` (docs/architecture.md, "Exception path"): a net_tap port
// whose kernel interface is `pc.twin_name` with the port's MAC, one queue pair, started.
// Frames the kernel sends on it must leave the port as they are, so the kernel side carries
// the port's MAC too (net_tap's `mac=` sets only the DPDK side's).
model::Status create_twin(Runtime& rt, size_t index, const PortConfig& pc, const std::string& field, PortState& ps) {
    const std::string name = "net_tap_dplb_twin" + std::to_string(index);
    char mac[18];
    std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", ps.mac.bytes[0], ps.mac.bytes[1], ps.mac.bytes[2],
                  ps.mac.bytes[3], ps.mac.bytes[4], ps.mac.bytes[5]);
    const std::string devargs = name + ",iface=" + pc.twin_name + ",mac=" + mac;
    int rc = rte_dev_probe(devargs.c_str());
    if (rc < 0) return model::Error{field, "cannot create kernel twin '" + devargs + "': " + err_text(rc)};
    if (rte_eth_dev_get_port_by_name(name.c_str(), &ps.twin_port_id) != 0)
        return model::Error{field, "kernel twin '" + name + "' probed but no ethernet port"};
    ps.has_twin = true;
    ps.twin_iface = pc.twin_name;
    rte_eth_conf conf{};
    rc = rte_eth_dev_configure(ps.twin_port_id, 1, 1, &conf);
    if (rc == 0) {
        int rc_mtu = rte_eth_dev_set_mtu(ps.twin_port_id, ps.mtu);
        (void)rc_mtu;  // the kernel side keeps 1500 if it refuses: a smaller MTU only costs size
        int socket = rte_eth_dev_socket_id(ps.twin_port_id);
        if (socket < 0) socket = int(rte_socket_id());
        rc = rte_eth_rx_queue_setup(ps.twin_port_id, 0, twin_descriptors, unsigned(socket), nullptr, rt.pool);
        if (rc == 0) rc = rte_eth_tx_queue_setup(ps.twin_port_id, 0, twin_descriptors, unsigned(socket), nullptr);
        if (rc == 0) rc = rte_eth_dev_start(ps.twin_port_id);
    }
    if (rc != 0) return model::Error{field, "cannot start kernel twin '" + pc.twin_name + "': " + err_text(rc)};
    // The kernel interface's own MAC: SIOCSIFHWADDR (tap allows it while up).
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, pc.twin_name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    std::memcpy(ifr.ifr_hwaddr.sa_data, ps.mac.bytes, 6);
    rc = fd < 0 ? -1 : ::ioctl(fd, SIOCSIFHWADDR, &ifr);
    const int e = errno;
    if (fd >= 0) ::close(fd);
    if (rc != 0)
        return model::Error{field, "cannot give kernel twin '" + pc.twin_name + "' the port's MAC: " + std::strerror(e)};
    // Into its namespace, set up there; its MAC and MTU were set above (they survive the move).
    if (!pc.twin_netns.empty())
        if (auto moved = move_link_to_netns(pc.twin_name, pc.twin_netns))
            return model::Error{field + ".netns", moved->message};
    return std::nullopt;
}

// FULLNAT ports are chosen for one key and one table, and a reply may arrive on any port
// (whichever faces its real server): prediction is on only when every port's RSS is known
// and the same. Every port gets the same key and layout, so they normally agree.
void choose_rss_steering(Runtime& rt) {
    const PortState* model_port = nullptr;
    const PortState* unknown = nullptr;
    for (auto& ps : rt.ports) {
        if (ps.steering != Steering::rss_predicted) {
            if (!unknown) unknown = &ps;
            continue;
        }
        if (!model_port) {
            model_port = &ps;
            continue;
        }
        if (ps.steering_table != model_port->steering_table) {
            ps.steering = Steering::software_redirect;
            ps.steering_detail = "its RSS redirection table differs from port '" + model_port->name + "'";
            if (!unknown) unknown = &ps;
        }
    }
    if (model_port && unknown) {
        for (auto& ps : rt.ports)
            if (ps.steering == Steering::rss_predicted) {
                ps.steering = Steering::software_redirect;
                ps.steering_detail = "RSS programmed, but prediction needs every port's RSS known and port '" +
                                     unknown->name + "' is not";
                ps.steering_table.clear();
            }
        model_port = nullptr;
    }
    if (model_port) {
        std::array<uint8_t, RssSteering::key_size> key = RssSteering::default_key;
        rt.rss = RssSteering(key, model_port->steering_table.data(),
                             uint16_t(model_port->steering_table.size()));
        if (!rt.rss.enabled())
            for (auto& ps : rt.ports)
                if (ps.steering == Steering::rss_predicted) {
                    ps.steering = Steering::software_redirect;
                    ps.steering_detail = "RSS redirection table size is not a power of two";
                }
    }
}

}  // namespace

model::Status start_ports(Runtime& rt) {
    const auto& cfg = rt.config;
    uint32_t max_mtu = 1500;
    uint32_t descriptors = 0;
    for (const auto& p : cfg.ports) {
        max_mtu = std::max<uint32_t>(max_mtu, p.mtu);
        descriptors += (uint32_t(p.rx_descriptors) + p.tx_descriptors) * rt.workers;
    }
    // Every descriptor can hold an mbuf, plus the rings between threads, plus per-lcore caches.
    uint32_t rings = (rt.workers * rt.workers + 2 * rt.workers) * 1024;
    for (const auto& p : cfg.ports)
        if (!p.twin_name.empty()) rings += 2 * twin_descriptors + 2 * rt.workers * 1024;  // twin queues, to_twin rings
    uint32_t nb = cfg.mbufs_per_port ? cfg.mbufs_per_port * uint32_t(cfg.ports.size())
                                     : descriptors + rings + 512 * (rt.workers + 1) + 4096;
    uint16_t data_room = uint16_t(std::max<uint32_t>(RTE_MBUF_DEFAULT_BUF_SIZE,
                                                     RTE_PKTMBUF_HEADROOM + ((max_mtu + 18 + 63) & ~63u)));
    rt.pool = rte_pktmbuf_pool_create("dplb_mbufs", nb, 256, 0, data_room, int(rte_socket_id()));
    if (!rt.pool) return model::Error{"", "cannot create mbuf pool of " + std::to_string(nb) + " mbufs: " +
                                              err_text(rte_errno) + " (hugepages reserved? see tools/bootstrap)"};

    for (size_t i = 0; i < cfg.ports.size(); ++i) {
        std::string field = "ports[" + std::to_string(i) + "]";
        PortState ps;
        ps.name = cfg.ports[i].name;
        if (auto e = find_or_probe(cfg.ports[i], field + ".device", ps.port_id)) {
            stop_ports(rt);
            return e;
        }
        for (const auto& other : rt.ports)
            if (other.port_id == ps.port_id) {
                stop_ports(rt);
                return model::Error{field + ".device", "device already used by port '" + other.name + "'"};
            }
        if (auto e = configure_port(rt, cfg.ports[i], field, ps)) {
            rte_eth_dev_close(ps.port_id);
            stop_ports(rt);
            return e;
        }
        if (!cfg.ports[i].twin_name.empty())
            if (auto e = create_twin(rt, i, cfg.ports[i], field + ".kernel_twin", ps)) {
                rt.ports.push_back(ps);  // stop_ports closes it and its twin
                stop_ports(rt);
                return e;
            }
        rt.ports.push_back(ps);
    }
    choose_rss_steering(rt);
    FlowRules::probe(rt);
    // The control thread creates rte_flow rules on such ports at any time: never restarted
    // under it (net_tap and memif, the ports that restart, take no rules anyway).
    for (auto& ps : rt.ports)
        if (ps.steering == Steering::rte_flow) ps.link_restart = false;
    rt.links = std::make_unique<PortLink[]>(rt.ports.size());
    return std::nullopt;
}

PortRestart restart_port(Runtime& rt, size_t index) {
    PortState& ps = rt.ports[index];
    const PortConfig& pc = rt.config.ports[index];
    int rc = rte_eth_dev_stop(ps.port_id);
    if (rc != 0 && rc != -EBUSY) return {false, "cannot stop: " + err_text(rc)};
    rc = rte_eth_dev_start(ps.port_id);
    // net_memif answers -1 (EPERM's number) when its peer's socket refuses the connection.
    if (rc != 0)
        return {false, "cannot start: " + (ps.driver == "net_memif" && rc == -1 ? std::string("no memif peer accepts on its socket (-1)")
                                                                                 : err_text(rc))};
    // What start-up applied that a start may not restore (rte_eth_dev_start restores MAC
    // addresses and promiscuous/all-multicast modes itself; queues and RSS hash
    // configuration are kept). Failures here leave the port running: counted as a restart
    // that brought it back, with the reason logged.
    std::string warning;
    rc = rte_eth_dev_set_mtu(ps.port_id, ps.mtu);
    if (rc != 0 && rc != -ENOTSUP) warning = "cannot set MTU " + std::to_string(ps.mtu) + ": " + err_text(rc);
    if (pc.has_mac) {
        rte_ether_addr a;
        std::memcpy(a.addr_bytes, ps.mac.bytes, 6);
        rc = rte_eth_dev_default_mac_addr_set(ps.port_id, &a);
        if (rc != 0 && rc != -ENOTSUP) warning += (warning.empty() ? "" : "; ") + std::string("cannot set MAC: ") + err_text(rc);
    }
    if (ps.steering == Steering::rss_predicted) {
        std::vector<rte_eth_rss_reta_entry64> reta;
        rc = write_reta(ps.port_id, uint16_t(ps.steering_table.size()), ps.queues, reta);
        bool same = rc == 0;
        for (size_t i = 0; same && i < ps.steering_table.size(); ++i)
            same = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] == ps.steering_table[i];
        if (!same)  // replies may then reach a worker the prediction did not expect: redirected, not lost
            warning += (warning.empty() ? "" : "; ") + std::string("RSS redirection table not restored");
    }
    return {true, warning};
}

void stop_ports(Runtime& rt) {
    for (auto& ps : rt.ports) {
        rte_eth_dev_stop(ps.port_id);
        rte_eth_dev_close(ps.port_id);
        if (ps.has_twin) {
            rte_eth_dev_stop(ps.twin_port_id);
            rte_eth_dev_close(ps.twin_port_id);
        }
    }
    rt.ports.clear();
}

}  // namespace dplb::runtime
