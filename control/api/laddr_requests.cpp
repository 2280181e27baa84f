// add-laddr, delete-laddr: the FULLNAT local (SNAT) address pool of a service.
#include "codec/config_json.hpp"
#include "control/api/mutation_decoders.hpp"
#include "control/api/request_members.hpp"

namespace dplb::api::decoders {

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

model::Result<model::Change> add_laddr(const model::ConfigEditor&, const json& request) {
    auto req = read_laddr_request(request);
    if (!req) return req.error();
    return model::Change{model::AddLocalAddress{req->key, req->address}};
}

model::Result<model::Change> delete_laddr(const model::ConfigEditor&, const json& request) {
    auto req = read_laddr_request(request);
    if (!req) return req.error();
    return model::Change{model::DeleteLocalAddress{req->key, req->address}};
}

}  // namespace dplb::api::decoders
