// An IPv4 address appended in dotted decimal, as inet_ntop (Ip4::str) writes it, without its
// sprintf or a temporary string: a /metrics scrape of 10,000 services writes ~60,000
// addresses (codec/counters_text.cpp, control/metrics/render.cpp).
//
// Threading: a function of its arguments.
#pragma once

#include <string>

#include "dplb/ip4.hpp"

namespace dplb {

inline void append_ip4(std::string& out, Ip4 a) {
    char buf[16];
    char* p = buf;
    const uint32_t h = a.host();
    for (int shift = 24; shift >= 0; shift -= 8) {
        const unsigned octet = (h >> shift) & 0xff;
        if (octet >= 100) *p++ = char('0' + octet / 100);
        if (octet >= 10) *p++ = char('0' + octet / 10 % 10);
        *p++ = char('0' + octet % 10);
        if (shift) *p++ = '.';
    }
    out.append(buf, p);
}

}  // namespace dplb
