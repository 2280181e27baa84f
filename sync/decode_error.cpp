#include "sync/decode_error.hpp"

namespace dplb::sync {

const char* to_string(DecodeError e) {
    static const char* const names[] = {
        "none",
        "short_header",
        "size_mismatch",
        "v0_message",
        "unknown_version",
        "spare_not_zero",
        "truncated_record",
        "record_overrun",
        "record_too_short",
        "record_version",
        "record_type",
        "padding_not_zero",
        "trailing_bytes",
        "option_truncated",
        "option_zero_length",
        "option_overrun",
        "seq_data_length",
        "pe_name_too_long",
        "duplicate_option",
        "dplb_option_length",
        "bad_control",
        "ipv6_unsupported",
        "unknown_mandatory_option",
        "unsupported_protocol",
        "bad_state",
    };
    static_assert(sizeof names / sizeof names[0] == decode_error_count);
    return unsigned(e) < decode_error_count ? names[unsigned(e)] : "?";
}

}  // namespace dplb::sync
