// Newline-delimited JSON framing over a stream socket (see docs/api.md "Framing").
//
// LineReader accumulates bytes from a non-blocking or blocking fd and yields complete lines;
// it never holds more than `max_line` bytes of an unfinished line.
//
// Threading: one LineReader per connection, used by one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace dplb::model {

class LineReader {
public:
    enum class Status {
        line,        // `line` holds one complete line (without '\n')
        would_block, // no complete line yet and the fd has nothing more now (non-blocking fd)
        closed,      // peer closed the connection (an unfinished line is discarded)
        too_long,    // a line exceeded max_line; the connection must be closed
        error,       // read() failed
        timeout,     // read_line_blocking() only: deadline passed
    };

    explicit LineReader(std::size_t max_line) : max_line_(max_line) {}

    // Returns a complete buffered line if there is one, else reads what the fd has.
    Status read_line(int fd, std::string& line);
    // Waits (poll) until a line arrives, the peer closes, or the timeout expires.
    Status read_line_blocking(int fd, std::string& line, std::chrono::milliseconds timeout);

    std::size_t max_line() const { return max_line_; }

private:
    bool take_buffered(std::string& line);

    std::size_t max_line_;
    std::string buf_;
    std::size_t scanned_ = 0;  // bytes of buf_ already known to contain no '\n'
};

// Writes `line` plus '\n' completely (retrying on EINTR/EAGAIN with poll). False on error.
bool write_line(int fd, std::string_view line);

// Unix stream socket helpers. On failure they return -1 and set `err`.
int listen_unix(const std::string& path, unsigned mode, std::string& err);
int connect_unix(const std::string& path, std::string& err);

}  // namespace dplb::model
