#include "control/server/event_loop.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "codec/json_parse.hpp"
#include "control/server/health_driver.hpp"

namespace dplb::server {

using Clock = std::chrono::steady_clock;

namespace {

// Requests answered per client per turn, so one busy client cannot starve the others.
constexpr int requests_per_turn = 16;

void epoll_set(int epfd, int op, int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(epfd, op, fd, &ev);
}

}  // namespace

EventLoop::EventLoop(Controller& controller, dataplane_link::DataplaneLink& link, Logger log, LoopOptions options,
                     HealthDriver* health)
    : controller_(controller), link_(link), log_(std::move(log)), options_(std::move(options)), health_(health) {}

EventLoop::~EventLoop() {
    for (auto& [fd, c] : clients_) ::close(fd);
    for (int fd : {listen_fd_, signal_fd_, epoll_fd_})
        if (fd >= 0) ::close(fd);
}

model::Status EventLoop::open() {
    std::string err;
    listen_fd_ = model::listen_unix(options_.socket_path, 0660, err);
    if (listen_fd_ < 0) return model::Error{"", err};
    if (::fcntl(listen_fd_, F_SETFL, O_NONBLOCK) < 0) return model::Error{"", std::strerror(errno)};

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    // A dataplane or client that disappears must cost an EPIPE, never the process.
    ::signal(SIGPIPE, SIG_IGN);

    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (signal_fd_ < 0 || epoll_fd_ < 0) return model::Error{"", std::strerror(errno)};
    epoll_set(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, EPOLLIN);
    epoll_set(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, EPOLLIN);
    if (health_) {
        health_fd_ = health_->engine().epoll_fd();
        epoll_set(epoll_fd_, EPOLL_CTL_ADD, health_fd_, EPOLLIN);
    }
    if (scrape_) epoll_set(epoll_fd_, EPOLL_CTL_ADD, scrape_->fd(), EPOLLIN);
    return std::nullopt;
}

void EventLoop::run() {
    log_.info("control_listening", {{"socket", options_.socket_path}});
    epoll_event events[64];
    while (!stop_) {
        maybe_connect_dataplane();
        sync_link_watch();
        int n = ::epoll_wait(epoll_fd_, events, 64, next_timeout_ms());
        log::process().flush();  // rate-limited events' log_suppressed summaries, when due
        bool reload = false;
        bool scrape = false;
        if (n < 0 && errno != EINTR) {
            log_.error("event_loop_failed", {{"call", "epoll_wait"}, {"error", std::strerror(errno)}});
            break;
        }
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            uint32_t ev = events[i].events;
            if (fd == listen_fd_) accept_clients();
            else if (fd == health_fd_) health_->engine().on_ready();
            else if (scrape_ && fd == scrape_->fd())
                scrape = true;  // served after the turn's changes are durable (below)
            else if (fd == signal_fd_) {
                signalfd_siginfo si{};
                if (::read(signal_fd_, &si, sizeof si) != sizeof si) continue;
                if (si.ssi_signo == SIGHUP) {
                    reload = true;
                    continue;
                }
                log_.notice("signal_received", {{"signal", log::signal_name(int(si.ssi_signo))}, {"action", "exit"}});
                stop_ = true;
            } else if (link_.connected() && fd == link_.fd()) on_link_input();
            else if (auto it = clients_.find(fd); it != clients_.end()) {
                Client& c = *it->second;
                if (c.writing) {
                    if (!flush(c)) continue;
                    if (c.out.empty() && c.close_after_flush) close_client(fd);
                } else if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) serve(c);
            }
        }
        // Clients whose requests were already read but not yet answered.
        auto pending = std::move(pending_);
        pending_.clear();
        for (int fd : pending)
            if (auto it = clients_.find(fd); it != clients_.end() && !it->second->writing) serve(*it->second);
        finish_staged();
        // A page shows only what is durable: changes staged in this turn are fsynced above
        // (a change whose fsync fails is rolled back and never shown).
        if (scrape)
            scrape_->serve([this] { return controller_.render_metrics(change_durations_, scrape_->take_buffer()); });
        if (reload) reload_keepalived();
        run_health();
        controller_.poll_store();
    }
    if (health_) health_->engine().shutdown();
    ::unlink(options_.socket_path.c_str());
}

