// MISC_CHECK: exit codes as keepalived reads them, misc_dynamic weights, the timeout that
// kills the script's process group and leaves no zombie, the script's user, and what the
// child does not inherit (descriptors, blocked signals).
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "probe_driver.hpp"

using namespace probe_test;
using dplb::health::make_probe;
using dplb::health::reap_children;
using dplb::keepalived::CheckerSpec;
using dplb::keepalived::CheckerType;

namespace {

CheckerSpec misc(std::string path, bool dynamic = false) {
    CheckerSpec s = spec_of(CheckerType::misc);
    s.misc_path = std::move(path);
    s.misc_dynamic = dynamic;
    return s;
}

Outcome run(const CheckerSpec& s, std::chrono::milliseconds deadline = 1500ms) {
    auto probe = make_probe(s, local(0));
    return drive(*probe, deadline);
}

// A temporary file name for a script to write into.
struct TempFile {
    std::string path;
    TempFile() {
        char name[] = "/tmp/dplb-probe-test-XXXXXX";
        int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
    }
    ~TempFile() { ::unlink(path.c_str()); }
    pid_t read_pid() const {
        std::ifstream in(path);
        pid_t pid = 0;
        in >> pid;
        return pid;
    }
};

// Alive and not a zombie.
bool running(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return false;
    std::string line;
    std::getline(stat, line);
    auto close_paren = line.rfind(')');
    return close_paren != std::string::npos && close_paren + 2 < line.size() && line[close_paren + 2] != 'Z';
}

}  // namespace

TEST_CASE("MISC_CHECK: exit 0 is up, exit 1 is down") {
    Outcome ok = run(misc("/bin/true"));
    CHECK(ok.result.up);
    CHECK_FALSE(ok.result.weight);
    Outcome bad = run(misc("/bin/false"));
    CHECK_FALSE(bad.result.up);
    CHECK(bad.result.reason == "exited with status 1");
}

TEST_CASE("MISC_CHECK: misc_path is split into words, not given to a shell") {
    CHECK(run(misc("/bin/sh -c 'exit 0'")).result.up);
    Outcome o = run(misc("/bin/sh -c \"exit 3\""));
    CHECK(o.result.reason == "exited with status 3");
    // A bare name is searched in PATH.
    CHECK(run(misc("true")).result.up);
}

TEST_CASE("MISC_CHECK: misc_dynamic turns exit 2..255 into a weight") {
    Outcome seven = run(misc("/bin/sh -c 'exit 7'", true));
    CHECK(seven.result.up);
    REQUIRE(seven.result.weight);
    CHECK(*seven.result.weight == 5);
    Outcome two = run(misc("/bin/sh -c 'exit 2'", true));
    CHECK(two.result.up);
    CHECK(two.result.weight == std::optional<uint32_t>(0));
    Outcome max = run(misc("/bin/sh -c 'exit 255'", true));
    CHECK(max.result.weight == std::optional<uint32_t>(253));
    Outcome zero = run(misc("/bin/true", true));  // up, the weight left as it is (nullopt)
    CHECK(zero.result.up);
    CHECK_FALSE(zero.result.weight);
    Outcome one = run(misc("/bin/false", true));  // exit 1 stays down
    CHECK_FALSE(one.result.up);
    CHECK(one.result.reason == "exited with status 1");
    Outcome not_dynamic = run(misc("/bin/sh -c 'exit 7'"));
    CHECK_FALSE(not_dynamic.result.up);
    CHECK(not_dynamic.result.reason == "exited with status 7");
}

TEST_CASE("MISC_CHECK: a script killed by a signal is down") {
    Outcome o = run(misc("/bin/sh -c 'kill -USR1 $$'"));
    CHECK_FALSE(o.result.up);
    CHECK(o.result.reason == "killed by SIGUSR1");
}

TEST_CASE("MISC_CHECK: a missing program or user is down with its reason") {
    CHECK(run(misc("/nonexistent/check")).result.reason == "misc_path: '/nonexistent/check': No such file or directory");
    CHECK(run(misc("no-such-command-anywhere")).result.reason == "misc_path: 'no-such-command-anywhere' not found in PATH");
    CHECK(run(misc("/bin/sh -c 'exit 0")).result.reason == "misc_path: missing terminating '");
    CheckerSpec s = misc("/bin/true");
    s.user = "no-such-user-dplb";
    CHECK(run(s).result.reason == "misc_path: user 'no-such-user-dplb' does not exist");
}

TEST_CASE("MISC_CHECK: on timeout the script and its children are killed and reaped") {
    TempFile pids;
    Outcome o = run(misc("/bin/sh -c 'sleep 10 & echo $$ $! > " + pids.path + "; wait'"), 300ms);
    CHECK(o.timed_out);
    CHECK_FALSE(o.result.up);
    CHECK(o.result.reason == "timeout");
    std::ifstream in(pids.path);
    pid_t shell = 0, sleeper = 0;
    in >> shell >> sleeper;
    REQUIRE(shell > 0);
    REQUIRE(sleeper > 0);
    // SIGKILL is asynchronous: the reaper collects the script once it is dead.
    for (int i = 0; i < 100 && reap_children() > 0; ++i) std::this_thread::sleep_for(10ms);
    CHECK(reap_children() == 0);
    int status = 0;
    CHECK(::waitpid(shell, &status, WNOHANG) == -1);
    CHECK(errno == ECHILD);
    CHECK_FALSE(running(shell));
    // The script's own child was in its process group: killed too (reaped by init).
    for (int i = 0; i < 100 && running(sleeper); ++i) std::this_thread::sleep_for(10ms);
    CHECK_FALSE(running(sleeper));
}

TEST_CASE("MISC_CHECK: the child inherits no descriptor and no blocked signal") {
    SECTION("descriptors") {
        int fd = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
        REQUIRE(fd >= 0);
        int high = ::fcntl(fd, F_DUPFD, 100);
        ::close(fd);
        REQUIRE(high >= 100);
        CHECK(run(misc("/bin/sh -c '[ ! -e /proc/$$/fd/" + std::to_string(high) + " ]'")).result.up);
        ::close(high);
    }
    SECTION("signal mask and dispositions") {
        sigset_t term, old;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        REQUIRE(::pthread_sigmask(SIG_BLOCK, &term, &old) == 0);
        Outcome o = run(misc("/bin/sh -c 'kill -TERM $$; exit 0'"));
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
        CHECK_FALSE(o.result.up);
        CHECK(o.result.reason == "killed by SIGTERM");
    }
}

TEST_CASE("MISC_CHECK: user NAME [GROUP] runs the script as that user") {
    if (::geteuid() != 0) {
        WARN("not root: the user switch cannot be tested");
        return;
    }
    CheckerSpec s = misc("/bin/sh -c '[ \"$(id -u)\" = 65534 ] && [ \"$(id -G)\" = \"$(id -g)\" ]'");
    s.user = "nobody";
    Outcome o = run(s);
    CHECK(o.result.up);
    INFO(o.result.reason);
    CheckerSpec g = misc("/bin/sh -c '[ \"$(id -u)\" = 65534 ] && [ \"$(id -g)\" = 0 ]'");
    g.user = "nobody root";
    CHECK(run(g).result.up);
}
