// Sync v1 messages from records: a header, then records each starting on a 4-byte boundary
// (zero padding before every record but the first, as ip_vs_sync_conn() writes them), never
// more than `max_payload` bytes (the UDP payload: default 1500 - 20 - 8) nor 255 records.
//
// Threading: a plain value; used by the one thread that sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sync/sync_conn.hpp"

namespace dplb::sync {

// The largest record dplb writes: fixed part, SEQ_DATA, both dplb options.
inline constexpr size_t max_record_size = conn_v4_size + 2 + seq_data_size + 2 + dplb_fullnat_size + 2 + dplb_ports_size;
// Smallest max_payload the encoder accepts (a header and the largest record, padded).
inline constexpr size_t min_max_payload = header_size + ((max_record_size + 3) & ~size_t(3));

// Builds one message at a time.
class MessageBuilder {
public:
    // max_payload is clamped to [min_max_payload, 65535].
    explicit MessageBuilder(uint8_t syncid, size_t max_payload = default_max_payload);

    // Appends `c`; false (and nothing written) if it does not fit: send bytes(), reset(),
    // add again.
    bool add(const SyncConn& c);
    unsigned count() const { return buf_[4]; }
    bool empty() const { return count() == 0; }
    std::span<const uint8_t> bytes() const { return buf_; }
    void reset();

private:
    uint8_t syncid_;
    size_t max_;
    std::vector<uint8_t> buf_;
};

// Writes record `c` at `p` (encoded_size(c) bytes).
void write_record(uint8_t* p, const SyncConn& c);

// All of `conns`, in order, in as few messages as the limits allow.
std::vector<std::vector<uint8_t>> encode_messages(std::span<const SyncConn> conns, uint8_t syncid,
                                                  size_t max_payload = default_max_payload);

}  // namespace dplb::sync
