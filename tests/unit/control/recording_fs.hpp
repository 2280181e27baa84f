// A FileSystem for the store's tests: forwards to RealFileSystem, records every call as
// "<operation> <file name>" (in order, from any thread) and can inject faults, so tests can
// check the order of writes, fsyncs and renames and what a failure leaves behind.
#pragma once

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "control/state/file_system.hpp"

namespace dplb::test {

class RecordingFileSystem final : public state::FileSystem {
public:
    // Writes to a file whose name is a key here fail with ENOSPC once this many more bytes
    // went in (the bytes before are really written, as a full disk does).
    std::map<std::string, std::size_t> fail_write_after;
    // fsync, fdatasync and fsync_dir are recorded but not performed.
    bool sync_is_noop = false;
    // fdatasync fails with EIO (without syncing).
    bool fail_fdatasync = false;
    // Called (outside the lock) before each call with its log entry; a test can block here.
    std::function<void(const std::string&)> before;

    std::vector<std::string> calls() const {
        std::lock_guard lock(mu_);
        return calls_;
    }
    void clear() {
        std::lock_guard lock(mu_);
        calls_.clear();
    }
    // The recorded calls that start with one of `ops` ("write", "fsync", ...).
    std::vector<std::string> calls_of(std::initializer_list<std::string> ops) const {
        std::vector<std::string> out;
        for (const auto& c : calls())
            for (const auto& op : ops)
                if (c.rfind(op + " ", 0) == 0) out.push_back(c);
        return out;
    }

    model::Result<state::File> open_append(const std::string& path) override {
        record("open_append", path);
        return real_.open_append(path);
    }
    model::Result<state::File> create_truncate(const std::string& path) override {
        record("create_truncate", path);
        return real_.create_truncate(path);
    }
    model::Status write(const state::File& file, std::string_view data) override {
        record("write", file.path);
        std::string name = base(file.path);
        std::size_t allowed = data.size();
        {
            std::lock_guard lock(mu_);
            auto it = fail_write_after.find(name);
            if (it != fail_write_after.end()) {
                allowed = std::min(allowed, it->second);
                it->second -= allowed;
            }
        }
        if (auto e = real_.write(file, data.substr(0, allowed))) return e;
        if (allowed < data.size())
            return model::Error{"", "write " + file.path + ": " + std::strerror(ENOSPC)};
        return std::nullopt;
    }
    model::Result<uint64_t> size(const state::File& file) override { return real_.size(file); }
    model::Status truncate(const state::File& file, uint64_t length) override {
        record("truncate", file.path);
        return real_.truncate(file, length);
    }
    model::Status fsync(const state::File& file) override {
        record("fsync", file.path);
        return sync_is_noop ? std::nullopt : real_.fsync(file);
    }
    model::Status fdatasync(const state::File& file) override {
        record("fdatasync", file.path);
        if (fail_fdatasync) return model::Error{"", "fdatasync " + file.path + ": " + std::strerror(EIO)};
        return sync_is_noop ? std::nullopt : real_.fdatasync(file);
    }
    model::Status close(state::File& file) override {
        record("close", file.path);
        return real_.close(file);
    }
    model::Result<std::optional<std::string>> read_file(const std::string& path) override {
        record("read", path);
        return real_.read_file(path);
    }
    model::Status rename(const std::string& from, const std::string& to) override {
        record("rename", from + " " + base(to));
        return real_.rename(from, to);
    }
    model::Status unlink(const std::string& path) override {
        record("unlink", path);
        return real_.unlink(path);
    }
    model::Status fsync_dir(const std::string& dir) override {
        record("fsync_dir", dir);
        return sync_is_noop ? std::nullopt : real_.fsync_dir(dir);
    }
    model::Status make_directories(const std::string& dir) override { return real_.make_directories(dir); }

private:
    static std::string base(const std::string& path) { return std::filesystem::path(path).filename().string(); }

    // Directories are logged as "dir" (tests use one); files by name.
    void record(const std::string& op, const std::string& path) {
        std::string entry = op + " " + (op == "fsync_dir" ? std::string("dir") : base(path));
        if (before) before(entry);
        std::lock_guard lock(mu_);
        calls_.push_back(entry);
    }

    state::RealFileSystem real_;
    mutable std::mutex mu_;
    std::vector<std::string> calls_;
};

}  // namespace dplb::test
