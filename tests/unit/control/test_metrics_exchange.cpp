// The handoff between /metrics' HTTP threads and the event loop (scrape_exchange.hpp), and
// --metrics-listen's parsing.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "control/metrics/http_server.hpp"
#include "control/metrics/scrape_exchange.hpp"
#include "control/server/options.hpp"

using namespace dplb;
using namespace std::chrono_literals;

namespace {

bool readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
}

}  // namespace

TEST_CASE("scrape exchange: an asker wakes the loop and gets the page the loop renders") {
    metrics::ScrapeExchange x;
    CHECK_FALSE(readable(x.fd(), 0));
    std::optional<std::string> got;
    std::thread asker([&] { got = x.ask(5s); });
    REQUIRE(readable(x.fd(), 5000));
    int renders = 0;
    x.serve([&] {
        ++renders;
        return std::string("page\n");
    });
    asker.join();
    CHECK(renders == 1);
    REQUIRE(got);
    CHECK(*got == "page\n");
    CHECK_FALSE(readable(x.fd(), 0));
    // Woken with nobody waiting (a stale wake-up): nothing is rendered.
    x.serve([&] {
        ++renders;
        return std::string();
    });
    CHECK(renders == 1);
}

TEST_CASE("scrape exchange: a loop that does not answer in time; closing wakes waiters") {
    metrics::ScrapeExchange x;
    auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(x.ask(50ms));
    CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
    // The asker took its ticket back: the loop renders for nobody.
    int renders = 0;
    x.serve([&] {
        ++renders;
        return std::string();
    });
    CHECK(renders == 0);

    std::optional<std::string> got = std::string("x");
    std::thread asker([&] { got = x.ask(10s); });
    REQUIRE(readable(x.fd(), 5000));
    x.close();
    asker.join();
    CHECK_FALSE(got);
    CHECK_FALSE(x.ask(10s));  // at once once closed
}

TEST_CASE("scrape exchange: concurrent askers share renders") {
    metrics::ScrapeExchange x;
    std::atomic<int> answered{0};
    std::vector<std::thread> askers;
    for (int i = 0; i < 4; ++i)
        askers.emplace_back([&] {
            if (auto p = x.ask(5s); p && *p == "ok") ++answered;
        });
    int renders = 0;
    while (answered.load() < 4 && renders < 100) {
        if (!readable(x.fd(), 1000)) continue;
        x.serve([&] {
            ++renders;
            return std::string("ok");
        });
    }
    for (auto& t : askers) t.join();
    CHECK(answered.load() == 4);
    CHECK(renders >= 1);
    CHECK(renders <= 4);
}

TEST_CASE("dplb-control options: --metrics-listen") {
    auto d = server::parse_options({});
    REQUIRE(d->metrics_listen);
    CHECK(d->metrics_listen->str() == "127.0.0.1:9469");
    auto o = server::parse_options({"--metrics-listen", "0.0.0.0:9100"});
    REQUIRE(o.ok());
    CHECK(o->metrics_listen->host == "0.0.0.0");
    CHECK(o->metrics_listen->port == 9100);
    auto v6 = server::parse_options({"--metrics-listen=[::1]:9469"});
    REQUIRE(v6.ok());
    CHECK(v6->metrics_listen->host == "::1");
    CHECK(v6->metrics_listen->str() == "[::1]:9469");
    CHECK_FALSE(server::parse_options({"--metrics-listen", "off"})->metrics_listen);
    CHECK_FALSE(server::parse_options({"--no-metrics"})->metrics_listen);
    for (const char* bad : {"9469", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x", "localhost:9469",
                            "::1:9469", "[127.0.0.1]:9469", ":9469", "1.2.3:80"}) {
        INFO(bad);
        auto r = server::parse_options({"--metrics-listen", bad});
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find(std::string("--metrics-listen: '") + bad + "'") == 0);
    }
    CHECK(server::parse_options({"--metrics-listen", "1.2.3.4"}).error().message ==
          "--metrics-listen: '1.2.3.4' has no port (expected ADDR:PORT, e.g. 127.0.0.1:9469 or [::1]:9469, or 'off')");
}

TEST_CASE("metrics HTTP server: a taken port is refused with the address named") {
    // The port is taken by a listening socket of this test, on a port the kernel chose: free
    // when chosen, so the refusal is always tested (a fixed port may be someone else's).
    int holder = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(holder >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(holder, 1) == 0);
    REQUIRE(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    const uint16_t port = ntohs(addr.sin_port);

    metrics::ScrapeExchange x;
    metrics::HttpServer a(x, 1s);
    auto e = a.start(metrics::ListenAddress{"127.0.0.1", port});
    ::close(holder);
    REQUIRE(e);
    CHECK(e->message.find("cannot listen on 127.0.0.1:" + std::to_string(port) + " for /metrics") == 0);
}

TEST_CASE("scrape exchange: a sent page's memory is handed to the next render, the larger kept") {
    metrics::ScrapeExchange x;
    CHECK(x.take_buffer().capacity() <= std::string().capacity());  // nothing given back yet
    std::string big(1 << 20, 'x');
    const char* memory = big.data();
    x.give_back(std::move(big));
    x.give_back(std::string(100, 'y'));  // smaller: the larger one stays
    std::string buffer = x.take_buffer();
    CHECK(buffer.data() == memory);
    CHECK(buffer.capacity() >= std::size_t(1) << 20);
    CHECK(x.take_buffer().empty());  // taken once
}
