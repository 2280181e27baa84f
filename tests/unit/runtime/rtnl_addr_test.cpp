// rtnetlink address messages as the kernel sends them (RTM_NEWADDR / RTM_DELADDR, a dump's
// NLMSG_DONE, errors), crafted byte by byte, through the parser the address watch uses.
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include <catch2/catch.hpp>

#include "dataplane/runtime/rtnl_addr.hpp"

using namespace dplb::runtime;

namespace {

using Bytes = std::vector<uint8_t>;

// Appends n bytes and pads to 4 (netlink's alignment).
void put(Bytes& b, const void* p, size_t n) {
    const size_t at = b.size();
    b.resize(at + ((n + 3) & ~size_t(3)), 0);
    std::memcpy(b.data() + at, p, n);
}

void attr(Bytes& b, uint16_t type, const void* data, size_t n) {
    rtattr a{};
    a.rta_len = uint16_t(sizeof(rtattr) + n);
    a.rta_type = type;
    put(b, &a, sizeof a);  // 4 bytes: no padding
    put(b, data, n);
}

uint32_t be(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return uint32_t(a) | uint32_t(b) << 8 | uint32_t(c) << 16 | uint32_t(d) << 24; }

// A header and its payload, in one buffer.
Bytes message(const nlmsghdr& h, const void* payload, size_t n) {
    Bytes out(sizeof h + n);
    std::memcpy(out.data(), &h, sizeof h);
    if (n) std::memcpy(out.data() + sizeof h, payload, n);
    return out;
}

// One address message as `ip addr add A/len dev X` makes the kernel announce it: ifaddrmsg,
// then IFA_ADDRESS, IFA_LOCAL, IFA_LABEL (as Linux orders them).
Bytes addr_message(uint16_t type, int family, uint32_t ifindex, uint32_t local, uint32_t address, uint8_t len,
                   uint32_t seq = 0) {
    Bytes body;
    ifaddrmsg ifa{};
    ifa.ifa_family = uint8_t(family);
    ifa.ifa_prefixlen = len;
    ifa.ifa_index = ifindex;
    put(body, &ifa, sizeof ifa);
    if (address) attr(body, IFA_ADDRESS, &address, 4);
    if (local) attr(body, IFA_LOCAL, &local, 4);
    attr(body, IFA_LABEL, "dplb0", 6);
    nlmsghdr h{};
    h.nlmsg_len = uint32_t(sizeof h + body.size());
    h.nlmsg_type = type;
    h.nlmsg_seq = seq;
    return message(h, body.data(), body.size());
}

Bytes control_message(uint16_t type, int error) {
    nlmsghdr h{};
    h.nlmsg_len = uint32_t(sizeof h + sizeof(nlmsgerr));
    h.nlmsg_type = type;
    nlmsgerr e{};
    e.error = error;
    return message(h, &e, sizeof e);
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

TEST_CASE("rtnl: an address added and deleted", "[rtnl]") {
    const uint32_t vip = be(192, 168, 227, 100);
    std::vector<AddrEvent> ev;
    Bytes add = addr_message(RTM_NEWADDR, AF_INET, 7, vip, vip, 32);
    RtnlResult r = parse_rtnl_addr(add.data(), add.size(), ev);
    CHECK(r.status == RtnlStatus::more);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].added);
    CHECK(ev[0].ifindex == 7);
    CHECK(ev[0].addr_be == vip);
    CHECK(ev[0].prefixlen == 32);

    Bytes del = addr_message(RTM_DELADDR, AF_INET, 7, vip, vip, 32);
    r = parse_rtnl_addr(del.data(), del.size(), ev);
    CHECK(r.status == RtnlStatus::more);
    REQUIRE(ev.size() == 2);
    CHECK_FALSE(ev[1].added);
    CHECK(ev[1].addr_be == vip);
}

