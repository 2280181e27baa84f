#include "control/state/file_system.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dplb::state {

using model::Error;

namespace {

// Captures errno at once: building the message may call functions that change it.
Error sys_error(std::string_view op, const std::string& path) {
    int e = errno;
    return Error{"", std::string(op) + " " + path + ": " + std::strerror(e)};
}

// Retries a system call interrupted by a signal (the event loop's process has handlers).
template <class F>
auto retry(F f) {
    for (;;) {
        auto r = f();
        if (r >= 0 || errno != EINTR) return r;
    }
}

model::Result<File> open_with(const std::string& path, int flags, std::string_view op) {
    File f{-1, path, false};
    // Try exclusive creation first so the caller learns whether the directory entry is new
    // (and must be fsynced through the directory).
    int fd = retry([&] { return ::open(path.c_str(), flags | O_CREAT | O_EXCL | O_CLOEXEC, 0644); });
    if (fd >= 0) {
        f.fd = fd;
        f.created = true;
        return f;
    }
    if (errno != EEXIST) return sys_error(op, path);
    fd = retry([&] { return ::open(path.c_str(), flags | O_CLOEXEC); });
    if (fd < 0) return sys_error(op, path);
    f.fd = fd;
    return f;
}

}  // namespace

std::string parent_directory(const std::string& path) {
    auto dir = std::filesystem::path(path).parent_path();
    return dir.empty() ? std::string(".") : dir.string();
}

model::Result<File> RealFileSystem::open_append(const std::string& path) {
    return open_with(path, O_WRONLY | O_APPEND, "open");
}

model::Result<File> RealFileSystem::create_truncate(const std::string& path) {
    return open_with(path, O_WRONLY | O_TRUNC, "create");
}

model::Status RealFileSystem::write(const File& file, std::string_view data) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = retry([&] { return ::write(file.fd, data.data() + off, data.size() - off); });
        if (n < 0) return sys_error("write", file.path);
        if (n == 0) {  // not expected from a regular file; do not spin
            errno = EIO;
            return sys_error("write", file.path);
        }
        off += std::size_t(n);
    }
    return std::nullopt;
}

model::Result<uint64_t> RealFileSystem::size(const File& file) {
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) return sys_error("fstat", file.path);
    return uint64_t(st.st_size);
}

model::Status RealFileSystem::truncate(const File& file, uint64_t length) {
    if (retry([&] { return ::ftruncate(file.fd, off_t(length)); }) != 0) return sys_error("ftruncate", file.path);
    return std::nullopt;
}

model::Status RealFileSystem::fsync(const File& file) {
    if (retry([&] { return ::fsync(file.fd); }) != 0) return sys_error("fsync", file.path);
    return std::nullopt;
}

model::Status RealFileSystem::fdatasync(const File& file) {
    if (retry([&] { return ::fdatasync(file.fd); }) != 0) return sys_error("fdatasync", file.path);
    return std::nullopt;
}

model::Status RealFileSystem::close(File& file) {
    if (file.fd < 0) return std::nullopt;
    int fd = file.fd;
    file.fd = -1;
    // Not retried on EINTR: on Linux the descriptor is released even then, and a retry
    // could close a descriptor another thread has just been given.
    if (::close(fd) != 0 && errno != EINTR) return sys_error("close", file.path);
    return std::nullopt;
}

model::Result<std::optional<std::string>> RealFileSystem::read_file(const std::string& path) {
    int fd = retry([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
    if (fd < 0) {
        if (errno == ENOENT) return std::optional<std::string>();
        return sys_error("open", path);
    }
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = retry([&] { return ::read(fd, buf, sizeof buf); });
        if (n < 0) {
            Error e = sys_error("read", path);
            ::close(fd);
            return e;
        }
        if (n == 0) break;
        text.append(buf, std::size_t(n));
    }
    ::close(fd);
    return std::optional<std::string>(std::move(text));
}

model::Status RealFileSystem::rename(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) return sys_error("rename " + from + " to", to);
    return std::nullopt;
}

model::Status RealFileSystem::unlink(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("unlink", path);
    return std::nullopt;
}

model::Status RealFileSystem::fsync_dir(const std::string& dir) {
    int fd = retry([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return sys_error("open directory", dir);
    int r = retry([&] { return ::fsync(fd); });
    model::Status st = r == 0 ? model::Status() : model::Status(sys_error("fsync directory", dir));
    ::close(fd);
    return st;
}

model::Status RealFileSystem::make_directories(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Error{"", "create directory " + dir + ": " + ec.message()};
    return std::nullopt;
}

}  // namespace dplb::state
