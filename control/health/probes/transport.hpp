// The byte stream one HTTP_GET or SSL_GET connection talks over, so a single HTTP state
// machine (http_probe.cpp) serves both checkers: plain TCP, or TLS (OpenSSL) running over
// the same non-blocking socket. Calls never block; "want_read"/"want_write" say which
// readiness to wait for before calling again (a TLS read may need to write, and back).
//
// Threading: one transport per connection, used by the thread that drives its probe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace dplb::health::probes {

enum class Io : uint8_t {
    done,        // handshake complete, or `bytes` moved
    want_read,   // call again once the socket is readable
    want_write,  // call again once the socket is writable
    closed,      // receive: the peer ended the stream in order (FIN, TLS close_notify)
    failed,      // `error` says why
};

struct IoResult {
    Io status = Io::failed;
    std::size_t bytes = 0;
    std::string error;
};

class Transport {
public:
    virtual ~Transport() = default;
    // Completes the session set-up: the TLS handshake; nothing for plain TCP.
    virtual IoResult handshake() = 0;
    // Sends some of `data` (bytes says how much).
    virtual IoResult send(const char* data, std::size_t size) = 0;
    // Receives up to `size` bytes.
    virtual IoResult receive(char* buffer, std::size_t size) = 0;
};

// Plain TCP over `fd` (not owned).
std::unique_ptr<Transport> plain_transport(int fd);

// A TLS client over `fd` (not owned). No certificate verification: keepalived's SSL_GET
// verifies nothing either (a health check asks "does it answer", not "is it who it says").
// `sni` non-empty: sent as the server_name extension. Null with `error` set when OpenSSL
// cannot even create the session.
std::unique_ptr<Transport> tls_transport(int fd, const std::string& sni, std::string& error);

}  // namespace dplb::health::probes
