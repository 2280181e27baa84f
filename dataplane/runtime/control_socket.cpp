// The dataplane socket's loop: JSON lines in, one reply line per request (ControlServer::handle).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "codec/json_parse.hpp"
#include "common/line_channel.hpp"
#include "dataplane/runtime/control_server.hpp"
#include "dataplane/runtime/control_util.hpp"
#include "dplb/api.hpp"

namespace dplb::runtime {

using nlohmann::json;

void ControlServer::run(int listen_fd) {
    struct Client {
        int fd;
        std::unique_ptr<model::LineReader> reader;
    };
    std::vector<Client> clients;
    while (!rt_.stop.load(std::memory_order_relaxed)) {
        estimate_rates_if_due();
        std::vector<pollfd> fds{{listen_fd, POLLIN, 0}};
        for (const auto& c : clients) fds.push_back({c.fd, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
        // fds[i + 1] belongs to clients[i] as they were polled; new clients come after.
        for (size_t i = fds.size() - 1; i-- > 0;) {
            if (!(fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Client& c = clients[i];
            bool close_it = false;
            std::string line;
            for (;;) {
                auto st = c.reader->read_line(c.fd, line);
                if (st == model::LineReader::Status::would_block) break;
                if (st == model::LineReader::Status::too_long) {
                    model::write_line(c.fd, model::dump_line(error_reply({"", "request too long"})));
                    close_it = true;
                    break;
                }
                if (st != model::LineReader::Status::line) {
                    close_it = true;
                    break;
                }
                auto parsed = model::parse_json(line);
                std::string reply = parsed ? handle_text(*parsed) : model::dump_line(error_reply(parsed.error()));
                if (!model::write_line(c.fd, reply)) {
                    close_it = true;
                    break;
                }
            }
            if (close_it) {
                ::close(c.fd);
                clients.erase(clients.begin() + long(i));
            }
        }
        if (fds[0].revents & POLLIN) {
            int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) clients.push_back({fd, std::make_unique<model::LineReader>(api::default_max_message_bytes)});
        }
    }
    for (auto& c : clients) ::close(c.fd);
}

}  // namespace dplb::runtime
