// keepalived.conf -> dplb (control/keepalived): good files (seed 004's lab among them) give
// the services and keepalived's checker defaults; every class of bad input is an Error
// "file:line: keyword: what"; and every good fixture is also accepted by keepalived -t itself
// when keepalived is installed (tools/bootstrap installs it).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "control/keepalived/parse.hpp"

using namespace dplb;
using namespace dplb::keepalived;

namespace {

const std::string dir = KEEPALIVED_FIXTURES;

std::string fixture(const std::string& name) { return dir + "/" + name; }

Ip4 ip(const char* s) { return *Ip4::parse(s); }

KeepalivedConfig good(const std::string& name) {
    auto r = parse_keepalived(fixture(name));
    INFO((r ? std::string() : r.error().str()));
    REQUIRE(r.ok());
    return *r;
}

std::string bad(const std::string& name) {
    auto r = parse_keepalived(fixture(name));
    REQUIRE_FALSE(r.ok());
    return r.error().str();
}

bool has_warning(const KeepalivedConfig& c, const std::string& text) {
    return std::any_of(c.warnings.begin(), c.warnings.end(),
                       [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

// A file of its own in a fresh temporary folder.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/dplb-kconf-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        auto p = path / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p.string();
    }
};

}  // namespace

TEST_CASE("keepalived: seed 004's lab becomes a DR service with rr and two TCP_CHECKs") {
    auto c = good("good/seed_lab.conf");
    REQUIRE(c.services.size() == 1);
    const auto& s = c.services[0];
    CHECK(s.key == config::ServiceKey{config::Protocol::tcp, ip("192.168.213.200"), 80, 0});
    CHECK(s.scheduler == config::Scheduler::rr);
    CHECK_FALSE(s.persistence);  // commented out in the seed
    REQUIRE(s.reals.size() == 2);
    CHECK(s.reals[0] == config::RealServer{.address = ip("192.168.213.102"), .port = 80, .weight = 1,
                                           .forward = config::ForwardMethod::dr});
    CHECK(s.reals[1].address == ip("192.168.213.103"));
    CHECK(s.reals[1].forward == config::ForwardMethod::dr);
    const auto& h = c.health[0];
    CHECK(h.delay_loop == 6);
    CHECK(h.where.line == 4);
    REQUIRE(h.reals.size() == 2);
    REQUIRE(h.reals[0].checkers.size() == 1);
    const auto& tcp = h.reals[0].checkers[0];
    CHECK(tcp.type == CheckerType::tcp);
    CHECK(tcp.connect_timeout == 3);
    CHECK(tcp.delay_before_retry == 3);
    CHECK(tcp.retry == 1);
    CHECK(c.warnings.empty());
}

TEST_CASE("keepalived: global_defs, vrrp_* and other non-LVS blocks are listed as ignored") {
    auto c = good("good/ignored_blocks.conf");
    CHECK(c.services.size() == 1);
    CHECK(has_warning(c, "good/ignored_blocks.conf:6: global_defs ignored (VRRP is left to keepalived)"));
    CHECK(has_warning(c, ": vrrp_script ignored (VRRP is left to keepalived)"));
    CHECK(has_warning(c, ": static_ipaddress ignored (left to keepalived)"));
    CHECK_FALSE(c.lvs_notify_fifo);
    CHECK_FALSE(c.notify_fifo);
}

TEST_CASE("keepalived: global_defs' lvs_notify_fifo and notify_fifo are read, the rest is ignored") {
    TempDir t;
    auto path = t.write("k.conf", R"(global_defs {
    router_id LVS_A
    lvs_notify_fifo /run/dplb/lvs.fifo
    notify_fifo "/run/dplb/all fifo" nobody nogroup
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    real_server 10.1.1.1 80 {
    }
})");
    auto r = parse_keepalived(path);
    INFO((r ? std::string() : r.error().str()));
    REQUIRE(r.ok());
    CHECK(r->lvs_notify_fifo == "/run/dplb/lvs.fifo");
    CHECK(r->notify_fifo == "/run/dplb/all fifo");
    CHECK(has_warning(*r, "k.conf:1: global_defs ignored but for its notify FIFOs (VRRP is left to keepalived)"));
    CHECK(has_warning(*r, "k.conf:4: notify_fifo: user/group ignored"));

    auto only = t.write("only.conf", "global_defs {\n    lvs_notify_fifo /tmp/x.fifo\n}\n");
    auto o = parse_keepalived(only);
    REQUIRE(o.ok());
    CHECK(o->lvs_notify_fifo == "/tmp/x.fifo");
    CHECK_FALSE(o->notify_fifo);
    CHECK(o->warnings.empty());

