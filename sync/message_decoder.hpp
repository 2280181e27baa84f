// Sync messages from the network: every length is checked before it is used, nothing is
// read outside `bytes`, and a malformed message is refused whole with one reason (nothing
// of it is installed). A well-formed record dplb cannot use (IPv6, an unknown mandatory
// option, another protocol, a state out of range) is left out with its reason and the rest
// of the message is kept, as the kernel does (ip_vs_process_message / ip_vs_proc_sync_conn).
//
// Accepted: version-1 messages (header reserved 0, version 1, spare 0) whose size equals the
// datagram, holding exactly nr_conns records, 4-byte aligned with zero padding, options
// well-formed (length >= 1, inside the record, the kernel's lengths and limits, each known
// option at most once); then at most 3 zero bytes; or, with nr_conns 0, nothing or one dplb
// control block (control_message.hpp). Options with IPVS_OPT_F_PARAM that nobody knows
// are skipped.
//
// Threading: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sync/control_message.hpp"
#include "sync/decode_error.hpp"
#include "sync/sync_conn.hpp"

namespace dplb::sync {

struct SkippedRecord {
    uint8_t index = 0;  // position in the message
    DecodeError reason = DecodeError::none;
};

struct SyncMessage {
    uint8_t syncid = 0;
    std::vector<SyncConn> conns;
    std::vector<SkippedRecord> skipped;
    std::optional<ControlMessage> control;
};

// DecodeError::none, or why the whole message is refused (`out` is then empty).
DecodeError decode_message(std::span<const uint8_t> bytes, SyncMessage& out);

}  // namespace dplb::sync
