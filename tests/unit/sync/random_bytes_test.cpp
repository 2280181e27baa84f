// The decoder against bytes nobody should send: random datagrams and mutations of valid
// messages (size field kept consistent so the walk goes deep). Deterministic seed, bounded
// iterations; the binary runs under ASan/UBSan, so any read outside the input fails the test.
// Whatever decodes must re-encode to an equivalent message.
#include <catch2/catch.hpp>

#include <random>

#include "sync/control_message.hpp"
#include "sync/message_decoder.hpp"
#include "sync/message_encoder.hpp"
#include "test_util.hpp"

using namespace dplb::sync;
using namespace synctest;

namespace {

// Decodes `b` from an exactly-sized heap copy (so ASan sees one byte past it), and checks
// what a successful decode says.
void exercise(const Bytes& b, unsigned& accepted) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[b.size() ? b.size() : 1]);
    std::copy(b.begin(), b.end(), copy.get());
    SyncMessage m;
    DecodeError e = decode_message(std::span<const uint8_t>(copy.get(), b.size()), m);
    if (e != DecodeError::none) {
        REQUIRE(m.conns.empty());
        REQUIRE(!m.control);
        return;
    }
    ++accepted;
    REQUIRE(m.conns.size() + m.skipped.size() + (m.control ? 1 : 0) == (m.control ? 1u : unsigned(b[4])));
    for (const SkippedRecord& s : m.skipped) REQUIRE(is_record_level(s.reason));
    // Re-encode what dplb can write (no PE) and decode again: the same records.
    std::vector<SyncConn> writable;
    for (const SyncConn& c : m.conns)
        if (!c.pe) writable.push_back(c);
    for (SyncConn& c : writable) c.flags &= ~conn_f_hashed;
    auto msgs = encode_messages(writable, m.syncid, 65535);
    std::vector<SyncConn> again;
    for (const auto& mb : msgs) {
        SyncMessage m2;
        REQUIRE(decode_message(mb, m2) == DecodeError::none);
        again.insert(again.end(), m2.conns.begin(), m2.conns.end());
    }
    REQUIRE(again == writable);
}

}  // namespace

TEST_CASE("random datagrams never crash the decoder") {
    std::mt19937 rng(20261207);
    unsigned accepted = 0;
    for (int i = 0; i < 100000; ++i) {
        Bytes b(rng() % 200, 0);
        for (auto& x : b) x = uint8_t(rng());
        if (b.size() >= 8 && (i & 1)) {  // half of them get a plausible header
            store_be16(&b[2], uint16_t(b.size()));
            b[0] = 0;
            b[5] = 1;
            b[6] = b[7] = 0;
            b[4] = uint8_t(rng() % 5);
        }
        exercise(b, accepted);
    }
    CHECK(accepted > 0);
}

TEST_CASE("mutated valid messages never crash the decoder") {
    std::mt19937 rng(42);
    std::vector<Bytes> seeds;
    {
        SyncConn c;
        c.protocol = 6;
        c.flags = conn_f_fullnat;
        c.state = 1;
        c.caddr = 1;
        c.fullnat = FullnatData{2, 3};
        c.ports = PortsData{4, 5};
        SyncConn d = c;
        d.flags = conn_f_seq_mask | conn_f_inactive;
        d.seq = SeqData{{1, 2, 3}, {4, 5, 6}};
        d.fullnat.reset();
        SyncConn list[] = {c, d, c, d};
        seeds.push_back(encode_messages(list, 3)[0]);
        seeds.push_back(encode_control(3, {ControlKind::full_table_end, 1, 2, 3}));
        seeds.push_back(wrap({v4_record(), cat(v4_record(5), {0x43, 3, 'a', 'b', 'c'})}));
    }
    unsigned accepted = 0;
    for (int i = 0; i < 200000; ++i) {
        Bytes b = seeds[size_t(i) % seeds.size()];
        const int edits = 1 + int(rng() % 4);
        for (int k = 0; k < edits; ++k) {
            switch (rng() % 4) {
            case 0: b[rng() % b.size()] ^= uint8_t(1u << (rng() % 8)); break;
            case 1: b[rng() % b.size()] = uint8_t(rng()); break;
            case 2: if (b.size() > 1) b.resize(b.size() - 1 - rng() % std::min<size_t>(b.size() - 1, 8)); break;
            case 3: b.push_back(uint8_t(rng())); break;
            }
        }
        if (b.size() >= 4 && (i % 3)) store_be16(&b[2], uint16_t(b.size()));
        exercise(b, accepted);
    }
    CHECK(accepted > 0);
}
