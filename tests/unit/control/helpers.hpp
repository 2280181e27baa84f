// Shared fixtures for the control unit tests.
#pragma once

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "codec/config_json.hpp"
#include "codec/json_parse.hpp"
#include "dplb/config.hpp"

namespace dplb::test {

inline nlohmann::json J(const char* text) { return nlohmann::json::parse(text); }

// The NAT lab of the seed documents: one rr service, two masqueraded real servers.
inline config::Config nat_lab() {
    config::Config c;
    config::Service s;
    s.key = {config::Protocol::tcp, *Ip4::parse("192.168.227.128"), 80};
    s.scheduler = config::Scheduler::rr;
    config::RealServer r1;
    r1.address = *Ip4::parse("192.168.253.143");
    r1.port = 80;
    config::RealServer r2 = r1;
    r2.address = *Ip4::parse("192.168.253.144");
    s.reals = {r1, r2};
    c.services.push_back(s);
    return c;
}

// A configuration using every feature of the model, in ipvsadm's listing order (so that -S
// then -R gives it back as it is): address services (tcp, then udp) before fwmark services,
// real servers by address and port.
inline config::Config every_feature() {
    using namespace config;
    auto ip = [](const char* a) { return *Ip4::parse(a); };
    auto real = [&](const char* a, uint16_t port, ForwardMethod f, uint32_t weight = 1) {
        RealServer r;
        r.address = ip(a);
        r.port = port;
        r.forward = f;
        r.weight = weight;
        return r;
    };
    Config c;
    c.timeouts = {800, 100, 200};
    c.port_groups = {
        {66, {{Protocol::tcp, ip("192.168.0.200"), 80, 80}, {Protocol::tcp, ip("192.168.0.200"), 443, 443},
              {Protocol::udp, ip("192.168.0.200"), 8000, 8100}}},
        {67, {{Protocol::udp, ip("10.0.0.9"), 53, 53}}},
    };
    Service sh;
    sh.key = {Protocol::tcp, ip("10.0.0.1"), 80};
    sh.scheduler = Scheduler::sh;
    sh.sched_flags = sched_flag_sh_fallback | sched_flag_sh_port;
    sh.timeouts.tcp = 60;
    sh.timeouts.udp = 30;
    sh.reals = {real("10.1.1.1", 8080, ForwardMethod::nat, 3), real("10.1.1.2", 80, ForwardMethod::dr, 0),
                real("10.2.0.1", 80, ForwardMethod::tunnel, 2)};
    sh.reals[0].upper_threshold = 100;
    sh.reals[0].lower_threshold = 10;
    Service mh;
    mh.key = {Protocol::tcp, ip("10.0.0.1"), 443};
    mh.scheduler = Scheduler::mh;
    mh.mh_table_size = 131071;
    mh.sched_flags = sched_flag_mh_port;
    mh.local_addresses = {ip("192.168.100.200"), ip("192.168.100.201")};
    mh.reals = {real("10.1.1.1", 443, ForwardMethod::fullnat), real("10.1.1.3", 8443, ForwardMethod::nat)};
    Service any_port;
    any_port.key = {Protocol::tcp, ip("10.0.0.2"), 0};
    any_port.persistence = Persistence{3600, ip("255.255.255.255")};
    any_port.reals = {real("10.1.1.5", 0, ForwardMethod::dr), real("10.1.1.6", 8080, ForwardMethod::nat)};
    Service udp;
    udp.key = {Protocol::udp, ip("10.0.0.53"), 53};
    udp.scheduler = Scheduler::lc;
    udp.expire_nodest_conn = true;
    udp.reals = {real("10.1.1.7", 53, ForwardMethod::nat)};
    Service fwm;
    fwm.key.fwmark = 66;
    fwm.scheduler = Scheduler::rr;
    fwm.persistence = Persistence{600, ip("255.255.255.0")};
    fwm.reals = {real("192.168.0.10", 0, ForwardMethod::dr), real("192.168.0.20", 0, ForwardMethod::dr)};
    Service fwm67;
    fwm67.key.fwmark = 67;
    fwm67.scheduler = Scheduler::wrr;
    fwm67.reals = {real("10.1.1.8", 5353, ForwardMethod::nat, 5)};
    c.services = {sh, mh, any_port, udp, fwm, fwm67};
    return c;
}

// `c` comes back the same from its JSON, and from that JSON's text (as the state file and the
// sockets carry it).
inline void check_round_trip(const config::Config& c) {
    nlohmann::json j = model::to_json(c);
    auto back = model::config_from_json(j);
    REQUIRE(back.ok());
    CHECK(*back == c);
    auto reparsed = model::parse_json(model::dump_line(j));
    REQUIRE(reparsed.ok());
    auto again = model::config_from_json(*reparsed);
    REQUIRE(again.ok());
    CHECK(*again == c);
}

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "dplb-unit-XXXXXX").string();
        path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

}  // namespace dplb::test
