// Small text helpers shared by dplbadm's formatters.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "dplb/ip4.hpp"

namespace dplb::dplbadm {

// snprintf into a std::string (lines are short: at most 512 bytes).
template <class... A>
std::string printf_string(const char* fmt, A... args) {
    char buf[512];
    int n = std::snprintf(buf, sizeof buf, fmt, args...);
    return std::string(buf, n < 0 ? 0 : std::min<std::size_t>(std::size_t(n), sizeof buf - 1));
}

// A dotted quad's value in host order, for sorting (0 for anything else).
inline uint32_t host_order(const std::string& address) {
    auto a = Ip4::parse(address);
    return a ? a->host() : 0;
}

// ipvsadm cuts service names at 33 characters and server names at 28.
inline std::string cut(std::string s, std::size_t n) {
    if (s.size() > n) s.resize(n);
    return s;
}

}  // namespace dplb::dplbadm