    auto bad = t.write("bad.conf", "global_defs {\n    lvs_notify_fifo\n}\n");
    auto b = parse_keepalived(bad);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().str().find("bad.conf:2: lvs_notify_fifo: needs a FIFO path") != std::string::npos);
}

TEST_CASE("keepalived: checker defaults are keepalived's") {
    TempDir t;
    auto path = t.write("k.conf", R"(virtual_server 10.0.0.1 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.1.1.1 80 {
        TCP_CHECK {
        }
        HTTP_GET {
            url {
                path /
            }
        }
        SSL_GET {
            url {
                path /
            }
        }
        DNS_CHECK {
        }
        MISC_CHECK {
            misc_path /bin/true
        }
        PING_CHECK {
        }
    }
})");
    auto r = parse_keepalived(path);
    REQUIRE(r.ok());
    CHECK(r->health[0].delay_loop == 60);
    CHECK(r->health[0].quorum == 1);
    const auto& ck = r->health[0].reals[0].checkers;
    REQUIRE(ck.size() == 6);
    for (const auto& c : ck) {
        CHECK(c.connect_timeout == 5);
        CHECK_FALSE(c.connect_ip);
        CHECK_FALSE(c.connect_port);
        CHECK_FALSE(c.delay_loop);
        CHECK_FALSE(c.warmup);  // keepalived: up to delay_loop
    }
    CHECK(ck[0].retry == 1);
    CHECK(ck[0].delay_before_retry == 1);
    CHECK(ck[1].type == CheckerType::http);
    CHECK(ck[1].retry == 1);
    CHECK(ck[1].delay_before_retry == 3);
    CHECK(ck[1].http_protocol == "1.0");
    CHECK(ck[1].urls[0].status_codes.empty());  // any 2xx
    CHECK(ck[2].delay_before_retry == 3);
    CHECK(ck[3].retry == 3);
    CHECK(ck[3].dns_type == "SOA");
    CHECK(ck[3].dns_name == ".");
    CHECK(ck[4].retry == 0);
    CHECK_FALSE(ck[4].misc_timeout);
    CHECK(ck[5].type == CheckerType::ping);
    CHECK(ck[5].delay_before_retry == 1);
}

TEST_CASE("keepalived: every checker keyword and virtual-server health option is read") {
    auto c = good("good/checkers.conf");
    REQUIRE(c.services.size() == 3);
    const auto& web = c.services[0];
    CHECK(web.scheduler == config::Scheduler::wrr);
    REQUIRE(web.persistence);
    CHECK(web.persistence->timeout == 600);
    CHECK(web.persistence->netmask == ip("255.255.255.0"));
    CHECK(web.reals[0].weight == 3);
    CHECK(web.reals[0].forward == config::ForwardMethod::nat);
    const auto& h = c.health[0];
    CHECK(h.delay_loop == 2.5);
    CHECK(h.ha_suspend);
    CHECK(h.alpha);
    CHECK(h.omega);
    CHECK(h.quorum == 2);
    CHECK(h.hysteresis == 1);
    CHECK(h.quorum_up == "/usr/local/bin/quorum up");
    CHECK(h.quorum_down == "/usr/local/bin/quorum-down");
    REQUIRE(h.sorry_server);
    CHECK(h.sorry_server->address == ip("10.9.9.9"));
    CHECK(h.sorry_server->port == 8080);
    CHECK(h.sorry_server->inhibit);
    CHECK(h.inhibit_on_failure);
    const auto& rs1 = h.reals[0];
    CHECK(rs1.inhibit_on_failure);  // the virtual server's
    CHECK(rs1.notify_up == "/usr/local/bin/notify up");
    CHECK(rs1.notify_down == "/usr/local/bin/notify-down");
    REQUIRE(rs1.checkers.size() == 2);
    const auto& http = rs1.checkers[0];
    REQUIRE(http.urls.size() == 2);
    CHECK(http.urls[0].path == "/health");
    CHECK(http.urls[0].digest == "9b3a0c85a887a256d6939da88aabd8cd");
    CHECK(http.urls[0].status_codes == std::vector<std::pair<uint16_t, uint16_t>>{{200, 299}, {301, 301}});
    CHECK(http.urls[0].virtualhost == "www.example.com");
    CHECK(http.http_protocol == "1.1");
    CHECK(http.connect_timeout == 2);
    CHECK(http.retry == 4);
    CHECK(http.delay_before_retry == 0.5);
    const auto& tcp = rs1.checkers[1];
    CHECK(tcp.connect_ip == ip("10.1.1.100"));
    CHECK(tcp.connect_port == 8081);
    CHECK(tcp.bindto == ip("10.0.0.254"));
    const auto& rs2 = h.reals[1];
    REQUIRE(rs2.checkers.size() == 3);
    CHECK(rs2.checkers[0].type == CheckerType::ssl);
    CHECK(rs2.checkers[0].enable_sni);
    CHECK(rs2.checkers[1].type == CheckerType::ping);
    CHECK(rs2.checkers[2].helo_name == "lb.example.com");
    CHECK(rs2.checkers[2].warmup == 4);  // the real server's warmup

    CHECK(c.services[1].key.protocol == config::Protocol::udp);
    const auto& dns = c.health[1].reals[0].checkers;
    CHECK(dns[0].dns_type == "A");
    CHECK(dns[0].dns_name == "example.com");
    CHECK(dns[1].payload == "0a0b");
    CHECK(dns[1].require_reply);
    CHECK(dns[1].reply_data == "0c0d");
    CHECK(dns[1].retry == 2);

    CHECK(c.services[2].key.fwmark == 7);
    CHECK(c.services[2].reals[0].port == 0);
    CHECK(c.health[2].reals[0].checkers[0].connect_port == 80);
    CHECK(has_warning(c, "virtual_server fwmark 7: dplb marks no packets itself"));
}

