// What the NIC does with a received IPv4 TCP/UDP packet when the dataplane could program its
// RSS: a Toeplitz hash of (source address, destination address, source port, destination
// port) with a key we chose, then the redirection table (RETA) picks the RX queue, and worker
// i polls queue i. Knowing both, the dataplane can choose a FULLNAT local port whose reply
// lands on the queue of the worker that owns it (the local port's owner, snat/port_owner.hpp):
// hardware steering without flow director rules. Where a port's RSS cannot be programmed
// (net_tap, virtio without RSS), the software redirect between workers stays correct.
//
// Toeplitz is linear in its input (XOR), so the hash of a reply tuple is the hash with the
// local port zeroed XOR the local port's own contribution; the latter comes from two tables of
// 256 entries, so testing a candidate port costs two loads, not a Toeplitz run.
//
// Threading: filled once at start (runtime/ports.cpp) before workers launch, read-only after.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace dplb {

class RssSteering {
public:
    static constexpr size_t key_size = 40;  // the usual Toeplitz key length (ixgbe, mlx5, ...)
    static constexpr size_t max_reta = 512;
    // A fixed key (Microsoft's RSS verification key), so the hash is reproducible and
    // documented; any key works as long as the NIC is programmed with the one used here.
    static const std::array<uint8_t, key_size> default_key;

    RssSteering() = default;
    // `queue_of_entry[i]` is the RX queue of RETA entry i; `reta_size` a power of two.
    RssSteering(const std::array<uint8_t, key_size>& key, const uint16_t* queue_of_entry, uint16_t reta_size);

    bool enabled() const { return reta_size_ != 0; }
    const std::array<uint8_t, key_size>& key() const { return key_; }
    uint16_t reta_size() const { return reta_size_; }

    // Toeplitz hash of a TCP/UDP IPv4 tuple (all network order), as the NIC computes it.
    uint32_t hash(uint32_t saddr_be, uint32_t daddr_be, uint16_t sport_be, uint16_t dport_be) const;
    // The RX queue a packet with this hash is delivered to.
    uint16_t queue(uint32_t hash) const { return reta_[hash & (reta_size_ - 1)]; }
    // hash(s, d, sp, dport) == hash(s, d, sp, 0) ^ dport_part(dport); `dport` in host order.
    uint32_t dport_part(uint16_t dport) const { return dport_hi_[dport >> 8] ^ dport_lo_[dport & 0xff]; }

private:
    std::array<uint8_t, key_size> key_{};
    uint16_t reta_size_ = 0;
    std::array<uint16_t, max_reta> reta_{};
    std::array<uint32_t, 256> dport_hi_{}, dport_lo_{};
};

}  // namespace dplb
