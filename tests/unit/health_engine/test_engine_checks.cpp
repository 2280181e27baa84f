// The engine's checks: when attempts run and what real-server effects they make (timing,
// warmup, alpha, several checkers, inhibit_on_failure, misc_dynamic, timeouts, the epoll
// path, passive failures, many at once).
#include "world.hpp"

#include "control/health/real_health.hpp"

using namespace hw;
using health::RealState;

TEST_CASE("engine: delay_loop 6, retry 3, delay_before_retry 2: the real server goes at the 4th failure") {
    World w;
    auto c = tcp_check(3, 2);
    w.engine->configure({service("10.0.0.1", 80, {real("10.1.1.1", 80, {c})}, 6)});
    CHECK(w.effects().empty());  // up at start, as configured

    w.run_to(6.9);  // attempts at 1 (up)
    w.target("10.1.1.1", 80).up = false;
    w.run_to(12.99);  // fails at 7, 9, 11: retries only
    CHECK(w.effects().empty());
    CHECK(w.real_status(0, 0).checkers[0].failures_in_a_row == 3);
    w.run_to(13);  // the 4th failure in a row
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::removed)});
    CHECK(w.now == w.t0 + health::seconds(13));

    std::vector<double> times;
    for (const auto& a : w.attempts) times.push_back(a.at);
    CHECK(times == std::vector<double>{1, 7, 9, 11, 13});

    const auto& st = w.real_status(0, 0);
    CHECK(st.state == RealState::removed);
    CHECK_FALSE(st.checkers[0].up);
    CHECK(st.checkers[0].last_failure == "connect: Connection refused");
    CHECK(st.checkers[0].last_change == w.t0 + health::seconds(13));
    CHECK(st.checkers[0].next_run == w.t0 + health::seconds(19));

    w.target("10.1.1.1", 80).up = true;
    w.run_to(19);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::up)});
    // Back up: why it had failed is still there to read.
    CHECK(w.real_status(0, 0).checkers[0].up);
    CHECK(w.real_status(0, 0).checkers[0].last_failure == "connect: Connection refused");
}

TEST_CASE("engine: the first attempt comes 1 s after the start plus a random part of warmup") {
    SECTION("warmup unset: up to delay_loop, scattered") {
        World w;
        std::vector<keepalived::RealServerHealth> reals;
        for (int i = 0; i < 50; ++i)
            reals.push_back(real(("10.1.1." + std::to_string(i + 1)).c_str(), 80, {tcp_check(1, 1, std::nullopt)}));
        w.engine->configure({service("10.0.0.1", 80, reals, 10)});
        w.run_to(11);
        std::map<uint32_t, double> first;  // by address: its first attempt
        for (const auto& a : w.attempts) first.emplace(a.address.host(), a.at);
        REQUIRE(first.size() == 50);
        std::vector<double> at;
        for (const auto& [k, t] : first) at.push_back(t);
        auto [lo, hi] = std::minmax_element(at.begin(), at.end());
        CHECK(*lo >= 1);
        CHECK(*hi <= 11);
        CHECK(*hi - *lo > 2);  // scattered, not all at once
    }
    SECTION("warmup 4 on the checker") {
        World w;
        std::vector<keepalived::RealServerHealth> reals;
        for (int i = 0; i < 20; ++i)
            reals.push_back(real(("10.1.1." + std::to_string(i + 1)).c_str(), 80, {tcp_check(1, 1, 4.0)}));
        w.engine->configure({service("10.0.0.1", 80, reals, 60)});
        w.run_to(5);
        REQUIRE(w.attempts.size() == 20);
        for (const auto& a : w.attempts) {
            CHECK(a.at >= 1);
            CHECK(a.at <= 5);
        }
    }
    SECTION("warmup 0: exactly 1 s") {
        World w;
        w.engine->configure({service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(1, 1, 0.0)})})});
        auto d = w.engine->next_deadline();
        REQUIRE(d);
        CHECK(*d == w.t0 + health::seconds(1));
        w.run_to(1);
        REQUIRE(w.attempts.size() == 1);
        CHECK(w.attempts[0].at == 1);
    }
}

TEST_CASE("engine: alpha starts the real servers with checkers down, the first success brings one up") {
    World w;
    auto vs = service("10.0.0.1", 80,
                      {real("10.1.1.1", 80, {tcp_check()}), real("10.1.1.2", 80, {tcp_check()}),
                       real("10.1.1.3", 80, {})});  // no checker: always up
    vs.alpha = true;
    w.engine->configure({vs});
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::removed),
                                     effect("10.0.0.1", "10.1.1.2", 80, RealState::removed)});
    w.target("10.1.1.2", 80).up = false;
    w.run_to(1);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::up)});
    CHECK(w.real_status(0, 1).state == RealState::removed);
    CHECK(w.real_status(0, 2).state == RealState::up);
}

