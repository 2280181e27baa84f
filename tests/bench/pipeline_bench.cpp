// Suite 1: the fast path in process, one worker, no PMD. Pre-built 64-byte frames are copied
// burst by burst into a receive area (as a NIC would have written them), parsed and handed
// to the Forwarder exactly as the worker loop does (parse_ipv4 with checksum verification,
// the burst's session-table prefetches, handle_ipv4, one expiry call per burst); forwarded frames are counted and their buffers
// reused. What the worker adds on top (route lookup, neighbour MAC, Ethernet header, tx_burst)
// is not in these figures.
//
//   pipeline_bench --mode fullnat|nat|dr|tun --phase established|new|mix
//                  [--sessions N] [--flows N] [--packets N]
//
// established: N UDP flows get their sessions from their first packets (timed: UDP
//              sessions per second), then --packets packets over those flows in a shuffled
//              order, repeatedly (ns/packet, Mpps); RSS growth per session is reported.
// new:         --flows TCP SYNs, each of a new 5-tuple: connections per second, including
//              scheduling (rr over 8 servers) and, for FULLNAT, a local port.
// mix:         the established flows with one new-flow SYN in every 10 packets.
// One JSON object on stdout. A "copy_parse_ns" baseline (copy + parse only) says how much of
// each packet's time is the harness and parsing rather than the load balancer.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "bench_frames.hpp"
#include "dataplane/config/snapshot_builder.hpp"
#include "dataplane/forward/forwarder.hpp"

using namespace dplb;
using namespace dplb::bench;
using Clock = std::chrono::steady_clock;

namespace {

constexpr unsigned burst = 32;
constexpr uint32_t headroom = 64;  // TUN grows the frame into it
constexpr uint32_t rx_stride = 192;
constexpr unsigned nreals = 8;
constexpr uint16_t ports_per_client = 50000;

struct Options {
    std::string mode = "fullnat";
    std::string phase = "established";
    uint64_t sessions = 100000;
    uint64_t flows = 1000000;
    uint64_t packets = 20000000;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr, "pipeline_bench: %s\n(usage: see the head of tests/bench/pipeline_bench.cpp)\n", why);
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + a).c_str());
        std::string v = argv[++i];
        if (a == "--mode") o.mode = v;
        else if (a == "--phase") o.phase = v;
        else if (a == "--sessions") o.sessions = std::stoull(v);
        else if (a == "--flows") o.flows = std::stoull(v);
        else if (a == "--packets") o.packets = std::stoull(v);
        else usage(("unknown option " + a).c_str());
    }
    if (o.mode != "fullnat" && o.mode != "nat" && o.mode != "dr" && o.mode != "tun") usage("--mode: fullnat, nat, dr or tun");
    if (o.phase != "established" && o.phase != "new" && o.phase != "mix") usage("--phase: established, new or mix");
    return o;
}

long rss_bytes() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return resident * sysconf(_SC_PAGESIZE);
}

const uint32_t vip = ipv4(192, 0, 2, 100);
const uint32_t udp_client_base = ipv4(100, 64, 0, 0), tcp_client_base = ipv4(100, 96, 0, 0);

config::ForwardMethod method_of(const std::string& m) {
    if (m == "fullnat") return config::ForwardMethod::fullnat;
    if (m == "nat") return config::ForwardMethod::nat;
    if (m == "dr") return config::ForwardMethod::dr;
    return config::ForwardMethod::tunnel;
}

// UDP VIP:53 and TCP VIP:80, both rr over 8 real servers of `mode`; FULLNAT with enough
// local addresses for `sessions` (64512 ports each).
config::Config bench_config(const std::string& mode, uint64_t sessions) {
    config::Config c;
    for (auto [proto, port] : {std::pair{config::Protocol::udp, uint16_t(53)}, std::pair{config::Protocol::tcp, uint16_t(80)}}) {
        config::Service s;
        s.key = config::ServiceKey{proto, Ip4{vip}, port};
        s.scheduler = config::Scheduler::rr;
        for (unsigned i = 0; i < nreals; ++i) {
            config::RealServer r;
            r.address = Ip4{ipv4(10, 0, 1, uint8_t(1 + i))};
            r.port = mode == "dr" || mode == "tun" ? port : uint16_t(8000 + port);
            r.forward = method_of(mode);
            r.weight = 1;
            s.reals.push_back(r);
        }
        if (mode == "fullnat")
            for (uint64_t i = 0; i < sessions / 60000 + 2; ++i) s.local_addresses.push_back(Ip4{ipv4(10, 0, 100 + uint8_t(i / 250), uint8_t(1 + i % 250))});
        c.services.push_back(s);
    }
    return c;
}

