// The log line's shape (logfmt quoting, levels, keys), the process output (ts/proc or the
// journald prefix, the minimum level) and the rate limiter, with the time injected.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/log.hpp"

using namespace dplb::log;
using namespace std::chrono_literals;

namespace {

std::string value(std::string_view v) {
    std::string out;
    append_value(out, v);
    return out;
}

// A pipe standing for stderr: what an Output wrote, split into lines.
struct Pipe {
    int fds[2]{-1, -1};
    Pipe() {
        REQUIRE(::pipe2(fds, O_NONBLOCK) == 0);
    }
    ~Pipe() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
    std::vector<std::string> lines() {
        std::string all;
        char b[4096];
        ssize_t n;
        while ((n = ::read(fds[0], b, sizeof b)) > 0) all.append(b, std::size_t(n));
        std::vector<std::string> out;
        std::size_t at = 0;
        for (std::size_t nl; (nl = all.find('\n', at)) != std::string::npos; at = nl + 1)
            out.push_back(all.substr(at, nl - at));
        CHECK(at == all.size());  // every line ends with a newline
        return out;
    }
};

struct FakeClock {
    RateLimiter::Clock::time_point t{};
    void advance(std::chrono::milliseconds d) { t += d; }
};

OutputOptions options(int fd, FakeClock* clock, bool journal = false) {
    OutputOptions o;
    o.proc = "dplb-test";
    o.journal = journal;
    o.fd = fd;
    o.timestamp = [] { return std::string("2026-12-07T21:50:00.123Z"); };
    if (clock) o.now = [clock] { return clock->t; };
    return o;
}

}  // namespace

TEST_CASE("log: logfmt values are bare unless they need quotes") {
    CHECK(value("10.0.0.1") == "10.0.0.1");
    CHECK(value("/run/dplb/dp.sock") == "/run/dplb/dp.sock");
    CHECK(value("a\\b") == "a\\b");  // a backslash alone needs no quotes (go-logfmt)
    CHECK(value("") == "\"\"");
    CHECK(value("two words") == "\"two words\"");
    CHECK(value("k=v") == "\"k=v\"");
    CHECK(value("say \"hi\"") == "\"say \\\"hi\\\"\"");
    CHECK(value("a\"b") == "\"a\\\"b\"");
    CHECK(value("back\\slash and space") == "\"back\\\\slash and space\"");
    CHECK(value("line\nbreak") == "\"line\\nbreak\"");
    CHECK(value("tab\there") == "\"tab\\there\"");
    CHECK(value("cr\r") == "\"cr\\r\"");
    CHECK(value(std::string_view("nul\0x", 5)) == "\"nul\\u0000x\"");
    CHECK(value("del\x7f") == "\"del\\u007f\"");
    CHECK(value("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 passes through
}

TEST_CASE("log: a line is level, event, then the fields in order") {
    Event e{Level::info, "service_added", {{"vip", "10.0.0.1"}, {"port", 80}, {"proto", "tcp"}}};
    CHECK(format(e) == "level=info event=service_added vip=10.0.0.1 port=80 proto=tcp");
    CHECK(format(Event{Level::warning, "x", {{"ok", false}, {"n", uint64_t(18446744073709551615ull)}}}) ==
          "level=warning event=x ok=false n=18446744073709551615");
    CHECK(format(Event{Level::debug, "x", {{"seconds", 0.25}, {"neg", -3}}}) ==
          "level=debug event=x seconds=0.25 neg=-3");
    CHECK(format(Event{Level::error, "x", {}}) == "level=error event=x");
}

TEST_CASE("log: keys are made snake_case identifiers") {
    CHECK(format(Event{Level::info, "Bad-Name", {{"Some Key", 1}, {"", 2}, {"a=b", 3}}}) ==
          "level=info event=bad_name some_key=1 _=2 a_b=3");
}

TEST_CASE("log: levels parse, print and map to syslog priorities") {
    for (auto l : {Level::debug, Level::info, Level::notice, Level::warning, Level::error})
        CHECK(parse_level(to_string(l)) == l);
    CHECK(parse_level("warn") == Level::warning);
    CHECK_FALSE(parse_level("verbose"));
    CHECK_FALSE(parse_level("INFO"));
    CHECK(priority(Level::debug) == 7);
    CHECK(priority(Level::info) == 6);
    CHECK(priority(Level::notice) == 5);
    CHECK(priority(Level::warning) == 4);
    CHECK(priority(Level::error) == 3);
}

TEST_CASE("log: a plain message is a valid line") {
    std::vector<std::string> got;
    Logger log([&](std::string_view l) { got.emplace_back(l); });
    log("listening on /run/dplb/control.sock");
    log.warning("dataplane_unreachable", {{"error", "connect: No such file or directory"}});
    REQUIRE(got.size() == 2);
    CHECK(got[0] == "level=info msg=\"listening on /run/dplb/control.sock\"");
    CHECK(got[1] == "level=warning event=dataplane_unreachable error=\"connect: No such file or directory\"");
    // A copy writes to the same place; a Logger passes where a plain line function is expected.
    Logger copy = log;
    std::function<void(std::string_view)> plain = copy;
    plain("x");
    CHECK(got.back() == "level=info msg=x");
}

TEST_CASE("log: the output adds ts and proc, or the journald priority prefix") {
    Pipe p;
    Event e{Level::notice, "stopped", {{"reason", "SIGTERM"}}};
    Output plain(options(p.fds[1], nullptr));
    plain.write(e);
    Output journal(options(p.fds[1], nullptr, true));
    journal.write(e);
    journal.write(Event{Level::error, "x", {}});
    auto lines = p.lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "ts=2026-12-07T21:50:00.123Z level=notice proc=dplb-test event=stopped reason=SIGTERM");
    CHECK(lines[1] == "<5>level=notice event=stopped reason=SIGTERM");
    CHECK(lines[2] == "<3>level=error event=x");
}

TEST_CASE("log: the real timestamp is RFC 3339 UTC with milliseconds") {
    Pipe p;
    OutputOptions o = options(p.fds[1], nullptr);
    o.timestamp = nullptr;
    Output out(o);
    std::string line = out.render(Event{Level::info, "x", {}});
    // ts=YYYY-MM-DDTHH:MM:SS.mmmZ
    REQUIRE(line.size() > 27);
    std::string ts = line.substr(3, 24);
    INFO(line);
    CHECK(ts[4] == '-');
    CHECK(ts[7] == '-');
    CHECK(ts[10] == 'T');
    CHECK(ts[13] == ':');
    CHECK(ts[16] == ':');
    CHECK(ts[19] == '.');
    CHECK(ts[23] == 'Z');
    CHECK(line.substr(27) == " level=info proc=dplb-test event=x");
}

TEST_CASE("log: lines below the minimum level are not written") {
    Pipe p;
    OutputOptions o = options(p.fds[1], nullptr);
    o.min_level = Level::warning;
    Output out(o);
    out.write(Event{Level::debug, "a", {}});
    out.write(Event{Level::info, "b", {}});
    out.write(Event{Level::notice, "c", {}});
    out.write(Event{Level::warning, "d", {}});
    out.write(Event{Level::error, "e", {}, true});
    auto lines = p.lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("event=d") != std::string::npos);
    CHECK(lines[1].find("event=e") != std::string::npos);
}

