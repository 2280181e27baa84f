#include "common/line_channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dplb::model {

bool LineReader::take_buffered(std::string& line) {
    auto pos = buf_.find('\n', scanned_);
    if (pos == std::string::npos) {
        scanned_ = buf_.size();
        return false;
    }
    line.assign(buf_, 0, pos);
    buf_.erase(0, pos + 1);
    scanned_ = 0;
    return true;
}

LineReader::Status LineReader::read_line(int fd, std::string& line) {
    for (;;) {
        if (take_buffered(line)) {
            if (line.size() > max_line_) return Status::too_long;
            return Status::line;
        }
        if (buf_.size() > max_line_) return Status::too_long;
        char chunk[65536];
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n > 0) {
            buf_.append(chunk, std::size_t(n));
            continue;
        }
        if (n == 0) return Status::closed;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::would_block;
        return Status::error;
    }
}

LineReader::Status LineReader::read_line_blocking(int fd, std::string& line,
                                                  std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        // Only read when poll says so, so this works on blocking fds too.
        if (take_buffered(line)) return line.size() > max_line_ ? Status::too_long : Status::line;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return Status::timeout;
        pollfd p{fd, POLLIN, 0};
        int r = ::poll(&p, 1, int(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return Status::error;
        if (r == 0) return Status::timeout;
        char chunk[65536];
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n > 0) {
            buf_.append(chunk, std::size_t(n));
            if (buf_.size() > max_line_ && buf_.find('\n', scanned_) == std::string::npos)
                return Status::too_long;
            continue;
        }
        if (n == 0) return Status::closed;
        if (errno == EINTR || errno == EAGAIN) continue;
        return Status::error;
    }
}

bool write_line(int fd, std::string_view line) {
    std::string out;
    out.reserve(line.size() + 1);
    out.append(line);
    out.push_back('\n');
    std::size_t off = 0;
    while (off < out.size()) {
        ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += std::size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, 5000) <= 0) return false;
            continue;
        }
        return false;
    }
    return true;
}

static bool fill_addr(const std::string& path, sockaddr_un& a, std::string& err) {
    std::memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) {
        err = "socket path too long: " + path;
        return false;
    }
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return true;
}

int listen_unix(const std::string& path, unsigned mode, std::string& err) {
    sockaddr_un a;
    if (!fill_addr(path, a, err)) return -1;
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    // A stale socket file from a killed process would make bind fail; a live server on it
    // would answer connect, so only remove the file when nobody answers.
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        if (::connect(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            ::close(probe);
            ::close(fd);
            err = "another process is already serving " + path;
            return -1;
        }
        ::close(probe);
    }
    // Only ever remove a socket: a mistyped path must not delete somebody's file.
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            ::close(fd);
            err = path + " exists and is not a socket";
            return -1;
        }
        ::unlink(path.c_str());
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::chmod(path.c_str(), mode) < 0 ||
        ::listen(fd, 64) < 0) {
        err = path + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

int connect_unix(const std::string& path, std::string& err) {
    sockaddr_un a;
    if (!fill_addr(path, a, err)) return -1;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
        err = path + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace dplb::model
