// SMTP_CHECK against scripted servers: the conversation keepalived holds, and its failures.
#include "peers.hpp"
#include "probe_driver.hpp"

using namespace probe_test;
using dplb::health::make_probe;
using dplb::keepalived::CheckerSpec;
using dplb::keepalived::CheckerType;

namespace {

// greeting, then the answer to HELO, then the answer to QUIT; records what the client said.
struct SmtpPeer {
    std::mutex m;
    std::vector<std::string> said;
    TcpServer server;
    SmtpPeer(std::string greeting, std::string helo_answer)
        : server([this, greeting, helo_answer](int& fd, const Stop& stop) {
              write_all(fd, greeting);
              std::string helo = read_until(fd, stop, "\n");
              record(helo);
              if (helo.empty()) return;
              write_all(fd, helo_answer);
              std::string quit = read_until(fd, stop, "\n");
              record(quit);
              if (!quit.empty()) write_all(fd, "221 bye\r\n");
          }) {}
    void record(const std::string& s) {
        std::lock_guard lock(m);
        said.push_back(s);
    }
    std::vector<std::string> lines() {
        std::lock_guard lock(m);
        return said;
    }
};

}  // namespace

TEST_CASE("SMTP_CHECK: 220, HELO, 250, QUIT is up") {
    SmtpPeer peer("220 mx.test ESMTP\r\n", "250 mx.test\r\n");
    auto probe = make_probe(spec_of(CheckerType::smtp), local(peer.server.port()));
    Outcome o = drive(*probe, 1500ms);
    CHECK(o.result.up);
    CHECK(o.result.reason.empty());
    peer.server.stop();
    CHECK(peer.lines() == std::vector<std::string>{"HELO smtpchecker.keepalived.org\r\n", "QUIT\r\n"});
}

TEST_CASE("SMTP_CHECK: helo_name, and multi-line replies read to their last line") {
    SmtpPeer peer("220-mx.test first\r\n220-second\r\n220 ready\r\n", "250-mx.test\r\n250 PIPELINING\r\n");
    CheckerSpec s = spec_of(CheckerType::smtp);
    s.helo_name = "lb1.example.com";
    auto probe = make_probe(s, local(peer.server.port()));
    CHECK(drive(*probe, 1500ms).result.up);
    peer.server.stop();
    auto lines = peer.lines();
    REQUIRE_FALSE(lines.empty());
    CHECK(lines[0] == "HELO lb1.example.com\r\n");
}

TEST_CASE("SMTP_CHECK: a 554 greeting is down") {
    SmtpPeer peer("554 no service\r\n", "");
    auto probe = make_probe(spec_of(CheckerType::smtp), local(peer.server.port()));
    Outcome o = drive(*probe, 1500ms);
    CHECK_FALSE(o.result.up);
    CHECK(o.result.reason == "greeting '554 no service' (want 220)");
}

TEST_CASE("SMTP_CHECK: a refused HELO is down") {
    SmtpPeer peer("220 mx.test\r\n", "501 go away\r\n");
    auto probe = make_probe(spec_of(CheckerType::smtp), local(peer.server.port()));
    Outcome o = drive(*probe, 1500ms);
    CHECK_FALSE(o.result.up);
    CHECK(o.result.reason == "HELO answer '501 go away' (want 250)");
}

TEST_CASE("SMTP_CHECK: a server that closes, or says nothing") {
    SECTION("closed before the greeting") {
        TcpServer server([](int&, const Stop&) {});
        auto probe = make_probe(spec_of(CheckerType::smtp), local(server.port()));
        CHECK(drive(*probe, 1000ms).result.reason == "connection closed before the greeting");
    }
    SECTION("silent") {
        TcpServer server([](int&, const Stop& stop) { stop.sleep(1500); });
        auto probe = make_probe(spec_of(CheckerType::smtp), local(server.port()));
        Outcome o = drive(*probe, 200ms);
        CHECK(o.timed_out);
        CHECK(o.result.reason == "timeout waiting for the greeting");
    }
}
