// HTTP_GET against scripted loopback servers: the request keepalived sends, status ranges,
// digests, several urls, and every way an answer can go wrong.
#include "http_peer.hpp"
#include "probe_driver.hpp"

using namespace probe_test;
using dplb::health::make_probe;
using dplb::keepalived::CheckerSpec;
using dplb::keepalived::CheckerType;
using dplb::keepalived::UrlCheck;

namespace {

CheckerSpec http_get(std::vector<UrlCheck> urls) {
    CheckerSpec s = spec_of(CheckerType::http);
    s.urls = std::move(urls);
    return s;
}

UrlCheck url(std::string path) {
    UrlCheck u;
    u.path = std::move(path);
    return u;
}

const std::string hello_md5 = "b1946ac92492d2347c6235b4d2611184";  // md5("hello\n")

}  // namespace

TEST_CASE("HTTP_GET: 200 is up, and the request is keepalived's HTTP/1.0 one") {
    HttpPeer peer(http_answer(200, "ok\n"));
    auto probe = make_probe(http_get({url("/health")}), local(peer.port()));
    Outcome o = drive(*probe, 1000ms);
    CHECK(o.result.up);
    CHECK(o.result.reason.empty());
    peer.stop();
    auto reqs = peer.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0] == "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:" +
                         std::to_string(peer.port()) + "\r\n\r\n");
}

TEST_CASE("HTTP_GET: http_protocol 1.1 sends Connection: close and the virtual host") {
    HttpPeer peer(http_answer(200, ""));
    CheckerSpec s = http_get({url("/")});
    s.http_protocol = "1.1";
    s.virtualhost = "www.example.com";
    auto probe = make_probe(s, local(peer.port()));
    CHECK(drive(*probe, 1000ms).result.up);
    peer.stop();
    auto reqs = peer.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0] ==
          "GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.com\r\n\r\n");
}

TEST_CASE("HTTP_GET: 1.0C closes too, and a url's virtualhost beats the checker's") {
    HttpPeer peer(http_answer(204, ""));
    UrlCheck u = url("/x?y=1");
    u.virtualhost = "api.example.com";
    CheckerSpec s = http_get({u});
    s.http_protocol = "1.0C";
    s.virtualhost = "www.example.com";
    auto probe = make_probe(s, local(peer.port()));
    CHECK(drive(*probe, 1000ms).result.up);
    peer.stop();
    auto reqs = peer.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0] ==
          "GET /x?y=1 HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: api.example.com\r\n\r\n");
}

TEST_CASE("HTTP_GET: 500 is down and says which status and ranges") {
    HttpPeer peer(http_answer(500, "oops"));
    auto probe = make_probe(http_get({url("/")}), local(peer.port()));
    Outcome o = drive(*probe, 1000ms);
    CHECK_FALSE(o.result.up);
    CHECK(o.result.reason == "HTTP status 500 not in 200-299");
}

TEST_CASE("HTTP_GET: status_code ranges replace the 2xx default") {
    UrlCheck u = url("/");
    u.status_codes = {{301, 302}, {404, 404}};
    SECTION("a listed code is up") {
        HttpPeer peer(http_answer(404, ""));
        auto probe = make_probe(http_get({u}), local(peer.port()));
        CHECK(drive(*probe, 1000ms).result.up);
    }
    SECTION("200 is no longer accepted") {
        HttpPeer peer(http_answer(200, ""));
        auto probe = make_probe(http_get({u}), local(peer.port()));
        Outcome o = drive(*probe, 1000ms);
        CHECK_FALSE(o.result.up);
        CHECK(o.result.reason == "HTTP status 200 not in 301-302,404");
    }
}

TEST_CASE("HTTP_GET: the body's MD5 must match the digest") {
    UrlCheck u = url("/index.html");
    SECTION("right digest, read to the end of the stream (no Content-Length)") {
        u.digest = hello_md5;
        HttpPeer peer(http_answer(200, "hello\n", false));
        auto probe = make_probe(http_get({u}), local(peer.port()));
        Outcome o = drive(*probe, 1000ms);
        CHECK(o.result.up);
        CHECK(o.result.reason.empty());
    }
    SECTION("wrong digest") {
        u.digest = "00000000000000000000000000000000";
        HttpPeer peer(http_answer(200, "hello\n"));
        auto probe = make_probe(http_get({u}), local(peer.port()));
        Outcome o = drive(*probe, 1000ms);
        CHECK_FALSE(o.result.up);
        CHECK(o.result.reason == "digest " + hello_md5 + " != expected 00000000000000000000000000000000");
    }
    SECTION("Content-Length ends the body even when the server keeps the connection open") {
        u.digest = hello_md5;
        HttpPeer peer([](int& fd, const Stop& stop) {
            write_all(fd, http_answer(200, "hello\n"));
            stop.sleep(1500);
        });
        auto probe = make_probe(http_get({u}), local(peer.port()));
        Outcome o = drive(*probe, 1000ms);
        CHECK(o.result.up);
        CHECK_FALSE(o.timed_out);
    }
}

