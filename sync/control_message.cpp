#include "sync/control_message.hpp"

#include "sync/byte_io.hpp"
#include "sync/ipvs_wire.hpp"

namespace dplb::sync {

namespace {
constexpr uint8_t magic[4] = {'d', 'p', 'l', 'b'};
}

std::vector<uint8_t> encode_control(uint8_t syncid, const ControlMessage& m) {
    std::vector<uint8_t> b(header_size + control_block_size, 0);
    b[1] = syncid;
    store_be16(&b[2], uint16_t(b.size()));
    b[4] = 0;  // nr_conns
    b[5] = proto_version;
    uint8_t* c = &b[header_size];
    std::memcpy(c, magic, 4);
    c[4] = uint8_t(m.kind);
    c[5] = control_version;
    store_be16(c + 6, uint16_t(control_block_size));
    store_be32(c + 8, m.request_id);
    store_be16(c + 12, m.nworkers);
    store_be32(c + 16, m.records);
    return b;
}

bool looks_like_control(std::span<const uint8_t> block) {
    return block.size() >= 4 && std::memcmp(block.data(), magic, 4) == 0;
}

DecodeError decode_control_block(std::span<const uint8_t> block, ControlMessage& out) {
    if (block.size() != control_block_size || !looks_like_control(block)) return DecodeError::bad_control;
    const uint8_t* c = block.data();
    if (c[4] != uint8_t(ControlKind::full_table_request) && c[4] != uint8_t(ControlKind::full_table_end))
        return DecodeError::bad_control;
    if (c[5] != control_version || load_be16(c + 6) != control_block_size || load_be16(c + 14) != 0)
        return DecodeError::bad_control;
    ControlMessage m;
    m.kind = ControlKind(c[4]);
    m.request_id = load_be32(c + 8);
    m.nworkers = load_be16(c + 12);
    m.records = load_be32(c + 16);
    if (m.kind == ControlKind::full_table_request && m.records != 0) return DecodeError::bad_control;
    out = m;
    return DecodeError::none;
}

}  // namespace dplb::sync
