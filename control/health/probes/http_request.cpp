#include "control/health/probes/http_request.hpp"

namespace dplb::health::probes {

std::optional<std::string> virtual_host(const keepalived::CheckerSpec& spec, const keepalived::UrlCheck& url) {
    if (url.virtualhost) return url.virtualhost;
    return spec.virtualhost;
}

std::string http_request(const keepalived::CheckerSpec& spec, const keepalived::UrlCheck& url,
                         const ProbeTarget& target) {
    const bool http11 = spec.http_protocol == "1.1";
    const bool close = http11 || spec.http_protocol == "1.0C";
    std::string host = virtual_host(spec, url).value_or(target.address.str() + ":" + std::to_string(target.port));
    std::string r;
    r.reserve(96 + url.path.size() + host.size());
    r += "GET ";
    r += url.path;
    r += http11 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n";
    r += "User-Agent: KeepAliveClient\r\n";
    if (close) r += "Connection: close\r\n";
    r += "Host: ";
    r += host;
    r += "\r\n\r\n";
    return r;
}

std::string tls_server_name(const keepalived::CheckerSpec& spec, const keepalived::UrlCheck& url) {
    if (!spec.enable_sni) return "";
    if (spec.sni_name) return *spec.sni_name;
    return virtual_host(spec, url).value_or("");
}

}  // namespace dplb::health::probes
