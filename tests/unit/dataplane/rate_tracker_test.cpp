// ipvsadm --rate as the dataplane estimates it: ip_vs_est.c's moving averages, by stable id.
#include "catch_print.hpp"
#include "dataplane/stats/rate_tracker.hpp"

using namespace dplb;

namespace {

model::Counters counters(uint64_t conns, uint64_t pkts, uint64_t bytes) {
    return {conns, pkts, pkts / 2, bytes, bytes * 10};
}

// One round in which service 3 and real server 7 have these counters.
void round(RateTracker& t, double at, const model::Counters& c) {
    t.begin_round(at);
    t.service(3, c);
    t.real(7, c);
}

}  // namespace

TEST_CASE("rates follow ip_vs_est.c: a quarter of the way to the new rate every round", "[rates]") {
    RateTracker t(16, 16);
    round(t, 100.0, counters(0, 0, 0));
    CHECK(t.service_rates(3) == model::Rates{});
    // 200 connections, 2000 packets and 200000 bytes in 2 s: 100 cps, 1000 pps, 100000 Bps.
    round(t, 102.0, counters(200, 2000, 200000));
    auto r1 = t.service_rates(3);
    CHECK(r1.cps == 25);  // (0 + (100<<10 - 0) / 4 + 511) >> 10
    CHECK(r1.inpps == 250);
    CHECK(r1.outpps == 125);
    CHECK(r1.inbps == 25000);
    CHECK(r1.outbps == 250000);
    CHECK(t.real_rates(7) == r1);
    CHECK(t.service_rates(4) == model::Rates{});  // never seen
    // A steady rate converges (the integer EWMA settles within 3 units of scale below it).
    uint64_t conns = 200;
    for (int i = 2; i <= 61; ++i) {
        conns += 200;
        round(t, 100.0 + 2 * i, counters(conns, conns * 10, conns * 1000));
    }
    auto steady = t.service_rates(3);
    CHECK(steady.cps == 100);
    CHECK(steady.inpps == 1000);
    CHECK(steady.inbps == 100000);
    // The interval is measured, not assumed: the same deltas over 4 s are half the rate.
    RateTracker slow(16, 16);
    round(slow, 0.0, counters(0, 0, 0));
    round(slow, 4.0, counters(200, 2000, 200000));
    CHECK(slow.service_rates(3).cps == 12);  // 50/4 = 12.5, which ip_vs_read_estimator's +0x1FF rounds down
}

TEST_CASE("rates restart when counters go back (a reused id), and on zero", "[rates]") {
    RateTracker t(16, 16);
    round(t, 0.0, counters(1000, 1000, 1000));
    round(t, 2.0, counters(3000, 3000, 3000));
    CHECK(t.service_rates(3).cps > 0);
    round(t, 4.0, counters(10, 10, 10));  // counters went back: the id belongs to a new object
    CHECK(t.service_rates(3) == model::Rates{});
    round(t, 6.0, counters(2010, 10, 10));
    CHECK(t.service_rates(3).cps == 250);
    t.reset_service(3, counters(2010, 10, 10));
    t.reset_real(7, counters(2010, 10, 10));
    CHECK(t.service_rates(3) == model::Rates{});
    CHECK(t.real_rates(7) == model::Rates{});
    round(t, 8.0, counters(2010, 10, 10));  // no change since the zero
    CHECK(t.service_rates(3).cps == 0);
    // The zero counts from the counters at its moment, not from the last round's.
    round(t, 10.0, counters(2410, 10, 10));
    t.reset_service(3, counters(3010, 10, 10));  // 600 more connections before the zero
    round(t, 12.0, counters(3010, 10, 10));
    CHECK(t.service_rates(3).cps == 0);
    // An id reused for a new object keeps nothing of the old one, even with larger counters.
    round(t, 14.0, counters(4010, 10, 10));
    CHECK(t.service_rates(3).cps > 0);
    t.forget_service(3);
    CHECK(t.service_rates(3) == model::Rates{});
    round(t, 16.0, counters(9000, 10, 10));  // the new object's first round: nothing to compare with
    CHECK(t.service_rates(3) == model::Rates{});
    // Ids beyond the table are ignored, not written.
    t.service(99, counters(1, 1, 1));
    CHECK(t.service_rates(99) == model::Rates{});
}
