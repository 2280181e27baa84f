// /metrics over HTTP with Debian's cpp-httplib (libcpp-httplib-dev): request parsing,
// keep-alive, timeouts and a thread pool come from a maintained library instead of a
// hand-written server (docs/operations.md, "Monitoring with Prometheus").
//
// GET (and HEAD) /metrics answers the page the event loop renders (ScrapeExchange), as
// text/plain; version=0.0.4, uncompressed; 503 when the loop does not answer within
// `wait`; every other path and method 404.
//
// Threading: start() and stop() from the thread that owns the server (dplb-control's main
// thread). The request handlers run on httplib's threads (a pool of two) and touch nothing
// but the ScrapeExchange, which must outlive stop().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "control/metrics/scrape_exchange.hpp"

namespace dplb::metrics {

struct ListenAddress {
    std::string host;  // an IPv4 or IPv6 literal (no brackets)
    uint16_t port = 0;
    std::string str() const;  // "127.0.0.1:9469", "[::1]:9469"
};

// "ADDR:PORT" with an IPv4 literal or a bracketed IPv6 one ("[::1]:9469"), port 1..65535.
model::Result<ListenAddress> parse_listen_address(const std::string& text);

class HttpServer {
public:
    HttpServer(ScrapeExchange& exchange, std::chrono::milliseconds wait);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds `at` (an error names the address when it cannot), then serves on a thread of
    // its own until stop().
    model::Status start(const ListenAddress& at);
    // Closes the exchange (a handler waiting for the loop answers 503 at once), stops
    // listening and joins the thread.
    void stop();

private:
    struct Impl;
    ScrapeExchange& exchange_;
    std::unique_ptr<Impl> impl_;
    std::thread thread_;
};

}  // namespace dplb::metrics
