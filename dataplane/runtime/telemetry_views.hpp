// The answers of dplb's DPDK telemetry commands (telemetry.hpp), made from the dataplane
// socket's `status` reply and the `stats` reply's snapshot (docs/api.md): the numbers are
// summed once, by the code that answers dplbadm, and only reshaped here. EAL-free: unit-tested.
//
// DPDK 22.11's telemetry limits a reply: a dictionary whose keys are [A-Za-z0-9_/] and whose
// values are numbers, strings (< 128 bytes) or one level of dictionaries or arrays of those,
// at most 256 entries per dictionary and 512 per array, 16 KiB of JSON in all (what does not
// fit is silently left out). Each view keeps inside these limits and says when it lists
// fewer items than exist ("count" against "listed").
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "model/stats.hpp"

namespace dplb::runtime::telemetry {

// Of the 16 KiB, what a view may use: the rest is the command's name and DPDK's framing.
inline constexpr std::size_t reply_budget = 15 * 1024;

// "TCP 192.168.227.128:80", "UDP ...", "FWM 5": a service of a `stats` reply, as listed.
std::string service_name(const nlohmann::json& service);
std::string service_name(const config::ServiceKey& key);

// /dplb/services: {"count": N, "listed": k, "services": [names]}.
// /dplb/services,NAME (as listed, any case) or /dplb/services,INDEX (into that list): the
// service's counters and rates, "real_servers" (how many) and "listed", and each listed real
// server as "real0", "real1", ...: {address, port, active_conns, inactive_conns,
// persistent_conns, syn_timeouts, resets, conns, inpkts, ..., cps, ...}.
// From the snapshot rather than the `stats` JSON: only the listed names or the one service
// asked for are converted, and after serving_ is released (telemetry.cpp); the whole tree
// of every service with its rates is what codec/counters_text.hpp avoids at 10,000 services.
model::Result<nlohmann::json> services_view(const model::StatsSnapshot& stats, std::string_view params);

// /dplb/workers: {"0": {lcore, sessions, rx_packets, rx_bytes, tx_packets, tx_bytes,
// redirected_in, redirected_out}, "1": ...}; /dplb/workers,N: every counter of worker N as
// `status` reports it.
model::Result<nlohmann::json> workers_view(const nlohmann::json& status_reply, std::string_view params);

// /dplb/drops: every drop reason of stats/drop_reason.hpp (zeros included), summed over the
// workers and the main lcore as `status` sums them.
model::Result<nlohmann::json> drops_view(const nlohmann::json& status_reply, std::string_view params);

}  // namespace dplb::runtime::telemetry
