// A scripted HTTP server for the HTTP_GET tests: records each request, answers with a
// fixed response (or runs a custom handler).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "peers.hpp"

namespace probe_test {

class HttpPeer {
public:
    // Answers every request with `response`, then closes.
    explicit HttpPeer(std::string response)
        : server_([this, response](int& fd, const Stop& stop) {
              record(read_until(fd, stop, "\r\n\r\n"));
              write_all(fd, response);
          }) {}

    // Runs `after_request` once the request is read.
    explicit HttpPeer(std::function<void(int& fd, const Stop& stop)> after_request)
        : server_([this, after_request](int& fd, const Stop& stop) {
              record(read_until(fd, stop, "\r\n\r\n"));
              after_request(fd, stop);
          }) {}

    uint16_t port() const { return server_.port(); }
    std::vector<std::string> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    void stop() { server_.stop(); }

private:
    void record(std::string r) {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(r));
    }

    std::mutex mutex_;
    std::vector<std::string> requests_;
    TcpServer server_;  // last: its thread starts once the rest is built
};

inline std::string http_answer(int status, const std::string& body, bool content_length = true) {
    std::string r = "HTTP/1.0 " + std::to_string(status) + " Whatever\r\nServer: test\r\n";
    if (content_length) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return r + "\r\n" + body;
}

}  // namespace probe_test
