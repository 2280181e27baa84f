#include "control/api/mutations.hpp"

#include <array>
#include <utility>

#include "control/api/mutation_decoders.hpp"

namespace dplb::api {

using model::Error;

namespace {

constexpr std::array<std::pair<std::string_view, decoders::Decoder>, 15> table{{
    {"add-service", decoders::add_service},
    {"edit-service", decoders::edit_service},
    {"delete-service", decoders::delete_service},
    {"clear", decoders::clear},
    {"add-real", decoders::add_real},
    {"edit-real", decoders::edit_real},
    {"delete-real", decoders::delete_real},
    {"add-laddr", decoders::add_laddr},
    {"delete-laddr", decoders::delete_laddr},
    {"add-port-group", decoders::add_port_group},
    {"delete-port-group", decoders::delete_port_group},
    {"replace-config", decoders::replace_config},
    {"set-timeouts", decoders::set_timeouts},
    {"start-sync-daemon", decoders::start_sync_daemon},
    {"stop-sync-daemon", decoders::stop_sync_daemon},
}};

decoders::Decoder find(std::string_view cmd) {
    for (const auto& [name, fn] : table)
        if (name == cmd) return fn;
    return nullptr;
}

}  // namespace

bool is_mutation(std::string_view cmd) { return find(cmd) != nullptr; }

model::Result<model::Change> decode_change(const model::ConfigEditor& working, const nlohmann::json& request) {
    decoders::Decoder fn = nullptr;
    if (request.is_object()) {
        auto cmd = request.find("cmd");
        if (cmd != request.end() && cmd->is_string()) fn = find(cmd->get_ref<const std::string&>());
    }
    if (!fn) return Error{"cmd", "not a configuration change"};
    return fn(working, request);
}

model::Result<config::Config> apply_mutation(const config::Config& current, const nlohmann::json& request) {
    model::ConfigEditor editor(current);  // O(size): indexes built for one change
    auto change = decode_change(editor, request);
    if (!change) return change.error();
    if (auto e = editor.apply(*change)) return *e;
    return editor.config();
}

}  // namespace dplb::api