void EventLoop::run_health() {
    if (!health_) return;
    health_->engine().run_due();
    // MISC_CHECK scripts killed on timeout that were not dead yet (probes/child_reaper.hpp).
    reap_pending_ = health::reap_children() > 0;
    if (health_->passive() && Clock::now() >= next_passive_poll_) {
        next_passive_poll_ = Clock::now() + options_.passive_poll_interval;
        controller_.poll_passive();
    }
    // Nothing is staged after finish_staged(): the decisions go out as their own change.
    controller_.apply_health();
}

void EventLoop::reload_keepalived() {
    if (!health_ || health_->keepalived_path().empty()) {
        log_.warning("keepalived_reload_skipped", {{"signal", "HUP"}, {"error", "no --keepalived-conf to reload"}});
        return;
    }
    const std::string path = health_->keepalived_path();
    auto reply = controller_.load_keepalived(path);
    if (reply.value("ok", false))
        log_.notice("keepalived_reloaded", {{"path", path}, {"changes", reply.value("changes", 0)}});
    else
        log_.error("keepalived_reload_refused",
                   {{"path", path}, {"changed", false}, {"error", reply.value("error", std::string("?"))}});
}

void EventLoop::finish_staged() {
    if (awaiting_.empty()) return;
    // Every change read this turn becomes durable with one fsync (group commit); replies come
    // back in the order the changes were staged, which is awaiting_'s order.
    auto replies = controller_.complete_staged();
    auto fds = std::move(awaiting_);
    awaiting_.clear();
    for (std::size_t i = 0; i < fds.size() && i < replies.size(); ++i) {
        auto it = clients_.find(fds[i]);
        if (it == clients_.end()) continue;
        Client& c = *it->second;
        c.awaiting = false;
        c.out += model::dump_line(replies[i]);
        c.out += '\n';
        const auto read = c.change_read;  // flush() may close (and free) the client
        const bool alive = flush(c);
        observe_change(read);
        if (!alive) continue;
        if (c.close_after_flush && c.out.empty()) {
            close_client(c.fd);
            continue;
        }
        pending_.insert(c.fd);  // requests it sent meanwhile are already buffered
    }
    controller_.release_retired();
}

void EventLoop::observe_change(Clock::time_point read) {
    change_durations_.observe(std::chrono::duration<double>(Clock::now() - read).count());
}

void EventLoop::accept_clients() {
    for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_.limited(log::Level::error, "accept_failed", {{"socket", options_.socket_path}, {"error", std::strerror(errno)}});
            return;
        }
        clients_.emplace(fd, std::make_unique<Client>(Client{fd, model::LineReader(options_.max_request_bytes)}));
        epoll_set(epoll_fd_, EPOLL_CTL_ADD, fd, EPOLLIN);
    }
}