TEST_CASE("engine: a real server with several checkers is down while any of them is") {
    World w;
    auto http = tcp_check(0);
    http.type = keepalived::CheckerType::http;
    http.connect_port = 8080;  // its own target
    w.engine->configure({service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0), http})})});
    w.run_to(1);
    CHECK(w.effects().empty());

    w.target("10.1.1.1", 8080).up = false;  // the HTTP checker fails
    w.run_to(7);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::removed)});
    w.target("10.1.1.1", 80).up = false;  // and now the TCP one too: still just down
    w.run_to(14);
    CHECK(w.effects().empty());
    CHECK(w.real_status(0, 0).checkers[1].target.port == 8080);

    w.target("10.1.1.1", 8080).up = true;  // one of two back: still down
    w.run_to(20);
    CHECK(w.effects().empty());
    w.target("10.1.1.1", 80).up = true;  // both: up
    w.run_to(26);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::up)});
}

TEST_CASE("engine: inhibit_on_failure keeps a failed real server at weight 0, else it is removed") {
    World w;
    auto a = real("10.1.1.1", 80, {tcp_check()});
    auto b = real("10.1.1.2", 80, {tcp_check()});
    b.inhibit_on_failure = true;
    w.engine->configure({service("10.0.0.1", 80, {a, b})});
    w.target("10.1.1.1", 80).up = false;
    w.target("10.1.1.2", 80).up = false;
    w.run_to(1);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::removed),
                                     effect("10.0.0.1", "10.1.1.2", 80, RealState::inhibited)});
    CHECK(w.real_status(0, 1).state == RealState::inhibited);
}

TEST_CASE("engine: MISC_CHECK misc_dynamic sets the weight while up; exit 0 leaves it unchanged") {
    World w;
    w.engine->configure({service("10.0.0.1", 80, {real("10.1.1.1", 80, {misc_check(true)}, 10)})});
    auto& t = w.target("10.1.1.1", 80);
    t.weight = 5;  // exit 7
    w.run_to(1);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::up, 5)});
    CHECK(w.real_status(0, 0).weight == 5u);
    CHECK(w.service_status(0).alive_weight == 5);

    w.run_to(7);  // the same weight again: nothing
    CHECK(w.effects().empty());

    t.up = false;  // down: the weight stays with it
    w.run_to(13);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::removed)});
    CHECK(w.service_status(0).alive_weight == 0);
    t.up = true;
    w.run_to(19);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::up, 5)});

    t.weight.reset();  // exit 0: up, the weight unchanged (keepalived.conf(5) of 2.2.7)
    w.run_to(25);
    CHECK(w.effects().empty());
    CHECK(w.service_status(0).alive_weight == 5);
    t.weight = 8;  // exit 10
    w.run_to(31);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::up, 8)});
}

TEST_CASE("engine: misc_dynamic off ignores a weight; a dynamic weight 0 keeps the real server up") {
    World w;
    w.engine->configure({service("10.0.0.1", 80,
                                 {real("10.1.1.1", 80, {misc_check(false)}), real("10.1.1.2", 80, {misc_check(true)})})});
    w.target("10.1.1.1", 80).weight = 9;
    w.target("10.1.1.2", 80).weight = 0;  // exit 2
    w.run_to(1);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.2", 80, RealState::up, 0)});
    CHECK(w.service_status(0).alive_weight == 1);
}

TEST_CASE("engine: an attempt that never answers fails at its deadline (connect_timeout)") {
    World w;
    w.engine->configure({service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0)})})});
    w.target("10.1.1.1", 80).hang = true;
    w.run_to(3.99);  // started at 1, connect_timeout 3
    CHECK(w.effects().empty());
    CHECK(w.real_status(0, 0).checkers[0].next_run == w.t0 + health::seconds(1));  // running since 1
    w.run_to(4);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::removed)});
    CHECK(w.real_status(0, 0).checkers[0].last_failure == "timeout");
    CHECK(w.real_status(0, 0).checkers[0].next_run == w.t0 + health::seconds(10));  // 4 + delay_loop
}

TEST_CASE("engine: answers through the epoll set; the descriptors leave it when attempts end") {
    World w;
    std::vector<keepalived::RealServerHealth> reals;
    for (int i = 0; i < 3; ++i) {
        std::string a = "10.1.1." + std::to_string(i + 1);
        reals.push_back(real(a.c_str(), 80, {tcp_check(0)}));
        w.target(a.c_str(), 80).via_pipe = true;
    }
    w.engine->configure({service("10.0.0.1", 80, reals)});
    w.run_to(1);
    REQUIRE(w.pipe_writers.size() == 3);
    w.answer_pipes('0');
    auto e = w.effects();
    CHECK(e.size() == 3);
    CHECK(std::all_of(e.begin(), e.end(), [](const auto& x) { return x.state == RealState::removed; }));
    CHECK(w.real_status(0, 2).checkers[0].last_failure == "pipe said down");
    epoll_event ev;
    CHECK(epoll_wait(w.engine->epoll_fd(), &ev, 1, 0) == 0);  // nothing left in the set

    w.run_to(7);
    REQUIRE(w.pipe_writers.size() == 3);
    w.answer_pipes('1');
    CHECK(w.effects().size() == 3);
    CHECK(w.service_status(0).alive_weight == 3);
}

