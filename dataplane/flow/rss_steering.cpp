#include "dataplane/flow/rss_steering.hpp"

#include <rte_thash.h>

namespace dplb {

const std::array<uint8_t, RssSteering::key_size> RssSteering::default_key = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

RssSteering::RssSteering(const std::array<uint8_t, key_size>& key, const uint16_t* queue_of_entry,
                         uint16_t reta_size)
    : key_(key), reta_size_(reta_size) {
    if (reta_size_ == 0 || reta_size_ > max_reta || (reta_size_ & (reta_size_ - 1))) {
        reta_size_ = 0;  // not a table a NIC indexes by the hash's low bits: no prediction
        return;
    }
    for (uint16_t i = 0; i < reta_size_; ++i) reta_[i] = queue_of_entry[i];
    for (uint32_t b = 0; b < 256; ++b) {
        dport_hi_[b] = hash(0, 0, 0, __builtin_bswap16(uint16_t(b << 8)));
        dport_lo_[b] = hash(0, 0, 0, __builtin_bswap16(uint16_t(b)));
    }
}

uint32_t RssSteering::hash(uint32_t saddr_be, uint32_t daddr_be, uint16_t sport_be, uint16_t dport_be) const {
    // rte_softrss wants the tuple as host-order words: addresses, then sport << 16 | dport.
    uint32_t tuple[RTE_THASH_V4_L4_LEN] = {__builtin_bswap32(saddr_be), __builtin_bswap32(daddr_be),
                                           uint32_t(__builtin_bswap16(sport_be)) << 16 | __builtin_bswap16(dport_be)};
    return rte_softrss(tuple, RTE_THASH_V4_L4_LEN, key_.data());
}

}  // namespace dplb
