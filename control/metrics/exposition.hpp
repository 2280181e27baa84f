// The Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): `# HELP` and `# TYPE` once
// per family, then its samples `name{label="value",...} number`, every sample of a family
// together. Label values are escaped (backslash, double quote, newline), HELP text too
// (backslash, newline).
//
// Labels are rendered once into text (Labels) and reused for every family of the same object:
// a 10,000-service scrape writes each real server's label set once per family without
// rebuilding it.
//
// Threading: values; used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "control/metrics/histogram.hpp"

namespace dplb::metrics {

inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { counter, gauge, histogram };

// Appends `value` escaped for a label value.
void append_label_value(std::string& out, std::string_view value);
// A number as the format spells it: integers in decimal, other values shortest round-trip,
// NaN, +Inf, -Inf.
void append_number(std::string& out, uint64_t value);
void append_number(std::string& out, double value);

// `a="x",b="y"`: a label set without its braces.
class Labels {
public:
    Labels() = default;
    Labels& add(std::string_view name, std::string_view value);
    const std::string& text() const { return text_; }

private:
    std::string text_;
};

class ExpositionWriter {
public:
    ExpositionWriter() = default;
    // Writes into `buffer`'s memory (its text is discarded).
    explicit ExpositionWriter(std::string buffer) : out_(std::move(buffer)) { out_.clear(); }
    // Starts a family (its HELP and TYPE lines); the samples written next belong to it.
    // Counter names end in _total as Prometheus' conventions (and promtool) ask.
    void family(std::string_view name, MetricType type, std::string_view help);
    // One sample of the current family; `labels` is a Labels::text() (may be empty).
    void sample(std::string_view labels, uint64_t value);
    void sample(std::string_view labels, double value);
    // One sample with one more label after `labels` (a drop's reason, ...).
    void sample(std::string_view labels, std::string_view name, std::string_view value, uint64_t number);
    // The current family's (a histogram's) series for `labels`: cumulative `_bucket{le=...}`
    // lines up to `+Inf`, then `_sum` and `_count`.
    void histogram(std::string_view labels, const Histogram& h);

    void reserve(std::size_t bytes);  // what the page is expected to need
    std::string take() { return std::move(out_); }
    const std::string& text() const { return out_; }

private:
    void begin_sample(std::string_view suffix, std::string_view labels);

    std::string out_;
    std::string name_;
};

}  // namespace dplb::metrics
