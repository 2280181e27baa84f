#include "control/metrics/histogram.hpp"

#include <algorithm>

namespace dplb::metrics {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    // The first bucket whose upper bound is >= value (Prometheus' `le`, "less or equal").
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++counts_[std::size_t(it - bounds_.begin())];
    sum_ += value;
    ++count_;
}

std::vector<double> change_duration_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

}  // namespace dplb::metrics
