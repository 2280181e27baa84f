// Notifications as keepalived sends them: notify_up/notify_down on a real server's
// transitions (none at start), quorum_up/quorum_down, the lvs_notify_fifo lines through a
// real FIFO, the default script runner (spawned, reaped, no zombie), omega at shutdown.
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "world.hpp"

using namespace hw;
using health::RealState;

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/dplb-health-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

// Everything a FIFO reader can read now, as lines.
std::vector<std::string> read_lines(int fd) {
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) text.append(buf, std::size_t(n));
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        lines.push_back(text.substr(start, nl - start));
    CHECK(start == text.size());  // whole lines only
    return lines;
}

keepalived::RealServerHealth scripted_real(const char* address) {
    auto r = real(address, 80, {tcp_check(0)});
    r.notify_up = std::string("/usr/local/bin/rs-up ") + address;
    r.notify_down = std::string("/usr/local/bin/rs-down ") + address + " \"now\"";
    return r;
}

bool has_children() {
    siginfo_t info{};
    // WNOWAIT: look without collecting (the engine's reaper must do that).
    return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

}  // namespace

TEST_CASE("notify: notify_down/notify_up run on the transitions, before the quorum's; nothing at start") {
    World w;
    auto vs = service("10.0.0.1", 80, {scripted_real("10.1.1.1")}, 6);
    vs.quorum_up = "/usr/local/bin/q up";
    vs.quorum_down = "/usr/local/bin/q down";
    w.engine->configure({vs});
    // No notify for a real server up at start (keepalived without rs_init_notifies); the
    // quorum is gained at start.
    CHECK(w.take_scripts() == std::vector<std::string>{"/usr/local/bin/q up"});
    w.run_to(1);
    CHECK(w.take_scripts().empty());

    w.target("10.1.1.1", 80).up = false;
    w.run_to(7);
    CHECK(w.take_scripts() == std::vector<std::string>{"/usr/local/bin/rs-down 10.1.1.1 \"now\"", "/usr/local/bin/q down"});
    w.run_to(13);  // still down: nothing again
    CHECK(w.take_scripts().empty());
    w.target("10.1.1.1", 80).up = true;
    w.run_to(19);
    CHECK(w.take_scripts() == std::vector<std::string>{"/usr/local/bin/rs-up 10.1.1.1", "/usr/local/bin/q up"});
}

TEST_CASE("notify: under alpha the first failed check of each checker notifies the down state") {
    World w;
    auto r = scripted_real("10.1.1.1");
    r.checkers.push_back(tcp_check(0));
    auto vs = service("10.0.0.1", 80, {r, scripted_real("10.1.1.2")});
    vs.alpha = true;
    w.engine->configure({vs});
    CHECK(w.take_scripts().empty());  // down at start without a word (no sorry server)
    w.target("10.1.1.1", 80).up = false;
    w.run_to(1);
    // keepalived's update_svr_checker_state: once per checker that has not run yet; the
    // other real server comes up.
    CHECK(w.take_scripts() == std::vector<std::string>{"/usr/local/bin/rs-down 10.1.1.1 \"now\"",
                                                       "/usr/local/bin/rs-down 10.1.1.1 \"now\"",
                                                       "/usr/local/bin/rs-up 10.1.1.2"});
    w.run_to(7);
    CHECK(w.take_scripts().empty());
}

TEST_CASE("notify: lvs_notify_fifo lines in keepalived's format through a FIFO with a reader") {
    TempDir dir;
    std::string path = dir.file("lvs.fifo");
    REQUIRE(mkfifo(path.c_str(), 0600) == 0);
    int reader = open(path.c_str(), O_RDONLY | O_NONBLOCK);
    REQUIRE(reader >= 0);
    {
        health::EngineOptions o;
        o.notify_fifos = {path};
        World w(o);
        auto fw = service("10.0.0.1", 80, {real("10.1.1.1", 8080, {tcp_check(0)})});
        fw.key = config::ServiceKey{config::Protocol::tcp, Ip4{}, 0, 5};
        auto udp = service("10.0.0.2", 53, {real("10.2.2.2", 53, {tcp_check(0)})});
        udp.key.protocol = config::Protocol::udp;
        w.engine->configure({service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0)})}), fw, udp});
        CHECK(read_lines(reader) == std::vector<std::string>{"VS [10.0.0.1]:tcp:80 UP", "VS FWM 5 UP",
                                                             "VS [10.0.0.2]:udp:53 UP"});
        w.target("10.1.1.1", 80).up = false;
        w.target("10.1.1.1", 8080).up = false;
        w.target("10.2.2.2", 53).up = false;
        w.run_to(1);
        CHECK(read_lines(reader) == std::vector<std::string>{
                                        "RS [10.1.1.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN",
                                        "VS [10.0.0.1]:tcp:80 DOWN",
                                        "RS [10.1.1.1]:tcp:8080 FWM 5 DOWN",
                                        "VS FWM 5 DOWN",
                                        "RS [10.2.2.2]:udp:53 [10.0.0.2]:udp:53 DOWN",
                                        "VS [10.0.0.2]:udp:53 DOWN",
                                    });
        w.target("10.1.1.1", 80).up = true;
        w.run_to(7);
        CHECK(read_lines(reader) ==
              std::vector<std::string>{"RS [10.1.1.1]:tcp:80 [10.0.0.1]:tcp:80 UP", "VS [10.0.0.1]:tcp:80 UP"});
    }
    CHECK(std::filesystem::exists(path));  // not ours to remove: it was there before
    close(reader);
}

