// Round trips and splitting into messages that fit the MTU.
#include <catch2/catch.hpp>

#include "sync/message_decoder.hpp"
#include "sync/message_encoder.hpp"
#include "test_util.hpp"

using namespace dplb::sync;
using namespace synctest;

namespace {

SyncConn conn(unsigned i, bool fullnat, bool seq = false) {
    SyncConn c;
    c.protocol = i % 3 ? 6 : 17;
    c.flags = fullnat ? conn_f_fullnat : (conn_f_droute | conn_f_nooutput | conn_f_inactive);
    c.state = c.protocol == 6 ? uint16_t(i % 11) : 0;
    c.cport = be16(uint16_t(1024 + i));
    c.vport = be16(80);
    c.dport = be16(8080);
    c.timeout_s = 1 + i;
    c.caddr = htonl(0xc0a80000u + i);
    c.vaddr = ip("10.0.0.100");
    c.daddr = htonl(0x0a000100u + i % 7);
    if (fullnat) c.fullnat = FullnatData{ip("10.0.2.1"), be16(uint16_t(2000 + i))};
    if (i % 2) c.ports = PortsData{be16(80), be16(8080)};
    if (seq) c.seq = SeqData{{i, 2, 3}, {4, 5, i}};
    return c;
}

std::vector<SyncConn> decode_all(const std::vector<std::vector<uint8_t>>& msgs, uint8_t syncid) {
    std::vector<SyncConn> all;
    for (const auto& b : msgs) {
        SyncMessage m;
        REQUIRE(decode_message(b, m) == DecodeError::none);
        CHECK(m.syncid == syncid);
        CHECK(m.skipped.empty());
        all.insert(all.end(), m.conns.begin(), m.conns.end());
    }
    return all;
}

}  // namespace

TEST_CASE("records of every shape survive encode and decode") {
    std::vector<SyncConn> in;
    for (unsigned i = 0; i < 40; ++i) in.push_back(conn(i, i % 2, i % 5 == 0));
    auto msgs = encode_messages(in, 9);
    CHECK(decode_all(msgs, 9) == in);
}

TEST_CASE("messages never exceed the payload limit and split where the next record would not fit") {
    // FULLNAT records with the ports option: 36 + 8 + 6 = 50 bytes, 52 with padding. In 1472
    // bytes: 8 + 27 * 52 + 50 = 1462 fits 28; a 29th would need 1514.
    std::vector<SyncConn> in;
    for (unsigned i = 0; i < 100; ++i) {
        SyncConn c = conn(i, true);
        c.ports = PortsData{be16(80), be16(8080)};
        in.push_back(c);
    }
    REQUIRE(encoded_size(in[0]) == 50);
    auto msgs = encode_messages(in, 1);
    REQUIRE(msgs.size() == 4);  // 28 + 28 + 28 + 16
    for (size_t k = 0; k < msgs.size(); ++k) {
        CHECK(msgs[k].size() <= default_max_payload);
        CHECK(msgs[k][4] == (k < 3 ? 28 : 16));
        CHECK(msgs[k].size() == 8 + (msgs[k][4] - 1) * 52u + 50);
        CHECK(load_be16(&msgs[k][2]) == msgs[k].size());
    }
    CHECK(decode_all(msgs, 1) == in);

    for (size_t limit : {min_max_payload, size_t(200), size_t(576 - 28), size_t(9000 - 28)}) {
        auto split = encode_messages(in, 1, limit);
        for (const auto& b : split) CHECK(b.size() <= limit);
        CHECK(decode_all(split, 1) == in);
    }
}

TEST_CASE("a message holds at most 255 records, whatever the payload limit") {
    std::vector<SyncConn> in;
    for (unsigned i = 0; i < 300; ++i) in.push_back(conn(i * 3 + 1, false));  // TCP DR, 36 or 44 bytes
    auto msgs = encode_messages(in, 2, 65535);
    REQUIRE(msgs.size() == 2);
    CHECK(msgs[0][4] == 255);
    CHECK(msgs[1][4] == 45);
    CHECK(decode_all(msgs, 2) == in);
}

TEST_CASE("the builder refuses a record that does not fit and leaves the message intact") {
    MessageBuilder b(3, min_max_payload);  // room for one record of the largest size, padded
    SyncConn big = conn(1, true, true);
    big.ports = PortsData{1, 2};
    REQUIRE(encoded_size(big) == max_record_size);
    REQUIRE(b.add(big));
    const std::vector<uint8_t> before(b.bytes().begin(), b.bytes().end());
    CHECK_FALSE(b.add(big));
    CHECK(std::vector<uint8_t>(b.bytes().begin(), b.bytes().end()) == before);
    b.reset();
    CHECK(b.empty());
    CHECK(b.bytes().size() == header_size);
    // A limit below one record is raised to the minimum rather than producing nothing.
    MessageBuilder tiny(3, 10);
    CHECK(tiny.add(big));
}

TEST_CASE("the encoder never sends IP_VS_CONN_F_HASHED") {
    SyncConn c = conn(1, false);
    c.flags |= conn_f_hashed;
    SyncConn list[] = {c};
    auto msgs = encode_messages(list, 1);
    SyncMessage m;
    REQUIRE(decode_message(msgs[0], m) == DecodeError::none);
    CHECK((m.conns[0].flags & conn_f_hashed) == 0);
}
