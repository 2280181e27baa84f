// add-real, edit-real, delete-real.
#include "codec/config_json.hpp"
#include "control/api/mutation_decoders.hpp"
#include "control/api/request_members.hpp"
#include "model/config_find.hpp"
#include "model/runtime_state.hpp"

namespace dplb::api::decoders {

using model::Error;
using nlohmann::json;

namespace {

struct RealRequest {
    config::ServiceKey key;
    const json* real = nullptr;  // the `real_server` member
};

model::Result<RealRequest> read_real_request(const json& request) {
    auto r = request_reader(request);
    RealRequest out;
    auto key = read_key_member(r);
    if (!key) return key.error();
    out.key = *key;
    if (auto e = r.required("real_server", out.real)) return *e;
    if (auto e = r.finish()) return *e;
    return out;
}

// The `real_server` member decoded with the documented defaults (port = the service's port).
model::Result<config::RealServer> read_real(const RealRequest& req) {
    config::RealServer defaults;
    defaults.port = req.key.port;
    return model::real_server_from_json(*req.real, "real_server", defaults);
}

}  // namespace

model::Result<model::Change> add_real(const model::ConfigEditor&, const json& request) {
    auto req = read_real_request(request);
    if (!req) return req.error();
    auto rs = read_real(*req);
    if (!rs) return rs.error();
    // Runtime health state is the health checker's: a new real server starts up.
    model::clear_runtime_state(*rs);
    return model::Change{model::AddReal{req->key, *rs}};
}

model::Result<model::Change> edit_real(const model::ConfigEditor& working, const json& request) {
    auto req = read_real_request(request);
    if (!req) return req.error();
    auto rs = read_real(*req);  // the address and port say which server; syntax errors first
    if (!rs) return rs.error();
    const config::Service* svc = working.find_service(req->key);
    if (!svc) return no_such_service(req->key);
    // Linear in this service's real servers only.
    const config::RealServer* existing = model::find_real(*svc, rs->address, rs->port);
    if (!existing)
        return Error{"real_server", "no real server " + model::describe(rs->address, rs->port) + " in service " +
                                        model::describe(req->key)};
    // Decoded again over the existing server, so that absent members keep their values.
    auto merged = model::real_server_from_json(*req->real, "real_server", *existing);
    if (!merged) return merged.error();
    // Runtime health state is the health checker's: the server keeps its own.
    merged->health = existing->health;
    merged->dynamic_weight = existing->dynamic_weight;
    return model::Change{model::EditReal{req->key, *merged}};
}

model::Result<model::Change> delete_real(const model::ConfigEditor&, const json& request) {
    auto req = read_real_request(request);
    if (!req) return req.error();
    model::ObjectReader rr(*req->real, "real_server");
    const json* addr = nullptr;
    if (auto e = rr.required("address", addr)) return *e;
    auto address = model::address_from_json(*addr, "real_server.address");
    if (!address) return address.error();
    uint64_t port = req->key.port;
    if (auto e = rr.optional_uint("port", 0, 65535, port)) return *e;
    if (auto e = rr.finish()) return *e;
    return model::Change{model::DeleteReal{req->key, *address, uint16_t(port)}};
}

}  // namespace dplb::api::decoders
