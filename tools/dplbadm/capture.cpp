#include "tools/dplbadm/capture.hpp"

#include <pcap/pcap.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "tools/dplbadm/client.hpp"

namespace dplb::dplbadm {

using model::Error;
using nlohmann::json;

namespace {

model::Result<uint64_t> number(const std::string& option, const std::string& text) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return Error{"", option + " needs a non-negative integer, not '" + text + "'"};
    return v;
}

std::string names_of(const json& ports) {
    std::string out;
    for (const auto& p : ports) {
        if (!p.is_object()) continue;
        for (const json* n : {p.contains("name") ? &p["name"] : nullptr,
                              p.contains("kernel_twin") && p["kernel_twin"].is_object() && p["kernel_twin"].contains("name")
                                  ? &p["kernel_twin"]["name"]
                                  : nullptr})
            if (n && n->is_string()) out += (out.empty() ? "" : ", ") + n->get<std::string>();
    }
    return out.empty() ? "none" : out;
}

bool has_port_id(const json& p) {
    return p.contains("port_id") && p["port_id"].is_number_integer() && p["port_id"].get<int64_t>() >= 0;
}

// The DPDK port index of the port (or kernel twin) named `name`.
model::Result<uint64_t> port_index(const json& ports, const std::string& name) {
    for (const auto& p : ports) {
        if (!p.is_object()) continue;
        if (p.value("name", "") == name && has_port_id(p)) return p["port_id"].get<uint64_t>();
        if (auto t = p.find("kernel_twin"); t != p.end() && t->is_object() && t->value("name", "") == name && has_port_id(*t))
            return (*t)["port_id"].get<uint64_t>();
    }
    return Error{"", "no dataplane port '" + name + "' (ports: " + names_of(ports) + ")"};
}

std::string shell_quoted(const std::string& s) {
    if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=:./,@+") ==
                          std::string::npos)
        return s;
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

model::Result<CaptureOptions> parse_capture_options(const std::vector<std::string>& args) {
    CaptureOptions o;
    bool have_port = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* what) -> model::Result<std::string> {
            if (i + 1 >= args.size()) return Error{"", a + " needs " + what};
            return args[++i];
        };
        if (a == "--capture") {
            auto v = value("a port name (dplbadm --status lists the ports)");
            if (!v) return v.error();
            o.port = *v;
            have_port = true;
        } else if (a == "-f" || a == "--filter") {
            auto v = value("a filter in libpcap syntax (pcap-filter(7)), e.g. 'host 10.0.0.1 and tcp port 80'");
            if (!v) return v.error();
            o.filter = *v;
        } else if (a == "-c" || a == "--count" || a == "--duration") {
            auto v = value(a == "--duration" ? "a number of seconds" : "a number of packets");
            if (!v) return v.error();
            auto n = number(a, *v);
            if (!n) return n.error();
            (a == "--duration" ? o.duration : o.count) = *n;
        } else if (a == "-w" || a == "--write") {
            auto v = value("a file name (pcapng)");
            if (!v) return v.error();
            o.file = *v;
        } else if (a == "--socket") {
            ++i;  // parse_args reads it
        } else if (a == "--json") {
        } else {
            return Error{"", "--capture takes -f FILTER, -c COUNT, --duration SECONDS and -w FILE, not '" + a + "'"};
        }
    }
    if (!have_port) return Error{"", "--capture needs a port name"};
    if (o.count == 0 && o.duration == 0)
        return Error{"", "a capture must stop by itself: give -c COUNT or --duration SECONDS greater than 0"};
    return o;
}

model::Status check_capture_filter(const std::string& filter) {
    if (filter.empty()) return std::nullopt;
    pcap_t* p = pcap_open_dead(DLT_EN10MB, 65535);
    if (!p) return Error{"", "libpcap cannot open a handle to check the filter"};
    bpf_program prog{};
    model::Status out;
    if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
        out = Error{"", "capture filter '" + filter + "': " + pcap_geterr(p)};
    else
        pcap_freecode(&prog);
    pcap_close(p);
    return out;
}

model::Result<std::vector<std::string>> dumpcap_command(const CaptureOptions& o, const json& reply,
                                                        const std::string& program) {
    if (!reply.is_object() || reply.value("dataplane", "") != "connected")
        return Error{"", "the dataplane is not connected to dplb-control (dplbadm --status): nothing to capture on"};
    const json empty = json::object();
    const json& st = reply.contains("dataplane_status") && reply["dataplane_status"].is_object() ? reply["dataplane_status"]
                                                                                                 : empty;
    if (!st.contains("capture") || !st["capture"].is_object())
        return Error{"", "the dataplane does not report capture support (a dplb-dataplane older than dplbadm?)"};
    const json& cap = st["capture"];
    if (!cap.value("available", false))
        return Error{"", "capture is unavailable on this dataplane: " + cap.value("reason", std::string("no reason given"))};
    const std::string prefix = cap.value("file_prefix", "");
    if (prefix.empty()) return Error{"", "the dataplane reports no EAL file prefix"};
    auto port = port_index(st.contains("ports") && st["ports"].is_array() ? st["ports"] : json::array(), o.port);
    if (!port) return port.error();
    // -p: the capture must not change the port's promiscuous mode behind the dataplane.
    std::vector<std::string> argv{program, "--file-prefix=" + prefix, "-i", std::to_string(*port), "-p"};
    if (!o.filter.empty()) argv.insert(argv.end(), {"-f", o.filter});
    if (o.count) argv.insert(argv.end(), {"-c", std::to_string(o.count)});
    if (o.duration) argv.insert(argv.end(), {"-a", "duration:" + std::to_string(o.duration)});
    if (!o.file.empty()) argv.insert(argv.end(), {"-w", o.file});
    return argv;
}

int run_capture(const std::string& socket, const CaptureOptions& o) {
    if (auto e = check_capture_filter(o.filter)) {
        std::fprintf(stderr, "dplbadm: %s\n", e->str().c_str());
        return 2;
    }
    auto reply = call_control(socket, json{{"cmd", "status"}});
    if (!reply) {
        std::fprintf(stderr, "dplbadm: %s\n", reply.error().str().c_str());
        return 1;
    }
    auto argv = dumpcap_command(o, *reply);
    if (!argv) {
        std::fprintf(stderr, "dplbadm: %s\n", argv.error().str().c_str());
        return 1;
    }
    std::string line;
    for (const auto& a : *argv) line += (line.empty() ? "" : " ") + shell_quoted(a);
    std::fprintf(stderr, "dplbadm: running %s\n", line.c_str());
    std::fflush(stderr);
    std::vector<char*> cargv;
    for (auto& a : *argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    ::execvp(cargv[0], cargv.data());
    std::fprintf(stderr, "dplbadm: cannot run %s: %s (Debian package dpdk)\n", cargv[0], std::strerror(errno));
    return 1;
}

}  // namespace dplb::dplbadm
