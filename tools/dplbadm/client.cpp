#include "tools/dplbadm/client.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "codec/json_parse.hpp"
#include "common/line_channel.hpp"
#include "dplb/api.hpp"

namespace dplb::dplbadm {

using model::Error;

namespace {
// dplb-control may itself wait 10 s for the dataplane before it answers.
constexpr std::chrono::seconds reply_timeout{30};
}  // namespace

model::Result<nlohmann::json> call_control(const std::string& socket_path, const nlohmann::json& request) {
    std::string err;
    int fd = model::connect_unix(socket_path, err);
    if (fd < 0) return Error{"", "cannot connect to dplb-control: " + err};
    if (!model::write_line(fd, model::dump_line(request))) {
        Error e{"", std::string("cannot send to dplb-control: ") + std::strerror(errno)};
        ::close(fd);
        return e;
    }
    model::LineReader reader(api::default_max_message_bytes);
    std::string line;
    auto st = reader.read_line_blocking(fd, line, reply_timeout);
    ::close(fd);
    if (st != model::LineReader::Status::line) return Error{"", "no reply from dplb-control"};
    auto reply = model::parse_json(line);
    if (!reply) return Error{"", "malformed reply from dplb-control: " + reply.error().message};
    if (!reply->is_object()) return Error{"", "malformed reply from dplb-control: not an object"};
    return reply;
}

}  // namespace dplb::dplbadm
