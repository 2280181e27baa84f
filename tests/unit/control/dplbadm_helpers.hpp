// Running dplbadm command lines through its parser in tests.
#pragma once

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tools/dplbadm/args.hpp"

namespace dplb::test {

// Words of a command line; a leading "ipvsadm" or "dplbadm" (as the seeds write them) is dropped.
inline std::vector<std::string> split(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    if (!out.empty() && (out[0] == "ipvsadm" || out[0] == "dplbadm")) out.erase(out.begin());
    return out;
}

inline dplbadm::Invocation parse(const std::string& line) {
    auto r = dplbadm::parse_args(split(line));
    INFO(line);
    if (!r.ok()) FAIL(r.error().str());
    return *r;
}

inline std::string usage_error(const std::string& line) {
    auto r = dplbadm::parse_args(split(line));
    INFO(line);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

}  // namespace dplb::test
