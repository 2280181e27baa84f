// add-port-group, delete-port-group: the (protocol, address, ports) matches a mark stands for.
#include <algorithm>

#include "control/api/mutation_handlers.hpp"
#include "control/api/request_members.hpp"
#include "model/config_find.hpp"
#include "codec/config_json.hpp"
#include "model/port_matches.hpp"
#include "model/validate.hpp"

namespace dplb::api::handlers {

using model::Error;
using nlohmann::json;

namespace {

// No match of `g` may overlap another match (of any group, or of `g` itself) or take the
// packets of an address service.
model::Status check_new_matches(const config::Config& c, const config::PortGroup& g) {
    for (std::size_t k = 0; k < g.matches.size(); ++k) {
        const auto& m = g.matches[k];
        const std::string field = "port_group.matches[" + std::to_string(k) + "]";
        if (auto ref = model::find_overlap(c, m))
            return Error{field, model::describe(m) + " overlaps " + model::describe_match(c, *ref) +
                                    "; a packet can belong to one service only"};
        for (std::size_t j = 0; j < k; ++j)
            if (model::overlaps(m, g.matches[j]))
                return Error{field, model::describe(m) + " overlaps port_group.matches[" + std::to_string(j) + "] (" +
                                        model::describe(g.matches[j]) + ")"};
        if (const config::Service* s = model::find_covered_service(c, m))
            return Error{field, model::describe(m) + " takes the packets of service " + model::describe(s->key) +
                                    "; a packet can belong to one service only"};
    }
    return std::nullopt;
}

}  // namespace

model::Result<config::Config> add_port_group(config::Config c, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("port_group", m)) return *e;
    auto g = model::port_group_from_json(*m, "port_group");
    if (!g) return g.error();
    if (auto e = r.finish()) return *e;
    if (auto e = model::validate_port_group(*g, "port_group")) return *e;
    if (auto e = check_new_matches(c, *g)) return *e;
    if (config::PortGroup* existing = model::find_port_group(c, g->mark))
        existing->matches.insert(existing->matches.end(), g->matches.begin(), g->matches.end());
    else
        c.port_groups.push_back(std::move(*g));
    return c;
}

model::Result<config::Config> delete_port_group(config::Config c, const json& request) {
    auto r = request_reader(request);
    uint64_t mark = 0;
    if (auto e = r.required_uint("mark", 1, 4294967295, mark)) return *e;
    std::optional<config::PortMatch> match;
    if (const json* m = r.get("match")) {
        auto pm = model::port_match_from_json(*m, "match");
        if (!pm) return pm.error();
        match = *pm;
    }
    if (auto e = r.finish()) return *e;
    auto group = std::find_if(c.port_groups.begin(), c.port_groups.end(),
                              [&](const config::PortGroup& g) { return g.mark == mark; });
    if (group == c.port_groups.end()) return Error{"mark", "no port group " + std::to_string(mark)};
    if (match) {
        auto it = std::find(group->matches.begin(), group->matches.end(), *match);
        if (it == group->matches.end())
            return Error{"match", "port group " + std::to_string(mark) + " has no match " + model::describe(*match)};
        group->matches.erase(it);
        if (!group->matches.empty()) return c;  // a group without matches is removed with its last one
    }
    c.port_groups.erase(group);
    return c;
}

}  // namespace dplb::api::handlers
