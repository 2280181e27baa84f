// The DPDK telemetry commands' answers, reshaped from `stats` and `status` replies, within
// DPDK 22.11's limits (telemetry_views.hpp).
#include <catch2/catch.hpp>

#include <regex>

#include "codec/stats_json.hpp"
#include "dataplane/runtime/telemetry_views.hpp"
#include "dataplane/stats/drop_reason.hpp"

using namespace dplb::runtime::telemetry;
using nlohmann::json;

namespace {

json counters(uint64_t base) {
    return {{"conns", base}, {"inpkts", base + 1}, {"outpkts", base + 2}, {"inbytes", base + 3}, {"outbytes", base + 4}};
}
json rates() { return {{"cps", 1}, {"inpps", 2}, {"outpps", 3}, {"inbps", 4}, {"outbps", 5}}; }

json real(const std::string& addr, uint64_t base) {
    return {{"address", addr}, {"port", 80},          {"active_conns", 2},   {"inactive_conns", 3},
            {"persistent_conns", 0}, {"syn_timeouts", 0}, {"resets", 0}, {"stats", counters(base)},
            {"rates", rates()}};
}

json stats_reply(std::size_t services, std::size_t reals_each) {
    json list = json::array();
    for (std::size_t i = 0; i < services; ++i) {
        json reals = json::array();
        for (std::size_t r = 0; r < reals_each; ++r) reals.push_back(real("10.1." + std::to_string(r / 250) + "." + std::to_string(r % 250 + 1), r));
        list.push_back({{"protocol", i % 2 ? "udp" : "tcp"}, {"address", "192.168.0." + std::to_string(i % 250)},
                        {"port", 80 + i}, {"stats", counters(100 * i)}, {"rates", rates()}, {"real_servers", reals}});
    }
    list.push_back({{"fwmark", 7}, {"stats", counters(9)}, {"rates", rates()}, {"real_servers", json::array()}});
    return {{"ok", true}, {"generation", 3}, {"services", list}};
}

// What services_view reads: the snapshot the `stats` reply above is made from.
dplb::model::StatsSnapshot stats_snapshot(std::size_t services, std::size_t reals_each) {
    auto snap = dplb::model::stats_reply_from_json(stats_reply(services, reals_each));
    REQUIRE(snap);
    return *snap;
}

// What DPDK 22.11 accepts as a dictionary key.
bool valid_key(const std::string& k) { return std::regex_match(k, std::regex("[A-Za-z0-9_/]+")); }

void check_limits(const json& view) {
    CHECK(view.dump().size() <= reply_budget);
    REQUIRE(view.is_object());
    CHECK(view.size() <= 256);
    for (const auto& [k, v] : view.items()) {
        INFO(k);
        CHECK(valid_key(k));
        if (v.is_object()) {
            CHECK(v.size() <= 256);
            for (const auto& [k2, v2] : v.items()) {
                CHECK(valid_key(k2));
                CHECK_FALSE(v2.is_structured());  // one level of containers only
            }
        } else if (v.is_array()) {
            CHECK(v.size() <= 512);
            for (const auto& x : v) CHECK_FALSE(x.is_structured());
        } else if (v.is_string()) {
            CHECK(v.get<std::string>().size() < 128);
        }
    }
}

}  // namespace

