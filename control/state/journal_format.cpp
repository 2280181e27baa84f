#include "control/state/journal_format.hpp"

#include "control/state/crc32c.hpp"

namespace dplb::state {

namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(char(uint8_t(v >> (8 * i))));
}

uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t(uint8_t(in[at + std::size_t(i)])) << (8 * i);
    return v;
}

uint32_t record_checksum(std::string_view generation_le, std::string_view payload) {
    return crc32c(payload, crc32c(generation_le));
}

}  // namespace

std::string encode_record(uint64_t generation, std::string_view payload) {
    std::string gen;
    put_le(gen, generation, 8);
    std::string out;
    out.reserve(journal_header_bytes + payload.size());
    put_le(out, payload.size(), 4);
    put_le(out, record_checksum(gen, payload), 4);
    out += gen;
    out.append(payload);
    return out;
}

DecodedJournal decode_records(std::string_view bytes, uint64_t after) {
    DecodedJournal d;
    std::size_t at = 0;
    uint64_t last = after;
    while (at < bytes.size()) {
        std::size_t left = bytes.size() - at;
        auto stop = [&](const std::string& why) {
            d.problem = "ignored " + why + " of " + std::to_string(left) + " bytes at offset " + std::to_string(at);
        };
        if (left < journal_header_bytes) {
            stop("a torn record");
            break;
        }
        uint64_t length = get_le(bytes, at, 4);
        uint32_t stored = uint32_t(get_le(bytes, at + 4, 4));
        uint64_t generation = get_le(bytes, at + 8, 8);
        if (length > journal_max_payload) {
            stop("a corrupt record (length " + std::to_string(length) + ")");
            break;
        }
        if (left - journal_header_bytes < length) {
            stop("a torn record");
            break;
        }
        std::string_view payload = bytes.substr(at + journal_header_bytes, length);
        if (record_checksum(bytes.substr(at + 8, 8), payload) != stored) {
            stop("a corrupt record (bad checksum)");
            break;
        }
        if (generation <= last) {
            stop("an out-of-order record (generation " + std::to_string(generation) + " after " +
                 std::to_string(last) + ")");
            break;
        }
        d.records.push_back({generation, std::string(payload)});
        last = generation;
        at += journal_header_bytes + length;
        d.valid_bytes = at;
    }
    return d;
}

}  // namespace dplb::state
