// add-real, edit-real, delete-real.
#include <algorithm>

#include "control/api/mutation_handlers.hpp"
#include "control/api/request_members.hpp"
#include "model/config_find.hpp"
#include "codec/config_json.hpp"
#include "model/validate.hpp"

namespace dplb::api::handlers {

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

// FULLNAT rewrites the client address to one of the service's local addresses.
model::Status check_fullnat_has_laddr(const config::Service& svc, const config::RealServer& rs) {
    if (rs.forward != config::ForwardMethod::fullnat || !svc.local_addresses.empty()) return std::nullopt;
    return Error{"real_server.forward", "service " + model::describe(svc.key) +
                                            " has no local address; a fullnat real server needs one "
                                            "(add one with --add-laddr first)"};
}

// The service a real-server request is about, and its `real_server` member decoded with the
// documented defaults (port = the service's port).
struct Target {
    config::Service* service;
    const json* member;
    config::RealServer decoded;
};

model::Result<Target> locate(config::Config& c, const json& request) {
    auto req = read_real_request(request);
    if (!req) return req.error();
    config::RealServer defaults;
    defaults.port = req->key.port;
    auto rs = model::real_server_from_json(*req->real, "real_server", defaults);
    if (!rs) return rs.error();
    config::Service* svc = model::find_service(c, req->key);
    if (!svc) return no_such_service(req->key);
    return Target{svc, req->real, *rs};
}

model::Status check_real(const config::Service& svc, const config::RealServer& rs) {
    if (auto e = model::validate_real_server(svc, rs, "real_server")) return e;
    return check_fullnat_has_laddr(svc, rs);
}

}  // namespace

model::Result<config::Config> add_real(config::Config c, const json& request) {
    auto t = locate(c, request);
    if (!t) return t.error();
    const config::RealServer& rs = t->decoded;
    if (model::find_real(*t->service, rs.address, rs.port))
        return Error{"real_server", "real server " + model::describe(rs.address, rs.port) +
                                        " already exists in service " + model::describe(t->service->key)};
    if (auto e = check_real(*t->service, rs)) return *e;
    t->service->reals.push_back(rs);
    return c;
}

model::Result<config::Config> edit_real(config::Config c, const json& request) {
    auto t = locate(c, request);
    if (!t) return t.error();
    config::RealServer* existing = model::find_real(*t->service, t->decoded.address, t->decoded.port);
    if (!existing)
        return Error{"real_server", "no real server " + model::describe(t->decoded.address, t->decoded.port) +
                                        " in service " + model::describe(t->service->key)};
    // Decoded again over the existing server, so that absent members keep their values.
    auto rs = model::real_server_from_json(*t->member, "real_server", *existing);
    if (!rs) return rs.error();
    if (auto e = check_real(*t->service, *rs)) return *e;
    *existing = *rs;
    return c;
}

model::Result<config::Config> delete_real(config::Config c, const json& request) {
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
    config::Service* svc = model::find_service(c, req->key);
    if (!svc) return no_such_service(req->key);
    auto it = std::find_if(svc->reals.begin(), svc->reals.end(), [&](const config::RealServer& rs) {
        return rs.address == *address && rs.port == port;
    });
    if (it == svc->reals.end())
        return Error{"real_server", "no real server " + model::describe(*address, uint16_t(port)) +
                                        " in service " + model::describe(req->key)};
    svc->reals.erase(it);
    return c;
}

}  // namespace dplb::api::handlers
