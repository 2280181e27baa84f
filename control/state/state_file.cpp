#include "control/state/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "codec/config_json.hpp"
#include "codec/json_parse.hpp"

namespace dplb::state {

using model::Error;

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string parent_dir(const std::string& path) {
    auto dir = std::filesystem::path(path).parent_path();
    return dir.empty() ? std::string(".") : dir.string();
}

bool write_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += std::size_t(n);
    }
    return true;
}

}  // namespace

model::Result<config::Config> StateFile::load() const {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return config::Config{};
        return Error{"", "state file " + path_ + ": " + errno_text()};
    }
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            Error e{"", "state file " + path_ + ": " + errno_text()};
            ::close(fd);
            return e;
        }
        if (n == 0) break;
        text.append(buf, std::size_t(n));
    }
    ::close(fd);
    auto j = model::parse_json(text);
    if (!j) return Error{"", "state file " + path_ + ": " + j.error().message};
    auto c = model::config_from_json(*j, "");
    if (!c) return Error{"", "state file " + path_ + ": " + c.error().str()};
    return c;
}

model::Result<std::string> StateFile::prepare(const config::Config& config) const {
    std::error_code ec;
    std::filesystem::create_directories(parent_dir(path_), ec);
    std::string temp = path_ + ".tmp.XXXXXX";
    int fd = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) return Error{"", "state file " + path_ + ": cannot create temporary file: " + errno_text()};
    std::string text = model::to_json(config).dump(2) + "\n";
    bool ok = ::fchmod(fd, 0644) == 0 && write_all(fd, text) && ::fsync(fd) == 0;
    std::string why = ok ? "" : errno_text();
    if (::close(fd) != 0 && ok) {
        ok = false;
        why = errno_text();
    }
    if (!ok) {
        ::unlink(temp.c_str());
        return Error{"", "state file " + temp + ": " + why};
    }
    return temp;
}

model::Status StateFile::commit(const std::string& temp_path) const {
    if (::rename(temp_path.c_str(), path_.c_str()) != 0) {
        Error e{"", "state file " + path_ + ": rename: " + errno_text()};
        ::unlink(temp_path.c_str());
        return e;
    }
    // The rename is only durable once the directory entry is on disk.
    int dfd = ::open(parent_dir(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return Error{"", "state file " + path_ + ": open directory: " + errno_text()};
    int r = ::fsync(dfd);
    std::string why = r == 0 ? "" : errno_text();
    ::close(dfd);
    if (r != 0) return Error{"", "state file " + path_ + ": fsync directory: " + why};
    return std::nullopt;
}

void StateFile::abandon(const std::string& temp_path) const { ::unlink(temp_path.c_str()); }

}  // namespace dplb::state
