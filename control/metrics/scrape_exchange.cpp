#include "control/metrics/scrape_exchange.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace dplb::metrics {

ScrapeExchange::ScrapeExchange() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

ScrapeExchange::~ScrapeExchange() { ::close(fd_); }

std::optional<std::string> ScrapeExchange::ask(std::chrono::milliseconds timeout) {
    auto ticket = std::make_shared<Ticket>();
    std::unique_lock lock(mutex_);
    if (closed_) return std::nullopt;
    waiting_.push_back(ticket);
    const uint64_t one = 1;
    // Never blocks: the counter would have to reach 2^64-1 first.
    [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
    answered_.wait_for(lock, timeout, [&] { return ticket->done || closed_; });
    if (!ticket->done) {
        std::erase(waiting_, ticket);  // the loop must not render for it any more
        return std::nullopt;
    }
    return std::move(ticket->page);
}

void ScrapeExchange::serve(const std::function<std::string()>& render) {
    uint64_t n = 0;
    [[maybe_unused]] auto r = ::read(fd_, &n, sizeof n);  // EAGAIN when already cleared: fine
    std::vector<std::shared_ptr<Ticket>> asked;
    {
        std::lock_guard lock(mutex_);
        asked.swap(waiting_);
    }
    if (asked.empty()) return;
    // Rendered without the lock, for the askers queued before it began; those arriving
    // meanwhile wrote the eventfd again and get the next render (gathered after they asked).
    std::string page = render();
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < asked.size(); ++i) {
        asked[i]->page = i + 1 == asked.size() ? std::move(page) : page;
        asked[i]->done = true;
    }
    answered_.notify_all();
}

void ScrapeExchange::give_back(std::string page) {
    std::lock_guard lock(mutex_);
    if (page.capacity() > spare_.capacity()) spare_ = std::move(page);
}

std::string ScrapeExchange::take_buffer() {
    std::lock_guard lock(mutex_);
    return std::move(spare_);
}

void ScrapeExchange::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    answered_.notify_all();
}

}  // namespace dplb::metrics
