#include "dataplane/runtime/flow_rules.hpp"

#include <rte_byteorder.h>
#include <rte_flow.h>

#include <set>
#include <string>

#include "dataplane/packet/headers.hpp"

namespace dplb::runtime {

namespace {

bool power_of_two(unsigned n) { return n >= 2 && (n & (n - 1)) == 0; }

// "IPv4 to `lip`, `proto` destination port & (n-1) == worker -> queue worker"; validated only
// when `create` is false. Returns the flow (or a non-null marker when only validating), null
// with `err` filled on failure.
rte_flow* rule(uint16_t port_id, uint32_t lip_be, uint8_t proto, uint16_t worker, uint16_t nworkers, bool create,
               rte_flow_error& err) {
    rte_flow_attr attr{};
    attr.ingress = 1;
    rte_flow_item_ipv4 ip_spec{}, ip_mask{};
    ip_spec.hdr.dst_addr = lip_be;
    ip_mask.hdr.dst_addr = 0xffffffffu;
    rte_flow_item_tcp tcp_spec{}, tcp_mask{};
    rte_flow_item_udp udp_spec{}, udp_mask{};
    tcp_spec.hdr.dst_port = rte_cpu_to_be_16(worker);
    tcp_mask.hdr.dst_port = rte_cpu_to_be_16(uint16_t(nworkers - 1));
    udp_spec.hdr.dst_port = tcp_spec.hdr.dst_port;
    udp_mask.hdr.dst_port = tcp_mask.hdr.dst_port;
    const bool tcp = proto == pkt::proto_tcp;
    rte_flow_item pattern[4] = {};
    pattern[0].type = RTE_FLOW_ITEM_TYPE_ETH;
    pattern[1].type = RTE_FLOW_ITEM_TYPE_IPV4;
    pattern[1].spec = &ip_spec;
    pattern[1].mask = &ip_mask;
    pattern[2].type = tcp ? RTE_FLOW_ITEM_TYPE_TCP : RTE_FLOW_ITEM_TYPE_UDP;
    pattern[2].spec = tcp ? static_cast<const void*>(&tcp_spec) : &udp_spec;
    pattern[2].mask = tcp ? static_cast<const void*>(&tcp_mask) : &udp_mask;
    pattern[3].type = RTE_FLOW_ITEM_TYPE_END;
    rte_flow_action_queue queue{};
    queue.index = worker;
    rte_flow_action actions[2] = {};
    actions[0].type = RTE_FLOW_ACTION_TYPE_QUEUE;
    actions[0].conf = &queue;
    actions[1].type = RTE_FLOW_ACTION_TYPE_END;
    if (!create) {
        static rte_flow* const validated = reinterpret_cast<rte_flow*>(uintptr_t(1));
        return rte_flow_validate(port_id, &attr, pattern, actions, &err) == 0 ? validated : nullptr;
    }
    return rte_flow_create(port_id, &attr, pattern, actions, &err);
}

}  // namespace

void FlowRules::probe(Runtime& rt) {
    for (auto& ps : rt.ports) {
        if (ps.steering != Steering::software_redirect) continue;
        if (!power_of_two(rt.workers)) {
            ps.steering_detail += "; no rte_flow rules: " + std::to_string(rt.workers) +
                                  " workers is not a power of two (local ports are owned by port % workers)";
            continue;
        }
        // Validation is not enough: net_tap validates such rules but cannot create them (no
        // multiq qdisc). Create one of each and take them down again.
        rte_flow_error err{};
        const uint32_t probe_address = rte_cpu_to_be_32(0xc0000201u);  // 192.0.2.1, never matched
        bool ok = true;
        for (uint8_t proto : {pkt::proto_tcp, pkt::proto_udp}) {
            if (!ok) break;
            rte_flow* f = rule(ps.port_id, probe_address, proto, 1, uint16_t(rt.workers), true, err);
            ok = f != nullptr;
            if (f) rte_flow_destroy(ps.port_id, f, &err);
        }
        if (ok) {
            ps.steering = Steering::rte_flow;
            ps.steering_detail += "; FULLNAT replies steered by rte_flow rules per local address";
        } else {
            ps.steering_detail += std::string("; no rte_flow rules: ") + (err.message ? err.message : "not supported");
        }
    }
}

FlowRules::~FlowRules() {
    for (auto& [addr, installed] : by_address_)
        for (auto& in : installed)
            for (rte_flow* f : in.flows) {
                rte_flow_error err{};
                rte_flow_destroy(rt_.ports[in.port_index].port_id, f, &err);
            }
}

void FlowRules::sync(const Snapshot& snap) {
    bool any = false;
    for (const auto& ps : rt_.ports) any |= ps.steering == Steering::rte_flow;
    if (!any) return;
    std::set<uint32_t> wanted;
    snap.local_addresses.for_each([&](uint64_t key, const LocalAddressInfo& info) {
        // Not an address that is also a VIP: its rules would pin client traffic to the
        // queue its destination port happens to pick.
        if ((info.kinds & local_snat) && !(info.kinds & local_vip)) wanted.insert(uint32_t(key));
    });
    for (auto it = by_address_.begin(); it != by_address_.end();) {
        if (wanted.count(it->first)) {
            ++it;
            continue;
        }
        for (auto& in : it->second)
            for (rte_flow* f : in.flows) {
                rte_flow_error err{};
                if (rte_flow_destroy(rt_.ports[in.port_index].port_id, f, &err) != 0) ++failures_[in.port_index];
            }
        it = by_address_.erase(it);
    }
    for (uint32_t addr : wanted) {
        if (by_address_.count(addr)) continue;
        std::vector<Installed>& installed = by_address_[addr];
        for (uint16_t pi = 0; pi < rt_.ports.size(); ++pi) {
            if (rt_.ports[pi].steering != Steering::rte_flow) continue;
            Installed in{pi, {}};
            for (uint16_t w = 0; w < rt_.workers; ++w)
                for (uint8_t proto : {pkt::proto_tcp, pkt::proto_udp}) {
                    rte_flow_error err{};
                    if (rte_flow* f = rule(rt_.ports[pi].port_id, addr, proto, w, uint16_t(rt_.workers), true, err))
                        in.flows.push_back(f);
                    else
                        ++failures_[pi];
                }
            installed.push_back(std::move(in));
        }
    }
}

size_t FlowRules::rules(uint16_t port_index) const {
    size_t n = 0;
    for (const auto& [addr, installed] : by_address_)
        for (const auto& in : installed)
            if (in.port_index == port_index) n += in.flows.size();
    return n;
}

}  // namespace dplb::runtime
