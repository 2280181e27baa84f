// Every class of malformed input, refused with its reason; records dplb cannot use, left out
// with theirs.
#include <catch2/catch.hpp>

#include "sync/message_decoder.hpp"
#include "test_util.hpp"

using namespace dplb::sync;
using namespace synctest;

namespace {

Bytes opt(uint8_t type, Bytes data) {
    Bytes o = {type, uint8_t(data.size())};
    o.insert(o.end(), data.begin(), data.end());
    return o;
}
Bytes record_with(const Bytes& options) { return cat(v4_record(options.size()), options); }

}  // namespace

TEST_CASE("the valid reference message decodes") {
    SyncMessage m;
    REQUIRE(decode(wrap({v4_record(), v4_record()}), &m) == DecodeError::none);
    CHECK(m.conns.size() == 2);
}

TEST_CASE("header errors") {
    CHECK(decode({}) == DecodeError::short_header);
    CHECK(decode({0, 1, 0}) == DecodeError::short_header);
    CHECK(decode({0, 1, 0, 6, 0, 1}) == DecodeError::short_header);  // size right, shorter than a v1 header
    Bytes m = wrap({v4_record()});
    Bytes bad = m;
    store_be16(&bad[2], uint16_t(m.size() + 1));
    CHECK(decode(bad) == DecodeError::size_mismatch);
    store_be16(&bad[2], uint16_t(m.size() - 4));
    CHECK(decode(bad) == DecodeError::size_mismatch);
    CHECK(decode(cat(m, {0, 0, 0, 0})) == DecodeError::size_mismatch);  // datagram longer than size

    bad = m;
    bad[0] = 1;  // a version-0 message: nr_conns in the first byte
    CHECK(decode(bad) == DecodeError::v0_message);
    bad = m;
    bad[5] = 2;
    CHECK(decode(bad) == DecodeError::unknown_version);
    bad[5] = 0;
    CHECK(decode(bad) == DecodeError::unknown_version);
    bad = m;
    bad[7] = 1;
    CHECK(decode(bad) == DecodeError::spare_not_zero);
}

TEST_CASE("record framing errors") {
    Bytes m = wrap({v4_record(), v4_record()});
    Bytes bad = m;
    bad[4] = 3;  // nr_conns larger than the records present
    CHECK(decode(bad) == DecodeError::truncated_record);
    bad[4] = 255;
    CHECK(decode(bad) == DecodeError::truncated_record);

    bad = m;
    store_be16(&bad[8 + 2], 40);  // first record says 40 bytes: its "options" are the next record's first bytes
    CHECK(decode(bad) != DecodeError::none);
    bad = m;
    store_be16(&bad[44 + 2], 37);  // last record runs past the message
    CHECK(decode(bad) == DecodeError::record_overrun);
    store_be16(&bad[44 + 2], 0x0fff);
    CHECK(decode(bad) == DecodeError::record_overrun);
    bad = m;
    store_be16(&bad[8 + 2], 20);  // shorter than struct ip_vs_sync_v4
    CHECK(decode(bad) == DecodeError::record_too_short);
    store_be16(&bad[8 + 2], 0);
    CHECK(decode(bad) == DecodeError::record_too_short);
    bad = m;
    store_be16(&bad[8 + 2], 0x1024);  // record version 1
    CHECK(decode(bad) == DecodeError::record_version);
    bad = m;
    bad[8] = 2;  // a type bit nobody defined
    CHECK(decode(bad) == DecodeError::record_type);
    bad[8] = 0x80;
    CHECK(decode(bad) == DecodeError::record_type);
}

TEST_CASE("padding between records and after the last one") {
    Bytes r62 = record_with(opt(opt_seq_data, Bytes(24, 0)));  // 62 bytes: 2 bytes of padding follow
    Bytes m = wrap({r62, v4_record()});
    REQUIRE(decode(m) == DecodeError::none);
    Bytes bad = m;
    bad[8 + 62] = 1;
    CHECK(decode(bad) == DecodeError::padding_not_zero);

    Bytes padded_last = wrap({r62});  // 8 + 62 = 70; 2 zero bytes make it 72
    padded_last.push_back(0);
    padded_last.push_back(0);
    store_be16(&padded_last[2], uint16_t(padded_last.size()));
    CHECK(decode(padded_last) == DecodeError::none);
    padded_last.back() = 9;
    CHECK(decode(padded_last) == DecodeError::padding_not_zero);

    Bytes trailing = cat(wrap({v4_record()}), {0, 0, 0, 0});
    store_be16(&trailing[2], uint16_t(trailing.size()));
    CHECK(decode(trailing) == DecodeError::trailing_bytes);
    Bytes empty_with_junk = {0, 1, 0, 12, 0, 1, 0, 0, 1, 2, 3, 4};
    CHECK(decode(empty_with_junk) == DecodeError::trailing_bytes);
    SyncMessage e;
    CHECK(decode({0, 1, 0, 8, 0, 1, 0, 0}, &e) == DecodeError::none);  // an empty message
    CHECK(e.conns.empty());
}