void EventLoop::serve(Client& c) {
    using S = model::LineReader::Status;
    int fd = c.fd;
    if (c.awaiting) return;  // its next request waits for the reply to its change
    for (int budget = requests_per_turn; budget > 0; --budget) {
        std::string line;
        S st = c.reader.read_line(fd, line);
        if (st == S::would_block) return;
        if (st == S::closed || st == S::error) {
            // The peer may only have shut down its sending side: it still gets its replies.
            if (c.out.empty()) close_client(fd);
            else c.close_after_flush = true;
            return;
        }
        nlohmann::json reply;
        std::optional<Clock::time_point> change_read;  // a change refused at once is timed too
        if (st == S::too_long) {
            reply = {{"ok", false},
                     {"error", "request longer than " + std::to_string(c.reader.max_line()) +
                                   " bytes (--max-request-bytes); closing the connection"}};
            c.close_after_flush = true;
        } else {
            const auto read = Clock::now();
            auto staged = controller_.stage_line(line);
            if (!staged) {
                // A change: its reply waits for the turn's shared fsync (finish_staged).
                c.awaiting = true;
                c.change_read = read;
                awaiting_.push_back(fd);
                return;
            }
            reply = std::move(*staged);
            if (controller_.last_request_was_change()) change_read = read;
        }
        c.out += model::dump_line(reply);
        c.out += '\n';
        const bool alive = flush(c);
        if (change_read) observe_change(*change_read);
        if (!alive) return;
        if (c.close_after_flush) {
            if (c.out.empty()) close_client(fd);
            return;
        }
        if (c.writing) return;  // resumes when the client has read its replies
    }
    pending_.insert(fd);
}

bool EventLoop::flush(Client& c) {
    while (!c.out.empty()) {
        ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out.erase(0, std::size_t(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(c, true);
            return true;
        }
        close_client(c.fd);
        return false;
    }
    if (c.writing) {
        watch(c, false);
        pending_.insert(c.fd);  // requests may have arrived meanwhile, already buffered
    }
    return true;
}

void EventLoop::watch(Client& c, bool writing) {
    if (c.writing == writing) return;
    c.writing = writing;
    epoll_set(epoll_fd_, EPOLL_CTL_MOD, c.fd, writing ? EPOLLOUT : EPOLLIN);
}

void EventLoop::close_client(int fd) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    clients_.erase(fd);
    pending_.erase(fd);
}

void EventLoop::on_link_input() {
    log_.limited(log::Level::warning, "dataplane_lost",
                 {{"during", "idle"}, {"error", link_.on_unsolicited_input()}, {"action", "reconnect"}});
    sync_link_watch();
}

void EventLoop::maybe_connect_dataplane() {
    if (link_.connected() || Clock::now() < next_connect_) return;
    next_connect_ = Clock::now() + options_.reconnect_interval;
    std::string err;
    if (!link_.try_connect(err)) {
        // Once per outage, not every 200 ms.
        if (!reported_unreachable_)
            log_.warning("dataplane_unreachable", {{"socket", link_.socket_path()}, {"error", err}, {"action", "retry"}});
        reported_unreachable_ = true;
        return;
    }
    reported_unreachable_ = false;
    controller_.on_dataplane_connected();
}

void EventLoop::sync_link_watch() {
    // Closing the link's fd removed it from the epoll set, so there is never anything to
    // delete; a new connection (even one that reuses the fd number) is added once.
    if (!link_.connected()) {
        watched_link_ = 0;
        return;
    }
    if (link_.connection_id() == watched_link_) return;
    watched_link_ = link_.connection_id();
    epoll_set(epoll_fd_, EPOLL_CTL_ADD, link_.fd(), EPOLLIN | EPOLLRDHUP);
}

int EventLoop::next_timeout_ms() const {
    if (!pending_.empty()) return 0;
    std::optional<Clock::time_point> until;
    auto sooner = [&](Clock::time_point t) {
        if (!until || t < *until) until = t;
    };
    if (!link_.connected()) sooner(next_connect_);
    if (controller_.compacting()) sooner(Clock::now() + std::chrono::milliseconds(50));  // reap it soon after it ends
    if (health_) {
        if (auto d = health_->engine().next_deadline()) sooner(*d);
        if (reap_pending_) sooner(Clock::now() + std::chrono::milliseconds(100));
        if (health_->passive() && link_.connected()) sooner(next_passive_poll_);
    }
    if (!until) return -1;  // nothing is due but what epoll reports
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*until - Clock::now()).count();
    return left < 0 ? 0 : int(std::min<long long>(left + 1, 60000));
}

}  // namespace dplb::server
