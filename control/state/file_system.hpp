// The file-system calls the state store makes, behind an interface.
//
// Why a seam: the store's promises are about the ORDER of writes, fsyncs and renames and
// about what happens when one of them fails. Tests substitute an implementation that wraps
// RealFileSystem, records every call and injects faults (a write that stops with ENOSPC after
// k bytes, an fsync that only records), which a real file system cannot be made to do on
// demand.
//
// Every call reports failure as a model::Error whose message names the operation, the path
// and the errno text; nothing throws. Implementations must be safe to call from two threads
// at once (the event loop and the compaction thread) on different files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace dplb::state {

// An open file: the descriptor and the path it was opened by (for error messages and for
// recording implementations, which identify files by path).
struct File {
    int fd = -1;
    std::string path;
    bool created = false;  // the open created the file (its directory entry is not yet durable)
};

class FileSystem {
public:
    virtual ~FileSystem() = default;

    // Opens `path` for appending (O_APPEND), creating it (mode 0644) when absent.
    virtual model::Result<File> open_append(const std::string& path) = 0;
    // Opens `path` for writing, creating it or truncating it to 0 bytes.
    virtual model::Result<File> create_truncate(const std::string& path) = 0;
    // Writes all of `data` (retrying short writes); on failure some prefix may be written.
    virtual model::Status write(const File& file, std::string_view data) = 0;
    virtual model::Result<uint64_t> size(const File& file) = 0;
    virtual model::Status truncate(const File& file, uint64_t length) = 0;
    virtual model::Status fsync(const File& file) = 0;
    virtual model::Status fdatasync(const File& file) = 0;
    // Closes the descriptor (fd becomes -1). Closing a closed File succeeds.
    virtual model::Status close(File& file) = 0;

    // The whole file, or nullopt when it does not exist.
    virtual model::Result<std::optional<std::string>> read_file(const std::string& path) = 0;
    virtual model::Status rename(const std::string& from, const std::string& to) = 0;
    // A missing file is not an error (the goal, that it is absent, holds).
    virtual model::Status unlink(const std::string& path) = 0;
    // Makes a rename, creation or unlink in `dir` durable.
    virtual model::Status fsync_dir(const std::string& dir) = 0;
    // mkdir -p.
    virtual model::Status make_directories(const std::string& dir) = 0;
};

// POSIX. EINTR is retried everywhere; errors carry strerror(errno) and the path.
class RealFileSystem : public FileSystem {
public:
    model::Result<File> open_append(const std::string& path) override;
    model::Result<File> create_truncate(const std::string& path) override;
    model::Status write(const File& file, std::string_view data) override;
    model::Result<uint64_t> size(const File& file) override;
    model::Status truncate(const File& file, uint64_t length) override;
    model::Status fsync(const File& file) override;
    model::Status fdatasync(const File& file) override;
    model::Status close(File& file) override;
    model::Result<std::optional<std::string>> read_file(const std::string& path) override;
    model::Status rename(const std::string& from, const std::string& to) override;
    model::Status unlink(const std::string& path) override;
    model::Status fsync_dir(const std::string& dir) override;
    model::Status make_directories(const std::string& dir) override;
};

// The directory holding `path` ("." for a bare name): where renames and creations of `path`
// must be made durable.
std::string parent_directory(const std::string& path);

}  // namespace dplb::state
