#include "control/state/state_snapshot.hpp"

#include "codec/config_json.hpp"
#include "codec/json_parse.hpp"
#include "codec/json_reader.hpp"

namespace dplb::state {

using model::Error;

std::string encode_snapshot(const config::Config& config, uint64_t generation) {
    nlohmann::json j = nlohmann::json::object();
    j["generation"] = generation;
    // Runtime health state is the checker's to decide again after a restart, never persisted.
    j["config"] = model::to_json(config, model::RuntimeState::omit);
    return j.dump(2) + "\n";
}

model::Result<Snapshot> decode_snapshot(std::string_view text, const std::string& path) {
    auto fail = [&](const std::string& why) { return Error{"", "state file " + path + ": " + why}; };
    auto j = model::parse_json(text);
    if (!j) return fail(j.error().message);
    Snapshot s;
    // A configuration object has no "generation" member, so its presence tells the formats apart.
    if (!j->is_object() || !j->contains("generation")) {
        auto c = model::config_from_json(*j, "");
        if (!c) return fail(c.error().str());
        s.config = std::move(*c);
        return s;
    }
    model::ObjectReader r(*j, "");
    const nlohmann::json* config = nullptr;
    if (auto e = r.required_uint("generation", 0, UINT64_MAX, s.generation)) return fail(e->str());
    if (auto e = r.required("config", config)) return fail(e->str());
    if (auto e = r.finish()) return fail(e->str());
    auto c = model::config_from_json(*config, "config");
    if (!c) return fail(c.error().str());
    s.config = std::move(*c);
    return s;
}

model::Status replace_file(FileSystem& fs, const std::string& path, std::string_view text) {
    const std::string dir = parent_directory(path);
    if (auto e = fs.make_directories(dir)) return e;
    const std::string temp = path + ".tmp";
    auto file = fs.create_truncate(temp);
    if (!file) return file.error();
    // The data must be on disk before the rename publishes it, or a crash could leave the
    // new name pointing at an empty or partial file.
    model::Status e = fs.write(*file, text);
    if (!e) e = fs.fsync(*file);
    model::Status closed = fs.close(*file);
    if (!e) e = closed;
    if (!e) e = fs.rename(temp, path);
    if (e) {
        fs.unlink(temp);
        return e;
    }
    // The rename itself is durable only once the directory is.
    return fs.fsync_dir(dir);
}

}  // namespace dplb::state
