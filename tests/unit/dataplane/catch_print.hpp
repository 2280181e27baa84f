// How Catch prints the dataplane's enums in failure messages (names, not numbers).
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dataplane/forward/verdict.hpp"
#include "dataplane/session/tcp_state.hpp"
#include "dataplane/stats/drop_reason.hpp"

namespace Catch {

// Frames: length and the first bytes in hex (tests add the differing offsets with INFO).
template <>
struct StringMaker<std::vector<uint8_t>> {
    static std::string convert(const std::vector<uint8_t>& b) {
        std::string out = std::to_string(b.size()) + " bytes:";
        char hex[4];
        for (size_t i = 0; i < b.size() && i < 64; ++i) {
            std::snprintf(hex, sizeof hex, " %02x", b[i]);
            out += hex;
        }
        return b.size() > 64 ? out + " ..." : out;
    }
};

template <>
struct StringMaker<dplb::DropReason> {
    static std::string convert(dplb::DropReason r) { return std::string(dplb::to_string(r)); }
};
template <>
struct StringMaker<dplb::SessionState> {
    static std::string convert(dplb::SessionState s) { return dplb::to_string(s); }
};
template <>
struct StringMaker<dplb::fwd::Verdict::Action> {
    static std::string convert(dplb::fwd::Verdict::Action a) {
        static const char* const names[] = {"forward", "reply", "to_main", "drop"};
        return unsigned(a) < 4 ? names[unsigned(a)] : "?";
    }
};

}  // namespace Catch
