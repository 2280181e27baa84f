#include "control/health/health_engine.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>
#include <unordered_map>

#include "control/health/names.hpp"
#include "control/health/notify.hpp"
#include "control/health/service_health.hpp"
#include "control/health/timer_queue.hpp"

namespace dplb::health {

namespace {

// How often next_deadline() wakes the loop while scripts the engine started still run.
constexpr auto reap_interval = std::chrono::milliseconds(100);
// keepalived's limit for the scripts of a shutdown (TIMER_HZ).
constexpr auto shutdown_script_wait = std::chrono::milliseconds(1000);

// One checker of one real server and what runs it.
struct CheckerRun {
    uint64_t id;
    keepalived::CheckerSpec spec;
    ProbeTarget target;
    CheckerSchedule schedule;
    std::optional<bool> last_result;
    std::string last_failure;
    Clock::time_point last_change;
    Clock::time_point attempt_started{};
    std::optional<Clock::duration> last_duration;  // of the last attempt that ended
    uint64_t attempt = 0;     // the running attempt, 0: none
    uint64_t generation = 0;  // of its timer (TimerQueue)
};

struct RealRun {
    uint64_t id;
    std::vector<std::unique_ptr<CheckerRun>> checkers;
    Clock::time_point passive_until{};
    uint64_t passive_generation = 0;
};

struct ServiceRun {
    ServiceHealth health;
    std::vector<RealRun> reals;  // reals[i] is health.config().reals[i]; never resized
};

// One attempt in flight: its probe and what the epoll set has of it.
struct Attempt {
    uint64_t checker;
    std::unique_ptr<Probe> probe;
    int fd = -1;
    uint32_t events = 0;
};

struct CheckerRef {
    ServiceRun* service;
    std::size_t real;
    CheckerRun* checker;
};

struct RealRef {
    ServiceRun* service;
    std::size_t real;
};

CheckerTiming timing_of(const keepalived::CheckerSpec& spec, const keepalived::VirtualServerHealth& vs,
                        const EngineOptions& options) {
    double delay_loop = spec.delay_loop.value_or(vs.delay_loop);
    return CheckerTiming{.delay_loop = delay_loop,
                         .delay_before_retry = spec.delay_before_retry,
                         .retry = spec.retry,
                         .warmup = spec.warmup.value_or(delay_loop),
                         .attempt_timeout = options.attempt_timeout(spec, delay_loop)};
}

ProbeTarget target_of(const keepalived::CheckerSpec& spec, const keepalived::RealServerHealth& real) {
    return ProbeTarget{spec.connect_ip.value_or(real.address), spec.connect_port.value_or(real.port), spec.bindto,
                       spec.bind_port};
}

}  // namespace

struct HealthEngine::Impl {
    EngineOptions options;
    LogFn log;
    int epfd = -1;
    std::mt19937_64 rng;
    ScriptRunner scripts;
    std::vector<std::unique_ptr<FifoWriter>> fifos;

    std::vector<std::unique_ptr<ServiceRun>> services;
    std::unordered_map<uint64_t, CheckerRef> checkers;  // by CheckerRun::id
    std::unordered_map<uint64_t, RealRef> reals;        // by RealRun::id
    std::unordered_map<uint64_t, Attempt> attempts;     // by attempt id (epoll data)
    TimerQueue timers;
    uint64_t next_id = 1;
    bool stopped = false;

    std::vector<RealEffect> real_effects;
    std::vector<SorryEffect> sorry_effects;

    Impl(EngineOptions o, LogFn l) : options(std::move(o)), log(std::move(l)), scripts(log) {
        if (!options.make_probe || !options.attempt_timeout)
            throw std::invalid_argument("HealthEngine: EngineOptions::make_probe and attempt_timeout are required");
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0) throw std::runtime_error(std::string("HealthEngine: epoll_create1: ") + std::strerror(errno));
        rng.seed(options.seed ? options.seed : (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}());
        set_fifos(options.notify_fifos);
    }

    ~Impl() {
        cancel_all_attempts();
        close(epfd);
    }

    void set_fifos(const std::vector<std::string>& paths) {
        std::vector<std::unique_ptr<FifoWriter>> next;
        for (const auto& p : paths) {
            auto kept = std::find_if(fifos.begin(), fifos.end(), [&](const auto& f) { return f && f->path() == p; });
            next.push_back(kept != fifos.end() ? std::move(*kept) : std::make_unique<FifoWriter>(p, log));
        }
        fifos = std::move(next);
    }

    double draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

    // ---- output

