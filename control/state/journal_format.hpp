// The journal's on-disk record format, as pure functions of bytes (no files here).
//
// A record is
//     u32 payload length | u32 CRC32C of (generation, payload) | u64 generation | payload
// with the integers little-endian. The checksum covers the generation so a record cannot be
// replayed at the wrong generation by a flipped bit; the length is outside it, so a damaged
// length shows up as a checksum mismatch (or as a record running past the end of the file).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dplb::state {

struct JournalRecord {
    uint64_t generation = 0;
    std::string payload;  // opaque to the store (the controller's serialised batch)

    friend bool operator==(const JournalRecord&, const JournalRecord&) = default;
};

inline constexpr std::size_t journal_header_bytes = 16;
// A payload longer than this is refused by append() and, read back, means the length field
// is garbage: no accepted batch comes near it.
inline constexpr std::size_t journal_max_payload = std::size_t(256) << 20;

std::string encode_record(uint64_t generation, std::string_view payload);

// The records of one journal file, read up to the first record that is torn or invalid.
struct DecodedJournal {
    std::vector<JournalRecord> records;  // every valid record, in file order
    uint64_t valid_bytes = 0;            // length of the valid prefix; the file is cut here
    std::string problem;                 // why reading stopped early ("" when it read to the end)
};

// Records must have increasing generations; one that does not is treated as corrupt.
// `after` is the generation of the record read before this file's first one (the last
// record of <state>.journal.old when reading <state>.journal), 0 for none. Records at or
// below the state file's generation are still valid here: the caller skips them.
DecodedJournal decode_records(std::string_view bytes, uint64_t after);

}  // namespace dplb::state
