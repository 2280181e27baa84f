// pkt::csum_* against the test's byte-by-byte reference sum.
#include <catch2/catch.hpp>
#include <random>

#include "dataplane/forward/rewrite.hpp"
#include "dataplane/packet/checksum.hpp"
#include "packet_builder.hpp"

using namespace dplb;
using dplb::test::Bytes;

namespace {

Bytes random_bytes(std::mt19937& rng, size_t n) {
    Bytes b(n);
    for (auto& x : b) x = uint8_t(rng());
    return b;
}
uint16_t stored(uint16_t host) { return __builtin_bswap16(host); }  // as the field holds it

}  // namespace

TEST_CASE("csum_compute equals the reference sum for every length 0..200, odd ones included", "[checksum]") {
    std::mt19937 rng(12345);
    for (size_t len = 0; len <= 200; ++len) {
        Bytes b = random_bytes(rng, len);
        INFO("len " << len);
        CHECK(pkt::csum_compute(b.data(), b.size()) == stored(test::ref_checksum(b.data(), b.size())));
    }
}

TEST_CASE("csum_compute of all-0xff data does not overflow the accumulator", "[checksum]") {
    Bytes b(65535, 0xff);
    CHECK(pkt::csum_compute(b.data(), b.size()) == stored(test::ref_checksum(b.data(), b.size())));
}

TEST_CASE("csum_pseudo_ipv4 matches the reference pseudo-header", "[checksum]") {
    uint32_t s = test::ip("192.0.2.1"), d = test::ip("10.255.0.77");
    // Pseudo-header bytes: saddr, daddr, 0, proto, length.
    Bytes ph(12, 0);
    std::memcpy(&ph[0], &s, 4);
    std::memcpy(&ph[4], &d, 4);
    ph[9] = 17;
    ph[10] = 0x05;
    ph[11] = 0xdc;
    uint16_t want = test::ref_checksum(ph.data(), ph.size());
    CHECK(uint16_t(~pkt::csum_fold(pkt::csum_pseudo_ipv4(s, d, 17, 1500))) == stored(want));
}

TEST_CASE("incremental updates (csum_replace16/32, CsumDelta) equal a recomputation", "[checksum]") {
    std::mt19937 rng(777);
    for (int round = 0; round < 2000; ++round) {
        Bytes b = random_bytes(rng, 40);
        uint16_t check = pkt::csum_compute(b.data(), b.size());
        uint16_t old16, new16 = uint16_t(rng());
        uint32_t old32, new32 = uint32_t(rng());
        std::memcpy(&old16, &b[6], 2);
        std::memcpy(&old32, &b[20], 4);
        if (round % 7 == 0) new32 = old32;  // no-op changes keep the checksum
        std::memcpy(&b[6], &new16, 2);
        std::memcpy(&b[20], &new32, 4);
        uint16_t want = pkt::csum_compute(b.data(), b.size());
        INFO("round " << round);
        CHECK(pkt::csum_replace32(pkt::csum_replace16(check, old16, new16), old32, new32) == want);
        fwd::CsumDelta d;
        d.add16(old16, new16);
        d.add32(old32, new32);
        CHECK(d.apply(check) == want);
    }
}
