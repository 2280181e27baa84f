#include "dataplane/runtime/telemetry.hpp"

#include <rte_telemetry.h>

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
    else if (v.is_number_integer())
        rte_tel_data_add_dict_int(d, key, int(v.get<int64_t>()));
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

template <class View>
int answer(const char* request, const char* params, rte_tel_data* d, View view) {
    model::Result<json> out = model::Error{"", "dplb's control thread is not serving (starting or stopping)"};
    {
        std::lock_guard lock(attached_mutex);
        if (attached) {
            json reply = attached->handle_shared({{"cmd", request}});
            out = reply.value("ok", false) ? view(reply, std::string_view(params ? params : ""))
                                           : model::Error{"", reply.value("error", std::string("request failed"))};
        }
    }
    fill(d, out ? *out : json{{"error", out.error().str()}});
    return 0;
}

int services_cmd(const char*, const char* params, rte_tel_data* d) {
    return answer("stats", params, d, telemetry::services_view);
}
int workers_cmd(const char*, const char* params, rte_tel_data* d) {
    return answer("status", params, d, telemetry::workers_view);
}
int drops_cmd(const char*, const char* params, rte_tel_data* d) {
    return answer("status", params, d, telemetry::drops_view);
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
