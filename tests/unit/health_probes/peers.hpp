// Scripted peers on 127.0.0.1 for the probe tests: a TCP server whose thread runs a
// handler per accepted connection, a UDP responder, and ports known to be closed. Every
// wait is bounded and ends early when the peer is stopped, so no test hangs.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace probe_test {

// A stop signal the peer's thread can wait on.
class Stop {
public:
    Stop() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) { REQUIRE(fd_ >= 0); }
    ~Stop() { ::close(fd_); }
    Stop(const Stop&) = delete;
    Stop& operator=(const Stop&) = delete;
    void fire() {
        uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
    }
    int fd() const { return fd_; }
    // Waits until `other` is readable (true), the stop fires or the time passes (false).
    bool wait_readable(int other, int ms) const {
        pollfd p[2] = {{fd_, POLLIN, 0}, {other, POLLIN, 0}};
        int n = ::poll(p, other >= 0 ? 2 : 1, ms);
        return n > 0 && !(p[0].revents & POLLIN) && other >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR));
    }
    // Sleeps up to `ms`, less when stopped.
    void sleep(int ms) const { wait_readable(-1, ms); }

private:
    int fd_;
};

inline uint16_t local_port(int fd) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
    return ntohs(sa.sin_port);
}

inline sockaddr_in loopback(uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    return sa;
}

inline void write_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += std::size_t(n);
    }
}

// Reads until the blank line ending an HTTP request (or a line for SMTP), the peer closes,
// or 1.5 s pass.
inline std::string read_until(int fd, const Stop& stop, const std::string& terminator) {
    std::string got;
    char buf[4096];
    while (got.find(terminator) == std::string::npos) {
        if (!stop.wait_readable(fd, 1500)) break;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, std::size_t(n));
    }
    return got;
}

// Closes with a reset (SO_LINGER 0) instead of a FIN.
inline void reset_close(int& fd) {
    linger li{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &li, sizeof li);
    ::close(fd);
    fd = -1;
}

// Accepts connections one at a time and runs the handler on each (blocking socket). The
// handler may close the socket itself (set it to -1).
class TcpServer {
public:
    using Handler = std::function<void(int& fd, const Stop& stop)>;

    explicit TcpServer(Handler handler, int backlog = 16) : handler_(std::move(handler)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(listen_fd_ >= 0);
        sockaddr_in sa = loopback(0);
        REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        REQUIRE(::listen(listen_fd_, backlog) == 0);
        port_ = local_port(listen_fd_);
        thread_ = std::thread([this] { serve(); });
    }
    ~TcpServer() { stop(); }
    TcpServer(const TcpServer&) = delete;
    TcpServer& operator=(const TcpServer&) = delete;

    uint16_t port() const { return port_; }
    int connections() const { return connections_.load(); }
    // The source ports the accepted connections came from, in order.
    std::vector<uint16_t> peer_ports() const {
        std::lock_guard lock(mutex_);
        return peer_ports_;
    }
    void stop() {
        if (!thread_.joinable()) return;
        stop_.fire();
        thread_.join();
        ::close(listen_fd_);
    }

private:
    void serve() {
        while (stop_.wait_readable(listen_fd_, 5000)) {
            sockaddr_in peer{};
            socklen_t len = sizeof peer;
            int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
            if (fd < 0) continue;
            {
                std::lock_guard lock(mutex_);
                peer_ports_.push_back(ntohs(peer.sin_port));
            }
            ++connections_;
            handler_(fd, stop_);
            if (fd >= 0) ::close(fd);
        }
    }

    Handler handler_;
    Stop stop_;
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<int> connections_{0};
    mutable std::mutex mutex_;
    std::vector<uint16_t> peer_ports_;
    std::thread thread_;
};

// Answers each datagram with what the reply function returns (nothing when nullopt).
class UdpPeer {
public:
    using Reply = std::function<std::optional<std::string>(const std::string& request)>;

    explicit UdpPeer(Reply reply) : reply_(std::move(reply)) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in sa = loopback(0);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        port_ = local_port(fd_);
        thread_ = std::thread([this] { serve(); });
    }
    ~UdpPeer() {
        stop_.fire();
        thread_.join();
        ::close(fd_);
    }
    UdpPeer(const UdpPeer&) = delete;
    UdpPeer& operator=(const UdpPeer&) = delete;

    uint16_t port() const { return port_; }
    int received() const { return received_.load(); }

private:
    void serve() {
        while (stop_.wait_readable(fd_, 5000)) {
            char buf[2048];
            sockaddr_in from{};
            socklen_t len = sizeof from;
            ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 0) continue;
            ++received_;
            if (auto r = reply_(std::string(buf, std::size_t(n))))
                ::sendto(fd_, r->data(), r->size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    }

    Reply reply_;
    Stop stop_;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<int> received_{0};
    std::thread thread_;
};

// A port nothing listens on, kept bound (and not listening) while this lives so nobody else
// takes it: connecting there is refused.
class ClosedPort {
public:
    explicit ClosedPort(int type) {
        fd_ = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in sa = loopback(0);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        port_ = local_port(fd_);
        if (type == SOCK_DGRAM) {  // a bound UDP socket would receive: free the port again
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~ClosedPort() {
        if (fd_ >= 0) ::close(fd_);
    }
    ClosedPort(const ClosedPort&) = delete;
    ClosedPort& operator=(const ClosedPort&) = delete;
    uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    uint16_t port_ = 0;
};

}  // namespace probe_test
