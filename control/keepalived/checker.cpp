#include "control/keepalived/checker.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <tuple>
#include <utility>

#include "control/keepalived/values.hpp"

namespace dplb::keepalived {

namespace {

constexpr std::array<std::pair<const char*, CheckerType>, 8> checker_names{{
    {"TCP_CHECK", CheckerType::tcp},
    {"HTTP_GET", CheckerType::http},
    {"SSL_GET", CheckerType::ssl},
    {"MISC_CHECK", CheckerType::misc},
    {"UDP_CHECK", CheckerType::udp},
    {"PING_CHECK", CheckerType::ping},
    {"DNS_CHECK", CheckerType::dns},
    {"SMTP_CHECK", CheckerType::smtp},
}};

template <class T>
model::Status set(model::Result<T> r, T& into) {
    if (!r) return r.error();
    into = *r;
    return std::nullopt;
}
template <class T>
model::Status set(model::Result<T> r, std::optional<T>& into) {
    if (!r) return r.error();
    into = *r;
    return std::nullopt;
}

model::Status one(const Statement& s) { return want_args(s, 1); }

// "200", "200-299", several of either separated by blanks (keepalived 2.x).
model::Status status_codes(const Statement& s, UrlCheck& url) {
    if (s.args.empty() || s.has_block) return error_at(s.where(), s.name(), "needs status codes or ranges (200-299)");
    for (const auto& t : s.args) {
        auto dash = t.text.find('-');
        auto num = [&](std::string_view x) -> std::optional<uint16_t> {
            uint32_t v = 0;
            auto [p, ec] = std::from_chars(x.data(), x.data() + x.size(), v);
            if (x.empty() || ec != std::errc() || p != x.data() + x.size() || v < 100 || v > 599) return std::nullopt;
            return uint16_t(v);
        };
        std::string_view text = t.text;
        auto lo = num(text.substr(0, dash));
        auto hi = dash == std::string_view::npos ? lo : num(text.substr(dash + 1));
        if (!lo || !hi || *hi < *lo)
            return error_at(s.where(), s.name(), "bad status code or range '" + t.text + "' (100..599)");
        url.status_codes.emplace_back(*lo, *hi);
    }
    return std::nullopt;
}

model::Result<UrlCheck> parse_url(const Statement& s) {
    if (!s.has_block || !s.args.empty()) return error_at(s.where(), s.name(), "needs a block: url { path /... }");
    UrlCheck url;
    for (const auto& k : s.block) {
        model::Status e;
        if (k.name() == "path") e = one(k) ? one(k) : (url.path = k.args[0].text, std::nullopt);
        else if (k.name() == "digest") {
            if (!(e = one(k))) {
                const std::string& d = k.args[0].text;
                if (d.size() != 32 || d.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
                    e = error_at(k.where(), k.name(), "bad MD5 digest '" + d + "' (32 hex digits)");
                else {
                    url.digest = d;
                    for (auto& c : *url.digest) c = char(std::tolower(static_cast<unsigned char>(c)));
                }
            }
        } else if (k.name() == "status_code") e = status_codes(k, url);
        else if (k.name() == "virtualhost") e = one(k) ? one(k) : (url.virtualhost = k.args[0].text, std::nullopt);
        else e = error_at(k.where(), k.name(), "unknown keyword in url");
        if (e) return *e;
    }
    if (url.path.empty()) return error_at(s.where(), s.name(), "needs a path");
    return url;
}

bool is_http(CheckerType t) { return t == CheckerType::http || t == CheckerType::ssl; }

model::Status common_keyword(const Statement& k, CheckerSpec& c, bool& known) {
    known = true;
    const std::string& n = k.name();
    if (n == "connect_ip") return one(k) ? one(k) : set(address_arg(k, 0), c.connect_ip);
    if (n == "connect_port") return one(k) ? one(k) : set(port_arg(k, 0), c.connect_port);
    if (n == "bindto") return one(k) ? one(k) : set(address_arg(k, 0), c.bindto);
    if (n == "bind_port") return one(k) ? one(k) : set(port_arg(k, 0), c.bind_port);
    if (n == "connect_timeout") return one(k) ? one(k) : set(seconds_arg(k, 0), c.connect_timeout);
    if (n == "retry" || n == "nb_get_retry") return one(k) ? one(k) : set(integer_arg(k, 0, 0, 1000000), c.retry);
    if (n == "delay_before_retry") return one(k) ? one(k) : set(seconds_arg(k, 0), c.delay_before_retry);
    if (n == "warmup") return one(k) ? one(k) : set(seconds_arg(k, 0), c.warmup);
    if (n == "delay_loop") return one(k) ? one(k) : set(seconds_arg(k, 0), c.delay_loop);
    known = false;
    return std::nullopt;
}

model::Status typed_keyword(const Statement& k, CheckerSpec& c, bool& known) {
    known = true;
    const std::string& n = k.name();
    switch (c.type) {
        case CheckerType::http:
        case CheckerType::ssl:
            if (n == "url") {
                auto u = parse_url(k);
                if (!u) return u.error();
                c.urls.push_back(std::move(*u));
                return std::nullopt;
            }
            if (n == "http_protocol") {
                if (auto e = one(k)) return e;
                const std::string& v = k.args[0].text;
                if (v != "1.0" && v != "1.0C" && v != "1.1" && v != "1.0c")
                    return error_at(k.where(), n, "'" + v + "' is not one of 1.0, 1.0C, 1.1");
                c.http_protocol = v == "1.0c" ? "1.0C" : v;
                return std::nullopt;
            }
            if (n == "virtualhost") return one(k) ? one(k) : (c.virtualhost = k.args[0].text, std::nullopt);
            if (n == "enable_sni" && c.type == CheckerType::ssl) return flag(k) ? flag(k) : (c.enable_sni = true, std::nullopt);
            if (n == "sni_name" && c.type == CheckerType::ssl) return one(k) ? one(k) : (c.sni_name = k.args[0].text, std::nullopt);
            break;
        case CheckerType::misc:
            if (n == "misc_path") return set(rest_arg(k, 0), c.misc_path);
            if (n == "misc_timeout") return one(k) ? one(k) : set(seconds_arg(k, 0), c.misc_timeout);
            if (n == "misc_dynamic") return flag(k) ? flag(k) : (c.misc_dynamic = true, std::nullopt);
            if (n == "user") return set(rest_arg(k, 0), c.user);
            break;
        case CheckerType::udp:
            if (n == "payload") return one(k) ? one(k) : (c.payload = k.args[0].text, std::nullopt);
            if (n == "require_reply") {
                if (k.has_block || k.args.size() > 1) return error_at(k.where(), n, "takes at most one value (hex data)");
                c.require_reply = true;
                if (!k.args.empty()) c.reply_data = k.args[0].text;
                return std::nullopt;
            }
            break;
        case CheckerType::dns:
            if (n == "type") return one(k) ? one(k) : (c.dns_type = k.args[0].text, std::nullopt);
            if (n == "name") return one(k) ? one(k) : (c.dns_name = k.args[0].text, std::nullopt);
            break;
        case CheckerType::smtp:
            if (n == "helo_name") return one(k) ? one(k) : (c.helo_name = k.args[0].text, std::nullopt);
            break;
        case CheckerType::tcp:
        case CheckerType::ping: break;
    }
    known = false;
    return std::nullopt;
}

}  // namespace

namespace {

// Every field of a CheckerSpec but its Location, for operator==.
auto fields(const CheckerSpec& c) {
    return std::tie(c.type, c.connect_ip, c.connect_port, c.bindto, c.bind_port, c.connect_timeout, c.retry,
                    c.delay_before_retry, c.warmup, c.delay_loop, c.urls, c.http_protocol, c.virtualhost,
                    c.enable_sni, c.sni_name, c.misc_path, c.misc_timeout, c.misc_dynamic, c.user, c.payload,
                    c.require_reply, c.reply_data, c.dns_type, c.dns_name, c.helo_name);
}

}  // namespace

// A field added to CheckerSpec must be added to fields() too: this size check fails first
// (x86-64 with libstdc++, the only target).
static_assert(sizeof(void*) != 8 || sizeof(CheckerSpec) == 560, "CheckerSpec changed: update fields()");

bool operator==(const CheckerSpec& a, const CheckerSpec& b) { return fields(a) == fields(b); }

const char* keyword_of(CheckerType t) {
    for (const auto& [name, type] : checker_names)
        if (type == t) return name;
    return "?";
}

std::optional<CheckerType> checker_type(std::string_view keyword) {
    for (const auto& [name, type] : checker_names)
        if (keyword == name) return type;
    return std::nullopt;
}

model::Result<CheckerSpec> parse_checker(const Statement& s, double vs_delay_loop) {
    CheckerSpec c;
    c.type = *checker_type(s.name());
    c.where = s.where();
    if (c.type == CheckerType::dns) c.retry = 3;
    if (c.type == CheckerType::misc) c.retry = 0;
    if (is_http(c.type)) c.delay_before_retry = 3;
    if (!s.args.empty()) return error_at(s.where(), s.name(), "unexpected '" + s.args[0].text + "' (takes a block)");
    if (!s.has_block) return error_at(s.where(), s.name(), "needs a block { ... }");
    bool delay_before_retry_set = false;
    for (const auto& k : s.block) {
        bool known = false;
        if (auto e = common_keyword(k, c, known)) return *e;
        delay_before_retry_set = delay_before_retry_set || (known && k.name() == "delay_before_retry");
        if (known) continue;
        if (auto e = typed_keyword(k, c, known)) return *e;
        if (!known) return error_at(k.where(), k.name(), std::string("unknown keyword in ") + s.name());
    }
    // keepalived's DNS_CHECK has no default delay_before_retry of its own (check_dns.c:
    // default_delay_before_retry = 0): it waits the checker's delay_loop between retries.
    if (c.type == CheckerType::dns && !delay_before_retry_set) c.delay_before_retry = c.delay_loop.value_or(vs_delay_loop);
    if (c.type == CheckerType::misc && c.misc_path.empty()) return error_at(s.where(), s.name(), "needs misc_path");
    if (is_http(c.type) && c.urls.empty()) return error_at(s.where(), s.name(), "needs at least one url { path ... }");
    return c;
}

}  // namespace dplb::keepalived