    void apply(HealthOutput& out) {
        for (const auto& line : out.log) log("health: " + line);
        real_effects.insert(real_effects.end(), out.reals.begin(), out.reals.end());
        sorry_effects.insert(sorry_effects.end(), out.sorry.begin(), out.sorry.end());
        for (const auto& n : out.notices) {
            if (n.script) {
                if (options.run_script) options.run_script(*n.script);
                else scripts.run(*n.script);
            }
            for (auto& f : fifos) f->write_line(n.fifo_line);
        }
        out = HealthOutput{};
    }

    // ---- the epoll set. A probe's descriptor leaves the set before the probe is stepped
    // (it may close it then, or a child may hold a copy that would keep it in the set) and
    // comes back after if the attempt goes on.

    void unwatch(Attempt& a) {
        if (a.fd >= 0) epoll_ctl(epfd, EPOLL_CTL_DEL, a.fd, nullptr);
        a.fd = -1;
        a.events = 0;
    }

    void watch(uint64_t id, Attempt& a) {
        int fd = a.probe->fd();
        uint32_t events = a.probe->events();
        if (fd == a.fd && events == a.events) return;
        unwatch(a);
        if (fd < 0) return;  // waits on nothing: only its deadline ends it
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = id;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            log("health: epoll_ctl ADD " + std::to_string(fd) + ": " + std::strerror(errno));
            return;  // its deadline still ends it
        }
        a.fd = fd;
        a.events = events;
    }

    // ---- checkers

    void arm(CheckerRun& c) {
        ++c.generation;
        Clock::time_point at = c.schedule.running() ? c.schedule.deadline() : c.schedule.next_run();
        timers.arm(at, TimerKind::checker, c.id, c.generation);
    }

    void start_attempt(const CheckerRef& ref, Clock::time_point now, HealthOutput& out) {
        CheckerRun& c = *ref.checker;
        c.schedule.start_attempt(now);
        c.attempt_started = now;
        uint64_t id = next_id++;
        std::unique_ptr<Probe> probe = options.make_probe(c.spec, c.target);
        if (auto r = probe->start()) {
            finish(ref, *r, now, out);
            return;
        }
        c.attempt = id;
        auto& a = attempts.emplace(id, Attempt{c.id, std::move(probe)}).first->second;
        watch(id, a);
        arm(c);
    }

    void finish(const CheckerRef& ref, const ProbeResult& r, Clock::time_point now, HealthOutput& out) {
        CheckerRun& c = *ref.checker;
        ServiceHealth& svc = ref.service->health;
        c.attempt = 0;
        c.last_result = r.up;
        c.last_duration = now - c.attempt_started;
        // The reason of the last failure stays after a success: `--health` says why a server
        // that came back had failed (`up` and `last_result` say how it is now).
        if (!r.up) c.last_failure = r.reason;
        // keepalived sets the weight before the state (check_misc.c); exit 0 leaves it as it
        // is (keepalived.conf(5) 2.2.7: "exit status 0: svc check success, weight unchanged").
        if (r.up && r.weight && c.spec.type == keepalived::CheckerType::misc && c.spec.misc_dynamic)
            svc.set_dynamic_weight(ref.real, r.weight, out);
        bool had_run = c.schedule.has_run();
        CheckerEvent ev = c.schedule.finish_attempt(r.up, now);
        if (ev == CheckerEvent::went_up || ev == CheckerEvent::went_down) c.last_change = now;
        if (ev != CheckerEvent::none) {
            const auto& real = svc.config().reals[ref.real];
            std::string what = std::string(keepalived::keyword_of(c.spec.type)) + " on service " +
                               rs_name(svc.key(), real.address, real.port) + " of VS " + vs_name(svc.key());
            if (r.up) out.log.push_back(what + " succeeded");
            else
                out.log.push_back(what + " failed: " + r.reason +
                                  (had_run && c.spec.retry ? " (after " + std::to_string(c.spec.retry) + " retries)" : ""));
        }
        svc.checker_event(ref.real, ev, out);
        arm(c);
    }

    void time_out(const CheckerRef& ref, Clock::time_point now, HealthOutput& out) {
        auto it = attempts.find(ref.checker->attempt);
        if (it == attempts.end()) return;
        unwatch(it->second);
        ProbeResult r = it->second.probe->on_timeout();
        attempts.erase(it);
        if (r.reason.empty()) r.reason = "timeout";
        r.up = false;
        finish(ref, r, now, out);
    }

    void step(uint64_t attempt_id, uint32_t events, HealthOutput& out) {
        auto it = attempts.find(attempt_id);
        if (it == attempts.end()) return;  // ended earlier in this batch
        Attempt& a = it->second;
        auto ref = checkers.find(a.checker);
        unwatch(a);
        std::optional<ProbeResult> r = a.probe->on_event(events);
        if (!r) {
            watch(attempt_id, a);
            return;
        }
        attempts.erase(it);
        if (ref != checkers.end()) finish(ref->second, *r, options.now(), out);
    }

    // Stops an attempt whose checker goes away (or the engine): the probe releases its
    // descriptor and child (on_timeout), its result is dropped.
    void cancel_attempt(uint64_t id) {
        auto it = attempts.find(id);
        if (it == attempts.end()) return;
        unwatch(it->second);
        it->second.probe->on_timeout();
        attempts.erase(it);
    }

    void cancel_all_attempts() {
        while (!attempts.empty()) cancel_attempt(attempts.begin()->first);
    }

    std::unique_ptr<CheckerRun> new_checker(const keepalived::CheckerSpec& spec,
                                            const keepalived::VirtualServerHealth& vs,
                                            const keepalived::RealServerHealth& real, Clock::time_point now) {
        CheckerTiming t = timing_of(spec, vs, options);
        auto c = std::unique_ptr<CheckerRun>(
            new CheckerRun{next_id++, spec, target_of(spec, real), CheckerSchedule(t, !vs.alpha, now, draw()), {}, {}, now});
        return c;
    }

    // ---- configure

    void configure(const std::vector<keepalived::VirtualServerHealth>& wanted) {
        Clock::time_point now = options.now();
        std::vector<std::unique_ptr<ServiceRun>> old = std::move(services);
        services.clear();
        for (const auto& vs : wanted) {
            auto svc = std::make_unique<ServiceRun>(ServiceRun{ServiceHealth(vs), {}});
            auto prev = std::find_if(old.begin(), old.end(), [&](const auto& s) { return s && s->health.key() == vs.key; });
            ServiceRun* before = prev != old.end() ? prev->get() : nullptr;
            if (before) svc->health.keep_quorum(before->health);
            svc->reals.resize(vs.reals.size());
            for (std::size_t i = 0; i < vs.reals.size(); ++i) {
                const auto& real = vs.reals[i];
                RealRun& run = svc->reals[i];
                std::optional<std::size_t> j;
                if (before) {
                    const auto& was = before->health.config().reals;
                    for (std::size_t k = 0; k < was.size(); ++k)
                        if (was[k].address == real.address && was[k].port == real.port) j = k;
                }
                if (j && before->health.config().reals[*j].checkers == real.checkers) {
                    // The same real server checked the same way: it carries on.
                    RealRun& prev_run = before->reals[*j];
                    svc->health.keep_real(i, before->health.real(*j));
                    run = std::move(prev_run);
                    for (auto& c : run.checkers) c->schedule.set_timing(timing_of(c->spec, vs, options));
                    prev_run.checkers.clear();
                    continue;
                }
                if (j) svc->health.inherit_published(i, before->health.real(*j));
                run.id = next_id++;
                for (const auto& spec : real.checkers) run.checkers.push_back(new_checker(spec, vs, real, now));
            }
            services.push_back(std::move(svc));
        }
        // What is left of the old set goes, attempts first.
        for (auto& s : old)
            for (auto& r : s->reals)
                for (auto& c : r.checkers)
                    if (c->attempt) cancel_attempt(c->attempt);
        reindex();
        HealthOutput out;
        for (auto& s : services) {
            s->health.start(out);
            for (auto& r : s->reals)
                for (auto& c : r.checkers)
                    if (!c->attempt && c->generation == 0) arm(*c);  // new ones; kept ones are armed
        }
        apply(out);
    }

    void reindex() {
        checkers.clear();
        reals.clear();
        for (auto& s : services)
            for (std::size_t i = 0; i < s->reals.size(); ++i) {
                reals[s->reals[i].id] = RealRef{s.get(), i};
                for (auto& c : s->reals[i].checkers) checkers[c->id] = CheckerRef{s.get(), i, c.get()};
            }
    }

    // ---- the loop's calls

    void run_due() {
        scripts.reap();
        if (stopped) return;
        Clock::time_point now = options.now();
        uint64_t mark = timers.pass_mark();
        HealthOutput out;
        while (auto t = timers.pop_due(now, mark)) {
            if (t->kind == TimerKind::checker) {
                auto it = checkers.find(t->owner);
                if (it == checkers.end() || it->second.checker->generation != t->generation) continue;
                if (it->second.checker->schedule.running()) time_out(it->second, now, out);
                else start_attempt(it->second, now, out);
            } else {
                auto it = reals.find(t->owner);
                if (it == reals.end()) continue;
                RealRun& run = it->second.service->reals[it->second.real];
                if (run.passive_generation != t->generation || now < run.passive_until) continue;
                it->second.service->health.set_passive_down(it->second.real, false, out);
            }
        }
        apply(out);
    }

    void on_ready() {
        if (stopped) return;
        HealthOutput out;
        epoll_event evs[64];
        // A bounded number of rounds: what is left keeps epoll_fd() readable for the loop.
        for (int round = 0; round < 16; ++round) {
            int n = epoll_wait(epfd, evs, 64, 0);
            if (n <= 0) break;
            for (int i = 0; i < n; ++i) step(evs[i].data.u64, evs[i].events, out);
            if (n < 64) break;
        }
        apply(out);
    }

    std::optional<Clock::time_point> next_deadline() const {
        std::optional<Clock::time_point> t = stopped ? std::nullopt : timers.earliest();
        if (scripts.running()) {
            Clock::time_point reap = options.now() + reap_interval;
            if (!t || reap < *t) t = reap;
        }
        return t;
    }

    void report_passive_failure(const config::ServiceKey& key, Ip4 address, uint16_t port,
                                std::chrono::milliseconds down_for) {
        if (stopped) return;
        for (auto& s : services) {
            if (!(s->health.key() == key)) continue;
            const auto& cfg = s->health.config().reals;
            for (std::size_t i = 0; i < cfg.size(); ++i) {
                if (cfg[i].address != address || cfg[i].port != port) continue;
                RealRun& run = s->reals[i];
                Clock::time_point until = options.now() + down_for;
                if (s->health.real(i).passive_down()) until = std::max(until, run.passive_until);
                run.passive_until = until;
                timers.arm(until, TimerKind::passive, run.id, ++run.passive_generation);
                HealthOutput out;
                s->health.set_passive_down(i, true, out);
                apply(out);
                return;
            }
        }
    }

    std::vector<ServiceStatus> status() const {
        std::vector<ServiceStatus> out;
        for (const auto& s : services) {
            const ServiceHealth& h = s->health;
            ServiceStatus st{h.key(), h.quorum_up(), h.sorry_active(), h.alive_weight(), {}};
            for (std::size_t i = 0; i < s->reals.size(); ++i) {
                const auto& cfg = h.config().reals[i];
                const RealHealth& rh = h.real(i);
                RealStatus rs{h.key(), cfg.address, cfg.port, rh.state(), rh.dynamic_weight(), rh.passive_down(),
                              rh.transitions(), {}};
                for (const auto& c : s->reals[i].checkers)
                    rs.checkers.push_back(CheckerStatus{c->spec.type, c->target, c->schedule.up(),
                                                        c->schedule.failures_in_a_row(), c->last_result,
                                                        c->last_failure, c->last_change, c->schedule.next_run(),
                                                        c->last_duration});
                st.reals.push_back(std::move(rs));
            }
            out.push_back(std::move(st));
        }
        return out;
    }

    void shutdown() {
        if (stopped) return;
        stopped = true;
        cancel_all_attempts();
        timers.clear();
        HealthOutput out;
        for (auto& s : services) s->health.stop(out);
        apply(out);
        if (!options.run_script) scripts.wait_for(shutdown_script_wait);
    }
};

