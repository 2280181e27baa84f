#include "control/metrics/http_server.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <httplib.h>

#include "control/metrics/exposition.hpp"

namespace dplb::metrics {

std::string ListenAddress::str() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

model::Result<ListenAddress> parse_listen_address(const std::string& text) {
    auto bad = [&](const std::string& why) {
        return model::Error{"", "--metrics-listen: '" + text + "' " + why +
                                    " (expected ADDR:PORT, e.g. 127.0.0.1:9469 or [::1]:9469, or 'off')"};
    };
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return bad("has no port");
    std::string host = text.substr(0, colon);
    std::string port_text = text.substr(colon + 1);
    bool v6 = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (v6) host = host.substr(1, host.size() - 2);
    unsigned char buf[16];
    if (host.empty() || ::inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), buf) != 1)
        return bad(v6 ? "has no valid IPv6 address" : "has no valid IPv4 address (IPv6 goes in brackets)");
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
        return bad("has no port in 1..65535");
    return ListenAddress{host, uint16_t(port)};
}

struct HttpServer::Impl {
    httplib::Server server;
};

HttpServer::HttpServer(ScrapeExchange& exchange, std::chrono::milliseconds wait)
    : exchange_(exchange), impl_(std::make_unique<Impl>()) {
    auto& s = impl_->server;
    // Scrapes are served one render at a time by the event loop anyway; a few threads let a
    // second scraper (or a slow client) wait without holding up the first. A kept-alive
    // connection holds its thread while idle: Prometheus scrapes every few seconds and
    // reconnects, so idle connections are closed after 1 s (httplib's default: 5 s), or two
    // idle scrapers could keep a third waiting.
    s.new_task_queue = [] { return new httplib::ThreadPool(4); };
    s.set_keep_alive_timeout(1);
    // SO_REUSEADDR only (a restart binds while old connections linger in TIME_WAIT). httplib's
    // default adds SO_REUSEPORT, with which a second dplb-control on the same address would
    // start and silently take half the scrapes.
    s.set_socket_options([](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    s.Get("/metrics", [&exchange, wait](const httplib::Request&, httplib::Response& res) {
        auto page = exchange.ask(wait);
        if (!page) {
            res.status = 503;
            res.set_content("dplb-control did not render the metrics in time\n", "text/plain");
            return;
        }
        // A provider with a known length: httplib sends it as it is (no copy, and no gzip,
        // which costs more than sending the page over the network a scraper sits on).
        // Once sent (the provider dropped), the page's memory goes back for the next render.
        std::shared_ptr<std::string> body(new std::string(std::move(*page)), [&exchange](std::string* p) {
            exchange.give_back(std::move(*p));
            delete p;
        });
        res.set_content_provider(body->size(), std::string(content_type),
                                 [body](size_t offset, size_t length, httplib::DataSink& sink) {
                                     return sink.write(body->data() + offset, length);
                                 });
    });
}

HttpServer::~HttpServer() { stop(); }

model::Status HttpServer::start(const ListenAddress& at) {
    errno = 0;
    if (!impl_->server.bind_to_port(at.host, at.port)) {
        int e = errno;
        return model::Error{"", "cannot listen on " + at.str() + " for /metrics" +
                                    (e ? std::string(": ") + std::strerror(e) : std::string())};
    }
    thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
    // httplib's stop() does nothing until the listening loop runs (is_running()): wait for
    // it, so that a stop() right after start() cannot leave the thread listening forever.
    for (int i = 0; i < 2000 && !impl_->server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return std::nullopt;
}

void HttpServer::stop() {
    if (!thread_.joinable()) return;
    exchange_.close();
    impl_->server.stop();
    thread_.join();
}

}  // namespace dplb::metrics
