// dplb-control's client of the dataplane socket (docs/api.md "Dataplane socket requests").
//
// Connecting never blocks (a Unix-socket connect either succeeds or fails at once); the
// event loop calls try_connect() every ~200 ms while disconnected. A request waits for its
// reply up to `reply_timeout`; any I/O error, timeout or unparsable reply drops the
// connection, so a late reply can never be taken for the answer to a later request, and the
// next connection starts with a full `apply` again.
//
// Every request waits for its reply: one request is outstanding at a time, so a reply is
// never taken for another request's.
//
// Threading: used by the control process's single event-loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/line_channel.hpp"
#include "common/result.hpp"
#include "dplb/config.hpp"

namespace dplb::dataplane_link {

class DataplaneLink {
public:
    DataplaneLink(std::string socket_path, std::size_t max_reply_bytes, std::chrono::milliseconds reply_timeout);
    ~DataplaneLink();
    DataplaneLink(const DataplaneLink&) = delete;
    DataplaneLink& operator=(const DataplaneLink&) = delete;

    bool connected() const { return fd_ >= 0; }
    // The connection's fd (or -1), for the event loop to notice a hang-up while idle.
    int fd() const { return fd_; }
    // Changes with every new connection (never 0 while connected), even when the fd number
    // is reused.
    uint64_t connection_id() const { return connection_id_; }
    const std::string& socket_path() const { return path_; }

    // One connection attempt. True when connected now; `err` says why not otherwise.
    bool try_connect(std::string& err);
    void disconnect();

    // Sends `request` and returns the dataplane's reply object, whatever its "ok". An Error
    // means the link failed (and is now disconnected).
    model::Result<nlohmann::json> call(const nlohmann::json& request);
    // The same with the request already encoded (one line of JSON, no newline).
    model::Result<nlohmann::json> call_line(const std::string& request_line);
    // The reply line itself, not parsed (the caller reads it: `counters`, which is read
    // without building a JSON tree). An Error means the link failed (now disconnected).
    model::Result<std::string> call_text(const std::string& request_line);

    // The fd became readable while no request was outstanding: the dataplane closed the
    // connection (or broke the protocol). Disconnects; returns a reason to log.
    std::string on_unsolicited_input();

private:
    // The reply in `line` (read with status `st`), or the link's failure, which disconnects.
    model::Result<nlohmann::json> finish_read(model::LineReader::Status st, const std::string& line);

    std::string path_;
    std::size_t max_reply_bytes_;
    std::chrono::milliseconds reply_timeout_;
    int fd_ = -1;
    uint64_t connection_id_ = 0;
    std::unique_ptr<model::LineReader> reader_;
};

// How a push of a whole configuration ended.
enum class PushOutcome {
    applied,      // the dataplane runs the new configuration
    rejected,     // the dataplane refused it; `error` is its reason; it runs the previous one
    unreachable,  // no connection, or it broke during the push; `error` says how
    resync,       // (batches only) the dataplane cannot continue from `base`: push the whole configuration
};

struct PushResult {
    PushOutcome outcome;
    model::Error error;  // meaningful unless applied
};

// {"cmd":"apply","generation":N,"config":...} and the meaning of the reply.
PushResult push_config(DataplaneLink&, const config::Config&, uint64_t generation);
// {"cmd":"apply-batch","base":B,"generation":N,"changes":[...]}: the changes that turn
// generation B into N (codec/change_json.hpp). The dataplane answers `resync` when it is
// not at B (it restarted, or missed a change): the caller then pushes the whole configuration.
// `changes` is the batch's JSON text (codec/change_json.hpp), a JSON array.
PushResult push_batch(DataplaneLink&, const std::string& changes, uint64_t base, uint64_t generation);

}  // namespace dplb::dataplane_link
