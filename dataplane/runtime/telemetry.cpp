#include "dataplane/runtime/telemetry.hpp"

#include <rte_telemetry.h>

#include <climits>
#include <mutex>
#include <string>

#include "dataplane/runtime/control_server.hpp"
#include "dataplane/runtime/telemetry_views.hpp"

namespace dplb::runtime {

using nlohmann::json;

namespace {

std::mutex attached_mutex;
ControlServer* attached = nullptr;  // guarded by attached_mutex

// A scalar of a view into a telemetry dictionary (numbers, strings; booleans as 0/1).
void add_scalar(rte_tel_data* d, const char* key, const json& v) {
    if (v.is_number_unsigned() || v.is_boolean())
        rte_tel_data_add_dict_u64(d, key, v.is_boolean() ? uint64_t(v.get<bool>()) : v.get<uint64_t>());
    else if (v.is_number_integer() && v.get<int64_t>() >= 0)  // a signed json holding a count
        rte_tel_data_add_dict_u64(d, key, uint64_t(v.get<int64_t>()));
    else if (v.is_number_integer() && v.get<int64_t>() >= INT_MIN)  // DPDK 22.11's int is 32-bit
        rte_tel_data_add_dict_int(d, key, int(v.get<int64_t>()));
    else if (v.is_number_integer())  // below int's range: as text, not truncated
        rte_tel_data_add_dict_string(d, key, std::to_string(v.get<int64_t>()).c_str());
    else if (v.is_string())
        rte_tel_data_add_dict_string(d, key, v.get<std::string>().c_str());
    else if (!v.is_null())
        rte_tel_data_add_dict_string(d, key, v.dump().c_str());
}

rte_tel_data* telemetry_container(const json& v) {
    rte_tel_data* c = rte_tel_data_alloc();
    if (!c) return nullptr;
    if (v.is_object()) {
        rte_tel_data_start_dict(c);
        for (const auto& [k, x] : v.items()) add_scalar(c, k.c_str(), x);
    } else if (!v.empty() && v.front().is_number_unsigned()) {
        rte_tel_data_start_array(c, RTE_TEL_U64_VAL);
        for (const auto& x : v) rte_tel_data_add_array_u64(c, x.is_number_unsigned() ? x.get<uint64_t>() : 0);
    } else {
        rte_tel_data_start_array(c, RTE_TEL_STRING_VAL);
        for (const auto& x : v) rte_tel_data_add_array_string(c, x.is_string() ? x.get<std::string>().c_str() : x.dump().c_str());
    }
    return c;
}

// A view (telemetry_views.hpp: an object of scalars and one level of containers) as the reply.
void fill(rte_tel_data* d, const json& view) {
    rte_tel_data_start_dict(d);
    for (const auto& [k, v] : view.items()) {
        if (!v.is_structured()) {
            add_scalar(d, k.c_str(), v);
        } else if (rte_tel_data* c = telemetry_container(v)) {
            if (rte_tel_data_add_dict_container(d, k.c_str(), c, 0) != 0) rte_tel_data_free(c);
        }
    }
}

// Runs `fetch` on the attached server (it takes serving_ itself) and `view` on its result,
// outside serving_: the control thread goes on while the reply is shaped.
template <class Fetch, class View>
int answer(const char* params, rte_tel_data* d, Fetch fetch, View view) {
    model::Result<json> out = model::Error{"", "dplb's control thread is not serving (starting or stopping)"};
    {
        std::lock_guard lock(attached_mutex);
        if (attached) out = view(fetch(*attached), std::string_view(params ? params : ""));
    }
    fill(d, out ? *out : json{{"error", out.error().str()}});
    return 0;
}

json status_reply(ControlServer& server) { return server.handle_shared({{"cmd", "status"}}); }

// A view of the `status` reply, or the reply's error.
template <class View>
auto of_status(View view) {
    return [view](const json& reply, std::string_view params) -> model::Result<json> {
        if (!reply.value("ok", false)) return model::Error{"", reply.value("error", std::string("request failed"))};
        return view(reply, params);
    };
}

int services_cmd(const char*, const char* params, rte_tel_data* d) {
    return answer(params, d, [](ControlServer& s) { return s.stats_snapshot_shared(); }, telemetry::services_view);
}
int workers_cmd(const char*, const char* params, rte_tel_data* d) {
    return answer(params, d, status_reply, of_status(telemetry::workers_view));
}
int drops_cmd(const char*, const char* params, rte_tel_data* d) {
    return answer(params, d, status_reply, of_status(telemetry::drops_view));
}

}  // namespace

// DPDK refuses a help text of 128 bytes or more.
bool register_telemetry_commands() {
    return rte_telemetry_register_cmd("/dplb/services", services_cmd,
                                      "Services; one service with its real servers. Parameters: none, or a service "
                                      "as listed or its index") == 0 &&
           rte_telemetry_register_cmd("/dplb/workers", workers_cmd,
                                      "Per-worker packets and sessions; every counter of one worker. Parameters: none, "
                                      "or a worker index") == 0 &&
           rte_telemetry_register_cmd("/dplb/drops", drops_cmd,
                                      "Dropped packets by reason, summed over the workers. No parameters") == 0;
}

TelemetryAttachment::TelemetryAttachment(ControlServer& server) {
    std::lock_guard lock(attached_mutex);
    attached = &server;
}

TelemetryAttachment::~TelemetryAttachment() {
    std::lock_guard lock(attached_mutex);
    attached = nullptr;
}

}  // namespace dplb::runtime
