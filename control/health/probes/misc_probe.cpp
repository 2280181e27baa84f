// MISC_CHECK: runs the checker's command (misc_command.hpp) and judges its exit status, as
// keepalived 2.2.7's check_misc.c does:
//   exit 0                       up (with misc_dynamic: the weight unchanged)
//   exit 2..255 with misc_dynamic up, weight = status - 2 (0..253)
//   any other exit               down ("exited with status 1")
//   killed by a signal           down
//   still running at the deadline: its whole process group is sent SIGKILL, down ("timeout")
// (keepalived sends SIGTERM first and SIGKILL two seconds later; an attempt here must let go
// at its deadline, so it kills at once.)
//
// Nothing blocks: fork, then the child's exit is awaited on a pidfd (readable when it has
// exited) in the engine's epoll set, then reaped with waitpid(WNOHANG). A child killed on
// timeout that has not died yet is handed to the reaper (child_reaper.hpp); no zombie is
// left behind.
//
// The child: its own process group (so the kill reaches what the script started), default
// signal dispositions and an empty signal mask (dplb-control blocks or ignores some), the
// script's user, stdin/stdout/stderr on /dev/null (keepalived's too), every other
// descriptor closed, SIGTERM if dplb-control dies (keepalived's PR_SET_PDEATHSIG), execve.
// Everything it needs is prepared before fork(): after it, only async-signal-safe calls.
//
// Threading: driven by the health engine's thread only.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/health/probes/child_reaper.hpp"
#include "control/health/probes/errno_text.hpp"
#include "control/health/probes/misc_command.hpp"
#include "control/health/probes/probe_factories.hpp"
#include "control/health/probes/unique_fd.hpp"

extern char** environ;

namespace dplb::health::probes {
namespace {

using keepalived::CheckerSpec;

// What the child reads; all of it built before fork().
struct ChildPlan {
    const char* program;
    char* const* argv;
    char* const* envp;
    int devnull;
    const uid_t* uid;  // null: keep ours
    const gid_t* gid;
};

[[noreturn]] void run_child(const ChildPlan& plan) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (plan.gid && (::setgid(*plan.gid) != 0 || ::setgroups(1, plan.gid) != 0)) ::_exit(126);
    if (plan.uid && ::setuid(*plan.uid) != 0) ::_exit(126);
    for (int std_fd = 0; std_fd <= 2; ++std_fd) ::dup2(plan.devnull, std_fd);
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::execve(plan.program, plan.argv, plan.envp);
    ::_exit(127);
}

std::string describe_exit(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* name = ::sigabbrev_np(WTERMSIG(status));
        return name ? std::string("killed by SIG") + name : "killed by signal " + std::to_string(WTERMSIG(status));
    }
    return "ended with wait status " + std::to_string(status);
}

class MiscProbe final : public Probe {
public:
    explicit MiscProbe(const CheckerSpec& spec) : spec_(spec) {}

    ~MiscProbe() override { abandon_child(); }
    MiscProbe(const MiscProbe&) = delete;
    MiscProbe& operator=(const MiscProbe&) = delete;

    std::optional<ProbeResult> start() override {
        auto cmd = prepare_misc_command(spec_.misc_path, spec_.user);
        if (!cmd) return down("misc_path: " + cmd.error().message);

        std::vector<char*> argv;
        for (auto& a : cmd->argv) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<char*> envp;
        for (char** e = environ; e && *e; ++e) envp.push_back(*e);
        envp.push_back(nullptr);
        UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
        if (!devnull) return down(syscall_failure("open /dev/null", errno));
        ChildPlan plan{cmd->program.c_str(), argv.data(), envp.data(), devnull.get(),
                       cmd->uid ? &*cmd->uid : nullptr, cmd->gid ? &*cmd->gid : nullptr};

        pid_t pid = ::fork();
        if (pid < 0) return down(syscall_failure("fork", errno));
        if (pid == 0) run_child(plan);
        pid_ = pid;
        // Also from this side, so a kill of the group right away cannot miss it.
        ::setpgid(pid, pid);
        int pidfd = int(::syscall(SYS_pidfd_open, pid, 0));
        if (pidfd < 0) {
            int err = errno;
            abandon_child();
            return down(syscall_failure("pidfd_open", err));
        }
        pidfd_.reset(pidfd);
        return std::nullopt;
    }

    std::optional<ProbeResult> on_event(uint32_t) override {
        int status = 0;
        pid_t r;
        do r = ::waitpid(pid_, &status, WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == 0) return std::nullopt;  // not yet (the pidfd said otherwise: wait again)
        pid_ = -1;
        pidfd_.reset();
        // ECHILD: someone reaped it first (SIGCHLD set to SIG_IGN does): the status is lost.
        if (r < 0) return down(syscall_failure("waitpid", errno));
        return judge(status);
    }

    ProbeResult on_timeout() override {
        abandon_child();
        return down("timeout");
    }

    int fd() const override { return pidfd_.get(); }
    uint32_t events() const override { return EPOLLIN; }

private:
    ProbeResult judge(int status) const {
        if (WIFEXITED(status)) {
            int code = WEXITSTATUS(status);
            if (code == 0) return up();
            if (spec_.misc_dynamic && code >= 2) return ProbeResult{true, "", uint32_t(code - 2)};
        }
        return down(describe_exit(status));
    }

    // Kills the script's process group (and the child itself, in case it had not yet made
    // its group) and lets the reaper collect it.
    void abandon_child() {
        pidfd_.reset();
        if (pid_ <= 0) return;
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        hand_to_reaper(pid_);
        pid_ = -1;
    }

    const CheckerSpec spec_;
    pid_t pid_ = -1;
    UniqueFd pidfd_;
};

}  // namespace

std::unique_ptr<Probe> make_misc_probe(const CheckerSpec& spec) { return std::make_unique<MiscProbe>(spec); }

}  // namespace dplb::health::probes
