// FlatMap: the read-only open-addressing map behind snapshot lookups.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "dataplane/config/flat_map.hpp"

using namespace dplb;

TEST_CASE("FlatMap: empty maps find nothing", "[flat_map]") {
    FlatMap<int> a;
    CHECK(a.size() == 0);
    CHECK(a.find(0) == nullptr);
    CHECK(a.find(12345) == nullptr);
    FlatMap<int> b(std::vector<std::pair<uint64_t, int>>{});
    CHECK(b.size() == 0);
    CHECK(b.find(0) == nullptr);
}

TEST_CASE("FlatMap: every key found with its value, absent keys not, later duplicates win", "[flat_map]") {
    std::mt19937_64 rng(99);
    for (size_t n : {size_t(1), size_t(2), size_t(3), size_t(100), size_t(5000)}) {
        INFO("n " << n);
        std::vector<std::pair<uint64_t, int>> items;
        std::map<uint64_t, int> model;
        for (size_t i = 0; i < n; ++i) {
            // Keys shaped like service_lookup_key, and some exact duplicates.
            uint64_t k = i % 10 == 9 ? items[i / 2].first : (uint64_t(6) << 48 | (rng() & 0xffffffffffffull));
            items.emplace_back(k, int(i));
            model[k] = int(i);
        }
        FlatMap<int> m(items);
        CHECK(m.size() == model.size());
        for (const auto& [k, v] : model) {
            const int* got = m.find(k);
            REQUIRE(got);
            CHECK(*got == v);
        }
        for (int i = 0; i < 1000; ++i) {
            uint64_t k = uint64_t(17) << 48 | (rng() & 0xffffffff);
            CHECK(m.find(k) == nullptr);
        }
        std::map<uint64_t, int> seen;
        m.for_each([&](uint64_t k, int v) { CHECK(seen.emplace(k, v).second); });
        CHECK(seen == model);
    }
}

TEST_CASE("FlatMap: keys colliding in the hash probe linearly and wrap", "[flat_map]") {
    // 5 items -> 16 slots, index = top 4 bits of key * 0x9e3779b97f4a7c15. Five keys that all
    // want the last slot: probing has to wrap to the front of the table.
    auto slot = [](uint64_t k) { return (k * 0x9e3779b97f4a7c15ull) >> 60; };
    std::vector<std::pair<uint64_t, int>> items;
    for (uint64_t k = 1; items.size() < 5; ++k)
        if (slot(k) == 15) items.emplace_back(k, int(items.size()));
    FlatMap<int> m(items);
    CHECK(m.size() == 5);
    for (const auto& [k, v] : items) {
        REQUIRE(m.find(k));
        CHECK(*m.find(k) == v);
    }
    for (uint64_t k = items.back().first + 1, misses = 0; misses < 3; ++k)
        if (slot(k) == 15) {
            CHECK(m.find(k) == nullptr);
            ++misses;
        }
}

TEST_CASE("FlatMap: copies share the slots of the original", "[flat_map]") {
    FlatMap<int> a(std::vector<std::pair<uint64_t, int>>{{1, 10}, {2, 20}});
    FlatMap<int> b = a;
    REQUIRE(b.find(2));
    CHECK(b.find(2) == a.find(2));  // same slot, not a copy
    CHECK(*b.find(1) == 10);
}
