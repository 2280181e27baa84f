#include "control/api/mutations.hpp"

#include <array>
#include <utility>

#include "control/api/mutation_handlers.hpp"
#include "model/validate.hpp"

namespace dplb::api {

using model::Error;

namespace {

constexpr std::array<std::pair<std::string_view, handlers::Handler>, 13> table{{
    {"add-service", handlers::add_service},
    {"edit-service", handlers::edit_service},
    {"delete-service", handlers::delete_service},
    {"clear", handlers::clear},
    {"add-real", handlers::add_real},
    {"edit-real", handlers::edit_real},
    {"delete-real", handlers::delete_real},
    {"add-laddr", handlers::add_laddr},
    {"delete-laddr", handlers::delete_laddr},
    {"add-port-group", handlers::add_port_group},
    {"delete-port-group", handlers::delete_port_group},
    {"replace-config", handlers::replace_config},
    {"set-timeouts", handlers::set_timeouts},
}};

handlers::Handler find(std::string_view cmd) {
    for (const auto& [name, fn] : table)
        if (name == cmd) return fn;
    return nullptr;
}

}  // namespace

bool is_mutation(std::string_view cmd) { return find(cmd) != nullptr; }

model::Result<config::Config> apply_handler(config::Config current, const nlohmann::json& request) {
    handlers::Handler fn = nullptr;
    if (request.is_object()) {
        auto cmd = request.find("cmd");
        if (cmd != request.end() && cmd->is_string()) fn = find(cmd->get_ref<const std::string&>());
    }
    if (!fn) return Error{"cmd", "not a configuration change"};
    return fn(std::move(current), request);
}

model::Result<config::Config> apply_mutation(const config::Config& current, const nlohmann::json& request) {
    auto next = apply_handler(current, request);
    if (!next) return next;
    // Each handler checked what it touched with request-relative field names; this is the
    // safety net that keeps an invalid whole from ever being accepted.
    if (auto e = model::validate_config(*next, "config")) return *e;
    return next;
}

}  // namespace dplb::api
