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
    CHECK(ck[3].delay_before_retry == 60);  // keepalived: DNS_CHECK waits its delay_loop
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

TEST_CASE("keepalived: DNS_CHECK's delay_before_retry defaults to its delay_loop") {
    TempDir t;
    auto path = t.write("k.conf", R"(virtual_server 10.0.0.2 53 {
    delay_loop 4
    lb_algo rr
    lb_kind NAT
    protocol UDP
    real_server 10.1.1.3 53 {
        DNS_CHECK {
        }
        DNS_CHECK {
            delay_loop 7
        }
        DNS_CHECK {
            delay_loop 7
            delay_before_retry 2
        }
        DNS_CHECK {
            delay_before_retry 0
        }
        TCP_CHECK {
            delay_loop 7
        }
    }
})");
    auto r = parse_keepalived(path);
    INFO((r ? std::string() : r.error().str()));
    REQUIRE(r.ok());
    const auto& ck = r->health[0].reals[0].checkers;
    REQUIRE(ck.size() == 5);
    CHECK(ck[0].delay_before_retry == 4);  // the virtual server's delay_loop
    CHECK(ck[1].delay_before_retry == 7);  // its own
    CHECK(ck[2].delay_before_retry == 2);
    CHECK(ck[3].delay_before_retry == 0);
    CHECK(ck[4].delay_before_retry == 1);  // the others keep 1 s
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

    // A group's fwmark entry needs its port group too, named by the virtual_server line.
    auto g = good("good/virtual_server_group.conf");
    auto no_group = replacement_config(config::Config{}, g);
    REQUIRE_FALSE(no_group.ok());
    CHECK(no_group.error().str().find("good/virtual_server_group.conf:13: virtual_server: fwmark 7: dplb has no port group with mark 7") !=
          std::string::npos);
    auto with_group = replacement_config(current, g);
    INFO((with_group ? std::string() : with_group.error().str()));
    REQUIRE(with_group.ok());
    CHECK(with_group->services.size() == 15);
}

TEST_CASE("keepalived: virtual_server group gives one service per address and fwmark of the group") {
    auto c = good("good/virtual_server_group.conf");
    using config::Protocol;
    auto tcp = [](const char* a, uint16_t port) { return config::ServiceKey{Protocol::tcp, ip(a), port, 0}; };
    std::vector<config::ServiceKey> keys;
    for (const auto& s : c.services) keys.push_back(s.key);
    CHECK(keys == std::vector<config::ServiceKey>{
                      tcp("10.0.0.1", 80), tcp("10.0.0.10", 80), tcp("10.0.0.11", 80), tcp("10.0.0.12", 80),
                      tcp("10.0.1.254", 443), tcp("10.0.1.255", 443), tcp("10.0.2.0", 443), tcp("10.0.2.1", 443),
                      tcp("10.0.3.8", 8080), tcp("10.0.3.9", 8080), tcp("10.0.3.10", 8080), tcp("10.0.3.11", 8080),
                      config::ServiceKey{.fwmark = 7},
                      config::ServiceKey{Protocol::udp, ip("10.0.0.53"), 53, 0}, tcp("10.0.0.53", 53)});
    REQUIRE(c.health.size() == c.services.size());
    for (std::size_t i = 0; i < c.services.size(); ++i) {
        INFO(i);
        const auto& s = c.services[i];
        const auto& h = c.health[i];
        CHECK(h.key == s.key);  // each service its own health, and so its own checkers
        REQUIRE(h.reals.size() == s.reals.size());
        for (std::size_t r = 0; r < s.reals.size(); ++r) {
            CHECK(h.reals[r].address == s.reals[r].address);
            CHECK(h.reals[r].port == s.reals[r].port);
        }
    }
    // The web group: the same options, real servers and checkers for each of its services.
    for (std::size_t i = 0; i < 13; ++i) {
        INFO(i);
        const auto& s = c.services[i];
        const auto& h = c.health[i];
        CHECK(h.where.line == 13);
        CHECK(h.delay_loop == 3);
        CHECK(s.scheduler == config::Scheduler::wrr);
        REQUIRE(s.reals.size() == 2);
        CHECK(s.reals[0].address == ip("10.1.1.1"));
        CHECK(s.reals[0].port == 8080);  // NAT with a port: kept
        CHECK(s.reals[0].weight == 2);
        CHECK(s.reals[0].forward == config::ForwardMethod::nat);
        CHECK(s.reals[1].address == ip("10.1.1.2"));
        CHECK(s.reals[1].port == s.key.port);  // no port: the service's (the client's for the fwmark)
        REQUIRE(s.sorry_server);
        CHECK(s.sorry_server->port == 8080);
        CHECK(h.reals[0].checkers == c.health[0].reals[0].checkers);
        CHECK(h.reals[1].checkers == c.health[0].reals[1].checkers);
        CHECK(h.reals[1].checkers[0].connect_port == 80);
    }
    CHECK(c.services[4].reals[1].port == 443);
    CHECK(c.services[12].reals[1].port == 0);
    // The dns group, used by a UDP and a TCP virtual server, the group defined after both.
    CHECK(c.health[13].where.line == 39);
    CHECK(c.health[14].where.line == 51);
    CHECK(c.services[13].reals[0].forward == config::ForwardMethod::dr);
    CHECK(c.services[13].reals[0].port == 53);
    CHECK(c.health[13].reals[0].checkers[0].delay_before_retry == 4);
    CHECK(has_warning(c, "good/virtual_server_group.conf:13: virtual_server group web entry 'fwmark 7' "
                         "(" + fixture("good/virtual_server_group.conf") + ":10): dplb marks no packets itself"));
    CHECK(c.warnings.size() == 1);
}

