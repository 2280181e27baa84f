// Suite 4: one worker's session table at scale, alone: insert (both directions indexed, as a
// NAT/FULLNAT session), lookup of random existing keys (half by the reply key), lookup of
// absent keys, and expiry through the timing wheel (every session due at once, handed back
// 256 per call as the worker does). Memory: the table's own mapping per session, and the
// process's RSS growth per session.
//
//   session_table_bench --sessions N [--lookups N]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dataplane/session/expiry_wheel.hpp"
#include "dataplane/session/session_table.hpp"

using namespace dplb;
using Clock = std::chrono::steady_clock;

namespace {

long rss_bytes() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return resident * sysconf(_SC_PAGESIZE);
}

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Client i -> VIP and its reply from a real server to a local address (FULLNAT's shape).
FlowKey orig_key(uint32_t i) {
    return FlowKey(__builtin_bswap32(0x64400000u + i / 50000), __builtin_bswap32(0xc0000264u),
                   __builtin_bswap16(uint16_t(10000 + i % 50000)), __builtin_bswap16(80), 6);
}
FlowKey reply_key(uint32_t i) {
    return FlowKey(__builtin_bswap32(0x0a000101u + i % 8), __builtin_bswap32(0x0a006401u + i / 64000),
                   __builtin_bswap16(8080), __builtin_bswap16(uint16_t(1024 + i % 64000)), 6);
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t n = 1000000, lookups = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--sessions") n = std::stoull(argv[i + 1]);
        else if (a == "--lookups") lookups = std::stoull(argv[i + 1]);
        else {
            std::fprintf(stderr, "session_table_bench: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (!lookups) lookups = n;
    const long rss0 = rss_bytes();
    SessionTable table{uint32_t(n)};
    ExpiryWheel wheel(table, 0);

    auto t0 = Clock::now();
    uint64_t inserted = 0;
    for (uint32_t i = 0; i < n; ++i) {
        FlowKey o = orig_key(i), r = reply_key(i);
        Session* s = table.insert(o, flow_hash(o), &r, flow_hash(r));
        if (!s) break;
        s->expires = 1000 + i % 4096;
        wheel.add(s);
        ++inserted;
    }
    const double t_insert = since(t0);
    const long rss1 = rss_bytes();

    std::mt19937 rng(5);
    std::vector<uint32_t> probe(lookups);
    for (auto& p : probe) p = uint32_t(rng() % n);
    uint64_t hits = 0;
    t0 = Clock::now();
    for (uint64_t k = 0; k < lookups; ++k) {
        const uint32_t i = probe[k];
        FlowKey key = k & 1 ? reply_key(i) : orig_key(i);
        const uint32_t h = flow_hash(key);
        if (k + 8 < lookups) {
            const FlowKey ahead = (k + 8) & 1 ? reply_key(probe[k + 8]) : orig_key(probe[k + 8]);
            table.prefetch(flow_hash(ahead));
        }
        hits += table.find(key, h).session != nullptr;
    }
    const double t_lookup = since(t0);

    uint64_t misses = 0;
    t0 = Clock::now();
    for (uint64_t k = 0; k < lookups; ++k) {
        FlowKey key = orig_key(uint32_t(n + probe[k]));  // never inserted
        misses += table.find(key, flow_hash(key)).session == nullptr;
    }
    const double t_miss = since(t0);

    uint64_t expired = 0;
    t0 = Clock::now();
    const Tick later = 1000 + 4096 + ExpiryWheel::slot_width * 2;
    while (true) {
        unsigned got = wheel.expire(later, 256, [&](Session* s) {
            table.erase(s);
            ++expired;
        });
        if (got == 0) break;
    }
    const double t_expire = since(t0);

    std::printf("{\"suite\":\"session_table\",\"sessions\":%llu,\"inserted\":%llu,\"lookups\":%llu,\"hits\":%llu,"
                "\"misses\":%llu,\"expired\":%llu,\"insert_per_second\":%.0f,\"lookup_per_second\":%.0f,"
                "\"miss_lookup_per_second\":%.0f,\"expire_per_second\":%.0f,\"table_bytes_per_session\":%.1f,"
                "\"rss_bytes_per_session\":%.1f,\"left\":%u}\n",
                (unsigned long long)n, (unsigned long long)inserted, (unsigned long long)lookups,
                (unsigned long long)hits, (unsigned long long)misses, (unsigned long long)expired,
                double(inserted) / t_insert, double(lookups) / t_lookup, double(lookups) / t_miss,
                double(expired) / t_expire, double(table.memory_bytes()) / double(n),
                double(rss1 - rss0) / double(n), table.size());
    return inserted == n && hits == lookups && misses == lookups && expired == n && table.size() == 0 ? 0 : 1;
}
