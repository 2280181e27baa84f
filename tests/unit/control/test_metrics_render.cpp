// The /metrics page (control/metrics/render.hpp) from canned dataplane replies.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <sstream>

#include "control/metrics/render.hpp"

using namespace dplb;
using nlohmann::json;

namespace {

config::Config lab_config() {
    config::Config c;
    config::Service s;
    s.key = {config::Protocol::tcp, *Ip4::parse("10.0.0.1"), 80, 0};
    config::RealServer a;
    a.address = *Ip4::parse("192.168.1.1");
    a.port = 8080;
    a.weight = 3;
    config::RealServer b = a;
    b.address = *Ip4::parse("192.168.1.2");
    b.weight = 1;
    b.health = config::RealHealth::removed;
    s.reals = {a, b};
    c.services.push_back(s);
    config::Service m;
    m.key = {config::Protocol::udp, Ip4{}, 0, 7};
    c.services.push_back(m);
    return c;
}

model::StatsSnapshot lab_stats() {
    model::StatsSnapshot st;
    st.generation = 5;
    model::ServiceStats s;
    s.key = lab_config().services[0].key;
    s.stats = {100, 1000, 900, 64000, 128000};
    model::RealServerStats r;
    r.address = *Ip4::parse("192.168.1.1");
    r.port = 8080;
    r.active_conns = 4;
    r.inactive_conns = 2;
    r.stats = {60, 600, 500, 32000, 64000};
    s.reals.push_back(r);
    st.services.push_back(s);
    model::ServiceStats m;
    m.key = lab_config().services[1].key;
    m.stats = {1, 2, 3, 4, 5};
    st.services.push_back(m);
    return st;
}

json lab_status() {
    return json::parse(R"({"ok":true,"generation":5,"snapshot_age_seconds":1.5,
      "workers":[{"worker":0,"lcore":1,"rx_packets":10,"tx_packets":9,"rx_bytes":1000,"tx_bytes":900,
                  "redirected_out":1,"redirected_in":2,"sessions":6,"session_capacity":1024,
                  "drops":{"no_route":0,"tx_full":3}},
                 {"worker":1,"lcore":2,"rx_packets":0,"tx_packets":0,"rx_bytes":0,"tx_bytes":0,
                  "redirected_out":0,"redirected_in":0,"sessions":0,"session_capacity":1024,
                  "drops":{"no_route":0,"tx_full":0}}],
      "main":{"tx_packets":1,"drops":{"no_route":0,"tx_full":0}},
      "local_addresses":[{"address":"192.168.1.200","ports_in_use":3,"ports_capacity":64512}],
      "ports":[{"name":"lan","link":"up","link_down_events":3,"link_recoveries":3,"link_recovery_attempts":9,
                "link_recovery_failures":4},
               {"name":"wan","link":"restarting","link_down_events":1,"link_recoveries":0,
                "link_recovery_attempts":2,"link_recovery_failures":1}],
      "vip_ownership":{"mode":"kernel","owned_vips":["10.0.0.1"]},
      "sync":{"daemons":[{"state":"master","mcast_interface":"dplb0","syncid":9,"running":true}],
              "counters":{"messages_sent":4},"workers_total":{"sync_events":7},
              "decode_errors":{"truncated":1}}})");
}

// Every family's HELP, TYPE and samples come together, in that order, once.
void check_grouped(const std::string& page) {
    std::istringstream in(page);
    std::string line, current;
    std::set<std::string> seen;
    while (std::getline(in, line)) {
        REQUIRE_FALSE(line.empty());
        if (line.rfind("# HELP ", 0) == 0) {
            current = line.substr(7, line.find(' ', 7) - 7);
            INFO(current);
            CHECK(seen.insert(current).second);
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            CHECK(line.substr(7, current.size()) == current);
            continue;
        }
        std::string name = line.substr(0, line.find_first_of("{ "));
        INFO(line);
        CHECK(name.rfind(current, 0) == 0);
    }
}

}  // namespace