TEST_CASE("keepalived: real server ports in a group follow keepalived's rules") {
    TempDir t;
    auto parse = [&](const std::string& text) {
        auto r = parse_keepalived(t.write("k.conf", text));
        INFO((r ? std::string() : r.error().str()));
        REQUIRE(r.ok());
        return *r;
    };
    // DR cannot change the port: each service's own, the client's for a fwmark; a written
    // port that differs is warned of (as keepalived) and stays where the checkers connect.
    auto c = parse(R"(virtual_server_group g {
    10.0.0.1 80
    10.0.0.2-3 443
    fwmark 9
}
virtual_server group g {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.1.1.1 80 {
        TCP_CHECK {
        }
    }
    real_server 10.1.1.2 {
        TCP_CHECK {
            connect_port 8000
        }
    }
})");
    REQUIRE(c.services.size() == 4);
    CHECK(c.services[0].reals[0].port == 80);
    CHECK_FALSE(c.health[0].reals[0].checkers[0].connect_port);
    CHECK(c.services[1].reals[0].port == 443);
    CHECK(c.health[1].reals[0].port == 443);
    CHECK(c.health[1].reals[0].checkers[0].connect_port == 80);
    CHECK(c.services[3].key.fwmark == 9);
    CHECK(c.services[3].reals[0].port == 0);
    CHECK(c.health[3].reals[0].checkers[0].connect_port == 80);
    CHECK(c.services[1].reals[1].port == 443);
    CHECK(c.services[3].reals[1].port == 0);
    CHECK(c.health[3].reals[1].checkers[0].connect_port == 8000);
    const std::string rs = t.path.string() + "/k.conf:10: real_server 10.1.1.1 80: DR keeps the client's port: ";
    CHECK(has_warning(c, rs + "virtual_server group g entry '10.0.0.2-3 443' (" + t.path.string() +
                             "/k.conf:3) sends to the service's port 443, as keepalived; its checkers still connect to port 80"));
    CHECK(has_warning(c, rs + "virtual_server group g entry 'fwmark 9' (" + t.path.string() +
                             "/k.conf:4) sends to port 0 (the client's), as keepalived"));
    // One warning for the range's two services.
    CHECK(std::count_if(c.warnings.begin(), c.warnings.end(),
                        [](const std::string& w) { return w.find("'10.0.0.2-3 443'") != std::string::npos; }) == 1);

    // The same rules outside groups: keepalived resets a DR real server's port.
    auto plain = parse(R"(virtual_server 10.0.0.1 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.1.1.1 8080 {
        TCP_CHECK {
        }
    }
    sorry_server 10.9.9.9 8080
}
virtual_server fwmark 7 {
    lb_algo rr
    lb_kind TUN
    real_server 10.1.1.1 80 {
    }
})");
    CHECK(plain.services[0].reals[0].port == 80);
    CHECK(plain.health[0].reals[0].checkers[0].connect_port == 8080);
    CHECK(has_warning(plain, "k.conf:5: real_server 10.1.1.1 8080: DR keeps the client's port: virtual_server 10.0.0.1 80 "
                             "sends to the service's port 80, as keepalived"));
    CHECK(plain.services[0].sorry_server->port == 80);
    CHECK(has_warning(plain, "k.conf:9: sorry_server 10.9.9.9 8080: DR keeps the client's port: virtual_server 10.0.0.1 80 "
                             "sends to the service's port 80, as keepalived"));
    CHECK(plain.services[1].reals[0].port == 0);
    CHECK(has_warning(plain, "k.conf:14: real_server 10.1.1.1 80: TUN keeps the client's port: virtual_server fwmark 7 "
                             "sends to port 0 (the client's)"));

    // An entry without a port is every port: persistent services only, as the model and
    // keepalived ("zero port only valid for persistent services") say.
    auto any = parse(R"(virtual_server_group g {
    10.0.0.1
    10.0.0.2 0
}
virtual_server group g {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    persistence_timeout 60
    real_server 10.1.1.1 {
    }
})");
    REQUIRE(any.services.size() == 2);
    CHECK(any.services[0].key.port == 0);
    CHECK(any.services[1].key.port == 0);
    CHECK(any.services[0].persistence);
    CHECK(any.services[0].reals[0].port == 0);  // the client's
}

