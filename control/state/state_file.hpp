// dplb-control's state file: the accepted configuration, in the configuration's JSON form.
//
// Writes are crash-safe in two steps so a change can still be abandoned in between (when the
// dataplane rejects it): prepare() writes and fsyncs a temporary file beside the state file;
// commit() renames it into place and fsyncs the directory; abandon() deletes it. A reader
// therefore only ever sees the old or the new configuration, whole.
#pragma once

#include <string>

#include "common/result.hpp"
#include "dplb/config.hpp"

namespace dplb::state {

class StateFile {
public:
    explicit StateFile(std::string path) : path_(std::move(path)) {}

    const std::string& path() const { return path_; }

    // A missing file is an empty configuration. A file that cannot be read, is not JSON or is
    // not a valid configuration is an error naming the file; the file is left as it is.
    model::Result<config::Config> load() const;

    // Writes `config` to a new temporary file in the same directory (created if needed) and
    // fsyncs it. Returns the temporary file's path.
    model::Result<std::string> prepare(const config::Config& config) const;
    // Renames the temporary file over the state file and fsyncs the directory.
    model::Status commit(const std::string& temp_path) const;
    // Deletes a prepared temporary file.
    void abandon(const std::string& temp_path) const;

private:
    std::string path_;
};

}  // namespace dplb::state
