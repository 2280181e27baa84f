#include "model/rates.hpp"

#include <cmath>

namespace dplb::model {

namespace {

int64_t scaled_rate(uint64_t delta, int shift, double seconds) {
    return int64_t(std::llround(double(delta) * double(int64_t(1) << shift) / seconds));
}

// ip_vs_est.c: avg += (rate - avg) >> 2, an arithmetic shift.
void smooth(int64_t& avg, int64_t rate) { avg += (rate - avg) >> 2; }

}  // namespace

void update_estimate(RateEstimate& e, const Counters& now, double seconds) {
    if (any_below(now, e.last)) {  // the id was reused, or the counters restarted
        e = RateEstimate{now};
        return;
    }
    Counters d = minus(now, e.last);
    smooth(e.cps, scaled_rate(d.conns, 10, seconds));
    smooth(e.inpps, scaled_rate(d.inpkts, 10, seconds));
    smooth(e.outpps, scaled_rate(d.outpkts, 10, seconds));
    smooth(e.inbps, scaled_rate(d.inbytes, 5, seconds));
    smooth(e.outbps, scaled_rate(d.outbytes, 5, seconds));
    e.last = now;
}

Rates read_estimate(const RateEstimate& e) {
    auto unscale = [](int64_t v, int shift) { return v <= 0 ? 0 : uint64_t((v + (int64_t(1) << (shift - 1)) - 1) >> shift); };
    return Rates{unscale(e.cps, 10), unscale(e.inpps, 10), unscale(e.outpps, 10), unscale(e.inbps, 5),
                 unscale(e.outbps, 5)};
}

}  // namespace dplb::model