TEST_CASE("keepalived: virtual_server_group errors name the line") {
    TempDir t;
    auto err = [&](const std::string& text) {
        auto r = parse_keepalived(t.write("k.conf", text));
        REQUIRE_FALSE(r.ok());
        return r.error().str();
    };
    const std::string body = " {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 10.1.1.1 80 {\n }\n}\n";
    auto group = [&](const std::string& entries) { return "virtual_server_group g {\n" + entries + "}\nvirtual_server group g" + body; };
    CHECK(err("virtual_server group" + body).ends_with("k.conf:1: virtual_server: needs a group name: virtual_server group NAME { ... }"));
    CHECK(err("virtual_server_group {\n 10.0.0.1 80\n}\n").ends_with("k.conf:1: virtual_server_group: needs a name and a block: virtual_server_group NAME { IP [PORT] ... }"));
    CHECK(err(group(" 10.0.0.1 80 x\n")).ends_with("k.conf:2: virtual_server_group: unexpected 'x' after '10.0.0.1 80'"));
    CHECK(err(group(" 10.0.0.1 80 {\n }\n")).ends_with("k.conf:2: virtual_server_group: unexpected block after '10.0.0.1 80'"));
    CHECK(err(group(" 10.0.0.300 80\n")).ends_with("k.conf:2: virtual_server_group: bad address '10.0.0.300'"));
    CHECK(err(group(" 10.0.0.1 http\n")).ends_with("k.conf:2: virtual_server_group: bad port 'http' in '10.0.0.1 http'"));
    CHECK(err(group(" 10.0.0.5-5 80\n")).ends_with("k.conf:2: virtual_server_group: address range '10.0.0.5-5' does not end above its start"));
    CHECK(err(group(" 10.0.0.5-x 80\n")).ends_with("k.conf:2: virtual_server_group: bad address range '10.0.0.5-x'"));
    CHECK(err(group(" 10.0.0.5-10.0.0.1 80\n")).ends_with("k.conf:2: virtual_server_group: address range '10.0.0.5-10.0.0.1' ends before it starts"));
    CHECK(err(group(" 10.0.0.1/30 80\n")).ends_with("k.conf:2: virtual_server_group: network '10.0.0.1/30' has host bits set (10.0.0.0/30?)"));
    CHECK(err(group(" 10.0.0.0/33 80\n")).ends_with("k.conf:2: virtual_server_group: bad network '10.0.0.0/33' (a prefix length of 1 to 32)"));
    CHECK(err(group(" 10.0.0.1 80\n 10.1.0.0/16 80\n")).ends_with("k.conf:3: virtual_server_group: g: more than 16384 services (the dataplane's default max_services) by '10.1.0.0/16 80'"));
    CHECK(err(group(" fwmark 0\n")).ends_with("k.conf:2: fwmark: '0' is out of range 1..4294967295"));
    CHECK(err(group(" fwmark 5 inet6\n")).ends_with("k.conf:2: virtual_server_group: 'fwmark 5 inet6': IPv6 is not supported (dplb is IPv4 only)"));
    CHECK(err(group(" fwmark 5 ipx\n")).ends_with("k.conf:2: virtual_server_group: 'fwmark 5 ipx': unknown address family 'ipx' (inet)"));
    CHECK(err(group(" fwmark\n")).ends_with("k.conf:2: virtual_server_group: needs 'fwmark N [inet]', not 'fwmark'"));
    // No persistence for an entry without a port: the model's error, named by the virtual
    // server and the entry.
    CHECK(err(group(" 10.0.0.1\n")).ends_with("k.conf:4: virtual_server: port: port 0 (all ports) is only allowed for persistent "
                                             "services (tcp 10.0.0.1:0 of group g entry '10.0.0.1' (" + t.path.string() + "/k.conf:2))"));
    // Two entries giving one service.
    CHECK(err(group(" 10.0.0.1 80\n 10.0.0.0-3 80\n"))
              .ends_with("k.conf:5: virtual_server: group g entry '10.0.0.0-3 80' (" + t.path.string() + "/k.conf:3) gives tcp 10.0.0.1:80, "
                         "the same service as the virtual_server at " + t.path.string() + "/k.conf:5 through its group g entry '10.0.0.1 80' (" +
                         t.path.string() + "/k.conf:2)"));
    // A group's service that another virtual server already has.
    CHECK(err("virtual_server 10.0.0.2 80" + body + group(" 10.0.0.1-3 80\n"))
              .ends_with("k.conf:11: virtual_server: group g entry '10.0.0.1-3 80' (" + t.path.string() + "/k.conf:9) gives tcp 10.0.0.2:80, "
                         "the same service as the virtual_server at " + t.path.string() + "/k.conf:1"));
    // One group, two virtual servers: only with other protocols, and no fwmark entries.
    std::string udp = " {\n lb_algo rr\n lb_kind NAT\n protocol UDP\n real_server 10.1.1.1 80 {\n }\n}\n";
    CHECK(err(group(" 10.0.0.1 80\n fwmark 3\n") + "virtual_server group g" + udp)
              .ends_with("k.conf:12: virtual_server: group g entry 'fwmark 3' (" + t.path.string() + "/k.conf:3) gives fwmark 3, "
                         "the same service as the virtual_server at " + t.path.string() + "/k.conf:5 through its group g entry 'fwmark 3' (" +
                         t.path.string() + "/k.conf:3) (a fwmark entry is one service whatever the protocol: two virtual servers "
                         "cannot share a group with fwmark entries)"));
    auto both = parse_keepalived(t.write("k.conf", group(" 10.0.0.1 80\n") + "virtual_server group g" + udp));
    INFO((both ? std::string() : both.error().str()));
    CHECK(both.ok());
}