TEST_CASE("rtnl: IFA_LOCAL is the interface's address (IFA_ADDRESS is the peer on a point-to-point link)", "[rtnl]") {
    std::vector<AddrEvent> ev;
    Bytes ptp = addr_message(RTM_NEWADDR, AF_INET, 3, be(10, 0, 0, 1), be(10, 0, 0, 2), 32);
    parse_rtnl_addr(ptp.data(), ptp.size(), ev);
    Bytes only_address = addr_message(RTM_NEWADDR, AF_INET, 3, 0, be(10, 0, 0, 9), 24);
    parse_rtnl_addr(only_address.data(), only_address.size(), ev);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].addr_be == be(10, 0, 0, 1));
    CHECK(ev[1].addr_be == be(10, 0, 0, 9));
}

TEST_CASE("rtnl: a dump of several messages in one datagram, then NLMSG_DONE", "[rtnl]") {
    Bytes v6 = addr_message(RTM_NEWADDR, AF_INET6, 7, 0, 0, 64, 5);  // other families: skipped
    Bytes dump = cat({addr_message(RTM_NEWADDR, AF_INET, 1, be(127, 0, 0, 1), be(127, 0, 0, 1), 8, 5), v6,
                      addr_message(RTM_NEWADDR, AF_INET, 7, be(192, 168, 227, 1), be(192, 168, 227, 1), 24, 5),
                      control_message(NLMSG_DONE, 0),
                      addr_message(RTM_NEWADDR, AF_INET, 9, be(1, 2, 3, 4), be(1, 2, 3, 4), 32)});
    std::vector<AddrEvent> ev;
    RtnlResult r = parse_rtnl_addr(dump.data(), dump.size(), ev);
    CHECK(r.status == RtnlStatus::done);
    REQUIRE(ev.size() == 2);  // nothing after DONE
    CHECK(ev[0].ifindex == 1);
    CHECK(ev[1].ifindex == 7);
    CHECK(ev[1].addr_be == be(192, 168, 227, 1));
}

TEST_CASE("rtnl: errors, acknowledgements and malformed messages", "[rtnl]") {
    std::vector<AddrEvent> ev;
    Bytes ack = control_message(NLMSG_ERROR, 0);
    CHECK(parse_rtnl_addr(ack.data(), ack.size(), ev).status == RtnlStatus::more);
    Bytes err = control_message(NLMSG_ERROR, -EPERM);
    RtnlResult r = parse_rtnl_addr(err.data(), err.size(), ev);
    CHECK(r.status == RtnlStatus::error);
    CHECK(r.error == -EPERM);

    Bytes good = addr_message(RTM_NEWADDR, AF_INET, 7, be(192, 0, 2, 1), be(192, 0, 2, 1), 32);
    // Cut short: the header says more than the datagram holds.
    CHECK(parse_rtnl_addr(good.data(), good.size() - 4, ev).status == RtnlStatus::malformed);
    // Shorter than a header.
    CHECK(parse_rtnl_addr(good.data(), 10, ev).status == RtnlStatus::malformed);
    // An attribute whose length runs past its message.
    Bytes bad = good;
    rtattr a;
    std::memcpy(&a, bad.data() + sizeof(nlmsghdr) + sizeof(ifaddrmsg), sizeof a);
    a.rta_len = 200;
    std::memcpy(bad.data() + sizeof(nlmsghdr) + sizeof(ifaddrmsg), &a, sizeof a);
    CHECK(parse_rtnl_addr(bad.data(), bad.size(), ev).status == RtnlStatus::malformed);
    // An nlmsg_len below the header's size.
    Bytes tiny = good;
    nlmsghdr h;
    std::memcpy(&h, tiny.data(), sizeof h);
    h.nlmsg_len = 4;
    std::memcpy(tiny.data(), &h, sizeof h);
    CHECK(parse_rtnl_addr(tiny.data(), tiny.size(), ev).status == RtnlStatus::malformed);
    CHECK(ev.empty());
}

TEST_CASE("rtnl: the dump request", "[rtnl]") {
    std::vector<uint8_t> req = rtnl_addr_dump_request(42);
    REQUIRE(req.size() == sizeof(nlmsghdr) + sizeof(ifaddrmsg));
    nlmsghdr h;
    std::memcpy(&h, req.data(), sizeof h);
    CHECK(h.nlmsg_len == req.size());
    CHECK(h.nlmsg_type == RTM_GETADDR);
    CHECK(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
    CHECK(h.nlmsg_seq == 42);
    CHECK(req[sizeof(nlmsghdr)] == AF_INET);
}
