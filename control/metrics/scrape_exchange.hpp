// The handoff between /metrics' HTTP thread(s) and dplb-control's event loop.
//
// Everything a scrape reads (the controller, the dataplane link, the health driver) belongs to
// the event-loop thread, and the dataplane link carries one request at a time; so an HTTP
// thread never touches them. It asks here instead: ask() queues a ticket, wakes the loop
// through an eventfd and waits (bounded) for the page. The loop, seeing fd() readable, calls
// serve(): it renders once, on its own thread, for every ticket queued so far, and wakes
// their askers. An asker that gives up (timeout: the loop is busy with a long request) takes
// its ticket back, so the loop never renders for nobody.
//
// Threading: ask() from any number of threads; fd() and serve() from the event-loop thread
// only; close() from any thread (afterwards ask() returns nullopt at once, and waiting askers
// are woken with nullopt). The eventfd is closed by the destructor: destroy after both sides
// have stopped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace dplb::metrics {

class ScrapeExchange {
public:
    ScrapeExchange();  // throws std::system_error when no eventfd can be made
    ~ScrapeExchange();
    ScrapeExchange(const ScrapeExchange&) = delete;
    ScrapeExchange& operator=(const ScrapeExchange&) = delete;

    // HTTP side: the page, or nullopt after `timeout` or once closed.
    std::optional<std::string> ask(std::chrono::milliseconds timeout);

    // Loop side: readable when askers wait.
    int fd() const { return fd_; }
    // Loop side: clears the eventfd and, if askers wait, answers all of them with one
    // render() (called without the lock held).
    void serve(const std::function<std::string()>& render);

    void close();

    // The last page's memory, recycled: the HTTP side gives a page back once sent (any
    // thread), the loop renders the next one into it (take_buffer(), loop side; an empty
    // string when none was given back). At 10,000 services x 8 a fresh page's first touch
    // (page faults) was a fifth of a scrape; the price is the page's memory kept between scrapes.
    void give_back(std::string page);
    std::string take_buffer();

private:
    struct Ticket {
        std::string page;
        bool done = false;
    };

    int fd_;
    std::mutex mutex_;
    std::condition_variable answered_;
    std::vector<std::shared_ptr<Ticket>> waiting_;  // under mutex_
    bool closed_ = false;                           // under mutex_
    std::string spare_;                             // under mutex_
};

}  // namespace dplb::metrics
