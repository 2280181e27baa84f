#include "sync/message_encoder.hpp"

#include <algorithm>

#include "sync/byte_io.hpp"

namespace dplb::sync {

size_t encoded_size(const SyncConn& c) {
    size_t n = conn_v4_size;
    if (c.seq) n += 2 + seq_data_size;
    if (c.fullnat) n += 2 + dplb_fullnat_size;
    if (c.ports) n += 2 + dplb_ports_size;
    return n;
}

void write_record(uint8_t* p, const SyncConn& c) {
    const size_t size = encoded_size(c);
    p[0] = 0;  // type: IPv4
    p[1] = c.protocol;
    store_be16(p + 2, uint16_t(size & sver_mask));  // record version 0
    store_be32(p + 4, c.flags & ~conn_f_hashed);
    store_be16(p + 8, c.state);
    store_raw16(p + 10, c.cport);
    store_raw16(p + 12, c.vport);
    store_raw16(p + 14, c.dport);
    store_be32(p + 16, c.fwmark);
    store_be32(p + 20, c.timeout_s);
    store_raw32(p + 24, c.caddr);
    store_raw32(p + 28, c.vaddr);
    store_raw32(p + 32, c.daddr);
    uint8_t* o = p + conn_v4_size;
    if (c.seq) {
        *o++ = opt_seq_data;
        *o++ = uint8_t(seq_data_size);
        for (const SeqAdjust* s : {&c.seq->in, &c.seq->out}) {
            store_be32(o, s->init_seq);
            store_be32(o + 4, s->delta);
            store_be32(o + 8, s->previous_delta);
            o += 12;
        }
    }
    if (c.fullnat) {
        *o++ = opt_dplb_fullnat;
        *o++ = uint8_t(dplb_fullnat_size);
        store_raw32(o, c.fullnat->laddr);
        store_raw16(o + 4, c.fullnat->lport);
        o += dplb_fullnat_size;
    }
    if (c.ports) {
        *o++ = opt_dplb_ports;
        *o++ = uint8_t(dplb_ports_size);
        store_raw16(o, c.ports->service_port);
        store_raw16(o + 2, c.ports->real_port);
        o += dplb_ports_size;
    }
}

MessageBuilder::MessageBuilder(uint8_t syncid, size_t max_payload)
    : syncid_(syncid), max_(std::clamp<size_t>(max_payload, min_max_payload, 65535)) {
    buf_.reserve(max_);
    reset();
}

void MessageBuilder::reset() {
    buf_.assign(header_size, 0);
    buf_[1] = syncid_;
    store_be16(&buf_[2], uint16_t(header_size));
    buf_[5] = proto_version;
}

bool MessageBuilder::add(const SyncConn& c) {
    if (count() == 255) return false;
    const size_t pad = (4 - buf_.size() % 4) % 4;  // the header is 8 bytes: offsets match the kernel's
    const size_t len = encoded_size(c);
    if (buf_.size() + pad + len > max_) return false;
    const size_t at = buf_.size() + pad;
    buf_.resize(at + len, 0);
    write_record(&buf_[at], c);
    buf_[4] = uint8_t(count() + 1);
    store_be16(&buf_[2], uint16_t(buf_.size()));
    return true;
}

std::vector<std::vector<uint8_t>> encode_messages(std::span<const SyncConn> conns, uint8_t syncid, size_t max_payload) {
    std::vector<std::vector<uint8_t>> out;
    MessageBuilder b(syncid, max_payload);
    for (const SyncConn& c : conns) {
        if (!b.add(c)) {
            out.emplace_back(b.bytes().begin(), b.bytes().end());
            b.reset();
            b.add(c);  // always fits an empty message (min_max_payload)
        }
    }
    if (!b.empty()) out.emplace_back(b.bytes().begin(), b.bytes().end());
    return out;
}

}  // namespace dplb::sync