TEST_CASE("keepalived: MISC_CHECK and the nb_get_retry alias") {
    auto c = good("unchecked/misc_check.conf");
    const auto& ck = c.health[0].reals[0].checkers;
    REQUIRE(ck.size() == 2);
    CHECK(ck[0].type == CheckerType::misc);
    CHECK(ck[0].misc_path == "/usr/local/bin/check 10.1.1.5");
    CHECK(ck[0].misc_timeout == 10);
    CHECK(ck[0].misc_dynamic);
    CHECK(ck[0].user == "nobody");
    CHECK(ck[1].retry == 7);
}

TEST_CASE("keepalived: DPVS's FNAT with a local_address_group") {
    auto c = good("dpvs/fnat.conf");
    const auto& s = c.services[0];
    CHECK(s.reals[0].forward == config::ForwardMethod::fullnat);
    CHECK(s.local_addresses == std::vector<Ip4>{ip("192.168.100.200"), ip("192.168.100.201"), ip("192.168.100.210"),
                                                ip("192.168.100.211"), ip("192.168.100.212")});
    CHECK(c.health[0].reals[0].inhibit_on_failure);
    CHECK(has_warning(c, "interface 'dpdk0' ignored"));
}

TEST_CASE("keepalived: include with a glob, relative to the including file, in glob order") {
    auto c = good("good/includes.conf");
    REQUIRE(c.services.size() == 2);
    CHECK(c.services[0].key.port == 80);
    CHECK(c.services[1].key.port == 53);
    CHECK(c.services[1].key.protocol == config::Protocol::udp);
    CHECK(c.services[1].reals[0].forward == config::ForwardMethod::tunnel);
    CHECK(c.services[1].reals[0].port == 53);
    CHECK(c.health[1].where.file.ends_with("conf.d/20-dns.conf"));
    CHECK(c.health[1].where.line == 1);
    CHECK(has_warning(c, "good/includes.conf:6: include conf.d/none-*.conf matches no file"));
}

TEST_CASE("keepalived: each bad input is an error naming file, line and keyword") {
    CHECK(bad("bad/unknown_keyword.conf").ends_with("bad/unknown_keyword.conf:5: frobnicate: unknown keyword in virtual_server"));
    CHECK(bad("bad/bad_address.conf").ends_with("bad/bad_address.conf:5: real_server: bad address '10.1.1.300'"));
    CHECK(bad("bad/missing_brace.conf").ends_with("bad/missing_brace.conf:1: virtual_server: missing '}': the block opened here is not closed"));
    auto loop = bad("bad/loop_a.conf");
    CHECK(loop.find("bad/loop_b.conf:4: include: include loop: ") != std::string::npos);
    CHECK(loop.ends_with("bad/loop_a.conf"));
    CHECK(bad("bad/bad_lb_kind.conf").ends_with("bad/bad_lb_kind.conf:3: lb_kind: 'MASQ' is not one of NAT, DR, TUN, FNAT"));
    auto fnat = bad("bad/fnat_without_laddr.conf");
    CHECK(fnat.find("bad/fnat_without_laddr.conf:1: virtual_server: ") == fnat.find("bad/fnat_without_laddr.conf"));
    CHECK(fnat.find("local address") != std::string::npos);
    CHECK(bad("bad/virtual_server_group.conf").ends_with("bad/virtual_server_group.conf:1: virtual_server_group: not supported yet"));
    CHECK(bad("bad/bad_number.conf").ends_with("bad/bad_number.conf:5: delay_loop: bad number of seconds '1.2.3'"));
    CHECK(bad("no-such-file.conf").find("cannot read") != std::string::npos);
}

