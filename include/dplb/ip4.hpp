// IPv4 address and prefix value types shared by every process.
//
// Addresses are stored in network byte order, exactly as they appear in packets,
// so the fast path never converts; only parsing and printing do.
#pragma once

#include <arpa/inet.h>

#include <bit>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dplb {

struct Ip4 {
    uint32_t be = 0;  // network byte order

    static constexpr Ip4 from_host(uint32_t host) { return Ip4{htonl_constexpr(host)}; }
    constexpr uint32_t host() const { return htonl_constexpr(be); }
    constexpr bool is_zero() const { return be == 0; }

    // Strict dotted quad ("10.0.0.1"); nullopt on anything else.
    static std::optional<Ip4> parse(std::string_view text) {
        std::string s(text);
        in_addr a{};
        if (s.empty() || s.size() > 15 || inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
        return Ip4{a.s_addr};
    }
    std::string str() const {
        char buf[INET_ADDRSTRLEN];
        in_addr a{be};
        inet_ntop(AF_INET, &a, buf, sizeof buf);
        return buf;
    }

    friend constexpr bool operator==(Ip4, Ip4) = default;
    friend constexpr auto operator<=>(Ip4 a, Ip4 b) { return a.host() <=> b.host(); }

private:
    static constexpr uint32_t htonl_constexpr(uint32_t v) {
        if constexpr (std::endian::native == std::endian::little) return __builtin_bswap32(v);
        return v;
    }
};

struct Ip4Prefix {
    Ip4 address;     // host bits are kept as written (an interface address is a prefix with host bits)
    uint8_t length = 32;

    constexpr uint32_t mask_host() const { return length == 0 ? 0 : ~uint32_t{0} << (32 - length); }
    constexpr Ip4 network() const { return Ip4::from_host(address.host() & mask_host()); }
    constexpr bool contains(Ip4 a) const { return (a.host() & mask_host()) == network().host(); }

    // "10.0.0.1/24" or "10.0.0.1" (= /32); nullopt on anything else.
    static std::optional<Ip4Prefix> parse(std::string_view text) {
        auto slash = text.find('/');
        auto addr = Ip4::parse(text.substr(0, slash));
        if (!addr) return std::nullopt;
        if (slash == std::string_view::npos) return Ip4Prefix{*addr, 32};
        auto len_text = text.substr(slash + 1);
        if (len_text.empty() || len_text.size() > 2) return std::nullopt;
        unsigned len = 0;
        for (char c : len_text) {
            if (c < '0' || c > '9') return std::nullopt;
            len = len * 10 + unsigned(c - '0');
        }
        if (len > 32) return std::nullopt;
        return Ip4Prefix{*addr, uint8_t(len)};
    }
    std::string str() const { return address.str() + "/" + std::to_string(length); }
    friend constexpr bool operator==(const Ip4Prefix&, const Ip4Prefix&) = default;
};

}  // namespace dplb
