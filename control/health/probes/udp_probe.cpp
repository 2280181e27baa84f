// UDP_CHECK, as keepalived 2.2.7's check_udp.c and layer4.c: a connected UDP socket sends
// the payload (hex; without one, 32 bytes of "keepalived check - " repeated), then:
//
//   without require_reply: down if the target answers with an ICMP destination unreachable
//     (the connected socket's recv() fails: ECONNREFUSED for port unreachable), up on any
//     datagram, and up when the deadline passes in silence: keepalived takes a read timeout
//     for success. So on_timeout() returns *up* for this checker.
//   with require_reply: up when a datagram arrives, down at the deadline or on an ICMP
//     error; with reply data, the datagram must match it (hex_bytes.hpp: compared on the
//     shorter of the two lengths, wildcards allowed) and be at most 255 bytes
//     (keepalived's default max_reply_length), else down at once.
//
// Other ICMP errors (time exceeded, ...) are soft on a connected UDP socket and ignored,
// as keepalived ignores them.
//
// Threading: driven by the health engine's thread only.
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>

#include "control/health/probes/datagram.hpp"
#include "control/health/probes/errno_text.hpp"
#include "control/health/probes/hex_bytes.hpp"
#include "control/health/probes/probe_factories.hpp"
#include "control/health/probes/socket_connect.hpp"

namespace dplb::health::probes {
namespace {

using keepalived::CheckerSpec;

constexpr std::size_t max_reply_length = 255;  // keepalived's default max_reply_length

std::vector<uint8_t> default_payload() {
    static constexpr std::string_view text = "keepalived check - ";
    std::vector<uint8_t> p(32);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = uint8_t(text[i % text.size()]);
    return p;
}

class UdpProbe final : public Probe {
public:
    UdpProbe(const CheckerSpec& spec, const ProbeTarget& target) : spec_(spec), target_(target) {}

    std::optional<ProbeResult> start() override {
        std::vector<uint8_t> payload = default_payload();
        if (spec_.payload) {
            auto p = parse_hex(*spec_.payload, false);
            if (!p) return down("payload: not a hex string: '" + *spec_.payload + "'");
            payload = std::move(p->bytes);
        }
        if (spec_.require_reply && spec_.reply_data) {
            reply_ = parse_hex(*spec_.reply_data, true);
            if (!reply_) return down("require_reply: not a hex string: '" + *spec_.reply_data + "'");
        }
        Connecting c = connect_to(SOCK_DGRAM, IPPROTO_UDP, target_);
        if (c.state == ConnectState::failed) return down(c.error);
        fd_ = std::move(c.fd);
        if (auto e = send_datagram(fd_.get(), payload.data(), payload.size())) {
            fd_.reset();
            return down(*e);
        }
        return std::nullopt;
    }

    std::optional<ProbeResult> on_event(uint32_t) override {
        // MSG_TRUNC: the datagram's real length, to hold it against max_reply_length.
        DatagramRead r = recv_datagram(fd_.get(), buffer_.data(), buffer_.size(), MSG_TRUNC);
        if (r.nothing) return std::nullopt;
        fd_.reset();
        if (r.error) return down(*r.error);
        const std::size_t n = r.size;
        if (!reply_) return up();
        if (std::size_t(n) > max_reply_length) return down("reply of " + std::to_string(n) + " bytes, longer than 255");
        if (!reply_matches(*reply_, buffer_.data(), std::size_t(n))) return down("reply does not match the expected data");
        return up();
    }

    ProbeResult on_timeout() override {
        fd_.reset();
        if (spec_.require_reply) return down("timeout: no reply");
        return up();  // silence is success without require_reply (keepalived)
    }

    int fd() const override { return fd_.get(); }
    uint32_t events() const override { return EPOLLIN; }

private:
    const CheckerSpec spec_;
    const ProbeTarget target_;
    std::optional<HexBytes> reply_;
    UniqueFd fd_;
    std::array<uint8_t, 2048> buffer_{};
};

}  // namespace

std::unique_ptr<Probe> make_udp_probe(const CheckerSpec& spec, const ProbeTarget& target) {
    return std::make_unique<UdpProbe>(spec, target);
}

}  // namespace dplb::health::probes