TEST_CASE("engine: a passive failure takes the real server out until down_for has passed") {
    World w;
    auto r = real("10.1.1.1", 80, {tcp_check()});
    r.notify_down = "/bin/down.sh";
    r.notify_up = "/bin/up.sh";
    w.engine->configure({service("10.0.0.1", 80, {r, real("10.1.1.2", 80, {tcp_check()})}, 60)});
    w.take_scripts();
    w.run_to(2);
    w.engine->report_passive_failure(key("10.0.0.1", 80), ip("10.1.1.1"), 80, std::chrono::milliseconds(5000));
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::removed)});
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/down.sh"});
    CHECK(w.real_status(0, 0).passive_down);

    w.run_to(4);  // reported again: extends to 9
    w.engine->report_passive_failure(key("10.0.0.1", 80), ip("10.1.1.1"), 80, std::chrono::milliseconds(5000));
    CHECK(w.effects().empty());
    CHECK(w.take_scripts().empty());
    w.run_to(8.99);
    CHECK(w.effects().empty());
    w.run_to(9);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::up)});
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/up.sh"});
    CHECK_FALSE(w.real_status(0, 0).passive_down);

    // Unknown real servers are ignored.
    w.engine->report_passive_failure(key("10.0.0.1", 80), ip("10.9.9.9"), 80, std::chrono::milliseconds(5000));
    CHECK(w.effects().empty());
}

TEST_CASE("engine: when a passive down time ends, a checker that is down keeps the real server down") {
    World w;
    w.engine->configure({service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0)})}, 10)});
    w.engine->report_passive_failure(key("10.0.0.1", 80), ip("10.1.1.1"), 80, std::chrono::milliseconds(3000));
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::removed)});
    w.target("10.1.1.1", 80).up = false;
    w.run_to(1);  // the checker agrees: no new effect
    CHECK(w.effects().empty());
    w.run_to(3);  // the passive time ends; the checker still says down
    CHECK(w.effects().empty());
    CHECK(w.real_status(0, 0).state == RealState::removed);
    w.target("10.1.1.1", 80).up = true;
    w.run_to(11);
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::up)});
}

TEST_CASE("engine: 200 real servers going down at once make 200 effects in one take") {
    World w;
    std::vector<keepalived::RealServerHealth> reals;
    for (int i = 0; i < 200; ++i) {
        std::string a = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
        reals.push_back(real(a.c_str(), 80, {tcp_check(0)}));
    }
    w.engine->configure({service("10.0.0.1", 80, reals)});
    w.run_to(1);
    CHECK(w.effects().empty());
    for (auto& [k, b] : w.targets) b.up = false;
    w.run_to(7);
    auto e = w.effects();
    REQUIRE(e.size() == 200);
    for (std::size_t i = 0; i < e.size(); ++i) {
        CHECK(e[i].state == RealState::removed);
        CHECK(e[i].address == reals[i].address);
    }
    CHECK(w.effects().empty());
    CHECK_FALSE(w.service_status(0).quorum_up);
}

TEST_CASE("engine: make_probe and attempt_timeout are required") {
    health::EngineOptions o;
    CHECK_THROWS_AS(health::HealthEngine(o, [](std::string_view) {}), std::invalid_argument);
}

TEST_CASE("engine: a real server's up<->down flips are counted; each attempt's duration is kept") {
    World w;
    w.engine->configure({service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0, 1)})}, 2)});
    CHECK(w.real_status(0, 0).transitions == 0);
    CHECK_FALSE(w.real_status(0, 0).checkers[0].last_duration);  // no attempt yet
    w.run_to(1);
    REQUIRE(w.real_status(0, 0).checkers[0].last_duration);
    CHECK(*w.real_status(0, 0).checkers[0].last_duration >= health::Clock::duration::zero());
    w.target("10.1.1.1", 80).up = false;
    w.run_to(3);
    CHECK(w.real_status(0, 0).state == RealState::removed);
    CHECK(w.real_status(0, 0).transitions == 1);
    w.run_to(5);  // still down: no flip
    CHECK(w.real_status(0, 0).transitions == 1);
    w.target("10.1.1.1", 80).up = true;
    w.run_to(7);
    CHECK(w.real_status(0, 0).state == RealState::up);
    CHECK(w.real_status(0, 0).transitions == 2);
}

TEST_CASE("real health: passive and checker verdicts flip it once each way") {
    health::RealHealth r(1, false, 0);
    r.checker_went_down();
    CHECK(r.transitions() == 1);
    r.set_passive_down(true);  // already down
    CHECK(r.transitions() == 1);
    r.checker_went_up();  // still passive down
    CHECK(r.transitions() == 1);
    r.set_passive_down(false);
    CHECK(r.transitions() == 2);
    CHECK(r.up());
}