TEST_CASE("telemetry /dplb/services: the list, then one service by name or index") {
    auto reply = stats_snapshot(2, 2);
    auto list = services_view(reply, "");
    REQUIRE(list);
    CHECK(*list == json{{"count", 3}, {"listed", 3}, {"services", {"TCP 192.168.0.0:80", "UDP 192.168.0.1:81", "FWM 7"}}});
    check_limits(*list);

    auto one = services_view(reply, "udp 192.168.0.1:81");
    REQUIRE(one);
    check_limits(*one);
    CHECK((*one)["service"] == "UDP 192.168.0.1:81");
    CHECK((*one)["conns"] == 100);
    CHECK((*one)["outbytes"] == 104);
    CHECK((*one)["cps"] == 1);
    CHECK((*one)["real_servers"] == 2);
    CHECK((*one)["listed"] == 2);
    CHECK((*one)["real1"] == json{{"address", "10.1.0.2"}, {"port", 80}, {"active_conns", 2}, {"inactive_conns", 3},
                                  {"persistent_conns", 0}, {"syn_timeouts", 0}, {"resets", 0}, {"conns", 1},
                                  {"inpkts", 2}, {"outpkts", 3}, {"inbytes", 4}, {"outbytes", 5}, {"cps", 1},
                                  {"inpps", 2}, {"outpps", 3}, {"inbps", 4}, {"outbps", 5}});
    CHECK(*services_view(reply, "1") == *one);
    CHECK((*services_view(reply, "FWM 7"))["conns"] == 9);

    CHECK(services_view(reply, "TCP 10.9.9.9:80").error().str() ==
          "no service 'TCP 10.9.9.9:80' (give a name as /dplb/services lists it, e.g. 'TCP 10.0.0.1:80', or its index)");
    CHECK(services_view(reply, "3").error().str() == "no service 3 (there are 3; /dplb/services lists them)");
}

TEST_CASE("telemetry /dplb/services: large tables stay within DPDK's limits and say so") {
    auto reply = stats_snapshot(2000, 1);
    auto list = services_view(reply, "");
    REQUIRE(list);
    check_limits(*list);
    CHECK((*list)["count"] == 2001);
    CHECK((*list)["listed"] == (*list)["services"].size());
    CHECK((*list)["listed"].get<std::size_t>() > 300);
    CHECK((*list)["listed"].get<std::size_t>() <= 512);

    auto big = stats_snapshot(1, 1000);
    auto one = services_view(big, "0");
    REQUIRE(one);
    check_limits(*one);
    CHECK((*one)["real_servers"] == 1000);
    const auto listed = (*one)["listed"].get<std::size_t>();
    CHECK(listed > 20);
    CHECK(one->contains("real" + std::to_string(listed - 1)));
    CHECK_FALSE(one->contains("real" + std::to_string(listed)));
}

TEST_CASE("telemetry /dplb/workers and /dplb/drops come from the status reply") {
    json status = {{"ok", true},
                   {"workers", {{{"worker", 0}, {"lcore", 1}, {"sessions", 4}, {"rx_packets", 10}, {"rx_bytes", 1000},
                                 {"tx_packets", 9}, {"tx_bytes", 900}, {"redirected_in", 0}, {"redirected_out", 1},
                                 {"arp_replies", 2}},
                                {{"worker", 1}, {"lcore", 2}, {"sessions", 0}, {"rx_packets", 5}, {"rx_bytes", 500},
                                 {"tx_packets", 5}, {"tx_bytes", 500}, {"redirected_in", 1}, {"redirected_out", 0},
                                 {"arp_replies", 0}}}},
                   {"drops", {{"no_service", 3}, {"ip_bad_checksum", 2}}}};
    auto all = workers_view(status, "");
    REQUIRE(all);
    check_limits(*all);
    CHECK(*all == json{{"0", {{"lcore", 1}, {"sessions", 4}, {"rx_packets", 10}, {"rx_bytes", 1000}, {"tx_packets", 9},
                              {"tx_bytes", 900}, {"redirected_in", 0}, {"redirected_out", 1}}},
                       {"1", {{"lcore", 2}, {"sessions", 0}, {"rx_packets", 5}, {"rx_bytes", 500}, {"tx_packets", 5},
                              {"tx_bytes", 500}, {"redirected_in", 1}, {"redirected_out", 0}}}});
    auto w1 = workers_view(status, "1");
    REQUIRE(w1);
    CHECK(*w1 == status["workers"][1]);
    CHECK(workers_view(status, "2").error().str() == "no worker '2' (workers are 0 to 1)");
    CHECK(workers_view(status, "x").error().str() == "no worker 'x' (workers are 0 to 1)");

    auto drops = drops_view(status, "");
    REQUIRE(drops);
    check_limits(*drops);
    CHECK(drops->size() == dplb::drop_reason_count - 1);  // every reason, zeros included
    for (const auto& [reason, n] : drops->items()) {
        INFO(reason);
        CHECK(n == status["drops"].value(reason, 0));
    }
    CHECK(drops_view(status, "0").error().str() == "/dplb/drops takes no parameter");
}
