// Build + assemble time of one configuration change at 10,000 services x 8 real servers:
// a full build of the changed configuration (the `apply` path) against an incremental build
// that touches the one changed service (the `apply-batch` path).
//
//   snapshot_build_bench [services] [reals] [rounds]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dataplane/config/snapshot_builder.hpp"

using namespace dplb;

namespace {

config::Config make(unsigned n, unsigned reals, config::Scheduler sched) {
    config::Config c;
    for (unsigned i = 0; i < n; ++i) {
        config::Service s;
        s.key = config::ServiceKey{config::Protocol::tcp, Ip4::from_host(0xc0000000u + i), 80};
        s.scheduler = sched;
        for (unsigned r = 0; r < reals; ++r) {
            config::RealServer rs;
            rs.address = Ip4::from_host(0x0a000000u + i * 16 + r);
            rs.port = 8080;
            rs.forward = config::ForwardMethod::nat;
            s.reals.push_back(rs);
        }
        c.services.push_back(std::move(s));
    }
    return c;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    unsigned n = argc > 1 ? unsigned(std::atoi(argv[1])) : 10000;
    unsigned reals = argc > 2 ? unsigned(std::atoi(argv[2])) : 8;
    unsigned rounds = argc > 3 ? unsigned(std::atoi(argv[3])) : 20;
    for (config::Scheduler sched : {config::Scheduler::rr, config::Scheduler::mh}) {
        LocalAddressRegistry laddrs(4, 1024, 65535);
        PortSnap port{};
        port.addresses.push_back(*Ip4Prefix::parse("10.0.0.1/8"));
        SnapshotBuilder b(4, {port}, SnapshotLimits{1u << 14, 1u << 17}, laddrs);
        config::Config c = make(n, reals, sched);
        auto t0 = std::chrono::steady_clock::now();
        auto first = b.build(c, 1);
        if (!first) return 1;
        double initial = ms_since(t0);
        double full_best = 1e9, delta_best = 1e9, delta_sum = 0;
        uint64_t gen = 1;
        for (unsigned i = 0; i < rounds; ++i) {
            auto& svc = c.services[(i * 7919) % n];
            svc.reals[i % reals].weight = 2 + i;
            t0 = std::chrono::steady_clock::now();
            auto full = b.build(c, ++gen);
            full_best = std::min(full_best, ms_since(t0));
            if (!full || b.last_rebuilt() != 1) return 2;
            svc.reals[i % reals].weight = 100 + i;
            model::Touched t;
            t.services = {svc.key};
            t0 = std::chrono::steady_clock::now();
            auto inc = b.build(c, t, ++gen, [&svc](const config::ServiceKey&) { return &svc; });
            double d = ms_since(t0);
            if (!inc || b.last_rebuilt() != 1) return 3;
            delta_best = std::min(delta_best, d);
            delta_sum += d;
            b.collect([](uint32_t) { return false; }, [](uint32_t) { return false; });
        }
        std::printf("%s %u x %u: initial build %.1f ms; one-real change: full build %.3f ms, incremental %.3f ms "
                    "(best of %u, mean %.3f ms)\n",
                    std::string(config::to_string(sched)).c_str(), n, reals, initial, full_best, delta_best, rounds,
                    delta_sum / rounds);
    }
    return 0;
}
