// TCP_CHECK: up when a connection to the target completes, as keepalived's check_tcp.c: a
// non-blocking connect, then SO_ERROR once the socket is writable. Nothing is sent; the
// connection is closed at once (gracefully: the real server sees an ordinary FIN).
//
// Threading: driven by the health engine's thread only.
#include <sys/epoll.h>

#include "control/health/probes/probe_factories.hpp"
#include "control/health/probes/socket_connect.hpp"

namespace dplb::health::probes {
namespace {

class TcpProbe final : public Probe {
public:
    explicit TcpProbe(const ProbeTarget& target) : target_(target) {}

    std::optional<ProbeResult> start() override {
        Connecting c = connect_to(SOCK_STREAM, IPPROTO_TCP, target_);
        if (c.state == ConnectState::failed) return down(c.error);
        fd_ = std::move(c.fd);
        if (c.state == ConnectState::connected) return finish();
        return std::nullopt;
    }

    std::optional<ProbeResult> on_event(uint32_t) override {
        std::string error;
        switch (connect_outcome(fd_.get(), error)) {
            case ConnectState::connected: return finish();
            case ConnectState::in_progress: return std::nullopt;
            case ConnectState::failed: break;
        }
        fd_.reset();
        return down(error);
    }

    ProbeResult on_timeout() override {
        fd_.reset();
        return down("timeout while connecting");
    }

    int fd() const override { return fd_.get(); }
    uint32_t events() const override { return EPOLLOUT; }

private:
    ProbeResult finish() {
        fd_.reset();
        return up();
    }

    ProbeTarget target_;
    UniqueFd fd_;
};

}  // namespace

std::unique_ptr<Probe> make_tcp_probe(const ProbeTarget& target) { return std::make_unique<TcpProbe>(target); }

}  // namespace dplb::health::probes