PortSnap port_snap(uint8_t mac_last, const char* prefix) {
    PortSnap p;
    p.mac = pkt::Mac{{0x02, 0, 0, 0, 0, mac_last}};
    p.addresses.push_back(*Ip4Prefix::parse(prefix));
    return p;
}

// The frames of flows [first, first + n) of a protocol, in a shuffled order.
std::vector<uint8_t> make_frames(uint64_t n, uint8_t proto, uint32_t client_base, uint16_t vport, unsigned seed) {
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::shuffle(order.begin(), order.end(), std::mt19937(seed));
    std::vector<uint8_t> frames(n * frame_stride);
    for (uint64_t i = 0; i < n; ++i) {
        const uint32_t flow = order[i];
        FlowSpec f{ipv4_add(client_base, flow / ports_per_client), vip, uint16_t(10000 + flow % ports_per_client), vport, proto};
        write_frame(&frames[i * frame_stride], f);
    }
    return frames;
}

struct Bench {
    Options opt;
    LocalAddressRegistry laddrs;
    SnapshotBuilder builder;
    std::unique_ptr<Snapshot> snap;
    std::unique_ptr<fwd::Forwarder> fwd;
    std::vector<uint8_t> rx = std::vector<uint8_t>(burst * rx_stride);
    Tick now = 1000000;
    uint64_t forwarded = 0, dropped = 0;

    Bench(const Options& o, uint64_t capacity)
        : opt(o),
          laddrs(1, 1024, 65535),
          builder(1, {port_snap(0x10, "192.0.2.1/24"), port_snap(0x11, "10.0.0.1/16")}, SnapshotLimits{}, laddrs) {
        auto r = builder.build(bench_config(o.mode, capacity), 1);
        if (!r) usage(("snapshot: " + r.error().str()).c_str());
        snap = std::move(*r);
        fwd::ForwarderParams p;
        p.session_capacity = uint32_t(capacity + capacity / 64 + 1024);
        fwd = std::make_unique<fwd::Forwarder>(p, laddrs, now);
    }

    // Copies up to `burst` frames (frame i of `frames` for i in `idx`) into the receive area
    // and runs them through the pipeline.
    template <class Next>
    void run_burst(unsigned n, Next next_frame, bool forward) {
        for (unsigned k = 0; k < n; ++k) std::memcpy(&rx[k * rx_stride + headroom], next_frame(k), frame_len);
        // The worker's three passes (runtime/worker.cpp handle_burst): parse and prefetch each
        // bucket, prefetch the matching sessions, forward.
        pkt::ParsedIpv4 parsed[burst];
        uint32_t hash[burst];
        unsigned m = 0;
        for (unsigned k = 0; k < n; ++k) {
            uint8_t* f = &rx[k * rx_stride + headroom];
            if (pkt::parse_ipv4(f, frame_len, true, parsed[m]) != DropReason::none) {
                ++dropped;
                continue;
            }
            parsed[m].headroom = headroom;
            if (forward) {
                hash[m] = fwd::Forwarder::lookup_hash(parsed[m]);
                fwd->prefetch_bucket(hash[m]);
            }
            ++m;
        }
        if (!forward) {
            forwarded += m;
            return;
        }
        for (unsigned k = 0; k < m; ++k) fwd->prefetch_session(hash[k]);
        for (unsigned k = 0; k < m; ++k) {
            fwd::Verdict v = fwd->handle_ipv4(parsed[k], 0, *snap, now, hash[k]);
            if (v.action == fwd::Verdict::Action::forward) ++forwarded;
            else ++dropped;
        }
        fwd->expire(now, 256, snap.get());
    }

    // `count` packets cycling over `frames` (n frames); returns seconds.
    double stream(const std::vector<uint8_t>& frames, uint64_t count, bool forward = true) {
        const uint64_t n = frames.size() / frame_stride;
        uint64_t pos = 0;
        auto t0 = Clock::now();
        for (uint64_t done = 0; done < count;) {
            unsigned b = unsigned(std::min<uint64_t>(burst, count - done));
            run_burst(
                b, [&](unsigned) {
                    const uint8_t* f = &frames[pos * frame_stride];
                    if (++pos == n) pos = 0;
                    return f;
                },
                forward);
            done += b;
        }
        return std::chrono::duration<double>(Clock::now() - t0).count();
    }

