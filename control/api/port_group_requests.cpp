// add-port-group, delete-port-group: the (protocol, address, ports) matches a mark stands for.
#include "codec/config_json.hpp"
#include "control/api/mutation_decoders.hpp"
#include "control/api/request_members.hpp"

namespace dplb::api::decoders {

using nlohmann::json;

model::Result<model::Change> add_port_group(const model::ConfigEditor&, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("port_group", m)) return *e;
    auto g = model::port_group_from_json(*m, "port_group");
    if (!g) return g.error();
    if (auto e = r.finish()) return *e;
    return model::Change{model::AddPortGroup{std::move(*g)}};
}

model::Result<model::Change> delete_port_group(const model::ConfigEditor&, const json& request) {
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
    return model::Change{model::DeletePortGroup{uint32_t(mark), match}};
}

}  // namespace dplb::api::decoders
