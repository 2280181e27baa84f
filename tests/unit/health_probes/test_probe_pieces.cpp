// The probes' pure parts, without sockets: the HTTP answer reader, keepalived's hex strings
// and command-line words, and the attempt deadlines.
#include <catch2/catch.hpp>

#include "control/health/probe.hpp"
#include "control/health/probes/hex_bytes.hpp"
#include "control/health/probes/http_response.hpp"
#include "control/health/probes/misc_command.hpp"

namespace probes = dplb::health::probes;
using probes::HttpResponse;
using Progress = HttpResponse::Progress;

TEST_CASE("HttpResponse: headers and body split anywhere, MD5 as genhash computes it") {
    const std::string answer = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nhello\n";
    for (std::size_t cut = 0; cut <= answer.size(); ++cut) {
        HttpResponse r(true);
        CHECK(r.feed(std::string_view(answer).substr(0, cut)) == Progress::more);
        CHECK(r.feed(std::string_view(answer).substr(cut)) == Progress::more);
        REQUIRE(r.finish() == Progress::complete);
        CHECK(r.status() == 200);
        CHECK(r.digest() == "b1946ac92492d2347c6235b4d2611184");
    }
}

TEST_CASE("HttpResponse: Content-Length (any case) completes the answer and bounds the digest") {
    HttpResponse r(true);
    CHECK(r.feed("HTTP/1.0 404 Not Found\r\ncontent-LENGTH:  6 \r\n\r\nhel") == Progress::more);
    CHECK(r.feed("lo\ntrailing garbage") == Progress::complete);
    CHECK(r.status() == 404);
    CHECK(r.digest() == "b1946ac92492d2347c6235b4d2611184");
    HttpResponse empty(true);
    CHECK(empty.feed("HTTP/1.0 204 No Content\r\nContent-Length: 0\r\n\r\n") == Progress::complete);
    CHECK(empty.digest() == "d41d8cd98f00b204e9800998ecf8427e");  // md5("")
}

TEST_CASE("HttpResponse: status lines keepalived takes and rejects") {
    auto status_of = [](std::string head) {
        HttpResponse r(false);
        auto p = r.feed(head + "\r\n\r\n");
        return p == Progress::failed ? -1 : r.status();
    };
    CHECK(status_of("HTTP/1.1 503 Service Unavailable") == 503);
    CHECK(status_of("HTTP/1.0 200") == 200);
    CHECK(status_of("HTTP/1.0 2000 OK") == -1);
    CHECK(status_of("HTTP/1.0 abc OK") == -1);
    CHECK(status_of("garbage") == -1);
}

TEST_CASE("HttpResponse: bounded headers and body") {
    HttpResponse big_head(false);
    Progress p = Progress::more;
    std::string line = "X-Filler: " + std::string(1000, 'a') + "\r\n";
    p = big_head.feed("HTTP/1.0 200 OK\r\n");
    for (int i = 0; i < 70 && p == Progress::more; ++i) p = big_head.feed(line);
    CHECK(p == Progress::failed);
    CHECK(big_head.error() == "answer headers larger than 64 KiB");

    HttpResponse big_body(false);
    p = big_body.feed("HTTP/1.0 200 OK\r\n\r\n");
    std::string mib(1024 * 1024, 'b');
    for (int i = 0; i < 17 && p == Progress::more; ++i) p = big_body.feed(mib);
    CHECK(p == Progress::failed);
    CHECK(big_body.error() == "answer body larger than 16 MiB");
}

TEST_CASE("keepalived hex strings") {
    auto p = probes::parse_hex("01 2 a0ff", false);
    REQUIRE(p);
    CHECK(p->bytes == std::vector<uint8_t>{0x01, 0x02, 0xa0, 0xff});
    CHECK_FALSE(probes::parse_hex("0x01", false));  // 'x' is a wildcard, only in reply data
    CHECK_FALSE(probes::parse_hex("", false));
    CHECK_FALSE(probes::parse_hex("0g", false));
    auto w = probes::parse_hex("4x x", true);
    REQUIRE(w);
    CHECK(w->bytes == std::vector<uint8_t>{0x40, 0x00});
    CHECK(w->mask == std::vector<uint8_t>{0x0f, 0x0f});
    const uint8_t reply[] = {0x4e, 0x07, 0x99};
    CHECK(probes::reply_matches(*w, reply, 3));
    const uint8_t other[] = {0x5e};
    CHECK_FALSE(probes::reply_matches(*w, other, 1));
    CHECK(probes::reply_matches(*w, other, 0));  // a shorter reply is compared on its length
}

TEST_CASE("keepalived command-line words") {
    using V = std::vector<std::string>;
    auto words = [](std::string_view s) {
        auto r = probes::split_command_line(s);
        REQUIRE(r);
        return *r;
    };
    CHECK(words("/bin/check  a\tb") == V{"/bin/check", "a", "b"});
    CHECK(words("/bin/check 'a b' \"c 'd'\" e\\ f") == V{"/bin/check", "a b", "c 'd'", "e f"});
    CHECK(words("x\\n\\x41\\101\\t") == V{"x\nAA\t"});
    CHECK(words("a'b'c") == V{"abc"});
    CHECK_FALSE(probes::split_command_line("'open"));
    CHECK_FALSE(probes::split_command_line("end\\"));
}

TEST_CASE("attempt deadlines") {
    dplb::keepalived::CheckerSpec s;
    s.connect_timeout = 2;
    CHECK(dplb::health::attempt_timeout(s, 60) == 2);
    s.type = dplb::keepalived::CheckerType::http;
    s.urls.resize(3);
    CHECK(dplb::health::attempt_timeout(s, 60) == 6);
    s.type = dplb::keepalived::CheckerType::misc;
    CHECK(dplb::health::attempt_timeout(s, 60) == 60);
    s.misc_timeout = 0;  // keepalived: 0 = unset
    CHECK(dplb::health::attempt_timeout(s, 60) == 60);
    s.misc_timeout = 5;
    CHECK(dplb::health::attempt_timeout(s, 60) == 5);
}