TEST_CASE("HTTP_GET: every url is checked, each on its own connection") {
    SECTION("all pass") {
        HttpPeer peer(http_answer(200, "hello\n"));
        UrlCheck b = url("/b");
        b.digest = hello_md5;
        auto probe = make_probe(http_get({url("/a"), b}), local(peer.port()));
        CHECK(drive(*probe, 2000ms).result.up);
        peer.stop();
        auto reqs = peer.requests();
        REQUIRE(reqs.size() == 2);
        CHECK(reqs[0].rfind("GET /a HTTP/1.0\r\n", 0) == 0);
        CHECK(reqs[1].rfind("GET /b HTTP/1.0\r\n", 0) == 0);
    }
    SECTION("the first failing url decides, and is named") {
        std::atomic<int> n{0};
        HttpPeer peer2([&n](int& fd, const Stop&) { write_all(fd, http_answer(n++ == 0 ? 200 : 503, "")); });
        auto probe = make_probe(http_get({url("/a"), url("/b"), url("/c")}), local(peer2.port()));
        Outcome o = drive(*probe, 3000ms);
        CHECK_FALSE(o.result.up);
        CHECK(o.result.reason == "url /b: HTTP status 503 not in 200-299");
        peer2.stop();
        CHECK(peer2.requests().size() == 2);
    }
}

TEST_CASE("HTTP_GET: connection refused") {
    ClosedPort closed(SOCK_STREAM);
    auto probe = make_probe(http_get({url("/")}), local(closed.port()));
    Outcome o = drive(*probe, 1000ms);
    CHECK_FALSE(o.result.up);
    CHECK(o.result.reason == "connect: Connection refused");
}

TEST_CASE("HTTP_GET: an answer slower than the deadline times out") {
    HttpPeer peer([](int&, const Stop& stop) { stop.sleep(1500); });
    auto probe = make_probe(http_get({url("/")}), local(peer.port()));
    Outcome o = drive(*probe, 300ms);
    CHECK(o.timed_out);
    CHECK_FALSE(o.result.up);
    CHECK(o.result.reason == "timeout reading the answer");
    CHECK(o.took < 1000ms);
}

TEST_CASE("HTTP_GET: a reset in the middle of the answer is down") {
    HttpPeer peer([](int& fd, const Stop& stop) {
        write_all(fd, "HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
        stop.sleep(50);
        reset_close(fd);
    });
    UrlCheck u = url("/");
    u.digest = hello_md5;
    auto probe = make_probe(http_get({u}), local(peer.port()));
    Outcome o = drive(*probe, 1000ms);
    CHECK_FALSE(o.result.up);
    CHECK(o.result.reason == "read: Connection reset by peer");
}

TEST_CASE("HTTP_GET: closed before the status line, or with a malformed one") {
    SECTION("nothing") {
        HttpPeer peer([](int&, const Stop&) {});
        auto probe = make_probe(http_get({url("/")}), local(peer.port()));
        Outcome o = drive(*probe, 1000ms);
        CHECK_FALSE(o.result.up);
        CHECK(o.result.reason == "connection closed before the status line");
    }
    SECTION("headers cut short") {
        HttpPeer peer([](int& fd, const Stop&) { write_all(fd, "HTTP/1.0 200 OK\r\nServer: x"); });
        auto probe = make_probe(http_get({url("/")}), local(peer.port()));
        CHECK(drive(*probe, 1000ms).result.reason == "connection closed before the end of the headers");
    }
    SECTION("not HTTP") {
        HttpPeer peer([](int& fd, const Stop&) { write_all(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n"); });
        auto probe = make_probe(http_get({url("/")}), local(peer.port()));
        CHECK(drive(*probe, 1000ms).result.reason == "malformed status line 'SSH-2.0-OpenSSH_9.2'");
    }
}