TEST_CASE("log: JOURNAL_STREAM counts only when it names this stderr") {
    Pipe p;
    ::unsetenv("JOURNAL_STREAM");
    CHECK_FALSE(stderr_is_journal(p.fds[1]));
    struct stat st {};
    REQUIRE(fstat(p.fds[1], &st) == 0);
    std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
    CHECK(stderr_is_journal(p.fds[1]));
    ::setenv("JOURNAL_STREAM", "1:2", 1);  // inherited by a child whose stderr is elsewhere
    CHECK_FALSE(stderr_is_journal(p.fds[1]));
    ::setenv("JOURNAL_STREAM", "garbage", 1);
    CHECK_FALSE(stderr_is_journal(p.fds[1]));
    ::unsetenv("JOURNAL_STREAM");
}

TEST_CASE("rate limiter: a burst, then one line per period/burst, per event") {
    RateLimiter r(RateLimiter::Options{10, 5000ms});
    RateLimiter::Clock::time_point t{};
    int passed = 0;
    for (int i = 0; i < 100; ++i) passed += r.admit("flap", Level::warning, t);
    CHECK(passed == 10);
    CHECK(r.admit("other", Level::info, t));  // buckets are per event name
    t += 499ms;
    CHECK_FALSE(r.admit("flap", Level::warning, t));
    t += 1ms;  // 500 ms: one token back
    CHECK(r.admit("flap", Level::warning, t));
    CHECK_FALSE(r.admit("flap", Level::warning, t));
    t += 10s;  // refills up to the burst, not beyond
    passed = 0;
    for (int i = 0; i < 30; ++i) passed += r.admit("flap", Level::warning, t);
    CHECK(passed == 10);
}

TEST_CASE("rate limiter: held-back lines are summed into one summary per period") {
    RateLimiter r(RateLimiter::Options{2, 1000ms});
    RateLimiter::Clock::time_point t{};
    CHECK(r.admit("e", Level::info, t));
    CHECK(r.admit("e", Level::info, t));
    CHECK_FALSE(r.admit("e", Level::info, t));
    CHECK_FALSE(r.admit("e", Level::warning, t + 100ms));
    CHECK(r.due(t + 999ms).empty());  // not yet a period since the first held-back line
    auto s = r.due(t + 1000ms);
    REQUIRE(s.size() == 1);
    CHECK(s[0].event == "e");
    CHECK(s[0].count == 2);
    CHECK(s[0].level == Level::warning);  // the most severe held back
    CHECK(r.due(t + 5000ms).empty());      // reported once
    // At exit, everything pending goes out at once.
    t += 1000ms;
    CHECK(r.admit("e", Level::info, t));
    CHECK(r.admit("e", Level::info, t));
    CHECK_FALSE(r.admit("e", Level::info, t));
    s = r.due(t, true);
    REQUIRE(s.size() == 1);
    CHECK(s[0].count == 1);
}

TEST_CASE("rate limiter: the output writes the summary as a log_suppressed line") {
    Pipe p;
    FakeClock clock;
    OutputOptions o = options(p.fds[1], &clock);
    o.limits = RateLimiter::Options{3, 5000ms};
    Output out(o);
    Event e{Level::warning, "neighbor_unresolved", {{"address", "10.0.0.9"}}, true};
    for (int i = 0; i < 50; ++i) out.write(e);
    out.write(Event{Level::info, "unlimited", {}});  // never limited
    out.write(Event{Level::info, "unlimited", {}});
    auto lines = p.lines();
    CHECK(lines.size() == 5);
    clock.advance(5000ms);
    out.flush();
    lines = p.lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] ==
          "ts=2026-12-07T21:50:00.123Z level=warning proc=dplb-test event=log_suppressed "
          "suppressed_event=neighbor_unresolved count=47");
    // Reported once: nothing is left pending.
    out.flush(true);
    CHECK(p.lines().empty());
}
