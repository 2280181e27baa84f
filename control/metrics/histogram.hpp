// A Prometheus histogram with fixed buckets: per-bucket counts, their sum and the count of
// observations. dplb-control's change-duration histogram (request received -> reply sent).
//
// Threading: a value; dplb-control's event-loop thread records into it and renders it.
#pragma once

#include <cstdint>
#include <vector>

namespace dplb::metrics {

class Histogram {
public:
    // `upper_bounds` ascending, finite; +Inf is implied.
    explicit Histogram(std::vector<double> upper_bounds);

    void observe(double value);

    const std::vector<double>& upper_bounds() const { return bounds_; }
    // Observations per bucket, not cumulative: counts()[i] those in (bounds[i-1], bounds[i]],
    // counts()[bounds.size()] those above the last bound.
    const std::vector<uint64_t>& counts() const { return counts_; }
    double sum() const { return sum_; }
    uint64_t count() const { return count_; }

private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;
    double sum_ = 0;
    uint64_t count_ = 0;
};

// The change-duration histogram's buckets, in seconds: 0.5 ms .. 5 s.
std::vector<double> change_duration_buckets();

}  // namespace dplb::metrics
