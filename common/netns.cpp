#include "common/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace dplb {

bool valid_netns_name(std::string_view name) {
    return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
           name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

model::Result<int> socket_in_netns(const std::string& netns, int domain, int type, int protocol) {
    if (netns.empty()) {
        int fd = ::socket(domain, type, protocol);
        if (fd < 0) return model::Error{"socket", std::strerror(errno)};
        return fd;
    }
    if (!valid_netns_name(netns)) return model::Error{"netns", "'" + netns + "' is not a namespace name"};
    const std::string path = "/run/netns/" + netns;
    int ns = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return model::Error{"netns", "cannot open " + path + ": " + std::strerror(errno)};
    int fd = -1, err = 0;
    bool entered = false;
    std::thread t([&] {
        if (::setns(ns, CLONE_NEWNET) != 0) {
            err = errno;
            return;
        }
        entered = true;
        fd = ::socket(domain, type, protocol);
        if (fd < 0) err = errno;
    });
    t.join();
    ::close(ns);
    if (!entered) return model::Error{"netns", "cannot enter " + path + ": " + std::strerror(err)};
    if (fd < 0) return model::Error{"socket", "in namespace '" + netns + "': " + std::strerror(err)};
    return fd;
}

}  // namespace dplb
