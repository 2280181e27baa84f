// Session sync's UDP socket on the loopback: a master's batched message and a control
// message reach a backup's socket intact; an interface that does not exist is a clear error.
#include <time.h>

#include "catch_print.hpp"
#include "dataplane/sync/sync_socket.hpp"
#include "packet_builder.hpp"
#include "sync/control_message.hpp"
#include "sync/message_decoder.hpp"
#include "sync/message_encoder.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

// Waits up to a second for one datagram.
std::vector<uint8_t> receive_one(SyncSocket& s) {
    std::vector<uint8_t> buf(65536);
    for (int i = 0; i < 1000; ++i) {
        SyncSocket::Source src = SyncSocket::Source::own;
        ssize_t n = s.receive(buf.data(), buf.size(), &src);
        REQUIRE(n >= 0);
        if (n > 0) CHECK(src == SyncSocket::Source::peer);
        if (n > 0) {
            buf.resize(size_t(n));
            return buf;
        }
        timespec ts{0, 1000000};
        nanosleep(&ts, nullptr);
    }
    FAIL("nothing received in a second");
    return {};
}

}  // namespace

TEST_CASE("Sync sockets: unicast over the loopback, records and control messages", "[sync]") {
    SyncSocketParams bp;
    bp.bind_port = 0;
    bp.peers = {ip("127.0.0.1")};
    auto backup = SyncSocket::open(bp);
    REQUIRE(backup.ok());
    SyncSocketParams mp = bp;
    mp.port = backup->local_port();
    auto master = SyncSocket::open(mp);
    REQUIRE(master.ok());

    std::vector<uint8_t> none(16);
    SyncSocket::Source src{};
    CHECK(backup->receive(none.data(), none.size(), &src) == 0);  // non-blocking

    sync::SyncConn c;
    c.protocol = pkt::proto_tcp;
    c.flags = sync::conn_f_masq;
    c.state = 1;
    c.caddr = ip("192.0.2.7");
    c.cport = be16(40000);
    c.vaddr = ip("192.0.2.100");
    c.vport = be16(80);
    c.daddr = ip("10.0.0.11");
    c.dport = be16(8080);
    c.timeout_s = 900;
    auto msgs = sync::encode_messages(std::vector{c, c}, 3);
    REQUIRE(msgs.size() == 1);
    REQUIRE(master->send(msgs[0]));
    auto got = receive_one(*backup);
    sync::SyncMessage m;
    REQUIRE(sync::decode_message(got, m) == sync::DecodeError::none);
    CHECK(m.syncid == 3);
    REQUIRE(m.conns.size() == 2);
    CHECK(m.conns[0].caddr == c.caddr);
    CHECK(m.conns[1].timeout_s == 900);

    sync::ControlMessage end{sync::ControlKind::full_table_end, 42, 2, 1000};
    REQUIRE(master->send(sync::encode_control(3, end)));
    got = receive_one(*backup);
    REQUIRE(sync::decode_message(got, m) == sync::DecodeError::none);
    REQUIRE(m.control);
    CHECK(*m.control == end);
}

TEST_CASE("Sync sockets: an interface that does not exist is named in the error", "[sync]") {
    SyncSocketParams p;
    p.interface = "nosuchif9";
    p.bind_port = 0;
    p.group = ip("224.0.0.81");
    auto s = SyncSocket::open(p);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().str().find("nosuchif9") != std::string::npos);
}

namespace {

// A control message from an unbound socket on 127.0.0.1 to a socket opened with `bp`: the
// source it reports.
SyncSocket::Source source_of_one(SyncSocketParams bp) {
    bp.bind_port = 0;
    auto sock = SyncSocket::open(bp);
    REQUIRE(sock.ok());
    SyncSocketParams mp;
    mp.bind_port = 0;
    mp.peers = {ip("127.0.0.1")};
    mp.port = sock->local_port();
    auto sender = SyncSocket::open(mp);
    REQUIRE(sender.ok());
    REQUIRE(sender->send(sync::encode_control(0, {sync::ControlKind::full_table_request, 1, 1, 0})));
    std::vector<uint8_t> buf(256);
    SyncSocket::Source src = SyncSocket::Source::peer;
    ssize_t n = 0;
    for (int i = 0; i < 1000 && n == 0; ++i) {
        n = sock->receive(buf.data(), buf.size(), &src);
        if (n == 0) {
            timespec ts{0, 1000000};
            nanosleep(&ts, nullptr);
        }
    }
    CHECK(n == 28);
    return src;
}

}  // namespace

TEST_CASE("Sync sockets: a datagram from one of the node's own addresses is reported as such", "[sync]") {
    SyncSocketParams bp;
    bp.peers = {ip("127.0.0.1")};
    bp.own = {ip("127.0.0.1")};  // a peer list naming this node
    CHECK(source_of_one(bp) == SyncSocket::Source::own);
}

TEST_CASE("Sync sockets: with unicast peers, a datagram from any other address is foreign", "[sync]") {
    SyncSocketParams bp;
    bp.peers = {ip("127.0.0.2")};  // the sender is 127.0.0.1
    CHECK(source_of_one(bp) == SyncSocket::Source::foreign);
    bp.peers = {ip("127.0.0.2"), ip("127.0.0.1")};
    CHECK(source_of_one(bp) == SyncSocket::Source::peer);
}
