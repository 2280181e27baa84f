// Why the decoder refused a message or left a record out. The receiver counts each reason
// (one counter per value); nothing is logged per packet.
#pragma once

#include <cstdint>

namespace dplb::sync {

enum class DecodeError : uint8_t {
    none,
    // The whole message is refused: nothing in it is installed.
    short_header,        // fewer bytes than a header
    size_mismatch,       // the header's size is not the datagram's length
    v0_message,          // a version-0 message (first byte, its nr_conns, not 0): not supported
    unknown_version,     // version is not 1
    spare_not_zero,      // the header's spare field is not 0
    truncated_record,    // nr_conns says more records than the bytes hold
    record_overrun,      // a record's size runs past the message
    record_too_short,    // a record's size is smaller than its fixed part
    record_version,      // the record's version (top 4 bits of ver_size) is not 0
    record_type,         // type bits other than INET6
    padding_not_zero,    // the alignment bytes between records are not 0
    trailing_bytes,      // bytes after the last record (beyond 3 zero bytes of padding)
    option_truncated,    // an option header does not fit in the record
    option_zero_length,  // an option of length 0 (the kernel refuses it too)
    option_overrun,      // an option's data runs past the record
    seq_data_length,     // IPVS_OPT_SEQ_DATA is not 24 bytes
    pe_name_too_long,    // IPVS_OPT_PE_NAME longer than 16
    duplicate_option,    // an option that may appear once appears twice
    dplb_option_length,  // a dplb option of the wrong length
    bad_control,         // a dplb control message that is malformed or of an unknown kind
    // One record is left out, the rest of the message is used (the kernel does the same).
    ipv6_unsupported,          // an IPv6 record (type INET6)
    unknown_mandatory_option,  // an option without IPVS_OPT_F_PARAM that we do not know
    unsupported_protocol,      // not TCP or UDP (and not a template)
    bad_state,                 // a state number out of range for the protocol
    count_
};
inline constexpr unsigned decode_error_count = unsigned(DecodeError::count_);

// True for the reasons that leave one record out rather than the whole message.
constexpr bool is_record_level(DecodeError e) { return e >= DecodeError::ipv6_unsupported && e < DecodeError::count_; }

const char* to_string(DecodeError);  // snake_case, as the counters are named

}  // namespace dplb::sync