TEST_CASE("keepalived: smaller bad inputs") {
    TempDir t;
    auto err = [&](const std::string& text) {
        auto r = parse_keepalived(t.write("k.conf", text));
        REQUIRE_FALSE(r.ok());
        return r.error().str();
    };
    const std::string head = "virtual_server 10.0.0.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n";
    CHECK(err("}\n").ends_with("k.conf:1: }: no block to close (an extra '}')"));
    CHECK(err("frob {\n}\n").ends_with("k.conf:1: frob: unknown keyword"));
    CHECK(err(head + " lb_kind\n}\n").ends_with("k.conf:5: lb_kind: needs NAT, DR, TUN or FNAT"));
    CHECK(err(head + " lb_algo xyz\n}\n").find("k.conf:5: lb_algo: unknown scheduler 'xyz'") != std::string::npos);
    CHECK(err(head + " protocol SCTP\n}\n").ends_with("k.conf:5: protocol: SCTP is not supported"));
    CHECK(err(head + " real_server 10.1.1.1 80 {\n  weight 70000\n }\n}\n").ends_with("k.conf:6: weight: '70000' is out of range 0..65535"));
    CHECK(err(head + " real_server 10.1.1.1 80 {\n  TCP_CHECK {\n   path /\n  }\n }\n}\n").ends_with("k.conf:7: path: unknown keyword in TCP_CHECK"));
    CHECK(err(head + " real_server 10.1.1.1 80 {\n  HTTP_GET {\n  }\n }\n}\n").ends_with("k.conf:6: HTTP_GET: needs at least one url { path ... }"));
    CHECK(err(head + " laddr_group_name nope\n}\n").ends_with("k.conf:1: laddr_group_name: no local_address_group named 'nope'"));
    CHECK(err("virtual_server 10.0.0.1 80 {\n protocol TCP\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n}\n")
              .find("k.conf:4: virtual_server: the same service as the virtual_server at ") != std::string::npos);
    CHECK(err("virtual_server 10.0.0.1 80 {\n notify_up \"/bin/x\n}\n").ends_with("k.conf:2: unterminated quoted string"));
    CHECK(err("virtual_server fe80::1 80 {\n}\n").ends_with("virtual_server: IPv6 address 'fe80::1' is not supported"));
    CHECK(err("include k.conf\n").find("include loop") != std::string::npos);
}

TEST_CASE("keepalived: the replacement keeps port groups and timeouts and needs a fwmark's port group") {
    auto c = good("good/checkers.conf");
    config::Config current;
    current.timeouts.tcp = 600;
    current.services.push_back(config::Service{.key = {config::Protocol::tcp, ip("10.5.5.5"), 80, 0}});
    auto missing = replacement_config(current, c);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().str().find("good/checkers.conf:") != std::string::npos);
    CHECK(missing.error().str().find("dplb has no port group with mark 7") != std::string::npos);
    current.port_groups.push_back(config::PortGroup{7, {{config::Protocol::tcp, ip("10.0.0.7"), 80, 90}}});
    auto r = replacement_config(current, c);
    INFO((r ? std::string() : r.error().str()));
    REQUIRE(r.ok());
    CHECK(r->timeouts.tcp == 600);
    CHECK(r->port_groups == current.port_groups);
    CHECK(r->services == c.services);  // the old 10.5.5.5:80 is gone: the file owns the table
}

// The oracle: keepalived itself accepts every good fixture (good/ and its includes).
TEST_CASE("keepalived: keepalived -t accepts every good fixture") {
    if (::geteuid() != 0) {
        WARN("not root: keepalived -t was not run on the fixtures (CI and tools/test run as root)");
        return;
    }
    if (std::system("command -v keepalived >/dev/null 2>&1") != 0) {
        WARN("keepalived is not installed (tools/bootstrap installs it): the fixtures were not checked by keepalived -t");
        return;
    }
    int checked = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir + "/good")) {
        if (e.path().extension() != ".conf") continue;
        // -n -l: no daemon, log to the console, so the reasons are in the test output.
        std::string cmd = "keepalived -t -n -l -f '" + e.path().string() + "' 2>&1";
        int status = std::system(cmd.c_str());
        INFO(cmd);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        ++checked;
    }
    CHECK(checked == 4);
}
