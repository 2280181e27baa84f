// HTTP_GET and SSL_GET: one state machine, two transports (transport.hpp).
//
// One attempt walks the checker's urls in order, one connection each, as keepalived does
// (it never reuses a connection: HTTP/1.0, or Connection: close). For each url: connect,
// TLS handshake for SSL_GET, send the request (http_request.hpp), read the answer
// (http_response.hpp), then judge it: the status must be in the url's status_code ranges
// (200-299 when none) and, when the url has a digest, the body's MD5 must match. The
// attempt is up when every url passed and down at the first that did not.
//
// keepalived spreads the urls over its schedule (one url per delay_loop, a failed url
// retried alone); the engine here schedules whole attempts, so an attempt checks them all
// and its deadline covers them all (attempt_timeout: connect_timeout per url).
//
// With more than one url a failure names its url ("url /health: HTTP status 500 not in
// 200-299").
//
// Threading: driven by the health engine's thread only.
#include <sys/epoll.h>

#include <array>

#include "control/health/probes/http_request.hpp"
#include "control/health/probes/http_response.hpp"
#include "control/health/probes/probe_factories.hpp"
#include "control/health/probes/socket_connect.hpp"
#include "control/health/probes/transport.hpp"

namespace dplb::health::probes {
namespace {

using keepalived::CheckerSpec;
using keepalived::UrlCheck;

std::string ranges_text(const UrlCheck& url) {
    if (url.status_codes.empty()) return "200-299";
    std::string s;
    for (const auto& [lo, hi] : url.status_codes) {
        if (!s.empty()) s += ",";
        s += std::to_string(lo);
        if (hi != lo) s += "-" + std::to_string(hi);
    }
    return s;
}

bool status_accepted(const UrlCheck& url, int status) {
    if (url.status_codes.empty()) return status >= 200 && status <= 299;
    for (const auto& [lo, hi] : url.status_codes)
        if (status >= lo && status <= hi) return true;
    return false;
}

class HttpProbe final : public Probe {
public:
    HttpProbe(const CheckerSpec& spec, const ProbeTarget& target) : spec_(spec), target_(target) {}

    std::optional<ProbeResult> start() override {
        if (spec_.urls.empty()) return up();  // keepalived: no url, nothing to check
        return begin_url();
    }

    std::optional<ProbeResult> on_event(uint32_t) override { return step(); }

    ProbeResult on_timeout() override {
        const char* phase = "";
        switch (phase_) {
            case Phase::connecting: phase = "timeout while connecting"; break;
            case Phase::handshaking: phase = "timeout during the TLS handshake"; break;
            case Phase::sending: phase = "timeout sending the request"; break;
            case Phase::receiving: phase = "timeout reading the answer"; break;
        }
        return fail(phase);
    }

    int fd() const override { return fd_.get(); }
    uint32_t events() const override { return events_; }

private:
    enum class Phase : uint8_t { connecting, handshaking, sending, receiving };

    const UrlCheck& url() const { return spec_.urls[url_index_]; }

    ProbeResult fail(std::string reason) {
        transport_.reset();
        response_.reset();
        fd_.reset();
        if (spec_.urls.size() > 1) reason = "url " + url().path + ": " + reason;
        return down(std::move(reason));
    }

    std::optional<ProbeResult> begin_url() {
        transport_.reset();
        response_.reset();
        Connecting c = connect_to(SOCK_STREAM, IPPROTO_TCP, target_);
        if (c.state == ConnectState::failed) return fail(c.error);
        fd_ = std::move(c.fd);
        phase_ = Phase::connecting;
        events_ = EPOLLOUT;
        if (c.state == ConnectState::connected) return connected();
        return std::nullopt;
    }

    std::optional<ProbeResult> connected() {
        if (spec_.type == keepalived::CheckerType::ssl) {
            std::string error;
            transport_ = tls_transport(fd_.get(), tls_server_name(spec_, url()), error);
            if (!transport_) return fail("TLS: " + error);
        } else {
            transport_ = plain_transport(fd_.get());
        }
        request_ = http_request(spec_, url(), target_);
        sent_ = 0;
        response_ = std::make_unique<HttpResponse>(url().digest.has_value());
        phase_ = Phase::handshaking;
        return step();
    }

    // Runs the current url as far as the socket allows; a result or a wait.
    std::optional<ProbeResult> step() {
        for (;;) {
            switch (phase_) {
                case Phase::connecting: {
                    std::string error;
                    switch (connect_outcome(fd_.get(), error)) {
                        case ConnectState::connected: return connected();
                        case ConnectState::in_progress: return std::nullopt;
                        case ConnectState::failed: return fail(error);
                    }
                    break;
                }
                case Phase::handshaking: {
                    IoResult r = transport_->handshake();
                    if (r.status == Io::done) {
                        phase_ = Phase::sending;
                        break;
                    }
                    if (wait_for(r)) return std::nullopt;
                    return fail("TLS handshake: " + r.error);
                }
                case Phase::sending: {
                    IoResult r = transport_->send(request_.data() + sent_, request_.size() - sent_);
                    if (r.status == Io::done) {
                        sent_ += r.bytes;
                        if (sent_ == request_.size()) phase_ = Phase::receiving;
                        break;
                    }
                    if (wait_for(r)) return std::nullopt;
                    return fail(r.error.empty() ? "connection closed while sending the request" : r.error);
                }
                case Phase::receiving: {
                    IoResult r = transport_->receive(buffer_.data(), buffer_.size());
                    HttpResponse::Progress p = HttpResponse::Progress::more;
                    if (r.status == Io::done) p = response_->feed(std::string_view(buffer_.data(), r.bytes));
                    else if (r.status == Io::closed) p = response_->finish();
                    else if (wait_for(r)) return std::nullopt;
                    else return fail(r.error);
                    if (p == HttpResponse::Progress::failed) return fail(response_->error());
                    if (p == HttpResponse::Progress::complete) return judge();
                    break;
                }
            }
        }
    }

    // A "want" outcome: wait for the readiness it names. False for closed/failed.
    bool wait_for(const IoResult& r) {
        if (r.status == Io::want_read) events_ = EPOLLIN;
        else if (r.status == Io::want_write) events_ = EPOLLOUT;
        else return false;
        return true;
    }

    std::optional<ProbeResult> judge() {
        int status = response_->status();
        if (!status_accepted(url(), status))
            return fail("HTTP status " + std::to_string(status) + " not in " + ranges_text(url()));
        if (url().digest && response_->digest() != *url().digest)
            return fail("digest " + response_->digest() + " != expected " + *url().digest);
        if (url_index_ + 1 == spec_.urls.size()) {
            transport_.reset();
            response_.reset();
            fd_.reset();
            return up();
        }
        ++url_index_;
        return begin_url();
    }

    const CheckerSpec spec_;
    const ProbeTarget target_;
    std::size_t url_index_ = 0;
    Phase phase_ = Phase::connecting;
    uint32_t events_ = EPOLLOUT;
    UniqueFd fd_;
    std::unique_ptr<Transport> transport_;  // declared after fd_: destroyed before it
    std::string request_;
    std::size_t sent_ = 0;
    std::unique_ptr<HttpResponse> response_;
    std::array<char, 16384> buffer_{};
};

}  // namespace

std::unique_ptr<Probe> make_http_probe(const CheckerSpec& spec, const ProbeTarget& target) {
    return std::make_unique<HttpProbe>(spec, target);
}

}  // namespace dplb::health::probes
