// add-laddr, delete-laddr: the FULLNAT local (SNAT) address pool of a service.
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

struct LaddrRequest {
    config::ServiceKey key;
    Ip4 address;
};

model::Result<LaddrRequest> read_laddr_request(const json& request) {
    auto r = request_reader(request);
    auto key = read_key_member(r);
    if (!key) return key.error();
    const json* m = nullptr;
    if (auto e = r.required("address", m)) return *e;
    auto address = model::address_from_json(*m, "address");
    if (!address) return address.error();
    if (auto e = r.finish()) return *e;
    return LaddrRequest{*key, *address};
}

}  // namespace

model::Result<config::Config> add_laddr(config::Config c, const json& request) {
    auto req = read_laddr_request(request);
    if (!req) return req.error();
    if (auto e = model::check_unicast(req->address, "address")) return *e;
    config::Service* svc = model::find_service(c, req->key);
    if (!svc) return no_such_service(req->key);
    auto& pool = svc->local_addresses;
    if (std::find(pool.begin(), pool.end(), req->address) != pool.end())
        return Error{"address", "local address " + req->address.str() + " already exists in service " +
                                    model::describe(req->key)};
    pool.push_back(req->address);
    return c;
}

model::Result<config::Config> delete_laddr(config::Config c, const json& request) {
    auto req = read_laddr_request(request);
    if (!req) return req.error();
    config::Service* svc = model::find_service(c, req->key);
    if (!svc) return no_such_service(req->key);
    auto& pool = svc->local_addresses;
    auto it = std::find(pool.begin(), pool.end(), req->address);
    if (it == pool.end())
        return Error{"address", "no local address " + req->address.str() + " in service " +
                                    model::describe(req->key)};
    pool.erase(it);
    bool fullnat = std::any_of(svc->reals.begin(), svc->reals.end(), [](const config::RealServer& rs) {
        return rs.forward == config::ForwardMethod::fullnat;
    });
    if (fullnat && pool.empty())
        return Error{"address", "" + req->address.str() + " is the last local address of service " +
                                    model::describe(req->key) + ", which has fullnat real servers"};
    return c;
}

}  // namespace dplb::api::handlers