TEST_CASE("keepalived: each bad virtual_server_group fixture is an error naming its line") {
    CHECK(bad("bad/vsg_unknown_group.conf").ends_with("bad/vsg_unknown_group.conf:2: virtual_server: no virtual_server_group named 'nope'"));
    auto twice = bad("bad/vsg_defined_twice.conf");
    CHECK(twice.find("bad/vsg_defined_twice.conf:5: virtual_server_group: a second group named 'web' (the first is at ") != std::string::npos);
    CHECK(twice.ends_with("bad/vsg_defined_twice.conf:2)"));
    CHECK(bad("bad/vsg_empty.conf").ends_with("bad/vsg_empty.conf:2: virtual_server_group: web has no entries"));
    CHECK(bad("bad/vsg_backwards_range.conf").ends_with("bad/vsg_backwards_range.conf:4: virtual_server_group: address range '10.0.0.12-10' does not end above its start"));
    CHECK(bad("bad/vsg_range_past_255.conf").ends_with("bad/vsg_range_past_255.conf:3: virtual_server_group: address range '10.0.0.250-300' goes past the last byte's 255 (write the end address in full: IP-IP)"));
    CHECK(bad("bad/vsg_ipv6.conf").ends_with("bad/vsg_ipv6.conf:4: virtual_server_group: IPv6 address '2001:db8::1' is not supported (dplb is IPv4 only)"));
    CHECK(bad("bad/vsg_bad_port.conf").ends_with("bad/vsg_bad_port.conf:3: virtual_server_group: bad port '70000' in '10.0.0.1 70000'"));
    auto same = bad("bad/vsg_same_protocol_twice.conf");
    CHECK(same.find("bad/vsg_same_protocol_twice.conf:13: virtual_server: group web entry '10.0.0.1 80' (") != std::string::npos);
    CHECK(same.find("gives tcp 10.0.0.1:80, the same service as the virtual_server at ") != std::string::npos);
    CHECK(same.ends_with("(keepalived.conf(5): two virtual servers with the same protocol must not use the same group)"));
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
    CHECK(checked == 6);
}
