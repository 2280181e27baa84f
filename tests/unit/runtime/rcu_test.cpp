// Snapshot reclamation under load: worker threads read the published object as the dataplane's
// workers do (load once per burst, report quiescence every loop), while a writer publishes new
// versions and poisons each old one right after synchronize(). A reader that ever sees poison
// read an object after it was given back: the grace period was too short. Runs with 2 and 4
// readers on however many CPUs there are (the point is interleaving, not speed).
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "dataplane/runtime/rcu.hpp"

using dplb::runtime::Published;
using dplb::runtime::Rcu;

namespace {

constexpr uint64_t poison = 0xdeaddeaddeaddeadull;

struct Version {
    uint64_t number;
    std::atomic<uint64_t> check;  // number * 3 while the object is live; poison once reclaimed
};

struct Reader {
    std::atomic<uint64_t> loops{0};
    std::atomic<uint64_t> bad{0};
    std::atomic<uint64_t> last_seen{0};
};

void read_loop(Rcu& rcu, Published<Version>& published, unsigned id, Reader& r, const std::atomic<bool>& stop) {
    rcu.register_reader(id);
    rcu.online(id);
    while (!stop.load(std::memory_order_relaxed)) {
        const Version* v = published.load();
        // A burst's worth of reads of the same object, as a worker uses one snapshot per burst.
        for (int i = 0; i < 64; ++i) {
            if (v->check.load(std::memory_order_relaxed) != v->number * 3) r.bad.fetch_add(1, std::memory_order_relaxed);
            if (i % 16 == 0) std::this_thread::yield();  // let the writer run in the middle
        }
        r.last_seen.store(v->number, std::memory_order_relaxed);
        r.loops.fetch_add(1, std::memory_order_relaxed);
        rcu.quiescent(id);
    }
    rcu.offline(id);
    rcu.unregister_reader(id);
}

}  // namespace

TEST_CASE("No published object is reclaimed while a reader may still hold it", "[rcu]") {
    for (unsigned readers : {2u, 4u}) {
        INFO(readers << " readers");
        Rcu rcu(readers);
        Published<Version> published;
        std::vector<std::unique_ptr<Version>> reclaimed;  // poisoned, kept so reads stay defined
        published.exchange(new Version{0, 0});
        std::atomic<bool> stop{false};
        std::vector<Reader> state(readers);
        std::vector<std::thread> threads;
        for (unsigned id = 0; id < readers; ++id)
            threads.emplace_back(read_loop, std::ref(rcu), std::ref(published), id, std::ref(state[id]), std::cref(stop));

        constexpr uint64_t versions = 2000;
        for (uint64_t n = 1; n <= versions; ++n) {
            const Version* old = published.exchange(new Version{n, n * 3});
            rcu.synchronize();  // every online reader has passed a quiescent state since
            auto* dead = const_cast<Version*>(old);
            dead->check.store(poison, std::memory_order_relaxed);
            reclaimed.emplace_back(dead);
        }
        // Every reader kept running and saw recent versions.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (auto& r : state)
            while (r.last_seen.load() != versions && std::chrono::steady_clock::now() < deadline)
                std::this_thread::yield();
        stop = true;
        for (auto& t : threads) t.join();
        for (auto& r : state) {
            CHECK(r.bad.load() == 0);
            CHECK(r.loops.load() > 0);
            CHECK(r.last_seen.load() == versions);
        }
        delete published.load();
    }
}

TEST_CASE("synchronize() waits for a reader in the middle of its burst, and not for an offline one", "[rcu]") {
    Rcu rcu(2);
    std::atomic<int> phase{0};
    std::atomic<bool> writer_done{false};
    std::thread reader([&] {
        rcu.register_reader(0);
        rcu.online(0);
        phase = 1;  // holding "the old snapshot"
        while (phase.load() != 2) std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        // The writer cannot have finished while this reader was inside its burst.
        CHECK_FALSE(writer_done.load());
        rcu.quiescent(0);
        rcu.offline(0);
        rcu.unregister_reader(0);
    });
    while (phase.load() != 1) std::this_thread::yield();
    std::thread writer([&] {
        phase = 2;
        rcu.synchronize();
        writer_done = true;
    });
    writer.join();
    reader.join();
    CHECK(writer_done.load());

    // Reader 1 never came online: a sleeping or idle worker does not hold writers up.
    auto t0 = std::chrono::steady_clock::now();
    rcu.synchronize();
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}
