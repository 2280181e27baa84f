// The state file: the configuration as of one generation, replaced atomically.
//
// Format: {"generation":N,"config":{...}} with the configuration in the JSON form of
// codec/config_json.hpp, without the runtime health state (RuntimeState::omit): a restart
// starts every real server up and every sorry server inactive. A bare configuration object
// (the format before the journal) still loads, as generation 0.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "control/state/file_system.hpp"
#include "dplb/config.hpp"

namespace dplb::state {

struct Snapshot {
    config::Config config;
    uint64_t generation = 0;
};

std::string encode_snapshot(const config::Config& config, uint64_t generation);
// Errors name `path` and say what is wrong (not JSON, invalid configuration, ...).
model::Result<Snapshot> decode_snapshot(std::string_view text, const std::string& path);

// Replaces the file at `path` by `text` so that a reader (or a crash) sees the old file or
// the new one, whole: writes <path>.tmp, fsyncs it, renames it over `path`, fsyncs the
// directory. On failure the temporary file is removed and `path` is as it was (unless only
// the final directory fsync failed: then the new file is in place but maybe not durable).
// Only one writer per path at a time (the store guarantees it).
model::Status replace_file(FileSystem& fs, const std::string& path, std::string_view text);

}  // namespace dplb::state
