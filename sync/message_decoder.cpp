#include "sync/message_decoder.hpp"

#include "sync/byte_io.hpp"

namespace dplb::sync {

namespace {

// Options of the IPv4 record [opt, end). Structural errors are returned; the first
// record-level reason goes to *skip.
DecodeError decode_options(const uint8_t* q, const uint8_t* end, SyncConn& c, DecodeError* skip) {
    bool seen_seq = false, seen_pe_data = false, seen_pe_name = false;
    while (q < end) {
        if (end - q < 2) return DecodeError::option_truncated;
        const uint8_t type = q[0];
        const uint8_t len = q[1];
        q += 2;
        if (len == 0) return DecodeError::option_zero_length;
        if (end - q < len) return DecodeError::option_overrun;
        // As the kernel: the optional bit is ignored when matching the known types.
        switch (type & ~opt_f_param) {
        case opt_seq_data: {
            if (len != seq_data_size) return DecodeError::seq_data_length;
            if (seen_seq) return DecodeError::duplicate_option;
            seen_seq = true;
            SeqData s;
            s.in = {load_be32(q), load_be32(q + 4), load_be32(q + 8)};
            s.out = {load_be32(q + 12), load_be32(q + 16), load_be32(q + 20)};
            c.seq = s;
            break;
        }
        case opt_pe_data:
            if (seen_pe_data) return DecodeError::duplicate_option;
            seen_pe_data = true;
            if (!c.pe) c.pe = PeInfo{};
            c.pe->data_len = len;
            break;
        case opt_pe_name:
            if (len > pe_name_max) return DecodeError::pe_name_too_long;
            if (seen_pe_name) return DecodeError::duplicate_option;
            seen_pe_name = true;
            if (!c.pe) c.pe = PeInfo{};
            c.pe->name_len = len;
            for (uint8_t i = 0; i < len; ++i) c.pe->name[i] = char(q[i]);
            break;
        default:
            if (type == opt_dplb_fullnat) {
                if (len != dplb_fullnat_size) return DecodeError::dplb_option_length;
                if (c.fullnat) return DecodeError::duplicate_option;
                c.fullnat = FullnatData{load_raw32(q), load_raw16(q + 4)};
            } else if (type == opt_dplb_ports) {
                if (len != dplb_ports_size) return DecodeError::dplb_option_length;
                if (c.ports) return DecodeError::duplicate_option;
                c.ports = PortsData{load_raw16(q), load_raw16(q + 2)};
            } else if (!(type & opt_f_param) && *skip == DecodeError::none) {
                *skip = DecodeError::unknown_mandatory_option;
            }
        }
        q += len;
    }
    return DecodeError::none;
}

// What the kernel's backup would refuse for this record's protocol and state.
DecodeError check_protocol_state(const SyncConn& c) {
    if (c.is_template()) {
        if (c.protocol != ipproto_ip && c.protocol != ipproto_tcp && c.protocol != ipproto_udp)
            return DecodeError::unsupported_protocol;
        return c.state < ipvs_ctpl_last ? DecodeError::none : DecodeError::bad_state;
    }
    if (c.protocol == ipproto_tcp) return c.state < ipvs_tcp_last ? DecodeError::none : DecodeError::bad_state;
    if (c.protocol == ipproto_udp) return c.state < ipvs_udp_last ? DecodeError::none : DecodeError::bad_state;
    return DecodeError::unsupported_protocol;
}

bool all_zero(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i]) return false;
    return true;
}

DecodeError decode(std::span<const uint8_t> bytes, SyncMessage& out) {
    const uint8_t* const b = bytes.data();
    const size_t n = bytes.size();
    if (n < header_v0_size) return DecodeError::short_header;
    if (load_be16(b + 2) != n) return DecodeError::size_mismatch;
    if (b[0] != 0) return DecodeError::v0_message;
    if (n < header_size) return DecodeError::short_header;
    if (b[5] != proto_version) return DecodeError::unknown_version;
    if (b[6] != 0 || b[7] != 0) return DecodeError::spare_not_zero;
    out.syncid = b[1];
    const unsigned nr = b[4];

    size_t off = header_size;  // where the next record starts
    if (nr == 0) {
        if (off == n) return DecodeError::none;
        std::span<const uint8_t> rest = bytes.subspan(off);
        if (!looks_like_control(rest)) return DecodeError::trailing_bytes;
        ControlMessage m;
        if (DecodeError e = decode_control_block(rest, m); e != DecodeError::none) return e;
        out.control = m;
        return DecodeError::none;
    }

    size_t prev_end = off;  // end of the previous record (padding excluded)
    out.conns.reserve(nr);
    for (unsigned i = 0; i < nr; ++i) {
        if (off > n || n - off < conn_v4_size) return DecodeError::truncated_record;
        if (!all_zero(b + prev_end, off - prev_end)) return DecodeError::padding_not_zero;
        const uint8_t* r = b + off;
        const uint16_t ver_size = load_be16(r + 2);
        const size_t size = ver_size & sver_mask;
        if (size > n - off) return DecodeError::record_overrun;
        if (ver_size >> sver_shift) return DecodeError::record_version;
        if (r[0] & ~stype_f_inet6) return DecodeError::record_type;
        const bool v6 = r[0] & stype_f_inet6;
        if (size < (v6 ? conn_v6_size : conn_v4_size)) return DecodeError::record_too_short;

        DecodeError skip = DecodeError::none;
        SyncConn c;
        if (v6) {
            skip = DecodeError::ipv6_unsupported;  // its options are not read (no IPv6 here)
        } else {
            c.protocol = r[1];
            c.flags = load_be32(r + 4);
            c.state = load_be16(r + 8);
            c.cport = load_raw16(r + 10);
            c.vport = load_raw16(r + 12);
            c.dport = load_raw16(r + 14);
            c.fwmark = load_be32(r + 16);
            c.timeout_s = load_be32(r + 20);
            c.caddr = load_raw32(r + 24);
            c.vaddr = load_raw32(r + 28);
            c.daddr = load_raw32(r + 32);
            if (DecodeError e = decode_options(r + conn_v4_size, r + size, c, &skip); e != DecodeError::none) return e;
            if (skip == DecodeError::none) skip = check_protocol_state(c);
        }
        if (skip == DecodeError::none)
            out.conns.push_back(c);
        else
            out.skipped.push_back({uint8_t(i), skip});
        prev_end = off + size;
        off += (size + 3) & ~size_t(3);
    }
    // The kernel never pads its last record; a sender that does may add at most 3 zero bytes.
    if (n - prev_end > 3) return DecodeError::trailing_bytes;
    if (!all_zero(b + prev_end, n - prev_end)) return DecodeError::padding_not_zero;
    return DecodeError::none;
}

}  // namespace

DecodeError decode_message(std::span<const uint8_t> bytes, SyncMessage& out) {
    out = SyncMessage{};
    DecodeError e = decode(bytes, out);
    if (e != DecodeError::none) out = SyncMessage{};
    return e;
}

}  // namespace dplb::sync
