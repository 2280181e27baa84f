// Small helpers the control-thread files share (replies, names of snapshot objects).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/result.hpp"
#include "dataplane/config/snapshot.hpp"
#include "dplb/config.hpp"

namespace dplb::runtime {

inline nlohmann::json error_reply(const model::Error& e) {
    nlohmann::json r = {{"ok", false}, {"error", e.str()}};
    if (!e.field.empty()) r["field"] = e.field;
    return r;
}

inline config::ServiceKey key_of(const ServiceSnap& s) {
    if (s.fwmark) return config::ServiceKey{config::Protocol::tcp, Ip4{}, 0, s.fwmark};
    return config::ServiceKey{config::Protocol(s.proto), Ip4{s.vip}, __builtin_bswap16(s.vport), 0};
}

inline std::string endpoint(uint32_t addr_be, uint16_t port_be) {
    return Ip4{addr_be}.str() + ":" + std::to_string(__builtin_bswap16(port_be));
}

inline const char* mode_name(ForwardMode m) {
    switch (m) {
    case ForwardMode::nat: return "nat";
    case ForwardMode::fullnat: return "fullnat";
    case ForwardMode::dr: return "dr";
    case ForwardMode::tunnel: return "tunnel";
    }
    return "?";
}

}  // namespace dplb::runtime
