// The full-table request and its end marker: a v1 message with no records that a kernel
// ignores, and that dplb decodes strictly.
#include <catch2/catch.hpp>

#include "sync/control_message.hpp"
#include "sync/message_decoder.hpp"
#include "test_util.hpp"

using namespace dplb::sync;
using namespace synctest;

TEST_CASE("a full-table request, byte for byte") {
    ControlMessage req{ControlKind::full_table_request, 0x01020304u, 4, 0};
    const Bytes want = {
        0x00, 0x05, 0x00, 0x1c,  // reserved 0, syncid 5, size 28
        0x00, 0x01, 0x00, 0x00,  // nr_conns 0 (a kernel backup loops over nothing), version 1, spare
        'd', 'p', 'l', 'b',      // magic
        0x01, 0x01, 0x00, 0x14,  // kind full_table_request, version 1, length 20
        0x01, 0x02, 0x03, 0x04,  // request id
        0x00, 0x04, 0x00, 0x00,  // nworkers 4, reserved
        0x00, 0x00, 0x00, 0x00,  // records: 0 in a request
    };
    CHECK(encode_control(5, req) == want);
    SyncMessage m;
    REQUIRE(decode_message(want, m) == DecodeError::none);
    CHECK(m.syncid == 5);
    CHECK(m.conns.empty());
    REQUIRE(m.control);
    CHECK(*m.control == req);
}

TEST_CASE("the end marker of a dump carries the request id and the record count") {
    ControlMessage end{ControlKind::full_table_end, 77, 2, 123456};
    SyncMessage m;
    REQUIRE(decode_message(encode_control(9, end), m) == DecodeError::none);
    REQUIRE(m.control);
    CHECK(*m.control == end);
}

TEST_CASE("malformed control messages are refused") {
    const Bytes good = encode_control(1, {ControlKind::full_table_request, 1, 1, 0});
    auto mutate = [&](size_t at, uint8_t v) {
        Bytes b = good;
        b[at] = v;
        return decode(b);
    };
    CHECK(mutate(8 + 4, 3) == DecodeError::bad_control);    // unknown kind
    CHECK(mutate(8 + 4, 0) == DecodeError::bad_control);
    CHECK(mutate(8 + 5, 2) == DecodeError::bad_control);    // version
    CHECK(mutate(8 + 7, 21) == DecodeError::bad_control);   // length
    CHECK(mutate(8 + 14, 1) == DecodeError::bad_control);   // reserved
    CHECK(mutate(8 + 19, 1) == DecodeError::bad_control);   // a request with a record count
    CHECK(mutate(8 + 0, 'D') == DecodeError::trailing_bytes);  // not our magic: bytes after an empty message
    Bytes longer = cat(good, {0, 0, 0, 0});
    store_be16(&longer[2], uint16_t(longer.size()));
    CHECK(decode(longer) == DecodeError::bad_control);
    Bytes shorter(good.begin(), good.end() - 4);
    store_be16(&shorter[2], uint16_t(shorter.size()));
    CHECK(decode(shorter) == DecodeError::bad_control);
    Bytes with_record = good;
    with_record[4] = 1;  // records and a control block do not mix
    CHECK(decode(with_record) != DecodeError::none);
}
