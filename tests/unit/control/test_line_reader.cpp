#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "common/line_channel.hpp"

using dplb::model::LineReader;

namespace {

struct SocketPair {
    int fd[2];
    SocketPair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd) == 0); }
    ~SocketPair() {
        for (int f : fd)
            if (f >= 0) ::close(f);
    }
    void send(const std::string& s) { REQUIRE(::write(fd[1], s.data(), s.size()) == ssize_t(s.size())); }
    void close_writer() {
        ::close(fd[1]);
        fd[1] = -1;
    }
};

}  // namespace

TEST_CASE("LineReader splits lines and waits for the rest of a half-sent one") {
    SocketPair sp;
    LineReader r(1024);
    std::string line;
    sp.send("{\"cmd\":\"list\"}\n{\"cmd\":");
    REQUIRE(r.read_line(sp.fd[0], line) == LineReader::Status::line);
    CHECK(line == "{\"cmd\":\"list\"}");
    CHECK(r.read_line(sp.fd[0], line) == LineReader::Status::would_block);
    sp.send("\"status\"}\n");
    REQUIRE(r.read_line(sp.fd[0], line) == LineReader::Status::line);
    CHECK(line == "{\"cmd\":\"status\"}");
    sp.close_writer();
    CHECK(r.read_line(sp.fd[0], line) == LineReader::Status::closed);
}

TEST_CASE("an oversized request line is reported as too_long, with or without its newline") {
    SocketPair sp;
    LineReader r(64);
    std::string line;
    sp.send(std::string(65, 'x') + "\n");
    CHECK(r.read_line(sp.fd[0], line) == LineReader::Status::too_long);

    SocketPair sp2;
    LineReader r2(64);
    sp2.send(std::string(200, 'y'));  // no newline ever comes: must not buffer forever
    CHECK(r2.read_line(sp2.fd[0], line) == LineReader::Status::too_long);

    SocketPair sp3;
    LineReader r3(64);
    sp3.send(std::string(64, 'z') + "\n");  // exactly the limit is fine
    REQUIRE(r3.read_line(sp3.fd[0], line) == LineReader::Status::line);
    CHECK(line.size() == 64);
}

TEST_CASE("read_line_blocking times out and reports oversize") {
    SocketPair sp;
    LineReader r(16);
    std::string line;
    CHECK(r.read_line_blocking(sp.fd[0], line, std::chrono::milliseconds(20)) == LineReader::Status::timeout);
    sp.send(std::string(40, 'a'));
    CHECK(r.read_line_blocking(sp.fd[0], line, std::chrono::milliseconds(200)) == LineReader::Status::too_long);
}
