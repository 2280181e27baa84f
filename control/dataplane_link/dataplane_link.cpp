#include "control/dataplane_link/dataplane_link.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "codec/config_json.hpp"
#include "codec/json_parse.hpp"

namespace dplb::dataplane_link {

using model::Error;
using nlohmann::json;

DataplaneLink::DataplaneLink(std::string socket_path, std::size_t max_reply_bytes,
                             std::chrono::milliseconds reply_timeout)
    : path_(std::move(socket_path)), max_reply_bytes_(max_reply_bytes), reply_timeout_(reply_timeout) {}

DataplaneLink::~DataplaneLink() { disconnect(); }

bool DataplaneLink::try_connect(std::string& err) {
    if (connected()) return true;
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path_.size() >= sizeof a.sun_path) {
        err = "socket path too long: " + path_;
        return false;
    }
    std::memcpy(a.sun_path, path_.c_str(), path_.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        err = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
        err = path_ + ": " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    fd_ = fd;
    ++connection_id_;
    reader_ = std::make_unique<model::LineReader>(max_reply_bytes_);
    return true;
}

void DataplaneLink::disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    reader_.reset();
}

model::Result<json> DataplaneLink::finish_read(model::LineReader::Status st, const std::string& line) {
    using S = model::LineReader::Status;
    if (st != S::line) {
        const char* why = st == S::timeout ? "no reply in time" : st == S::closed ? "connection closed"
                          : st == S::too_long                  ? "reply too long"
                                                               : "read failed";
        disconnect();
        return Error{"", std::string("dataplane: ") + why};
    }
    auto reply = model::parse_json(line);
    if (!reply || !reply->is_object() || !reply->contains("ok") || !(*reply)["ok"].is_boolean()) {
        disconnect();
        return Error{"", "dataplane: malformed reply"};
    }
    return reply;
}

model::Result<json> DataplaneLink::call(const json& request) { return call_line(model::dump_line(request)); }

model::Result<json> DataplaneLink::call_line(const std::string& request_line) {
    auto line = call_text(request_line);
    if (!line) return line.error();
    return finish_read(model::LineReader::Status::line, *line);
}

model::Result<std::string> DataplaneLink::call_text(const std::string& request_line) {
    if (!connected()) return Error{"", "dataplane not connected"};
    if (!model::write_line(fd_, request_line)) {
        std::string why = std::strerror(errno);
        disconnect();
        return Error{"", "dataplane: send failed: " + why};
    }
    std::string line;
    auto st = reader_->read_line_blocking(fd_, line, reply_timeout_);
    if (st != model::LineReader::Status::line) {
        auto failed = finish_read(st, line);  // disconnects, says why
        return failed.error();
    }
    return line;
}

std::string DataplaneLink::on_unsolicited_input() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    std::string why = n == 0 ? "dataplane closed the connection" : n > 0 ? "dataplane sent an unexpected message"
                                                                         : "dataplane connection failed";
    disconnect();
    return why;
}

namespace {

// The dataplane's refusal as an error for the operator. The dataplane's `field` is a path in
// the pushed configuration or batch, not in the operator's request, so it goes into the
// message rather than into `field`.
Error refusal(const json& r, const char* what) {
    std::string why = "no reason given";
    if (auto it = r.find("error"); it != r.end() && it->is_string()) why = it->get<std::string>();
    if (auto it = r.find("field"); it != r.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
        why = it->get<std::string>() + ": " + why;
    return Error{"", std::string("dataplane rejected the ") + what + ": " + why};
}

PushResult outcome_of(const model::Result<json>& reply, const char* what) {
    if (!reply) return {PushOutcome::unreachable, reply.error()};
    const json& r = *reply;
    if (r.find("ok")->get<bool>()) return {PushOutcome::applied, {}};
    if (auto it = r.find("resync"); it != r.end() && it->is_boolean() && it->get<bool>())
        return {PushOutcome::resync, refusal(r, what)};
    return {PushOutcome::rejected, refusal(r, what)};
}

}  // namespace

PushResult push_config(DataplaneLink& link, const config::Config& config, uint64_t generation) {
    json request{{"cmd", "apply"}, {"generation", generation}, {"config", model::to_json(config)}};
    return outcome_of(link.call(request), "configuration");
}

PushResult push_batch(DataplaneLink& link, const std::string& changes, uint64_t base, uint64_t generation) {
    // Spliced as text: the changes are already encoded (the journal record holds the same
    // bytes), and a `-R` of 80,000 real servers would otherwise be copied and encoded again.
    std::string line = "{\"cmd\":\"apply-batch\",\"base\":" + std::to_string(base) +
                       ",\"generation\":" + std::to_string(generation) + ",\"changes\":" + changes + "}";
    return outcome_of(link.call_line(line), "change");
}

}  // namespace dplb::dataplane_link
