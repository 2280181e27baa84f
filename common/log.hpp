#pragma once
// Structured logs for dplb-control and dplb-dataplane: one line per event, to stderr, in
// logfmt's key=value shape (docs/operations.md "Logs"):
//
//   ts=2026-12-07T21:50:00.123Z level=info proc=dplb-control event=dataplane_connected socket=/run/dplb/dp.sock
//
// Under journald (JOURNAL_STREAM names our stderr) the line drops ts= and proc= (journald
// stamps both) and starts with the sd-daemon(3) priority prefix "<6>" so journalctl -p works.
//
// An event has a level, a stable snake_case name and snake_case keys; the names are the
// contract with whoever greps or alerts on the logs, and every one is listed in
// docs/operations.md (a unit test checks it). A plain message (Logger{}("text")) is still a
// valid line: `level=info msg="text"`, for code that has no event name yet.
//
// Never on the fast path: formatting allocates and writing takes a lock and a syscall. The
// dataplane's workers do not log; its main lcore, control thread and start-up do.
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dplb::log {

// syslog's order, least severe first; priority() is the syslog number journald records.
enum class Level : uint8_t { debug, info, notice, warning, error };
std::string_view to_string(Level l);
int priority(Level l);  // debug 7, info 6, notice 5, warning 4, error 3
std::optional<Level> parse_level(std::string_view s);

// One key=value pair. The key is a snake_case literal at every call site (it is kept as a
// view); the value is rendered to text when the field is made.
struct Field {
    std::string_view key;
    std::string value;

    Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
    Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, char>)
    Field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
    Field(std::string_view k, double v);
};

// One event. `name` is a literal (kept as a view; events travel in vectors, e.g. the health
// engine's output); an empty name makes a plain message line (its text in a msg field).
// `limited`: an event a flood or a flapping peer could multiply, rate-limited per name.
struct Event {
    Level level = Level::info;
    std::string_view name;
    std::vector<Field> fields;
    bool limited = false;
};

// "level=info event=NAME key=value ..." (no ts, proc or newline): logfmt quoting, keys made
// snake_case (any other byte becomes '_').
std::string format(const Event& e);
// Appends v as a logfmt value: bare when it has no byte <= ' ', '=', '"' or DEL and is not
// empty; else double-quoted with \" \\ \n \r \t and \u00XX escapes.
void append_value(std::string& out, std::string_view v);

// Per event name, a token bucket: `burst` lines at once, then one line per
// period/burst; what it holds back is counted and reported as one log_suppressed line per
// event at most once per period. Time is given by the caller (tests inject it).
// Threading: none; the process output calls it under its lock.
class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;
    struct Options {
        uint32_t burst = 10;
        std::chrono::milliseconds period{5000};
    };
    struct Summary {
        std::string event;
        Level level;
        uint64_t count;
    };

    RateLimiter() : RateLimiter(Options{}) {}
    explicit RateLimiter(Options o) : options_(o) {}
    // Whether a line of `event` may be written now; false counts it as suppressed.
    bool admit(std::string_view event, Level level, Clock::time_point now);
    // The log_suppressed summaries due at `now` (a period after an event's first held-back
    // line), or every pending one when `all` (at exit).
    std::vector<Summary> due(Clock::time_point now, bool all = false);

private:
    struct Bucket {
        std::string event;
        double tokens;
        Clock::time_point refilled;
        uint64_t suppressed = 0;
        Level level = Level::debug;  // the most severe held-back line's
        Clock::time_point first_suppressed;
    };
    Options options_;
    std::vector<Bucket> buckets_;  // few distinct flooding events: a linear scan is enough
};

// Where a process's lines go: stderr by default, with ts= and proc= or the journald prefix,
// the minimum level, and the rate limiter. Threading: configure() at start-up before any
// other thread logs; write()/flush() from any thread (one mutex; each line is one write(2),
// so lines of two threads, or of DPDK's own log, never interleave within a line).
struct OutputOptions {
    std::string proc;                  // process name (proc= key)
    Level min_level = Level::info;
    std::optional<bool> journal;       // unset: detect JOURNAL_STREAM against fd 2
    int fd = 2;
    RateLimiter::Options limits{};
    std::function<RateLimiter::Clock::time_point()> now;  // unset: steady_clock
    std::function<std::string()> timestamp;               // unset: UTC RFC 3339 with ms
};
class Output {
public:
    explicit Output(OutputOptions o);
    ~Output();
    // Writes e if its level is at least the minimum (and, when e.limited, the limiter admits
    // it); then writes any summaries due.
    void write(const Event& e);
    // Writes the summaries due now (`all`: every pending one, at exit).
    void flush(bool all = false);
    // The line as written, without the newline (exposed for tests).
    std::string render(const Event& e) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The process-wide output every default-constructed Logger writes to. configure() once in
// main(), before threads start; until then lines go to stderr at level info.
void configure(OutputOptions o);
Output& process();
// "SIGTERM" for SIGTERM (the value of a signal= key); the number when it has no name.
std::string signal_name(int signo);
// True when fd's device:inode are those JOURNAL_STREAM names (sd-daemon(3)).
bool stderr_is_journal(int fd = 2);

// What components hold and call. Cheap to copy. Logger{} writes to the process output;
// Logger{callable taking std::string_view} hands each formatted line (format(), without ts)
// to the callable: tests record them, and code that passed a plain line function keeps
// compiling. Threading: as its output (the process output is thread-safe; a callable is
// called on the logging thread).
class Logger {
public:
    Logger();
    template <class F>
        requires(!std::same_as<std::remove_cvref_t<F>, Logger> && std::invocable<F&, std::string_view>)
    Logger(F f) : lines_(std::make_shared<std::function<void(std::string_view)>>(std::move(f))) {}

    // A plain message: `level=info msg="..."`.
    void operator()(std::string_view message) const;
    void operator()(const Event& e) const { emit(e); }

    void write(Level l, std::string_view event, std::initializer_list<Field> fields = {}) const;
    // For events a flood or a flapping peer could multiply: rate-limited per event name.
    void limited(Level l, std::string_view event, std::initializer_list<Field> fields = {}) const;

    void debug(std::string_view event, std::initializer_list<Field> f = {}) const { write(Level::debug, event, f); }
    void info(std::string_view event, std::initializer_list<Field> f = {}) const { write(Level::info, event, f); }
    void notice(std::string_view event, std::initializer_list<Field> f = {}) const { write(Level::notice, event, f); }
    void warning(std::string_view event, std::initializer_list<Field> f = {}) const {
        write(Level::warning, event, f);
    }
    void error(std::string_view event, std::initializer_list<Field> f = {}) const { write(Level::error, event, f); }

private:
    void emit(const Event& e) const;
    std::shared_ptr<std::function<void(std::string_view)>> lines_;  // null: the process output
};

}  // namespace dplb::log
