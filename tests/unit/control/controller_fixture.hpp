// The controller tests' fixture: a fake dataplane on a thread, a file system that counts and
// fails syncs, and a controller over them.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "codec/json_parse.hpp"
#include "common/line_channel.hpp"
#include "control/server/controller.hpp"
#include "control/state/recover.hpp"
#include "helpers.hpp"

namespace dplb::test {

using nlohmann::json;

// A dataplane socket served on a thread: answers `apply` (or refuses it when told to) and
// `stats` with fixed counters, and records every request.
class FakeDataplane {
public:
    explicit FakeDataplane(std::string path) : path_(std::move(path)) {
        std::string err;
        listen_fd_ = model::listen_unix(path_, 0600, err);
        REQUIRE(listen_fd_ >= 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeDataplane() {
        ::shutdown(listen_fd_, SHUT_RDWR);
        if (int fd = conn_fd_.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);  // ends serve()'s read
        ::close(listen_fd_);
        thread_.join();
        ::unlink(path_.c_str());
    }
    std::vector<json> requests() {
        std::lock_guard lock(mu_);
        return requests_;
    }
    std::atomic<bool> reject{false};
    std::atomic<bool> resync{false};  // answer apply-batch as a dataplane that lost its configuration
    std::atomic<bool> refuse_passive{false};  // a dataplane without passive checks
    std::atomic<uint64_t> conns{12};
    std::atomic<uint64_t> cps{0};  // the service's rate estimate, as a dataplane reports it
    void set_passive(json reals) {
        std::lock_guard lock(mu_);
        passive_ = std::move(reals);
    }

private:
    void serve() {
        int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) return;
        conn_fd_ = fd;
        model::LineReader reader(1 << 20);
        std::string line;
        while (reader.read_line_blocking(fd, line, std::chrono::seconds(5)) == model::LineReader::Status::line) {
            json rq = json::parse(line);
            {
                std::lock_guard lock(mu_);
                requests_.push_back(rq);
            }
            json reply;
            if (rq["cmd"] == "apply-batch") {
                reply = reject   ? json{{"ok", false}, {"error", "no port has 192.168.100.200"},
                                        {"field", "changes[0].address"}}
                        : resync ? json{{"ok", false}, {"resync", true}, {"error", "not at that generation"}}
                                 : json{{"ok", true}, {"generation", rq["generation"]}, {"rebuilt", 1}};
            } else if (rq["cmd"] == "apply") {
                reply = reject ? json{{"ok", false}, {"error", "no port has 192.168.100.200"},
                                      {"field", "config.services[0].local_addresses[0]"}}
                               : json{{"ok", true}, {"generation", rq["generation"]}};
            } else if (rq["cmd"] == "stats") {
                reply = J(R"({"ok":true,"generation":1,"services":[{"protocol":"tcp","address":"192.168.227.128",
                    "port":80,"stats":{"conns":0,"inpkts":5,"outpkts":5,"inbytes":500,"outbytes":700},
                    "real_servers":[]}]})");
                reply["services"][0]["stats"]["conns"] = conns.load();
                reply["services"][0]["rates"] = {{"cps", cps.load()}};
            } else if (rq["cmd"] == "zero-rates") {
                cps = 0;
                reply = {{"ok", true}};
            } else if (rq["cmd"] == "connections") {
                reply = J(R"({"ok":true,"truncated":false,"connections":[
                    {"protocol":"tcp","state":"ESTABLISHED","expires_ms":899000,"client":"10.9.0.1:40000",
                     "virtual":"192.168.227.128:80","real":"192.168.253.143:80","forward":"nat","template":false},
                    {"protocol":"tcp","state":"SYN_RECV","expires_ms":30000,"client":"10.9.0.2:40001",
                     "virtual":"10.0.0.9:443","real":"192.168.253.150:443","forward":"nat","template":false}]})");
            } else if (rq["cmd"] == "passive-failures" && refuse_passive) {
                reply = {{"ok", false}, {"field", "cmd"}, {"error", "cmd: unknown request 'passive-failures'"}};
            } else if (rq["cmd"] == "passive-failures") {
                std::lock_guard lock(mu_);
                reply = {{"ok", true}, {"reals", passive_}};
            } else {
                reply = {{"ok", true}, {"generation", 1}, {"drops", {{"no_service", 3}}}};
            }
            if (!model::write_line(fd, reply.dump())) break;
        }
        conn_fd_ = -1;
        ::close(fd);
    }

    std::string path_;
    std::atomic<int> conn_fd_{-1};
    int listen_fd_ = -1;
    std::thread thread_;
    std::mutex mu_;
    std::vector<json> requests_;
    json passive_ = json::array();
};

inline const char* add_nat_service = R"({"cmd":"add-service","service":{"protocol":"tcp","address":"192.168.227.128",
    "port":80,"scheduler":"rr","real_servers":[{"address":"192.168.253.143","forward":"nat"}]}})";

// A real file system that counts the calls that make data durable, and can fail them.
class CountingFileSystem : public state::RealFileSystem {
public:
    model::Status fdatasync(const state::File& f) override {
        ++syncs;
        if (fail_syncs) return model::Error{"", "fdatasync " + f.path + ": Input/output error"};
        return state::RealFileSystem::fdatasync(f);
    }
    model::Status fsync(const state::File& f) override {
        ++syncs;
        if (fail_syncs) return model::Error{"", "fsync " + f.path + ": Input/output error"};
        return state::RealFileSystem::fsync(f);
    }
    model::Status fsync_dir(const std::string& d) override {
        ++syncs;
        if (fail_syncs) return model::Error{"", "fsync " + d + ": Input/output error"};
        return state::RealFileSystem::fsync_dir(d);
    }
    model::Status write(const state::File& f, std::string_view data) override {
        if (fail_writes && f.path.find(".journal") != std::string::npos && data.size() > 8) {
            // Half the record reaches the file, then the disk is full.
            (void)state::RealFileSystem::write(f, data.substr(0, data.size() / 2));
            return model::Error{"", "write " + f.path + ": No space left on device"};
        }
        return state::RealFileSystem::write(f, data);
    }
    int syncs = 0;
    bool fail_syncs = false;
    bool fail_writes = false;
};

inline state::Store& loaded(state::Store& s) {
    REQUIRE(s.load());
    return s;
}

struct Fixture {
    test::TempDir dir;
    std::vector<std::string> log;
    CountingFileSystem fs;
    state::Store store{dir.file("config.json"), fs};
    dataplane_link::DataplaneLink link{dir.file("dp.sock"), 1 << 20, std::chrono::seconds(2)};
    server::Controller controller{model::ConfigEditor{}, 1, loaded(store), link,
                                  [this](std::string_view l) { log.emplace_back(l); }};

    // What a restarted dplb-control finds on disk.
    state::Recovered recovered() {
        state::RealFileSystem real;
        state::Store again(dir.file("config.json"), real);
        auto r = state::recover(again);
        REQUIRE(r.ok());
        return std::move(*r);
    }

    // What the event loop does when the dataplane appears.
    void connect() {
        std::string err;
        REQUIRE(link.try_connect(err));
        controller.on_dataplane_connected();
    }
};

}  // namespace dplb::test
