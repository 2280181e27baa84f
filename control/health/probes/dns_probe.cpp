// DNS_CHECK: one query over a connected UDP socket, judged by dns_message.hpp (keepalived
// 2.2.7's rule: our id, a response, RCODE 0). An ICMP error (port unreachable) fails the
// attempt; silence until the deadline too.
//
// Threading: driven by the health engine's thread only.
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>

#include "control/health/probes/datagram.hpp"
#include "control/health/probes/dns_message.hpp"
#include "control/health/probes/probe_factories.hpp"
#include "control/health/probes/random_id.hpp"
#include "control/health/probes/socket_connect.hpp"

namespace dplb::health::probes {
namespace {

using keepalived::CheckerSpec;

class DnsProbe final : public Probe {
public:
    DnsProbe(const CheckerSpec& spec, const ProbeTarget& target) : spec_(spec), target_(target) {}

    std::optional<ProbeResult> start() override {
        id_ = uint16_t(random_u32());
        auto query = dns_query(id_, spec_.dns_name, dns_type_code(spec_.dns_type).value_or(6 /* SOA */));
        if (!query) return down("name '" + spec_.dns_name + "' has an empty or oversized label");
        Connecting c = connect_to(SOCK_DGRAM, IPPROTO_UDP, target_);
        if (c.state == ConnectState::failed) return down(c.error);
        fd_ = std::move(c.fd);
        if (auto e = send_datagram(fd_.get(), query->data(), query->size())) {
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
            std::string reason;
            switch (judge_dns_answer(buffer_.data(), r.size, id_, reason)) {
                case DnsVerdict::ignore: break;
                case DnsVerdict::up: fd_.reset(); return up();
                case DnsVerdict::down: fd_.reset(); return down(reason);
            }
        }
    }

    ProbeResult on_timeout() override {
        fd_.reset();
        return down("timeout: no answer");
    }

    int fd() const override { return fd_.get(); }
    uint32_t events() const override { return EPOLLIN; }

private:
    const CheckerSpec spec_;
    const ProbeTarget target_;
    uint16_t id_ = 0;
    UniqueFd fd_;
    std::array<uint8_t, 4096> buffer_{};
};

}  // namespace

std::unique_ptr<Probe> make_dns_probe(const CheckerSpec& spec, const ProbeTarget& target) {
    return std::make_unique<DnsProbe>(spec, target);
}

}  // namespace dplb::health::probes
