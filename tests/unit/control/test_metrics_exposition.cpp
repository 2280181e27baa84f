// The text exposition writer (control/metrics/exposition.hpp) and the histogram.
#include <catch2/catch.hpp>

#include <limits>

#include "control/metrics/exposition.hpp"

using namespace dplb::metrics;

TEST_CASE("metrics: label values and HELP text are escaped") {
    Labels l;
    l.add("a", "plain").add("b", "back\\slash \"quoted\"\nnewline");
    CHECK(l.text() == R"(a="plain",b="back\\slash \"quoted\"\nnewline")");

    ExpositionWriter w;
    w.family("x_total", MetricType::counter, "help with \\ and\nnewline \"quotes\" stay");
    w.sample(l.text(), uint64_t(3));
    CHECK(w.text() ==
          "# HELP x_total help with \\\\ and\\nnewline \"quotes\" stay\n"
          "# TYPE x_total counter\n"
          "x_total{a=\"plain\",b=\"back\\\\slash \\\"quoted\\\"\\nnewline\"} 3\n");
}

TEST_CASE("metrics: samples without labels, extra labels, numbers") {
    ExpositionWriter w;
    w.family("g", MetricType::gauge, "a gauge");
    w.sample({}, uint64_t(18446744073709551615ull));
    w.sample({}, 0.25);
    w.sample(Labels().add("worker", "0").text(), "reason", "no_route", 7);
    w.sample({}, "reason", "x\"y", 0);
    w.sample({}, std::numeric_limits<double>::infinity());
    w.sample({}, -std::numeric_limits<double>::infinity());
    w.sample({}, std::numeric_limits<double>::quiet_NaN());
    CHECK(w.text() ==
          "# HELP g a gauge\n# TYPE g gauge\n"
          "g 18446744073709551615\n"
          "g 0.25\n"
          "g{worker=\"0\",reason=\"no_route\"} 7\n"
          "g{reason=\"x\\\"y\"} 0\n"
          "g +Inf\n"
          "g -Inf\n"
          "g NaN\n");
}

TEST_CASE("metrics: histogram buckets are cumulative, end in +Inf, with _sum and _count") {
    Histogram h({0.001, 0.01, 0.1});
    for (double v : {0.0005, 0.001, 0.002, 0.05, 0.05, 3.0}) h.observe(v);
    CHECK(h.count() == 6);
    CHECK(h.counts() == std::vector<uint64_t>{2, 1, 2, 1});  // le is "less or equal": 0.001 in the first
    ExpositionWriter w;
    w.family("d_seconds", MetricType::histogram, "durations");
    w.histogram({}, h);
    CHECK(w.text() ==
          "# HELP d_seconds durations\n# TYPE d_seconds histogram\n"
          "d_seconds_bucket{le=\"0.001\"} 2\n"
          "d_seconds_bucket{le=\"0.01\"} 3\n"
          "d_seconds_bucket{le=\"0.1\"} 5\n"
          "d_seconds_bucket{le=\"+Inf\"} 6\n"
          "d_seconds_sum 3.1035\n"
          "d_seconds_count 6\n");

    ExpositionWriter labelled;
    labelled.family("e_seconds", MetricType::histogram, "empty");
    labelled.histogram(Labels().add("k", "v").text(), Histogram({1}));
    CHECK(labelled.text() ==
          "# HELP e_seconds empty\n# TYPE e_seconds histogram\n"
          "e_seconds_bucket{k=\"v\",le=\"1\"} 0\n"
          "e_seconds_bucket{k=\"v\",le=\"+Inf\"} 0\n"
          "e_seconds_sum{k=\"v\"} 0\n"
          "e_seconds_count{k=\"v\"} 0\n");
}

TEST_CASE("metrics: the change-duration buckets run from 0.5 ms to 5 s, ascending") {
    auto b = change_duration_buckets();
    REQUIRE(b.size() >= 2);
    CHECK(b.front() == 0.0005);
    CHECK(b.back() == 5);
    CHECK(std::is_sorted(b.begin(), b.end()));
}
