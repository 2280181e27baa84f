// Shared fixtures for the control unit tests.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

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
