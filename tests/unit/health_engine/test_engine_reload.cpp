// configure() again (SIGHUP): real servers with the same checkers keep their state,
// schedule and running attempt; changed ones start afresh; gone ones vanish silently; the
// quorum of a service that stays carries over. And replay_all_effects().
#include "world.hpp"

using namespace hw;
using health::RealState;
using health::SorryEffect;

TEST_CASE("reload: unchanged real servers keep their state and schedule, changed ones start afresh") {
    World w;
    auto r3 = real("10.1.1.3", 80, {tcp_check(0)});
    r3.notify_down = "/bin/r3-down";
    auto before = service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0)}), real("10.1.1.2", 80, {tcp_check(0)}), r3});
    before.quorum_up = "/bin/qup";
    w.engine->configure({before});
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qup"});
    w.target("10.1.1.1", 80).up = false;
    w.target("10.1.1.2", 80).up = false;
    w.run_to(3);  // both down at 1
    CHECK(w.effects().size() == 2);

    auto moved = tcp_check(0);
    moved.where = keepalived::Location{"other.conf", 42};  // another line: the same checker
    auto changed = tcp_check(0);
    changed.connect_timeout = 4;
    auto after = service("10.0.0.1", 80, {real("10.1.1.4", 80, {tcp_check(0)}), real("10.1.1.1", 80, {moved}),
                                          real("10.1.1.2", 80, {changed})});
    after.quorum_up = "/bin/qup";
    w.engine->configure({after});
    // 10.1.1.1: kept, still down, nothing to say. 10.1.1.2: afresh, up: it comes back (its
    // last effect said removed). 10.1.1.3: gone, without a word. 10.1.1.4: new, up as written.
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.2", 80, RealState::up)});
    CHECK(w.take_scripts().empty());  // the quorum stayed up: no quorum_up again
    CHECK(w.real_status(0, 1).state == RealState::removed);
    CHECK(w.real_status(0, 1).checkers[0].next_run == w.t0 + health::seconds(7));  // its schedule
    CHECK(w.real_status(0, 2).checkers[0].next_run == w.t0 + health::seconds(4));  // afresh: 3 + 1
    CHECK(w.real_status(0, 2).checkers[0].last_result == std::nullopt);
    CHECK(w.real_status(0, 0).checkers[0].next_run == w.t0 + health::seconds(4));

    w.run_to(7);
    std::vector<std::string> probed;
    for (const auto& a : w.attempts)
        if (a.at > 3) probed.push_back(a.address.str() + "@" + std::to_string(int(a.at)));
    CHECK(probed == std::vector<std::string>{"10.1.1.4@4", "10.1.1.2@4", "10.1.1.1@7"});
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.2", 80, RealState::removed)});  // still failing
}

TEST_CASE("reload: a new real server under alpha starts down; a new service gets its quorum_up") {
    World w;
    auto vs = service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0)})});
    vs.alpha = true;
    w.engine->configure({vs});
    w.run_to(1);
    w.effects();
    CHECK(w.real_status(0, 0).state == RealState::up);

    vs.reals.push_back(real("10.1.1.2", 80, {tcp_check(0)}));
    auto other = service("10.0.0.2", 80, {real("10.2.2.1", 80, {})});
    other.quorum_up = "/bin/qup other";
    w.engine->configure({vs, other});
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.2", 80, RealState::removed)});
    CHECK(w.real_status(0, 0).state == RealState::up);
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qup other"});
}

TEST_CASE("reload: an attempt in flight goes on for a kept real server and is stopped for a gone one") {
    World w;
    w.target("10.1.1.1", 80).via_pipe = true;
    w.target("10.1.1.2", 80).via_pipe = true;
    auto vs = service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0)}), real("10.1.1.2", 80, {tcp_check(0)})});
    w.engine->configure({vs});
    w.run_to(1);
    REQUIRE(w.pipe_writers.size() == 2);
    vs.reals.pop_back();
    w.engine->configure({vs});
    CHECK(w.real_status(0, 0).checkers[0].next_run == w.t0 + health::seconds(1));  // still running
    w.answer_pipes('0');  // both answer; only the kept one is still watched
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::removed)});
    epoll_event ev;
    CHECK(epoll_wait(w.engine->epoll_fd(), &ev, 1, 0) == 0);
}

TEST_CASE("reload: a changed virtual server delay_loop applies to the kept checkers from their next round") {
    World w;
    auto vs = service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0)})}, 6);
    w.engine->configure({vs});
    w.run_to(2);  // attempt at 1, next at 7
    vs.delay_loop = 20;
    w.engine->configure({vs});
    w.run_to(7);
    CHECK(w.real_status(0, 0).checkers[0].next_run == w.t0 + health::seconds(27));
}

TEST_CASE("reload: a service that stays keeps its sorry server in; dropping the sorry server brings the reals back") {
    World w;
    auto vs = service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0)})});
    vs.sorry_server = keepalived::SorryServer{ip("10.9.9.9"), 80, false};
    w.engine->configure({vs});
    w.target("10.1.1.1", 80).up = false;
    w.run_to(1);
    CHECK(w.sorry() == std::vector{SorryEffect{key("10.0.0.1", 80), true}});
    w.engine->configure({vs});
    CHECK(w.sorry().empty());
    CHECK(w.service_status(0).sorry_active);
    vs.sorry_server.reset();
    w.engine->configure({vs});
    CHECK(w.sorry() == std::vector{SorryEffect{key("10.0.0.1", 80), false}});
    CHECK_FALSE(w.service_status(0).quorum_up);
}

TEST_CASE("replay: every state that differs from the file comes out again") {
    World w;
    auto inhibited = real("10.1.1.2", 80, {tcp_check(0)});
    inhibited.inhibit_on_failure = true;
    auto vs = service("10.0.0.1", 80,
                      {real("10.1.1.1", 80, {tcp_check(0)}), inhibited, real("10.1.1.3", 80, {misc_check(true)}),
                       real("10.1.1.4", 80, {tcp_check(0)})});
    vs.quorum = 10;
    vs.sorry_server = keepalived::SorryServer{ip("10.9.9.9"), 80, false};
    w.engine->configure({vs});
    w.target("10.1.1.1", 80).up = false;
    w.target("10.1.1.2", 80).up = false;
    w.target("10.1.1.3", 80).weight = 7;
    w.run_to(1);
    w.effects();
    w.sorry();
    w.engine->replay_all_effects();
    CHECK(w.effects() == std::vector{effect("10.0.0.1", "10.1.1.1", 80, RealState::removed),
                                     effect("10.0.0.1", "10.1.1.2", 80, RealState::inhibited),
                                     effect("10.0.0.1", "10.1.1.3", 80, RealState::up, 7)});
    CHECK(w.sorry() == std::vector{SorryEffect{key("10.0.0.1", 80), true}});
    CHECK(w.take_scripts().empty());  // a replay notifies nothing
}