TEST_CASE("option errors") {
    // An option header cut by the record's end.
    CHECK(decode(wrap({record_with({0x61})})) == DecodeError::option_truncated);
    CHECK(decode(wrap({record_with({0x61, 0})})) == DecodeError::option_zero_length);
    CHECK(decode(wrap({record_with({0x41, 0})})) == DecodeError::option_zero_length);
    // Data past the record's end, even though the message has more bytes after it.
    CHECK(decode(wrap({record_with({0x61, 6, 1, 2, 3}), v4_record()})) == DecodeError::option_overrun);
    CHECK(decode(wrap({record_with({0xe0, 200, 1})})) == DecodeError::option_overrun);
    CHECK(decode(wrap({record_with(opt(opt_seq_data, Bytes(16, 0)))})) == DecodeError::seq_data_length);
    // 0x41 is SEQ_DATA for the kernel (it masks the optional bit off): same rules.
    CHECK(decode(wrap({record_with(opt(0x41, Bytes(16, 0)))})) == DecodeError::seq_data_length);
    CHECK(decode(wrap({record_with(cat(opt(1, Bytes(24, 0)), opt(1, Bytes(24, 0))))})) == DecodeError::duplicate_option);
    CHECK(decode(wrap({record_with(opt(opt_pe_name, Bytes(17, 'a')))})) == DecodeError::pe_name_too_long);
    CHECK(decode(wrap({record_with(cat(opt(2, {1}), opt(2, {1})))})) == DecodeError::duplicate_option);
    CHECK(decode(wrap({record_with(opt(opt_dplb_fullnat, Bytes(4, 1)))})) == DecodeError::dplb_option_length);
    CHECK(decode(wrap({record_with(opt(opt_dplb_ports, Bytes(6, 1)))})) == DecodeError::dplb_option_length);
    CHECK(decode(wrap({record_with(cat(opt(opt_dplb_ports, Bytes(4, 1)), opt(opt_dplb_ports, Bytes(4, 1))))})) ==
          DecodeError::duplicate_option);
}

TEST_CASE("options a receiver may skip, and records it leaves out") {
    SyncMessage m;
    // An optional option nobody knows (0x40 set): skipped, the record kept.
    REQUIRE(decode(wrap({record_with(opt(0x7f, {1, 2, 3}))}), &m) == DecodeError::none);
    CHECK(m.conns.size() == 1);
    // A mandatory one: that record out, the others in.
    REQUIRE(decode(wrap({v4_record(), record_with(opt(0x20, {1})), v4_record()}), &m) == DecodeError::none);
    CHECK(m.conns.size() == 2);
    REQUIRE(m.skipped.size() == 1);
    CHECK(m.skipped[0].index == 1);
    CHECK(m.skipped[0].reason == DecodeError::unknown_mandatory_option);

    // PE options are decoded (length-checked) and kept for the installer to refuse by name.
    REQUIRE(decode(wrap({record_with(cat(opt(opt_pe_data, {1, 2, 3}), opt(opt_pe_name, {'s', 'i', 'p'})))}), &m) ==
            DecodeError::none);
    REQUIRE(m.conns.size() == 1);
    REQUIRE(m.conns[0].pe);
    CHECK(m.conns[0].pe->data_len == 3);
    CHECK(std::string(m.conns[0].pe->name.data(), m.conns[0].pe->name_len) == "sip");
}

TEST_CASE("an IPv6 record is left out with its reason; the IPv4 ones around it are kept") {
    Bytes v6(72, 0);
    v6[0] = stype_f_inet6;
    v6[1] = 6;
    store_be16(&v6[2], 72);
    SyncMessage m;
    REQUIRE(decode(wrap({v4_record(), v6, v4_record()}), &m) == DecodeError::none);
    CHECK(m.conns.size() == 2);
    REQUIRE(m.skipped.size() == 1);
    CHECK(m.skipped[0].reason == DecodeError::ipv6_unsupported);
    CHECK(is_record_level(DecodeError::ipv6_unsupported));
    // Its size still frames the message.
    Bytes short_v6 = v6;
    store_be16(&short_v6[2], 36);
    CHECK(decode(wrap({short_v6})) == DecodeError::record_too_short);  // an IPv6 record is at least 72 bytes
    Bytes cut(36, 0);
    cut[0] = 1;
    store_be16(&cut[2], 36);
    CHECK(decode(wrap({cut})) == DecodeError::record_too_short);
}

TEST_CASE("protocols and states the kernel's backup would refuse leave their record out") {
    auto with = [](uint8_t proto, uint16_t state, uint32_t flags) {
        Bytes r = v4_record();
        r[1] = proto;
        store_be16(&r[8], state);
        store_be32(&r[4], flags);
        return r;
    };
    struct Case {
        Bytes record;
        DecodeError reason;
    } cases[] = {
        {with(1, 0, 0), DecodeError::unsupported_protocol},       // ICMP
        {with(132, 0, 0), DecodeError::unsupported_protocol},     // SCTP: no SCTP in dplb
        {with(6, 11, 0), DecodeError::bad_state},                 // IP_VS_TCP_S_LAST
        {with(17, 1, 0), DecodeError::bad_state},                 // IP_VS_UDP_S_LAST
        {with(6, 2, conn_f_template), DecodeError::bad_state},    // IP_VS_CTPL_S_LAST
        {with(1, 0, conn_f_template), DecodeError::unsupported_protocol},
        {with(6, 10, 0), DecodeError::none},                      // SYNACK
        {with(0, 1, conn_f_template), DecodeError::none},         // a mark template, ASSURED
    };
    for (const Case& c : cases) {
        SyncMessage m;
        REQUIRE(decode(wrap({c.record}), &m) == DecodeError::none);
        if (c.reason == DecodeError::none) {
            CHECK(m.conns.size() == 1);
        } else {
            REQUIRE(m.skipped.size() == 1);
            CHECK(m.skipped[0].reason == c.reason);
        }
    }
}

TEST_CASE("every reason has a name") {
    for (unsigned i = 0; i < decode_error_count; ++i) CHECK(std::string(to_string(DecodeError(i))) != "?");
}
