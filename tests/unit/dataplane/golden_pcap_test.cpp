// Golden pcaps written by scapy (golden/make_golden.py), replayed through a fresh load
// balancer: each file is a sequence of (input, expected output) frame pairs. Scapy computes
// every checksum of the expected frames, independently of both the dataplane and the test's
// own packet builder.
#include <pcap/pcap.h>

#include <string>
#include <vector>

#include "catch_print.hpp"
#include "forwarder_fixture.hpp"

using namespace dplb;
using namespace dplb::test;
using Action = fwd::Verdict::Action;

namespace {

std::vector<Bytes> read_pcap(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* pc = pcap_open_offline(path.c_str(), err);
    if (!pc) FAIL("cannot open " << path << ": " << err);
    std::vector<Bytes> frames;
    CHECK(pcap_datalink(pc) == DLT_EN10MB);
    pcap_pkthdr* h;
    const u_char* data;
    while (pcap_next_ex(pc, &h, &data) == 1) {
        CHECK(h->caplen == h->len);
        frames.emplace_back(data, data + h->caplen);
    }
    pcap_close(pc);
    return frames;
}

void replay(const char* name, size_t want_pairs) {
    INFO(name);
    auto frames = read_pcap(std::string(DPLB_GOLDEN_DIR) + "/" + name + ".pcap");
    REQUIRE(frames.size() == 2 * want_pairs);
    Lb lb;
    for (size_t i = 0; i < frames.size(); i += 2) {
        INFO("pair " << i / 2);
        Bytes f = frames[i];
        const Bytes& want = frames[i + 1];
        const uint16_t port = eth_of(f).src == Net::server_mac ? Net::server_port : Net::client_port;
        fwd::Verdict v;
        if (eth_of(f).type_be == pkt::ethertype_arp_be) {
            v = lb.send_arp(f, port);
            CHECK(v.action == Action::reply);
        } else {
            v = lb.send(f, port);
            const bool local = ip_of(f).protocol == pkt::proto_icmp;
            CHECK(v.action == (local ? Action::reply : Action::forward));
            if (!local) CHECK(v.route_to == ip_of(want).daddr);
            check_checksums(f, true);
        }
        CHECK(v.reason == DropReason::none);
        INFO(describe_difference(f, want));
        CHECK(f == want);
    }
}

}  // namespace

TEST_CASE("golden pcaps: FULLNAT TCP (IP and TCP options, data, FIN with TTL 2)", "[golden]") {
    replay("fullnat_tcp", 5);
}
TEST_CASE("golden pcaps: NAT TCP", "[golden]") { replay("nat_tcp", 4); }
TEST_CASE("golden pcaps: FULLNAT UDP (and a datagram without checksum)", "[golden]") { replay("fullnat_udp", 3); }
TEST_CASE("golden pcaps: NAT UDP", "[golden]") { replay("nat_udp", 2); }
TEST_CASE("golden pcaps: ICMP echo and ARP answered", "[golden]") { replay("local", 2); }
TEST_CASE("golden pcaps: NAT TCP translating ports (VIP:4443 -> RS:8443)", "[golden][ports]") {
    replay("nat_tcp_ports", 5);
}
TEST_CASE("golden pcaps: NAT UDP translating ports (VIP:5300 -> RS:53)", "[golden][ports]") {
    replay("nat_udp_ports", 3);
}
