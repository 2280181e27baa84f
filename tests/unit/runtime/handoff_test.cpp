// Redirect rings between workers: a real rte_ring (initialised in plain memory, no EAL) with
// the HandoffBatch the workers use. A full ring refuses what does not fit, in order, and takes
// packets again once its consumer has drained it; an empty batch enqueues nothing.
#include <cstdlib>
#include <vector>

#include <catch2/catch.hpp>

#include "dataplane/runtime/handoff_batch.hpp"

using dplb::runtime::HandoffBatch;

namespace {

struct Ring {
    explicit Ring(unsigned count) {
        ssize_t size = rte_ring_get_memsize(count);
        REQUIRE(size > 0);
        r = static_cast<rte_ring*>(aligned_alloc(64, (size_t(size) + 63) & ~size_t(63)));
        REQUIRE(rte_ring_init(r, "handoff_test", count, RING_F_SP_ENQ | RING_F_SC_DEQ) == 0);
    }
    ~Ring() { free(r); }
    std::vector<int*> drain() {
        std::vector<int*> out;
        void* objs[64];
        while (unsigned n = rte_ring_sc_dequeue_burst(r, objs, 64, nullptr))
            for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<int*>(objs[i]));
        return out;
    }
    rte_ring* r = nullptr;
};

}  // namespace

TEST_CASE("A handoff batch fills, flushes into its ring, and hands back what a full ring refuses", "[redirect]") {
    Ring ring(64);  // 63 usable slots
    std::vector<int> packets(200);
    HandoffBatch<int, 32> batch;
    std::vector<int*> refused;
    auto refuse = [&](int* p) { refused.push_back(p); };

    CHECK(batch.flush(ring.r, refuse) == 0);  // empty: nothing enqueued, nothing refused
    CHECK(rte_ring_count(ring.r) == 0);

    unsigned next = 0;
    for (unsigned i = 0; i < 31; ++i) CHECK_FALSE(batch.add(&packets[next++]));
    CHECK(batch.add(&packets[next++]));  // the 32nd: full, flush now
    CHECK(batch.flush(ring.r, refuse) == 32);
    CHECK(batch.size() == 0);
    CHECK(refused.empty());

    // 31 slots left: a second full batch loses its last packet, in order.
    for (unsigned i = 0; i < 32; ++i) batch.add(&packets[next++]);
    CHECK(batch.flush(ring.r, refuse) == 31);
    REQUIRE(refused.size() == 1);
    CHECK(refused[0] == &packets[63]);
    // Completely full: everything refused.
    for (unsigned i = 0; i < 5; ++i) batch.add(&packets[next++]);
    CHECK(batch.flush(ring.r, refuse) == 0);
    CHECK(refused.size() == 6);

    // The consumer sees exactly what was enqueued, in order.
    std::vector<int*> got = ring.drain();
    REQUIRE(got.size() == 63);
    for (unsigned i = 0; i < 63; ++i) CHECK(got[i] == &packets[i]);
    // Drained: the ring takes packets again.
    batch.add(&packets[next++]);
    CHECK(batch.flush(ring.r, refuse) == 1);
    CHECK(ring.drain() == std::vector<int*>{&packets[next - 1]});
    CHECK(ring.drain().empty());
}
