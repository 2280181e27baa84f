// Quorum, hysteresis and the sorry server, as keepalived's update_quorum_state: lost from up
// when the alive weight is 0 or below quorum - hysteresis, gained from down at quorum +
// hysteresis; a new service starts with it down, so it is gained at start when the real
// servers weigh enough.
#include "world.hpp"

using namespace hw;
using health::RealState;
using health::SorryEffect;

namespace {

keepalived::VirtualServerHealth five_reals(uint32_t quorum, uint32_t hysteresis) {
    std::vector<keepalived::RealServerHealth> reals;
    for (int i = 0; i < 5; ++i)
        reals.push_back(real(("10.1.1." + std::to_string(i + 1)).c_str(), 80, {tcp_check(0)}));
    auto vs = service("10.0.0.1", 80, reals, 10);
    vs.quorum = quorum;
    vs.hysteresis = hysteresis;
    vs.quorum_up = "/bin/qup";
    vs.quorum_down = "/bin/qdown";
    return vs;
}

// Sets how many of the five real servers answer and runs one round.
void alive(World& w, int n, double at) {
    for (int i = 0; i < 5; ++i) w.target(("10.1.1." + std::to_string(i + 1)).c_str(), 80).up = i < n;
    w.run_to(at);
}

}  // namespace

TEST_CASE("quorum: gained at start when the real servers weigh enough (keepalived runs quorum_up then)") {
    World w;
    w.engine->configure({five_reals(3, 1)});
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qup"});
    CHECK(w.service_status(0).quorum_up);
    CHECK(w.service_status(0).alive_weight == 5);
    CHECK(w.sorry().empty());
}

TEST_CASE("quorum: quorum 3 hysteresis 1 is lost below 2 and gained again at 4") {
    World w;
    w.engine->configure({five_reals(3, 1)});
    w.take_scripts();
    alive(w, 4, 1);
    alive(w, 3, 11);
    alive(w, 2, 21);  // 2 = quorum - hysteresis: kept
    CHECK(w.service_status(0).quorum_up);
    CHECK(w.take_scripts().empty());
    alive(w, 1, 31);  // 1 < 2: lost
    CHECK_FALSE(w.service_status(0).quorum_up);
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qdown"});
    alive(w, 3, 41);  // 3 < quorum + hysteresis: still lost
    CHECK_FALSE(w.service_status(0).quorum_up);
    CHECK(w.take_scripts().empty());
    alive(w, 4, 51);  // 4 = quorum + hysteresis: gained
    CHECK(w.service_status(0).quorum_up);
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qup"});
}

TEST_CASE("quorum: no weight alive loses it even when quorum - hysteresis is 0") {
    World w;
    w.engine->configure({five_reals(1, 1)});
    w.take_scripts();
    alive(w, 1, 1);
    CHECK(w.service_status(0).quorum_up);
    alive(w, 0, 11);  // 0 alive: lost although 0 < 0 is false
    CHECK_FALSE(w.service_status(0).quorum_up);
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qdown"});
    alive(w, 1, 21);  // 1 < 1 + 1
    CHECK_FALSE(w.service_status(0).quorum_up);
    alive(w, 2, 31);
    CHECK(w.service_status(0).quorum_up);
}

TEST_CASE("quorum: the sorry server comes in when it is lost and goes when it is gained") {
    World w;
    auto vs = five_reals(2, 0);
    vs.sorry_server = keepalived::SorryServer{ip("10.9.9.9"), 80, false};
    w.engine->configure({vs});
    CHECK(w.sorry().empty());
    w.take_scripts();
    alive(w, 2, 1);
    CHECK(w.sorry().empty());
    alive(w, 1, 11);
    CHECK(w.sorry() == std::vector{SorryEffect{key("10.0.0.1", 80), true}});
    CHECK(w.service_status(0).sorry_active);
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qdown"});
    CHECK(w.effects().size() == 4);  // the real servers' own effects still come
    alive(w, 2, 21);
    CHECK(w.sorry() == std::vector{SorryEffect{key("10.0.0.1", 80), false}});
    CHECK_FALSE(w.service_status(0).sorry_active);
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qup"});
}

TEST_CASE("quorum: alpha with a sorry server starts with it in and runs quorum_down; without one, nothing runs") {
    SECTION("sorry server") {
        World w;
        auto vs = five_reals(1, 0);
        vs.alpha = true;
        vs.sorry_server = keepalived::SorryServer{ip("10.9.9.9"), 80, false};
        w.engine->configure({vs});
        CHECK(w.sorry() == std::vector{SorryEffect{key("10.0.0.1", 80), true}});
        CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qdown"});
        CHECK(w.effects().size() == 5);
        alive(w, 1, 1);  // the first success brings the quorum
        CHECK(w.sorry() == std::vector{SorryEffect{key("10.0.0.1", 80), false}});
        CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qup"});
    }
    SECTION("no sorry server") {
        World w;
        auto vs = five_reals(1, 0);
        vs.alpha = true;
        w.engine->configure({vs});
        CHECK(w.take_scripts().empty());
        CHECK_FALSE(w.service_status(0).quorum_up);
        alive(w, 0, 1);  // confirmed down: each real server's notify_down (none set), no quorum script
        CHECK(w.take_scripts().empty());
    }
}

TEST_CASE("quorum: a virtual server without real servers never has it") {
    World w;
    auto vs = service("10.0.0.1", 80, {});
    vs.quorum_up = "/bin/qup";
    vs.quorum_down = "/bin/qdown";
    vs.sorry_server = keepalived::SorryServer{ip("10.9.9.9"), 80, false};
    w.engine->configure({vs});
    CHECK_FALSE(w.service_status(0).quorum_up);
    CHECK(w.sorry() == std::vector{SorryEffect{key("10.0.0.1", 80), true}});
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qdown"});
}

TEST_CASE("quorum: the weights are the real servers' (dynamic ones included)") {
    World w;
    auto vs = service("10.0.0.1", 80,
                      {real("10.1.1.1", 80, {misc_check(true)}, 3), real("10.1.1.2", 80, {tcp_check(0)}, 2)}, 10);
    vs.quorum = 4;
    vs.quorum_down = "/bin/qdown";
    w.engine->configure({vs});
    CHECK(w.service_status(0).quorum_up);  // 3 + 2
    w.target("10.1.1.1", 80).weight = 1;   // dynamic weight 1: 1 + 2 < 4
    w.run_to(1);
    CHECK_FALSE(w.service_status(0).quorum_up);
    CHECK(w.service_status(0).alive_weight == 3);
    CHECK(w.take_scripts() == std::vector<std::string>{"/bin/qdown"});
}