TEST_CASE("metrics render: the contract's families from canned stats and status") {
    auto c = lab_config();
    auto st = lab_stats();
    auto status = lab_status();
    metrics::Histogram h(metrics::change_duration_buckets());
    h.observe(0.002);
    std::vector<health::ServiceStatus> checks(1);
    checks[0].service = c.services[0].key;
    health::RealStatus rs;
    rs.service = c.services[0].key;
    rs.address = *Ip4::parse("192.168.1.2");
    rs.port = 8080;
    rs.transitions = 1;
    health::CheckerStatus ch1, ch2;
    ch1.last_duration = std::chrono::milliseconds(15);
    ch2.last_duration = std::chrono::milliseconds(250);
    rs.checkers = {ch1, ch2};
    checks[0].reals.push_back(rs);

    metrics::MetricsInput in{&c, &st, &status, &checks, &h};
    std::string page = metrics::render(in);
    check_grouped(page);
    // Rendered into a recycled buffer (the last page's memory): the same page.
    std::string old(page.size() + 100, '#');
    CHECK(metrics::render(in, std::move(old)) == page);
    const std::string r1 = R"(vip="10.0.0.1",port="80",proto="tcp",fwmark="",real="192.168.1.1",real_port="8080")";
    const std::string r2 = R"(vip="10.0.0.1",port="80",proto="tcp",fwmark="",real="192.168.1.2",real_port="8080")";
    for (const std::string& want : std::vector<std::string>{
             "dplb_dataplane_up 1\n",
             "dplb_virtual_service_connections_total{vip=\"10.0.0.1\",port=\"80\",proto=\"tcp\",fwmark=\"\"} 100\n",
             "dplb_virtual_service_outgoing_bytes_total{vip=\"10.0.0.1\",port=\"80\",proto=\"tcp\",fwmark=\"\"} 128000\n",
             "dplb_virtual_service_incoming_packets_total{vip=\"\",port=\"0\",proto=\"udp\",fwmark=\"7\"} 2\n",
             "dplb_real_server_connections_total{" + r1 + "} 60\n",
             "dplb_real_server_incoming_bytes_total{" + r1 + "} 32000\n",
             "dplb_real_server_active_connections{" + r1 + "} 4\n",
             "dplb_real_server_inactive_connections{" + r1 + "} 2\n",
             "dplb_real_server_weight{" + r1 + "} 3\n",
             "dplb_real_server_up{" + r1 + "} 1\n",
             "dplb_real_server_up{" + r2 + "} 0\n",
             "dplb_real_server_check_duration_seconds{" + r2 + "} 0.25\n",
             "dplb_real_server_check_transitions_total{" + r2 + "} 1\n",
             "dplb_worker_rx_packets_total{worker=\"0\"} 10\n",
             "dplb_worker_tx_bytes_total{worker=\"0\"} 900\n",
             "dplb_worker_redirected_out_total{worker=\"0\"} 1\n",
             "dplb_worker_redirected_in_total{worker=\"0\"} 2\n",
             "dplb_worker_sessions{worker=\"0\"} 6\n",
             "dplb_worker_sessions_capacity{worker=\"1\"} 1024\n",
             "dplb_worker_drops_total{worker=\"0\",reason=\"tx_full\"} 3\n",
             "dplb_worker_drops_total{worker=\"1\",reason=\"no_route\"} 0\n",
             "dplb_worker_drops_total{worker=\"main\",reason=\"tx_full\"} 0\n",
             "dplb_local_address_ports_in_use{laddr=\"192.168.1.200\"} 3\n",
             "dplb_local_address_ports_capacity{laddr=\"192.168.1.200\"} 64512\n",
             "dplb_port_link_up{port=\"lan\"} 1\n",
             "dplb_port_link_up{port=\"wan\"} 0\n",
             "dplb_port_link_down_events_total{port=\"lan\"} 3\n",
             "dplb_port_link_recoveries_total{port=\"wan\"} 0\n",
             "dplb_port_link_recovery_attempts_total{port=\"lan\"} 9\n",
             "dplb_port_link_recovery_failures_total{port=\"wan\"} 1\n",
             "dplb_snapshot_generation 5\n",
             "dplb_snapshot_age_seconds 1.5\n",
             "dplb_vip_owned{vip=\"10.0.0.1\"} 1\n",
             "dplb_sync_daemon_info{state=\"master\",interface=\"dplb0\",syncid=\"9\"} 1\n",
             "dplb_sync_messages_sent_total 4\n",
             "dplb_sync_events_total 7\n",
             "dplb_sync_decode_errors_total{reason=\"truncated\"} 1\n",
             "dplb_control_change_duration_seconds_bucket{le=\"0.0025\"} 1\n",
             "dplb_control_change_duration_seconds_count 1\n",
             "# TYPE dplb_real_server_connections_total counter\n",
             "# TYPE dplb_worker_sessions gauge\n",
             "# TYPE dplb_control_change_duration_seconds histogram\n",
         }) {
        INFO(want);
        CHECK(page.find(want) != std::string::npos);
    }
    // A real server not checked has no check families; the removed one is not in stats.
    CHECK(page.find("dplb_real_server_check_transitions_total{" + r1) == std::string::npos);
    CHECK(page.find("dplb_real_server_connections_total{" + r2) == std::string::npos);
}

TEST_CASE("metrics render: without the dataplane only dplb-control's families, dataplane_up 0") {
    auto c = lab_config();
    metrics::Histogram h(metrics::change_duration_buckets());
    metrics::MetricsInput in{&c, nullptr, nullptr, nullptr, &h};
    std::string page = metrics::render(in);
    check_grouped(page);
    CHECK(page.find("dplb_dataplane_up 0\n") != std::string::npos);
    CHECK(page.find("dplb_real_server_weight{") != std::string::npos);
    CHECK(page.find("dplb_control_change_duration_seconds_count 0\n") != std::string::npos);
    for (const char* absent : {"dplb_worker_", "dplb_virtual_service_", "dplb_snapshot_", "dplb_real_server_connections",
                               "dplb_sync_", "dplb_vip_owned", "dplb_real_server_check_"}) {
        INFO(absent);
        CHECK(page.find(absent) == std::string::npos);
    }
}

TEST_CASE("metrics render: VIP ownership only in kernel mode; unusable reply members count as 0") {
    auto c = lab_config();
    auto st = lab_stats();
    metrics::Histogram h(metrics::change_duration_buckets());
    auto status = json::parse(R"({"ok":true,"generation":"x","vip_ownership":{"mode":"always"},
        "workers":[{"worker":0,"rx_packets":-1,"drops":{"tx_full":"many"}}]})");
    metrics::MetricsInput in{&c, &st, &status, nullptr, &h};
    std::string page = metrics::render(in);
    check_grouped(page);
    CHECK(page.find("dplb_vip_owned") == std::string::npos);
    CHECK(page.find("dplb_snapshot_generation 0\n") != std::string::npos);
    CHECK(page.find("dplb_snapshot_age_seconds") == std::string::npos);
    CHECK(page.find("dplb_worker_rx_packets_total{worker=\"0\"} 0\n") != std::string::npos);
    CHECK(page.find("dplb_worker_drops_total{worker=\"0\",reason=\"tx_full\"} 0\n") != std::string::npos);
}
