// SMTP_CHECK, as keepalived 2.2.7's check_smtp.c: connect, read the greeting (must be
// 220), send "HELO <helo_name>" (default "smtpchecker.keepalived.org"), read the answer
// (must be 250), send "QUIT", read one more reply line (any: keepalived only waits for it),
// then up. Down on any other code, a malformed reply line, or a connection closed early.
//
// A multi-line reply ("220-first\r\n220 last\r\n", RFC 5321) is read to its last line;
// keepalived judges whatever first line it reads, so a multi-line greeting fails there.
//
// Threading: driven by the health engine's thread only.
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <cctype>
#include <string>

#include "control/health/probes/errno_text.hpp"
#include "control/health/probes/probe_factories.hpp"
#include "control/health/probes/socket_connect.hpp"

namespace dplb::health::probes {
namespace {

using keepalived::CheckerSpec;

constexpr std::size_t max_line = 4096;

enum class Phase : uint8_t { connecting, greeting, helo_sent, helo_answer, quit_sent, quit_answer };

class SmtpProbe final : public Probe {
public:
    SmtpProbe(const CheckerSpec& spec, const ProbeTarget& target)
        : helo_(spec.helo_name.value_or("smtpchecker.keepalived.org")), target_(target) {}

    std::optional<ProbeResult> start() override {
        Connecting c = connect_to(SOCK_STREAM, IPPROTO_TCP, target_);
        if (c.state == ConnectState::failed) return down(c.error);
        fd_ = std::move(c.fd);
        phase_ = Phase::connecting;
        events_ = EPOLLOUT;
        if (c.state == ConnectState::connected) return connected();
        return std::nullopt;
    }

    std::optional<ProbeResult> on_event(uint32_t) override {
        if (phase_ == Phase::connecting) {
            std::string error;
            switch (connect_outcome(fd_.get(), error)) {
                case ConnectState::connected: return connected();
                case ConnectState::in_progress: return std::nullopt;
                case ConnectState::failed: return fail(error);
            }
        }
        if (phase_ == Phase::helo_sent || phase_ == Phase::quit_sent) return send_more();
        return read_more();
    }

    ProbeResult on_timeout() override {
        const char* what = "timeout while connecting";
        switch (phase_) {
            case Phase::connecting: break;
            case Phase::greeting: what = "timeout waiting for the greeting"; break;
            case Phase::helo_sent: what = "timeout sending HELO"; break;
            case Phase::helo_answer: what = "timeout waiting for the HELO answer"; break;
            case Phase::quit_sent: what = "timeout sending QUIT"; break;
            case Phase::quit_answer: what = "timeout waiting for the QUIT answer"; break;
        }
        return fail(what);
    }

    int fd() const override { return fd_.get(); }
    uint32_t events() const override { return events_; }

private:
    ProbeResult fail(std::string reason) {
        fd_.reset();
        return down(std::move(reason));
    }

    std::optional<ProbeResult> connected() {
        phase_ = Phase::greeting;
        events_ = EPOLLIN;
        return read_more();
    }

    std::optional<ProbeResult> send_more() {
        while (sent_ < out_.size()) {
            ssize_t n = ::send(fd_.get(), out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN) return std::nullopt;
                if (errno == EINTR) continue;
                return fail(syscall_failure("send", errno));
            }
            sent_ += std::size_t(n);
        }
        phase_ = phase_ == Phase::helo_sent ? Phase::helo_answer : Phase::quit_answer;
        events_ = EPOLLIN;
        return read_more();
    }

    const char* awaited() const {
        switch (phase_) {
            case Phase::greeting: return "the greeting";
            case Phase::helo_answer: return "the HELO answer";
            default: return "the QUIT answer";
        }
    }

    std::optional<ProbeResult> read_more() {
        for (;;) {
            // Judge every complete line already buffered.
            for (auto eol = in_.find('\n'); eol != std::string::npos; eol = in_.find('\n')) {
                std::string line = in_.substr(0, eol);
                in_.erase(0, eol + 1);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (auto r = on_line(line)) return r;
                if (phase_ == Phase::helo_sent || phase_ == Phase::quit_sent) return send_more();
            }
            if (in_.size() > max_line) return fail("reply line longer than 4096 bytes");
            ssize_t n = ::recv(fd_.get(), buffer_.data(), buffer_.size(), 0);
            if (n > 0) {
                in_.append(buffer_.data(), std::size_t(n));
                continue;
            }
            if (n == 0) return fail(std::string("connection closed before ") + awaited());
            if (errno == EAGAIN) return std::nullopt;
            if (errno == EINTR) continue;
            return fail(syscall_failure("read", errno));
        }
    }

    // One reply line. A result, or nullopt to go on (the phase may have moved to sending).
    std::optional<ProbeResult> on_line(const std::string& line) {
        if (phase_ == Phase::quit_answer) {
            fd_.reset();
            return up();
        }
        bool digits = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
                      std::isdigit(static_cast<unsigned char>(line[1])) &&
                      std::isdigit(static_cast<unsigned char>(line[2]));
        char sep = line.size() > 3 ? line[3] : ' ';
        if (!digits || (sep != ' ' && sep != '-'))
            return fail(std::string("malformed reply to ") + awaited() + ": '" + line.substr(0, 80) + "'");
        if (sep == '-') return std::nullopt;  // a continuation: the code is on the last line
        int code = std::stoi(line.substr(0, 3));
        if (phase_ == Phase::greeting) {
            if (code != 220) return fail("greeting '" + line.substr(0, 80) + "' (want 220)");
            phase_ = Phase::helo_sent;
            out_ = "HELO " + helo_ + "\r\n";
            sent_ = 0;
            events_ = EPOLLOUT;
            return std::nullopt;
        }
        if (code != 250) return fail("HELO answer '" + line.substr(0, 80) + "' (want 250)");
        phase_ = Phase::quit_sent;
        out_ = "QUIT\r\n";
        sent_ = 0;
        events_ = EPOLLOUT;
        return std::nullopt;
    }

    const std::string helo_;
    const ProbeTarget target_;
    Phase phase_ = Phase::connecting;
    uint32_t events_ = EPOLLOUT;
    UniqueFd fd_;
    std::string in_;
    std::string out_;
    std::size_t sent_ = 0;
    std::array<char, 4096> buffer_{};
};

}  // namespace

std::unique_ptr<Probe> make_smtp_probe(const CheckerSpec& spec, const ProbeTarget& target) {
    return std::make_unique<SmtpProbe>(spec, target);
}

}  // namespace dplb::health::probes
