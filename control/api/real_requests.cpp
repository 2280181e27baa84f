// add-real, edit-real, delete-real.
#include <algorithm>

#include "control/api/mutation_handlers.hpp"
#include "control/api/request_members.hpp"
#include "control/model/config_find.hpp"
#include "control/model/config_json.hpp"
#include "control/model/validate.hpp"

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

std::string in_service(const config::RealServer& rs, const config::ServiceKey& key) {
    return model::describe(rs.address, rs.port) + " in service " + model::describe(key);
}

// FULLNAT rewrites the client address to one of the service's local addresses.
model::Status check_fullnat_has_laddr(const config::Service& svc, const config::RealServer& rs) {
    if (rs.forward != config::ForwardMethod::fullnat || !svc.local_addresses.empty()) return std::nullopt;
    return Error{"real_server.forward", "service " + model::describe(svc.key) +
                                            " has no local address; a fullnat real server needs one "
                                            "(add one with --add-laddr first)"};
}

}  // namespace

model::Result<config::Config> add_real(config::Config c, const json& request) {
    auto req = read_real_request(request);
    if (!req) return req.error();
    config::Service* svc = model::find_service(c, req->key);
    config::RealServer defaults;
    defaults.port = req->key.port;
    auto rs = model::real_server_from_json(*req->real, "real_server", defaults);
    if (!rs) return rs.error();
    if (!svc) return no_such_service(req->key);
    if (model::find_real(*svc, rs->address, rs->port))
        return Error{"real_server", "real server " + model::describe(rs->address, rs->port) +
                                        " already exists in service " + model::describe(req->key)};
    if (auto e = model::validate_real_server(*rs, "real_server")) return *e;
    if (auto e = check_fullnat_has_laddr(*svc, *rs)) return *e;
    svc->reals.push_back(*rs);
    return c;
}

model::Result<config::Config> edit_real(config::Config c, const json& request) {
    auto req = read_real_request(request);
    if (!req) return req.error();
    config::Service* svc = model::find_service(c, req->key);
    // First pass only to learn which real server is meant (address and port)...
    config::RealServer defaults;
    defaults.port = req->key.port;
    auto wanted = model::real_server_from_json(*req->real, "real_server", defaults);
    if (!wanted) return wanted.error();
    if (!svc) return no_such_service(req->key);
    config::RealServer* existing = model::find_real(*svc, wanted->address, wanted->port);
    if (!existing) return Error{"real_server", "no real server " + in_service(*wanted, req->key)};
    // ...then absent members keep the existing server's values.
    auto rs = model::real_server_from_json(*req->real, "real_server", *existing);
    if (!rs) return rs.error();
    if (auto e = model::validate_real_server(*rs, "real_server")) return *e;
    if (auto e = check_fullnat_has_laddr(*svc, *rs)) return *e;
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
    if (auto e = rr.optional_uint("port", 1, 65535, port)) return *e;
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