    // Established flows with one SYN of `syns` in every `every` packets.
    double mixed(const std::vector<uint8_t>& est, const std::vector<uint8_t>& syns, uint64_t count, unsigned every) {
        const uint64_t ne = est.size() / frame_stride, ns = syns.size() / frame_stride;
        uint64_t pe = 0, ps = 0, i = 0;
        auto t0 = Clock::now();
        for (uint64_t done = 0; done < count;) {
            unsigned b = unsigned(std::min<uint64_t>(burst, count - done));
            run_burst(
                b, [&](unsigned) {
                    const uint8_t* f;
                    if (++i % every == 0 && ps < ns) f = &syns[ps++ * frame_stride];
                    else {
                        f = &est[pe * frame_stride];
                        if (++pe == ne) pe = 0;
                    }
                    return f;
                },
                true);
            done += b;
        }
        return std::chrono::duration<double>(Clock::now() - t0).count();
    }
};

void print_common(const Options& o) {
    std::printf("{\"suite\":\"pipeline\",\"mode\":\"%s\",\"phase\":\"%s\"", o.mode.c_str(), o.phase.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse(argc, argv);
    if (o.phase == "established" || o.phase == "mix") {
        std::vector<uint8_t> est = make_frames(o.sessions, pkt::proto_udp, udp_client_base, 53, 1);
        std::vector<uint8_t> syns;
        if (o.phase == "mix") syns = make_frames(o.flows, pkt::proto_tcp, tcp_client_base, 80, 2);
        const long rss0 = rss_bytes();
        Bench b(o, o.sessions + (o.phase == "mix" ? o.flows : 0));
        // Copy + parse only, over the same frames: the harness's share.
        const uint64_t base_packets = std::min<uint64_t>(o.packets, 5000000);
        const double tb = b.stream(est, base_packets, false);
        b.forwarded = b.dropped = 0;
        const double tc = b.stream(est, o.sessions);  // first packet of each flow: sessions made
        const long rss1 = rss_bytes();
        const uint64_t created = b.fwd->counters().sessions_created.get();
        if (created != o.sessions) {
            std::fprintf(stderr, "pipeline_bench: %llu of %llu sessions created\n", (unsigned long long)created,
                         (unsigned long long)o.sessions);
            return 1;
        }
        b.forwarded = b.dropped = 0;
        double t;
        if (o.phase == "mix") t = b.mixed(est, syns, o.packets, 10);
        else t = b.stream(est, o.packets);
        print_common(o);
        std::printf(",\"sessions\":%llu,\"packets\":%llu,\"forwarded\":%llu,\"dropped\":%llu,\"seconds\":%.6f,"
                    "\"ns_per_packet\":%.2f,\"mpps\":%.3f,\"copy_parse_ns\":%.2f,\"udp_sessions_per_second\":%.0f,"
                    "\"rss_bytes_per_session\":%.1f,\"table_bytes_per_session\":%.1f,\"new_flows\":%llu}\n",
                    (unsigned long long)o.sessions, (unsigned long long)o.packets, (unsigned long long)b.forwarded,
                    (unsigned long long)b.dropped, t, t * 1e9 / double(o.packets), double(o.packets) / t / 1e6,
                    tb * 1e9 / double(base_packets), double(o.sessions) / tc,
                    double(rss1 - rss0) / double(o.sessions),
                    double(b.fwd->sessions().memory_bytes()) / double(o.sessions),
                    (unsigned long long)(b.fwd->counters().sessions_created.get() - created));
        return 0;
    }
    // new: every packet a SYN of a new 5-tuple.
    std::vector<uint8_t> syns = make_frames(o.flows, pkt::proto_tcp, tcp_client_base, 80, 3);
    Bench b(o, o.flows);
    const double t = b.stream(syns, o.flows);
    const uint64_t created = b.fwd->counters().sessions_created.get();
    print_common(o);
    std::printf(",\"flows\":%llu,\"packets\":%llu,\"forwarded\":%llu,\"dropped\":%llu,\"sessions_created\":%llu,"
                "\"seconds\":%.6f,\"ns_per_packet\":%.2f,\"connections_per_second\":%.0f}\n",
                (unsigned long long)o.flows, (unsigned long long)o.flows, (unsigned long long)b.forwarded,
                (unsigned long long)b.dropped, (unsigned long long)created, t, t * 1e9 / double(o.flows),
                double(created) / t);
    return created == o.flows ? 0 : 1;
}
