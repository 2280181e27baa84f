// dplb-control's single-threaded epoll loop: the control socket and its clients, the
// dataplane link's reconnection timer, the health checks' probes (the engine's own epoll
// set, nested in this one) and timers, the passive-check poll, SIGHUP (reload the
// keepalived.conf) and SIGTERM/SIGINT. (Rates are estimated by the
// dataplane itself: nothing is sampled periodically.)
//
// Clients are non-blocking and each has its own LineReader and output buffer, so a client
// that sends half a request, or does not read its replies, never holds up the others: its
// reading stops until its replies are flushed, and a client with many buffered requests is
// served a bounded number per turn. Requests themselves run to completion (a push to the
// dataplane waits up to its reply timeout); the changes read in one turn share one fsync.
//
// /metrics: an HTTP thread asks through a ScrapeExchange (control/metrics/scrape_exchange.hpp)
// whose eventfd is in this epoll set; the page is gathered and rendered here, on the loop's
// thread, between requests. The loop also times every change request (read -> reply
// written) into the change-duration histogram.
//
// Threading: run() on one thread; nothing here is shared but the ScrapeExchange, which is
// made for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "control/dataplane_link/dataplane_link.hpp"
#include "common/line_channel.hpp"
#include "control/metrics/histogram.hpp"
#include "control/metrics/scrape_exchange.hpp"
#include "control/server/controller.hpp"

namespace dplb::server {

struct LoopOptions {
    std::string socket_path;
    std::size_t max_request_bytes = 0;
    std::chrono::milliseconds reconnect_interval{200};
    std::chrono::milliseconds passive_poll_interval{500};
};

class HealthDriver;

class EventLoop {
public:
    // `health` may be null (no checks, SIGHUP only logged).
    EventLoop(Controller& controller, dataplane_link::DataplaneLink& link, Logger log, LoopOptions options,
              HealthDriver* health = nullptr);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Answers /metrics scrapes asked through `exchange` (call before open()).
    void serve_metrics(metrics::ScrapeExchange& exchange) { scrape_ = &exchange; }

    // Binds the control socket (mode 0660) and takes over SIGTERM/SIGINT.
    model::Status open();
    // Serves until SIGTERM or SIGINT, then closes everything and removes the socket file.
    void run();

private:
    struct Client {
        int fd;
        model::LineReader reader;
        std::string out;             // replies not yet accepted by the socket
        bool close_after_flush = false;
        bool writing = false;        // registered for EPOLLOUT instead of EPOLLIN
        bool awaiting = false;       // its change is staged; the reply comes with finish_staged()
        std::chrono::steady_clock::time_point change_read{};  // when its staged change was read
    };

    void accept_clients();
    void finish_staged();  // the turn's group commit: one fsync, then the staged replies
    void serve(Client& c);  // reads and answers up to a budget of requests
    bool flush(Client& c);  // false when the client is gone
    void watch(Client& c, bool writing);
    void close_client(int fd);
    void on_link_input();
    void maybe_connect_dataplane();
    void sync_link_watch();
    int next_timeout_ms() const;
    void run_health();  // due checks, their decisions, the passive poll
    void reload_keepalived();
    void observe_change(std::chrono::steady_clock::time_point read);

    Controller& controller_;
    dataplane_link::DataplaneLink& link_;
    Logger log_;
    LoopOptions options_;
    HealthDriver* health_;
    int health_fd_ = -1;
    metrics::ScrapeExchange* scrape_ = nullptr;
    metrics::Histogram change_durations_{metrics::change_duration_buckets()};
    bool reap_pending_ = false;  // killed MISC_CHECK scripts still to reap
    std::chrono::steady_clock::time_point next_passive_poll_{};

    int epoll_fd_ = -1;
    int listen_fd_ = -1;
    int signal_fd_ = -1;
    uint64_t watched_link_ = 0;  // connection_id() of the link connection in the epoll set
    bool stop_ = false;
    std::vector<int> awaiting_;  // clients whose change is staged, in staging order
    bool reported_unreachable_ = false;
    std::chrono::steady_clock::time_point next_connect_{};
    std::map<int, std::unique_ptr<Client>> clients_;
    std::set<int> pending_;  // clients with complete requests still buffered
};

}  // namespace dplb::server
