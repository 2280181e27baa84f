#include "control/health/notify.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace dplb::health {

namespace {

// How a script ended, as the fields of its log line.
void add_exit_fields(std::vector<log::Field>& out, int status) {
    if (WIFEXITED(status)) out.emplace_back("exit_status", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) out.emplace_back("signal", log::signal_name(WTERMSIG(status)));
}

}  // namespace

ScriptRunner::~ScriptRunner() { reap(); }

bool ScriptRunner::run(const std::string& command) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t files;
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&files);
    // dplb-control blocks the signals it reads through signalfd: a script must not inherit
    // that mask, nor an ignored SIGPIPE.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);

    const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
    pid_t pid = -1;
    int e = posix_spawn(&pid, "/bin/sh", &files, &attr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attr);
    if (e != 0) {
        log_.limited(log::Level::error, "notify_script_failed", {{"command", command}, {"error", std::strerror(e)}});
        return false;
    }
    children_.push_back(Child{pid, command});
    return true;
}

void ScriptRunner::reap() {
    for (std::size_t i = 0; i < children_.size();) {
        int status = 0;
        pid_t r = waitpid(children_[i].pid, &status, WNOHANG);
        if (r == 0 || (r < 0 && errno == EINTR)) {
            ++i;
            continue;
        }
        // r < 0 (ECHILD: SIGCHLD ignored, or reaped elsewhere): nothing left to collect.
        if (r > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            log::Event e{log::Level::warning, "notify_script_failed", {{"command", children_[i].command}}, true};
            add_exit_fields(e.fields, status);
            log_(e);
        }
        children_[i] = std::move(children_.back());
        children_.pop_back();
    }
}

void ScriptRunner::wait_for(std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    reap();
    while (!children_.empty() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        reap();
    }
}

FifoWriter::FifoWriter(std::string path, LogFn log) : path_(std::move(path)), log_(std::move(log)) {}

FifoWriter::~FifoWriter() {
    if (fd_ >= 0) close(fd_);
    if (created_) unlink(path_.c_str());
}

bool FifoWriter::open_fifo() {
    if (mkfifo(path_.c_str(), 0644) == 0) created_ = true;
    else if (errno != EEXIST) {
        if (!complained_)
            log_.error("notify_fifo_failed", {{"path", path_}, {"call", "mkfifo"}, {"error", std::strerror(errno)}});
        complained_ = true;
        return false;
    }
    fd_ = open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    struct stat st {};
    if (fd_ >= 0 && (fstat(fd_, &st) != 0 || !S_ISFIFO(st.st_mode))) {
        close(fd_);
        fd_ = -1;
        errno = EINVAL;  // a regular file there is not ours to append to
    }
    if (fd_ < 0) {
        if (!complained_)
            log_.error("notify_fifo_failed", {{"path", path_}, {"call", "open"}, {"error", std::strerror(errno)}});
        complained_ = true;
        return false;
    }
    return true;
}

bool FifoWriter::write_line(const std::string& line) {
    if (fd_ < 0 && !open_fifo()) return false;
    std::string buf = line + "\n";
    ssize_t n;
    do n = write(fd_, buf.data(), buf.size());
    while (n < 0 && errno == EINTR);
    if (n == ssize_t(buf.size())) {
        complained_ = false;
        return true;
    }
    // A short write (a line beyond PIPE_BUF, never ours) counts as a full pipe.
    bool broken = n < 0 && errno != EAGAIN;
    if (!complained_)
        log_.error("notify_fifo_failed",
                   {{"path", path_}, {"call", "write"}, {"error", broken ? std::strerror(errno) : "full, lines dropped"}});
    complained_ = true;
    if (broken) {
        close(fd_);
        fd_ = -1;
    }
    return false;
}

}  // namespace dplb::health
