// PING_CHECK: one ICMP echo request, up on the echo reply to it (keepalived 2.2.7's
// check_ping.c: a request with a 128-byte payload, the answer awaited for connect_timeout).
//
// keepalived uses an unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP) and widens
// net.ipv4.ping_group_range to be allowed one; dplb-control tries the ping socket and, when
// the range does not admit it, falls back to a raw socket (it runs as root) rather than
// change a system setting. On a ping socket the kernel owns the echo id and delivers only
// replies to it; on a raw socket every ICMP message arrives and the probe keeps the reply
// that carries its own random id and sequence. An ICMP error quoting the request
// (destination unreachable, time exceeded) is down at once; anything else is ignored.
//
// Threading: driven by the health engine's thread only.
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>

#include "control/health/probes/datagram.hpp"
#include "control/health/probes/errno_text.hpp"
#include "control/health/probes/icmp_echo.hpp"
#include "control/health/probes/probe_factories.hpp"
#include "control/health/probes/random_id.hpp"
#include "control/health/probes/socket_connect.hpp"

namespace dplb::health::probes {
namespace {

class PingProbe final : public Probe {
public:
    explicit PingProbe(const ProbeTarget& target) : target_(target) {
        // A ping socket's bound "port" is its echo id: bind_port means nothing to ICMP.
        target_.bind_port.reset();
        target_.port = 0;
    }

    std::optional<ProbeResult> start() override {
        uint32_t r = random_u32();
        id_ = uint16_t(r);
        sequence_ = uint16_t(r >> 16);
        int err = 0;
        UniqueFd fd = open_socket(SOCK_DGRAM, IPPROTO_ICMP, err);
        if (!fd && (err == EACCES || err == EPERM || err == EPROTONOSUPPORT)) {
            raw_ = true;
            fd = open_socket(SOCK_RAW, IPPROTO_ICMP, err);
        }
        if (!fd) return down(syscall_failure(raw_ ? "raw ICMP socket" : "ICMP socket", err));
        Connecting c = bind_and_connect(std::move(fd), raw_ ? SOCK_RAW : SOCK_DGRAM, target_);
        if (c.state == ConnectState::failed) return down(c.error);
        fd_ = std::move(c.fd);
        std::vector<uint8_t> request = icmp_echo_request(id_, sequence_);
        if (auto e = send_datagram(fd_.get(), request.data(), request.size())) {
            fd_.reset();
            return down(*e);
        }
        return std::nullopt;
    }

    std::optional<ProbeResult> on_event(uint32_t) override {
        for (;;) {
            DatagramRead r = recv_datagram(fd_.get(), buffer_.data(), buffer_.size());
            if (r.nothing) return std::nullopt;
            if (r.error) {
                fd_.reset();
                return down(*r.error);
            }
            switch (match_icmp(buffer_.data(), r.size, raw_, raw_, id_, sequence_)) {
                case IcmpMatch::reply: fd_.reset(); return up();
                case IcmpMatch::unreachable: fd_.reset(); return down("ICMP error in reply to the echo request");
                case IcmpMatch::other: break;
            }
        }
    }

    ProbeResult on_timeout() override {
        fd_.reset();
        return down("timeout: no echo reply");
    }

    int fd() const override { return fd_.get(); }
    uint32_t events() const override { return EPOLLIN; }

private:
    ProbeTarget target_;
    bool raw_ = false;
    uint16_t id_ = 0, sequence_ = 0;
    UniqueFd fd_;
    std::array<uint8_t, 1500> buffer_{};
};

}  // namespace

std::unique_ptr<Probe> make_ping_probe(const ProbeTarget& target) { return std::make_unique<PingProbe>(target); }

}  // namespace dplb::health::probes
