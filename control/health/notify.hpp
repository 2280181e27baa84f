// How the health engine tells the outside world, as keepalived does: notify/quorum scripts
// and the lvs_notify_fifo stream.
//
// ScriptRunner starts `/bin/sh -c COMMAND` without waiting (keepalived's notify_exec) and
// collects the children later with waitpid(pid, WNOHANG) on each of its own pids (never
// waitpid(-1): the MISC_CHECK probes have children of their own). keepalived execs the
// words of the command itself and falls back to /bin/sh; through the shell the command
// means the same unless it relies on shell syntax, which then works too.
//
// FifoWriter writes one line per event to a FIFO the way keepalived's notify_fifo does: it
// creates the FIFO (0644) when it is missing, opens it O_RDWR | O_NONBLOCK (so it never
// blocks, never gets EPIPE/SIGPIPE when the reader goes away, and a reader that comes later
// gets the lines since), writes each line whole (one write below PIPE_BUF is atomic) or
// drops it when the pipe is full, and removes the FIFO it created when it is destroyed. A
// FIFO that cannot be opened is tried again at the next line.
//
// Threading: each object is used by one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"

namespace dplb::health {

using LogFn = log::Logger;

class ScriptRunner {
public:
    explicit ScriptRunner(LogFn log) : log_(std::move(log)) {}
    // Collects the children that have ended; one still running is left (to init, when
    // dplb-control exits right after, as it does after shutdown()).
    ~ScriptRunner();
    ScriptRunner(const ScriptRunner&) = delete;
    ScriptRunner& operator=(const ScriptRunner&) = delete;

    // Starts the command in a process group of its own (as keepalived), stdin from
    // /dev/null, default signal dispositions and mask. False (logged) if it could not start.
    bool run(const std::string& command);
    // Collects the children that have ended, logs those that failed. Never blocks.
    void reap();
    // Waits at most `limit` for every child to end (keepalived gives a script run at
    // shutdown one second).
    void wait_for(std::chrono::milliseconds limit);
    std::size_t running() const { return children_.size(); }

private:
    struct Child {
        pid_t pid;
        std::string command;
    };
    LogFn log_;
    std::vector<Child> children_;
};

class FifoWriter {
public:
    FifoWriter(std::string path, LogFn log);
    ~FifoWriter();
    FifoWriter(const FifoWriter&) = delete;
    FifoWriter& operator=(const FifoWriter&) = delete;

    // `line` without its '\n'. False when it was dropped (no FIFO, pipe full).
    bool write_line(const std::string& line);
    const std::string& path() const { return path_; }

private:
    bool open_fifo();

    std::string path_;
    LogFn log_;
    int fd_ = -1;
    bool created_ = false;
    bool complained_ = false;  // one log line per streak of failures, not one per line
};

}  // namespace dplb::health
