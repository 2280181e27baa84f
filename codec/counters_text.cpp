#include "codec/counters_text.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "common/ip4_text.hpp"

namespace dplb::model {

namespace {

void put(std::string& out, uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

void put_counters(std::string& out, const Counters& c) {
    for (uint64_t v : {c.conns, c.inpkts, c.outpkts, c.inbytes, c.outbytes}) {
        out += ',';
        put(out, v);
    }
}

// The SAX reader. Depths: 1 the reply object, 2 "services", 3 a service, 4 its real servers,
// 5 a real server. Members of the reply object other than ok/generation/services are skipped
// whatever they hold.
class Reader : public nlohmann::json_sax<nlohmann::json> {
public:
    StatsSnapshot snap;
    std::string error;
    bool ok_seen = false, ok_value = false;
    std::string dataplane_error;  // an error reply's reason

    bool null() override { return scalar_other(); }
    bool boolean(bool v) override {
        if (skip_ == 0 && depth_ == 1 && key_ == "ok") {
            ok_seen = true;
            ok_value = v;
            return true;
        }
        return scalar_other();
    }
    bool number_integer(number_integer_t v) override {
        if (v < 0) return skip_ ? true : fail("a negative number");
        return number_unsigned(uint64_t(v));
    }
    bool number_unsigned(number_unsigned_t v) override {
        if (skip_) return true;
        if (depth_ == 1 && key_ == "generation") {
            snap.generation = v;
            return true;
        }
        if (depth_ == 3) return service_field(v);
        if (depth_ == 5) return real_field(v);
        return depth_ == 1 ? true : fail("a number out of place");
    }
    bool number_float(number_float_t, const string_t&) override { return skip_ || depth_ == 1 ? true : fail("a fraction"); }
    bool string(string_t& s) override {
        if (skip_) return true;
        if (depth_ == 1 && key_ == "error") dataplane_error = s;
        if (depth_ == 3 && index_ == 1) return address(s, snap.services.back().key.address);
        if (depth_ == 5 && index_ == 0) return address(s, snap.services.back().reals.back().address);
        return depth_ == 1 ? true : fail("a string out of place");
    }
    bool binary(binary_t&) override { return fail("binary"); }
    bool start_object(std::size_t) override {
        if (skip_ || (depth_ == 1)) return enter_skipped();
        if (depth_ == 0) {
            depth_ = 1;
            return true;
        }
        return fail("an object out of place");
    }
    bool key(string_t& k) override {
        if (!skip_ && depth_ == 1) key_ = k;
        return true;
    }
    bool end_object() override {
        if (skip_) return --skip_, true;
        depth_ = 0;
        return true;
    }
    bool start_array(std::size_t) override {
        if (skip_) return enter_skipped();
        if (depth_ == 1) {
            if (key_ != "services") return enter_skipped();
            depth_ = 2;
            return true;
        }
        if (depth_ == 2) {
            snap.services.emplace_back();
            depth_ = 3;
            index_ = 0;
            return true;
        }
        if (depth_ == 3 && index_ == 9) {
            depth_ = 4;
            return true;
        }
        if (depth_ == 4) {
            snap.services.back().reals.emplace_back();
            depth_ = 5;
            index_ = 0;
            return true;
        }
        return fail("an array out of place");
    }
    bool end_array() override {
        if (skip_) return --skip_, true;
        if (depth_ == 5) {
            if (index_ != 9) return fail("a real server without its 9 members");
            depth_ = 4;
            return true;
        }
        if (depth_ == 4) {
            depth_ = 3;
            index_ = 10;
            return true;
        }
        if (depth_ == 3) {
            if (index_ != 10) return fail("a service without its 10 members");
            depth_ = 2;
            return true;
        }
        depth_ = 1;  // the end of "services"
        return true;
    }
    bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception&) override {
        return fail("not JSON (at byte " + std::to_string(pos) + ")");
    }

private:
    bool fail(const std::string& why) {
        if (error.empty()) error = why;
        return false;
    }
    bool enter_skipped() {
        ++skip_;
        return true;
    }
    bool scalar_other() { return skip_ || depth_ == 1 ? true : fail("a value out of place"); }

    bool address(const std::string& s, Ip4& out) {
        auto a = Ip4::parse(s);
        if (!a) return fail("'" + s + "' is not an IPv4 address");
        out = *a;
        ++index_;
        return true;
    }

    bool service_field(uint64_t v) {
        ServiceStats& s = snap.services.back();
        switch (index_) {
            case 0:
                if (v != uint8_t(config::Protocol::tcp) && v != uint8_t(config::Protocol::udp)) return fail("an unknown protocol");
                s.key.protocol = config::Protocol(v);
                break;
            case 2:
                if (v > 65535) return fail("a port above 65535");
                s.key.port = uint16_t(v);
                break;
            case 3:
                if (v > 0xffffffffu) return fail("a mark above 2^32-1");
                s.key.fwmark = uint32_t(v);
                break;
            case 4: s.stats.conns = v; break;
            case 5: s.stats.inpkts = v; break;
            case 6: s.stats.outpkts = v; break;
            case 7: s.stats.inbytes = v; break;
            case 8: s.stats.outbytes = v; break;
            default: return fail("a service member out of place");
        }
        ++index_;
        return true;
    }

    bool real_field(uint64_t v) {
        RealServerStats& r = snap.services.back().reals.back();
        switch (index_) {
            case 1:
                if (v > 65535) return fail("a port above 65535");
                r.port = uint16_t(v);
                break;
            case 2: r.stats.conns = v; break;
            case 3: r.stats.inpkts = v; break;
            case 4: r.stats.outpkts = v; break;
            case 5: r.stats.inbytes = v; break;
            case 6: r.stats.outbytes = v; break;
            case 7: r.active_conns = v; break;
            case 8: r.inactive_conns = v; break;
            default: return fail("a real server member out of place");
        }
        ++index_;
        return true;
    }

    int depth_ = 0;
    unsigned skip_ = 0;  // nesting inside a skipped member
    unsigned index_ = 0;
    std::string key_;
};

}  // namespace

std::string counters_reply_text(const StatsSnapshot& s) {
    std::string out;
    out.reserve(64 + s.services.size() * 160);
    out += "{\"ok\":true,\"generation\":";
    put(out, s.generation);
    out += ",\"services\":[";
    bool first = true;
    for (const auto& svc : s.services) {
        if (!first) out += ',';
        first = false;
        out += '[';
        put(out, uint8_t(svc.key.protocol));
        out += ",\"";
        append_ip4(out, svc.key.address);
        out += "\",";
        put(out, svc.key.port);
        out += ',';
        put(out, svc.key.fwmark);
        put_counters(out, svc.stats);
        out += ",[";
        for (std::size_t i = 0; i < svc.reals.size(); ++i) {
            const auto& r = svc.reals[i];
            if (i) out += ',';
            out += "[\"";
            append_ip4(out, r.address);
            out += "\",";
            put(out, r.port);
            put_counters(out, r.stats);
            out += ',';
            put(out, r.active_conns);
            out += ',';
            put(out, r.inactive_conns);
            out += ']';
        }
        out += "]]";
    }
    out += "]}";
    return out;
}

Result<StatsSnapshot> counters_reply_from_text(std::string_view text) {
    Reader r;
    bool parsed = nlohmann::json::sax_parse(text.begin(), text.end(), &r, nlohmann::json::input_format_t::json, true);
    if (!parsed || !r.error.empty())
        return Error{"", "counters reply: " + (r.error.empty() ? std::string("not JSON") : r.error)};
    if (!r.ok_seen || !r.ok_value)
        return Error{"", "dataplane refused counters: " + (r.dataplane_error.empty() ? std::string("no reason given") : r.dataplane_error)};
    return std::move(r.snap);
}

}  // namespace dplb::model
