#include "tools/dplbadm/reply_fields.hpp"

namespace dplb::dplbadm {

using nlohmann::json;

namespace {
const json empty_array = json::array();
const json empty_object = json::object();
}  // namespace

void ReplyFields::fail(std::string what) {
    if (!error_) error_ = model::Error{"", "malformed reply from dplb-control: " + what};
}

const json* ReplyFields::member(const json& j, const char* name) {
    if (!j.is_object()) {
        fail(std::string("expected an object holding '") + name + "'");
        return nullptr;
    }
    auto it = j.find(name);
    if (it == j.end()) {
        fail(std::string("missing '") + name + "'");
        return nullptr;
    }
    return &*it;
}

std::string ReplyFields::str(const json& j, const char* name) {
    const json* m = member(j, name);
    if (!m) return {};
    if (!m->is_string()) {
        fail(std::string("'") + name + "' is not a string");
        return {};
    }
    return m->get<std::string>();
}

uint64_t ReplyFields::u64(const json& j, const char* name) {
    const json* m = member(j, name);
    if (!m) return 0;
    if (!m->is_number_unsigned()) {
        fail(std::string("'") + name + "' is not a non-negative integer");
        return 0;
    }
    return m->get<uint64_t>();
}

const json& ReplyFields::array(const json& j, const char* name) {
    const json* m = member(j, name);
    if (!m) return empty_array;
    if (!m->is_array()) {
        fail(std::string("'") + name + "' is not an array");
        return empty_array;
    }
    return *m;
}

const json& ReplyFields::object(const json& j, const char* name) {
    const json* m = member(j, name);
    if (!m) return empty_object;
    if (!m->is_object()) {
        fail(std::string("'") + name + "' is not an object");
        return empty_object;
    }
    return *m;
}

}  // namespace dplb::dplbadm
