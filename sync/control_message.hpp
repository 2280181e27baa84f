// dplb's control messages on the sync channel: what IPVS lacks, a node that (re)starts asks
// its peer for its whole table, and the peer says when the dump is over.
//
// A control message is a valid sync v1 message with nr_conns = 0 followed by one control
// block. A kernel backup (ip_vs_process_message) checks the size, the syncid and the v1
// header, loops over zero records and ignores the rest: it never reads the block.
//
// Control block (20 bytes, after the 8-byte header):
//   0 magic      "dplb" (0x64 0x70 0x6c 0x62)
//   4 kind       u8: 1 full_table_request, 2 full_table_end
//   5 version    u8: 1
//   6 length     be16: 20 (the block, these fields included)
//   8 request_id be32: chosen by the requester, echoed by the end marker
//  12 nworkers   be16: the sender's worker count (the owner rule needs the same count on
//                      both nodes for FULLNAT: a receiver counts a mismatch)
//  14 reserved   be16: 0
//  16 records    be32: full_table_end: how many records the dump sent; request: 0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sync/decode_error.hpp"

namespace dplb::sync {

enum class ControlKind : uint8_t { full_table_request = 1, full_table_end = 2 };

struct ControlMessage {
    ControlKind kind = ControlKind::full_table_request;
    uint32_t request_id = 0;
    uint16_t nworkers = 0;
    uint32_t records = 0;
    friend bool operator==(const ControlMessage&, const ControlMessage&) = default;
};

inline constexpr size_t control_block_size = 20;
inline constexpr uint8_t control_version = 1;

// The whole datagram (header + block).
std::vector<uint8_t> encode_control(uint8_t syncid, const ControlMessage& m);

// Decodes the block that follows a header with nr_conns 0; `block` is everything after it.
DecodeError decode_control_block(std::span<const uint8_t> block, ControlMessage& out);

// Whether the bytes after an empty header start like a control block.
bool looks_like_control(std::span<const uint8_t> block);

}  // namespace dplb::sync
