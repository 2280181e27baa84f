// What HTTP_GET and SSL_GET send for one url, built as keepalived 2.2.7's check_http.c
// builds it:
//
//   GET <path> HTTP/1.0|1.1\r\n
//   User-Agent: KeepAliveClient\r\n
//   [Connection: close\r\n]           http_protocol 1.0C or 1.1
//   Host: <virtual host | ip:port>\r\n
//   \r\n
//
// The virtual host is the url's `virtualhost`, else the checker's (keepalived then tries the
// real server's and the virtual server's, which dplb's keepalived import does not carry);
// without one the Host header is the connect address with its port. SNI (SSL_GET with
// enable_sni) names the same virtual host, and no name at all without one: keepalived never
// sends an address as a server name.
//
// Threading: plain functions.
#pragma once

#include <optional>
#include <string>

#include "control/health/probe.hpp"

namespace dplb::health::probes {

std::optional<std::string> virtual_host(const keepalived::CheckerSpec&, const keepalived::UrlCheck&);

std::string http_request(const keepalived::CheckerSpec&, const keepalived::UrlCheck&, const ProbeTarget&);

// The server_name to send, "" for none. dplb's `sni_name` (not a keepalived keyword) wins
// over the virtual host when given.
std::string tls_server_name(const keepalived::CheckerSpec&, const keepalived::UrlCheck&);

}  // namespace dplb::health::probes
