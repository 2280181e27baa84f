#include "common/log.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

namespace dplb::log {

namespace {

constexpr std::string_view level_names[] = {"debug", "info", "notice", "warning", "error"};

bool needs_quotes(std::string_view v) {
    if (v.empty()) return true;
    return std::any_of(v.begin(), v.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u <= ' ' || c == '=' || c == '"' || u == 0x7f;
    });
}

void append_key(std::string& out, std::string_view k) {
    if (k.empty()) {
        out += '_';
        return;
    }
    for (char c : k) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        out += ok ? c : (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : '_';
    }
}

std::string utc_now_rfc3339() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    gmtime_r(&ts.tv_sec, &t);
    char b[64];
    std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                  t.tm_hour, t.tm_min, t.tm_sec, int(ts.tv_nsec / 1000000) % 1000);
    return b;
}

// write(2) the whole line; a short write (pipe full) continues, an error drops the line: a
// log line must never stop the process.
void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        s.remove_prefix(std::size_t(n));
    }
}

}  // namespace

std::string signal_name(int signo) {
    const char* a = sigabbrev_np(signo);
    return a ? "SIG" + std::string(a) : std::to_string(signo);
}

std::string_view to_string(Level l) { return level_names[std::size_t(l)]; }

int priority(Level l) {
    switch (l) {
        case Level::debug: return 7;
        case Level::info: return 6;
        case Level::notice: return 5;
        case Level::warning: return 4;
        case Level::error: return 3;
    }
    return 6;
}

std::optional<Level> parse_level(std::string_view s) {
    for (std::size_t i = 0; i < std::size(level_names); ++i)
        if (s == level_names[i]) return Level(i);
    if (s == "warn") return Level::warning;
    return std::nullopt;
}

Field::Field(std::string_view k, double v) : key(k) {
    char b[32];
    std::snprintf(b, sizeof b, "%.6g", v);
    value = b;
}

void append_value(std::string& out, std::string_view v) {
    if (!needs_quotes(v)) {
        out += v;
        return;
    }
    out += '"';
    for (char c : v) {
        auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (u < 0x20 || u == 0x7f) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\u%04x", unsigned(u));
                    out += b;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

std::string format(const Event& e) {
    std::string out = "level=";
    out += to_string(e.level);
    if (!e.name.empty()) {
        out += " event=";
        append_key(out, e.name);
    }
    for (const auto& f : e.fields) {
        out += ' ';
        append_key(out, f.key);
        out += '=';
        append_value(out, f.value);
    }
    return out;
}

// ----- RateLimiter -------------------------------------------------------------------

bool RateLimiter::admit(std::string_view event, Level level, Clock::time_point now) {
    auto it = std::find_if(buckets_.begin(), buckets_.end(), [&](const Bucket& b) { return b.event == event; });
    if (it == buckets_.end()) {
        buckets_.push_back(Bucket{std::string(event), double(options_.burst), now, 0, Level::debug, now});
        it = buckets_.end() - 1;
    }
    // Refill at burst per period, up to burst.
    double per_ms = double(options_.burst) / double(std::max<int64_t>(options_.period.count(), 1));
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - it->refilled).count();
    if (elapsed > 0) {
        it->tokens = std::min(double(options_.burst), it->tokens + double(elapsed) * per_ms);
        it->refilled = now;
    }
    if (it->tokens >= 1.0) {
        it->tokens -= 1.0;
        return true;
    }
    if (it->suppressed++ == 0) it->first_suppressed = now;
    it->level = std::max(it->level, level);
    return false;
}

std::vector<RateLimiter::Summary> RateLimiter::due(Clock::time_point now, bool all) {
    std::vector<Summary> out;
    for (auto& b : buckets_) {
        if (b.suppressed == 0) continue;
        if (!all && now - b.first_suppressed < options_.period) continue;
        out.push_back(Summary{b.event, b.level, b.suppressed});
        b.suppressed = 0;
        b.level = Level::debug;
    }
    return out;
}

// ----- Output ------------------------------------------------------------------------

bool stderr_is_journal(int fd) {
    // sd-daemon(3): JOURNAL_STREAM is "DEVICE:INODE" of the stream journald connected;
    // compare with fd, since a child whose stderr was redirected inherits the variable.
    const char* js = std::getenv("JOURNAL_STREAM");
    if (!js) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (fstat(fd, &st) != 0) return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

struct Output::Impl {
    OutputOptions options;
    bool journal = false;
    std::mutex mutex;
    RateLimiter limiter;

    explicit Impl(OutputOptions o) : options(std::move(o)), limiter(options.limits) {
        journal = options.journal ? *options.journal : stderr_is_journal(options.fd);
        if (!options.now) options.now = [] { return RateLimiter::Clock::now(); };
        if (!options.timestamp) options.timestamp = utc_now_rfc3339;
    }

    std::string render(const Event& e) const {
        std::string line;
        if (journal) {
            line = "<" + std::to_string(priority(e.level)) + ">";
            line += format(e);
            return line;
        }
        line = "ts=" + options.timestamp() + " level=";
        line += to_string(e.level);
        if (!options.proc.empty()) {
            line += " proc=";
            append_value(line, options.proc);
        }
        std::string rest = format(e);
        line.append(rest, rest.find(' ') == std::string::npos ? rest.size() : rest.find(' '));
        return line;
    }

    // Under the mutex.
    void put(const Event& e) {
        std::string line = render(e);
        line += '\n';
        write_all(options.fd, line);
    }

    void flush_locked(bool all) {
        for (auto& s : limiter.due(options.now(), all))
            put(Event{s.level, "log_suppressed", {{"suppressed_event", s.event}, {"count", s.count}}});
    }
};

Output::Output(OutputOptions o) : impl_(std::make_unique<Impl>(std::move(o))) {}
Output::~Output() = default;

void Output::write(const Event& e) {
    if (e.level < impl_->options.min_level) return;
    std::lock_guard lock(impl_->mutex);
    bool pass = !e.limited || impl_->limiter.admit(e.name, e.level, impl_->options.now());
    if (pass) impl_->put(e);
    impl_->flush_locked(false);
}

void Output::flush(bool all) {
    std::lock_guard lock(impl_->mutex);
    impl_->flush_locked(all);
}

std::string Output::render(const Event& e) const { return impl_->render(e); }

namespace {
std::mutex process_mutex;
std::unique_ptr<Output> process_output;
}  // namespace

void configure(OutputOptions o) {
    std::lock_guard lock(process_mutex);
    if (process_output) process_output->flush(true);
    process_output = std::make_unique<Output>(std::move(o));
}

Output& process() {
    std::lock_guard lock(process_mutex);
    if (!process_output) process_output = std::make_unique<Output>(OutputOptions{});
    return *process_output;
}

// ----- Logger ------------------------------------------------------------------------

Logger::Logger() = default;

void Logger::operator()(std::string_view message) const {
    emit(Event{Level::info, {}, {{"msg", message}}});
}

void Logger::write(Level l, std::string_view event, std::initializer_list<Field> fields) const {
    emit(Event{l, event, std::vector<Field>(fields)});
}

void Logger::limited(Level l, std::string_view event, std::initializer_list<Field> fields) const {
    emit(Event{l, event, std::vector<Field>(fields), true});
}

void Logger::emit(const Event& e) const {
    if (lines_) (*lines_)(format(e));
    else process().write(e);
}

}  // namespace dplb::log
