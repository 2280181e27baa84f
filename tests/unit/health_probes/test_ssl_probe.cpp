// SSL_GET against a TLS server with a self-signed certificate (not verified, as keepalived
// does not verify): the HTTP exchange over TLS, SNI, digests, a server that does not speak
// TLS.
#include "http_peer.hpp"
#include "probe_driver.hpp"
#include "tls_peer.hpp"

using namespace probe_test;
using dplb::health::make_probe;
using dplb::keepalived::CheckerSpec;
using dplb::keepalived::CheckerType;
using dplb::keepalived::UrlCheck;

namespace {

CheckerSpec ssl_get(const std::string& path) {
    CheckerSpec s = spec_of(CheckerType::ssl);
    UrlCheck u;
    u.path = path;
    s.urls.push_back(u);
    return s;
}

}  // namespace

TEST_CASE("SSL_GET: the HTTP exchange runs over TLS; no SNI unless enable_sni") {
    TlsPeer peer(http_answer(200, "ok"));
    CheckerSpec s = ssl_get("/tls");
    s.virtualhost = "www.example.com";
    auto probe = make_probe(s, local(peer.port()));
    Outcome o = drive(*probe, 1500ms);
    CHECK(o.result.up);
    CHECK(o.result.reason.empty());
    peer.stop();
    auto reqs = peer.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0] == "GET /tls HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.example.com\r\n\r\n");
    auto names = peer.server_names();
    CHECK((names.empty() || names == std::vector<std::string>{""}));
}

TEST_CASE("SSL_GET: enable_sni sends the virtual host as the server name") {
    TlsPeer peer(http_answer(200, "ok"));
    CheckerSpec s = ssl_get("/");
    s.enable_sni = true;
    SECTION("the checker's virtualhost") {
        s.virtualhost = "www.example.com";
        auto probe = make_probe(s, local(peer.port()));
        CHECK(drive(*probe, 1500ms).result.up);
        peer.stop();
        CHECK(peer.server_names() == std::vector<std::string>{"www.example.com"});
    }
    SECTION("the url's virtualhost first") {
        s.virtualhost = "www.example.com";
        s.urls[0].virtualhost = "api.example.com";
        auto probe = make_probe(s, local(peer.port()));
        CHECK(drive(*probe, 1500ms).result.up);
        peer.stop();
        CHECK(peer.server_names() == std::vector<std::string>{"api.example.com"});
    }
    SECTION("sni_name over both") {
        s.virtualhost = "www.example.com";
        s.sni_name = "sni.example.com";
        auto probe = make_probe(s, local(peer.port()));
        CHECK(drive(*probe, 1500ms).result.up);
        peer.stop();
        CHECK(peer.server_names() == std::vector<std::string>{"sni.example.com"});
    }
}

TEST_CASE("SSL_GET: digest over the decrypted body") {
    TlsPeer peer(http_answer(200, "hello\n"));
    CheckerSpec s = ssl_get("/");
    SECTION("right") {
        s.urls[0].digest = "b1946ac92492d2347c6235b4d2611184";
        auto probe = make_probe(s, local(peer.port()));
        CHECK(drive(*probe, 1500ms).result.up);
    }
    SECTION("wrong") {
        s.urls[0].digest = "ffffffffffffffffffffffffffffffff";
        auto probe = make_probe(s, local(peer.port()));
        Outcome o = drive(*probe, 1500ms);
        CHECK_FALSE(o.result.up);
        CHECK(o.result.reason == "digest b1946ac92492d2347c6235b4d2611184 != expected ffffffffffffffffffffffffffffffff");
    }
}

TEST_CASE("SSL_GET: a server that does not speak TLS fails the handshake") {
    TcpServer peer([](int& fd, const Stop& stop) {
        write_all(fd, "HTTP/1.0 400 Bad Request\r\n\r\n");
        stop.sleep(300);
    });
    auto probe = make_probe(ssl_get("/"), local(peer.port()));
    Outcome o = drive(*probe, 1500ms);
    CHECK_FALSE(o.result.up);
    CHECK_FALSE(o.timed_out);
    CHECK(o.result.reason.rfind("TLS handshake: ", 0) == 0);
    INFO(o.result.reason);
}