HealthEngine::HealthEngine(EngineOptions options, std::function<void(std::string_view)> log)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(log))) {}

HealthEngine::~HealthEngine() = default;

void HealthEngine::configure(const std::vector<keepalived::VirtualServerHealth>& services) {
    if (!impl_->stopped) impl_->configure(services);
}
void HealthEngine::set_notify_fifos(std::vector<std::string> paths) { impl_->set_fifos(paths); }
int HealthEngine::epoll_fd() const { return impl_->epfd; }
void HealthEngine::on_ready() { impl_->on_ready(); }
void HealthEngine::run_due() { impl_->run_due(); }
std::optional<Clock::time_point> HealthEngine::next_deadline() const { return impl_->next_deadline(); }

void HealthEngine::report_passive_failure(const config::ServiceKey& key, Ip4 address, uint16_t port,
                                          std::chrono::milliseconds down_for) {
    impl_->report_passive_failure(key, address, port, down_for);
}

std::vector<RealEffect> HealthEngine::take_real_effects() { return std::exchange(impl_->real_effects, {}); }
std::vector<SorryEffect> HealthEngine::take_sorry_effects() { return std::exchange(impl_->sorry_effects, {}); }

void HealthEngine::replay_all_effects() {
    HealthOutput out;
    for (const auto& s : impl_->services) s->health.replay(out);
    impl_->apply(out);
}

std::vector<ServiceStatus> HealthEngine::status() const { return impl_->status(); }
void HealthEngine::shutdown() { impl_->shutdown(); }

}  // namespace dplb::health
