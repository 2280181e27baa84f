#include "control/keepalived/values.hpp"

#include <charconv>

namespace dplb::keepalived {

namespace {

const Token* arg(const Statement& s, std::size_t index) { return index < s.args.size() ? &s.args[index] : nullptr; }

model::Error missing(const Statement& s, const char* what) { return error_at(s.where(), s.name(), std::string("needs ") + what); }

}  // namespace

model::Status want_args(const Statement& s, std::size_t n) {
    if (s.has_block) return error_at(s.where(), s.name(), "takes no block");
    if (s.args.size() < n) return error_at(s.where(), s.name(), "needs " + std::to_string(n) + " value(s)");
    if (s.args.size() > n)
        return error_at(s.where(), s.name(), "unexpected '" + s.args[n].text + "' (takes " + std::to_string(n) + " value(s))");
    return std::nullopt;
}

model::Result<uint32_t> integer_arg(const Statement& s, std::size_t index, uint32_t min, uint32_t max) {
    const Token* t = arg(s, index);
    if (!t) return missing(s, "a number");
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(t->text.data(), t->text.data() + t->text.size(), v);
    if (t->text.empty() || ec != std::errc() || p != t->text.data() + t->text.size())
        return error_at(s.where(), s.name(), "bad number '" + t->text + "'");
    if (v < min || v > max)
        return error_at(s.where(), s.name(),
                        "'" + t->text + "' is out of range " + std::to_string(min) + ".." + std::to_string(max));
    return uint32_t(v);
}

model::Result<double> seconds_arg(const Statement& s, std::size_t index, double max) {
    const Token* t = arg(s, index);
    if (!t) return missing(s, "a number of seconds");
    double v = 0;
    const std::string& x = t->text;
    bool digits_only = !x.empty() && x.find_first_not_of("0123456789.") == std::string::npos && x.front() != '.' &&
                       x.find('.') == x.rfind('.');
    auto [p, ec] = std::from_chars(x.data(), x.data() + x.size(), v);
    if (!digits_only || ec != std::errc() || p != x.data() + x.size())
        return error_at(s.where(), s.name(), "bad number of seconds '" + x + "'");
    if (v > max) return error_at(s.where(), s.name(), "'" + x + "' seconds is too long");
    return v;
}

model::Result<Ip4> address_arg(const Statement& s, std::size_t index) {
    const Token* t = arg(s, index);
    if (!t) return missing(s, "an IPv4 address");
    auto a = Ip4::parse(t->text);
    if (!a) {
        if (t->text.find(':') != std::string::npos)
            return error_at(s.where(), s.name(), "IPv6 address '" + t->text + "' is not supported");
        return error_at(s.where(), s.name(), "bad address '" + t->text + "'");
    }
    return *a;
}

model::Result<uint16_t> port_arg(const Statement& s, std::size_t index) {
    const Token* t = arg(s, index);
    if (!t) return missing(s, "a port");
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(t->text.data(), t->text.data() + t->text.size(), v);
    if (t->text.empty() || ec != std::errc() || p != t->text.data() + t->text.size() || v > 65535)
        return error_at(s.where(), s.name(), "bad port '" + t->text + "'");
    return uint16_t(v);
}

model::Result<std::string> rest_arg(const Statement& s, std::size_t index) {
    if (s.has_block) return error_at(s.where(), s.name(), "takes no block");
    if (index >= s.args.size()) return missing(s, "a value");
    std::string out;
    for (std::size_t i = index; i < s.args.size(); ++i) out += (i > index ? " " : "") + s.args[i].text;
    return out;
}

model::Status flag(const Statement& s) { return want_args(s, 0); }

}  // namespace dplb::keepalived
