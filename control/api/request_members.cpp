#include "control/api/request_members.hpp"

#include "model/config_find.hpp"
#include "codec/config_json.hpp"

namespace dplb::api {

using model::Error;
using nlohmann::json;

model::ObjectReader request_reader(const json& request) {
    model::ObjectReader r(request, "");
    r.get("cmd");
    r.get("id");
    return r;
}

model::Result<config::ServiceKey> read_key_member(model::ObjectReader& r, std::string_view name) {
    const json* m = nullptr;
    if (auto e = r.required(name, m)) return *e;
    return model::service_key_from_json(*m, r.field(name));
}

Error no_such_service(const config::ServiceKey& key) {
    return Error{"service", "no service " + model::describe(key)};
}

model::Result<std::optional<config::ServiceKey>> read_optional_service(const config::Config& config,
                                                                      const json& request) {
    auto r = request_reader(request);
    std::optional<config::ServiceKey> key;
    if (const json* m = r.get("service")) {
        auto k = model::service_key_from_json(*m, "service");
        if (!k) return k.error();
        key = *k;
    }
    if (auto e = r.finish()) return *e;
    if (key && !model::find_service(config, *key)) return no_such_service(*key);
    return key;
}

model::Status read_no_members(const json& request) { return request_reader(request).finish(); }

}  // namespace dplb::api
