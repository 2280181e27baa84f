// Transport over a plain TCP socket: send/recv, EAGAIN as "want", 0 as the end of stream.
#include <errno.h>
#include <sys/socket.h>

#include "control/health/probes/errno_text.hpp"
#include "control/health/probes/transport.hpp"

namespace dplb::health::probes {
namespace {

class PlainTransport final : public Transport {
public:
    explicit PlainTransport(int fd) : fd_(fd) {}

    IoResult handshake() override { return {Io::done, 0, {}}; }

    IoResult send(const char* data, std::size_t size) override {
        ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
        if (n >= 0) return {Io::done, std::size_t(n), {}};
        if (errno == EAGAIN || errno == EINTR) return {Io::want_write, 0, {}};
        return {Io::failed, 0, syscall_failure("send", errno)};
    }

    IoResult receive(char* buffer, std::size_t size) override {
        ssize_t n = ::recv(fd_, buffer, size, 0);
        if (n > 0) return {Io::done, std::size_t(n), {}};
        if (n == 0) return {Io::closed, 0, {}};
        if (errno == EAGAIN || errno == EINTR) return {Io::want_read, 0, {}};
        return {Io::failed, 0, syscall_failure("read", errno)};
    }

private:
    int fd_;
};

}  // namespace

std::unique_ptr<Transport> plain_transport(int fd) { return std::make_unique<PlainTransport>(fd); }

}  // namespace dplb::health::probes
