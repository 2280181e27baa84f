// One connection as the IPVS sync protocol carries it (struct ip_vs_sync_v4 and its
// options), plus dplb's extensions. A plain value: what the encoder writes and the decoder
// reads, nothing about dplb's tables (dataplane/sync/session_sync.hpp converts).
//
// Byte order: addresses and ports in network order (as in packets and in dplb's FlowKey);
// flags, state, fwmark, timeout and the sequence numbers in host order.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "sync/ipvs_wire.hpp"

namespace dplb::sync {

// struct ip_vs_seq as the record carries it (IPVS_OPT_SEQ_DATA): NAT sequence adjustment
// for FTP-like helpers. dplb never adjusts sequences; it decodes and re-encodes them.
struct SeqAdjust {
    uint32_t init_seq = 0;
    uint32_t delta = 0;
    uint32_t previous_delta = 0;
    friend bool operator==(const SeqAdjust&, const SeqAdjust&) = default;
};
struct SeqData {
    SeqAdjust in, out;
    friend bool operator==(const SeqData&, const SeqData&) = default;
};

// dplb extension (option opt_dplb_fullnat): the source the session uses toward the real
// server, LIP:lport.
struct FullnatData {
    uint32_t laddr = 0;  // network order
    uint16_t lport = 0;  // network order
    friend bool operator==(const FullnatData&, const FullnatData&) = default;
};

// dplb extension (option opt_dplb_ports): the ports as configured, which the record's
// vport/dport do not say for port-0 services and port-0 real servers (both then carry the
// client's destination port).
struct PortsData {
    uint16_t service_port = 0;  // network order; 0 = a port-0 (or mark) service
    uint16_t real_port = 0;     // network order; 0 = the real server keeps the client's port
    friend bool operator==(const PortsData&, const PortsData&) = default;
};

// A persistence engine's data (IPVS_OPT_PE_DATA / PE_NAME, the kernel's SIP engine). dplb
// has no persistence engines: the decoder checks and keeps them so that the installer can
// refuse the record by name; the encoder never writes them.
struct PeInfo {
    uint8_t data_len = 0;
    uint8_t name_len = 0;
    std::array<char, pe_name_max> name{};
    friend bool operator==(const PeInfo&, const PeInfo&) = default;
};

struct SyncConn {
    uint8_t protocol = 0;   // IPPROTO_TCP / IPPROTO_UDP; 0 (IPPROTO_IP) for a mark template
    uint32_t flags = 0;     // IP_VS_CONN_F_* (never HASHED)
    uint16_t state = 0;     // IPVS state number (TCP, UDP, or template)
    uint16_t cport = 0, vport = 0, dport = 0;  // network order
    uint32_t fwmark = 0;
    uint32_t timeout_s = 0;  // 0 = the receiver's default for the state
    uint32_t caddr = 0, vaddr = 0, daddr = 0;  // network order
    std::optional<SeqData> seq;          // IPVS_OPT_SEQ_DATA (sent iff flags has IN_SEQ or OUT_SEQ)
    std::optional<PeInfo> pe;            // decoded only
    std::optional<FullnatData> fullnat;  // opt_dplb_fullnat
    std::optional<PortsData> ports;      // opt_dplb_ports

    uint32_t fwd_method() const { return flags & conn_f_fwd_mask; }
    bool is_template() const { return flags & conn_f_template; }
    friend bool operator==(const SyncConn&, const SyncConn&) = default;
};

// Bytes a record takes without the padding before the next one (its ver_size).
size_t encoded_size(const SyncConn& c);

}  // namespace dplb::sync
