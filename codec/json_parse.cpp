#include "codec/json_parse.hpp"

#include <string>

namespace dplb::model {

using nlohmann::json;

namespace {

// Only here to capture the parser's error message: every event is accepted and dropped.
struct ErrorCapture final : nlohmann::json_sax<json> {
    std::string message;

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
        message = ex.what();
        return false;
    }
};

}  // namespace

Result<json> parse_json(std::string_view text) {
    json j = json::parse(text, nullptr, false);
    if (!j.is_discarded()) return j;
    ErrorCapture capture;
    json::sax_parse(text, &capture);
    // nlohmann prefixes "[json.exception.parse_error.101] "; the rest is the useful part.
    std::string why = capture.message;
    if (auto pos = why.find("] "); pos != std::string::npos) why.erase(0, pos + 2);
    if (why.empty()) why = "unexpected end of input";
    return Error{"", "not valid JSON: " + why};
}

std::string dump_line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace dplb::model
