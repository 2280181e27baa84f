// dplbadm: ipvsadm for dplb. Parses the command line into one request, sends it to
// dplb-control and prints the reply the way ipvsadm would.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dplb/api.hpp"
#include "tools/dplbadm/args.hpp"
#include "tools/dplbadm/client.hpp"
#include "tools/dplbadm/format.hpp"

using namespace dplb;

namespace {

constexpr int exit_request_error = 1;
constexpr int exit_usage = 2;

int fail(int status, const std::string& message) {
    std::fprintf(stderr, "dplbadm: %s\n", message.c_str());
    return status;
}

model::Result<std::string> render(const dplbadm::Invocation& inv, const nlohmann::json& reply) {
    switch (inv.output) {
        case dplbadm::Output::list: return dplbadm::format_list(reply, inv.list);
        case dplbadm::Output::timeouts: return dplbadm::format_timeouts(reply);
        case dplbadm::Output::laddrs: return dplbadm::format_laddrs(reply);
        case dplbadm::Output::status: return dplbadm::format_status(reply);
        default: break;
    }
    // Like ipvsadm, a change prints nothing, except that it did not reach the dataplane yet.
    if (reply.is_object() && reply.contains("dataplane") && reply["dataplane"] == "disconnected")
        std::fprintf(stderr, "dplbadm: warning: dataplane not connected; the change is saved and will be pushed "
                             "when it connects\n");
    return std::string();
}

}  // namespace

int main(int argc, char** argv) {
    auto inv = dplbadm::parse_args(std::vector<std::string>(argv + 1, argv + argc));
    if (!inv) return fail(exit_usage, inv.error().str() + " (try dplbadm --help)");
    if (inv->output == dplbadm::Output::help) {
        std::fputs(dplbadm::usage().c_str(), stdout);
        return 0;
    }
    std::string socket = inv->socket;
    if (socket.empty()) {
        const char* env = std::getenv("DPLB_CONTROL_SOCKET");
        socket = env && *env ? env : api::default_control_socket;
    }
    auto reply = dplbadm::call_control(socket, inv->request);
    if (!reply) return fail(exit_request_error, reply.error().str());
    bool ok = reply->contains("ok") && (*reply)["ok"] == true;
    if (inv->raw_json) {
        std::puts(reply->dump().c_str());
        return ok ? 0 : exit_request_error;
    }
    if (!ok) {
        auto err = reply->find("error");
        return fail(exit_request_error, err != reply->end() && err->is_string() ? err->get<std::string>()
                                                                                : std::string("request failed"));
    }
    auto text = render(*inv, *reply);
    if (!text) return fail(exit_request_error, text.error().str());
    std::fputs(text->c_str(), stdout);
    return 0;
}
