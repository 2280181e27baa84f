// Suite 3's table part: how long the Maglev (mh) lookup table of one service takes to build,
// the way the snapshot builder builds it (IPVS's permutation and weight scaling), for a table
// of `--size` positions (prime; IPVS's and dplb's default 65537) and `--reals` servers.
//
//   maglev_bench [--size 65537] [--reals 8] [--rounds 50]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "dataplane/sched/mh_table.hpp"

using namespace dplb;

int main(int argc, char** argv) {
    uint32_t size = 65537, reals = 8, rounds = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        uint32_t v = uint32_t(std::stoul(argv[i + 1]));
        if (a == "--size") size = v;
        else if (a == "--reals") reals = v;
        else if (a == "--rounds") rounds = std::max<uint32_t>(v, 1);
        else {
            std::fprintf(stderr, "maglev_bench: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    std::vector<RealSnap> servers(reals);
    std::vector<uint32_t> weights(reals, 1);
    for (uint32_t i = 0; i < reals; ++i) {
        servers[i].addr = __builtin_bswap32(0x0a000101u + i);
        servers[i].port = __builtin_bswap16(80);
        servers[i].id = i;
    }
    std::vector<double> ms;
    size_t filled = 0;
    for (uint32_t r = 0; r < rounds; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        std::vector<uint16_t> table = build_mh_table(servers, weights, size);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        filled = size_t(std::count_if(table.begin(), table.end(), [&](uint16_t e) { return e < reals; }));
    }
    std::sort(ms.begin(), ms.end());
    std::printf("{\"suite\":\"maglev\",\"size\":%u,\"reals\":%u,\"rounds\":%u,\"filled\":%zu,\"median_ms\":%.3f,"
                "\"min_ms\":%.3f,\"max_ms\":%.3f}\n",
                size, reals, rounds, filled, ms[ms.size() / 2], ms.front(), ms.back());
    return filled == size ? 0 : 1;
}