TEST_CASE("notify: a missing FIFO is created (and removed after); lines wait for a late reader; both FIFOs get them") {
    TempDir dir;
    std::string a = dir.file("a.fifo"), b = dir.file("b.fifo");
    {
        health::EngineOptions o;
        o.notify_fifos = {a, b};
        World w(o);
        w.engine->configure({service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0)})})});
        struct stat st {};
        REQUIRE(stat(a.c_str(), &st) == 0);
        CHECK(S_ISFIFO(st.st_mode));
        // No reader: the line waits in the pipe, nothing blocked.
        int ra = open(a.c_str(), O_RDONLY | O_NONBLOCK);
        int rb = open(b.c_str(), O_RDONLY | O_NONBLOCK);
        REQUIRE(ra >= 0);
        REQUIRE(rb >= 0);
        CHECK(read_lines(ra) == std::vector<std::string>{"VS [10.0.0.1]:tcp:80 UP"});
        CHECK(read_lines(rb) == std::vector<std::string>{"VS [10.0.0.1]:tcp:80 UP"});
        close(ra);
        // The reader of a went away: writing goes on (no SIGPIPE, no EPIPE).
        w.target("10.1.1.1", 80).up = false;
        w.run_to(1);
        CHECK(read_lines(rb).size() == 2);
        close(rb);
    }
    CHECK_FALSE(std::filesystem::exists(a));
    CHECK_FALSE(std::filesystem::exists(b));
}

TEST_CASE("notify: a regular file where the FIFO should be is left alone") {
    TempDir dir;
    std::string path = dir.file("not-a-fifo");
    std::ofstream(path) << "";
    health::EngineOptions o;
    o.notify_fifos = {path};
    World w(o);
    w.engine->configure({service("10.0.0.1", 80, {real("10.1.1.1", 80, {tcp_check(0)})})});
    CHECK(std::filesystem::file_size(path) == 0);
    CHECK(std::any_of(w.logs.begin(), w.logs.end(), [](const std::string& l) {
        return l.find("event=notify_fifo_failed") != std::string::npos && l.find("call=open") != std::string::npos;
    }));
}

TEST_CASE("notify: the default runner starts the scripts through /bin/sh and reaps them") {
    REQUIRE_FALSE(has_children());
    TempDir dir;
    std::string out = dir.file("out");
    World w({}, false);
    auto r = real("10.1.1.1", 80, {tcp_check(0)});
    r.notify_down = "sleep 0.05; echo \"down $((1 + 1))\" >> '" + out + "'";
    w.engine->configure({service("10.0.0.1", 80, {r})});
    w.target("10.1.1.1", 80).up = false;
    w.run_to(1);
    // The loop wakes within 100 ms to reap while a script runs.
    auto d = w.engine->next_deadline();
    REQUIRE(d);
    CHECK(*d <= w.now + std::chrono::milliseconds(100));
    for (int i = 0; i < 400 && has_children(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        w.engine->run_due();
    }
    CHECK_FALSE(has_children());  // ended and collected: no zombie
    std::ifstream in(out);
    std::string line;
    std::getline(in, line);
    CHECK(line == "down 2");
    CHECK(*w.engine->next_deadline() == w.t0 + health::seconds(7));  // no more reaping ticks
}

TEST_CASE("notify: shutdown with omega notifies the real servers alive as down, then the quorum") {
    health::EngineOptions o;
    TempDir dir;
    std::string path = dir.file("lvs.fifo");
    o.notify_fifos = {path};
    World w(o);
    auto down = scripted_real("10.1.1.3");
    down.inhibit_on_failure = true;
    auto omega = service("10.0.0.1", 80, {scripted_real("10.1.1.1"), scripted_real("10.1.1.2"), down});
    omega.omega = true;
    omega.quorum_down = "/bin/qdown omega";
    auto plain = service("10.0.0.2", 80, {scripted_real("10.2.2.1")});
    plain.quorum_down = "/bin/qdown plain";
    w.engine->configure({omega, plain});
    int reader = open(path.c_str(), O_RDONLY | O_NONBLOCK);
    REQUIRE(reader >= 0);
    read_lines(reader);
    w.target("10.1.1.3", 80).up = false;
    w.run_to(1);
    w.take_scripts();
    read_lines(reader);
    w.effects();

    w.engine->shutdown();
    CHECK(w.take_scripts() == std::vector<std::string>{"/usr/local/bin/rs-down 10.1.1.1 \"now\"",
                                                       "/usr/local/bin/rs-down 10.1.1.2 \"now\"", "/bin/qdown omega"});
    CHECK(read_lines(reader) == std::vector<std::string>{"RS [10.1.1.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN",
                                                         "RS [10.1.1.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN",
                                                         "VS [10.0.0.1]:tcp:80 DOWN"});
    CHECK(w.effects().empty());
    CHECK_FALSE(w.engine->next_deadline());  // stopped: nothing more to run
    std::size_t attempts = w.attempts.size();
    w.run_to(100);
    CHECK(w.attempts.size() == attempts);
    close(reader);
}
