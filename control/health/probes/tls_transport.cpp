// SSL_GET's transport: an OpenSSL client session over the probe's own non-blocking socket.
//
// The session reads and writes through a small BIO of ours rather than OpenSSL's socket BIO:
// ours sends with MSG_NOSIGNAL (a server that resets mid-request must not raise SIGPIPE in
// dplb-control, whatever the process's signal dispositions) and reports EAGAIN as a retry,
// which OpenSSL turns into SSL_ERROR_WANT_READ / WANT_WRITE for the state machine.
//
// One SSL_CTX serves every attempt: built once on first use, never changed after, never
// freed (it lives as long as the process); SSL_new on a shared context is thread-safe.
//
// Threading: one TlsTransport per connection, used by the thread that drives its probe.
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "control/health/probes/errno_text.hpp"
#include "control/health/probes/transport.hpp"

namespace dplb::health::probes {
namespace {

struct SocketState {
    int fd = -1;
    bool eof = false;  // the last recv() saw the end of the stream
};

int bio_write(BIO* bio, const char* data, int size) {
    auto* s = static_cast<SocketState*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    ssize_t n = ::send(s->fd, data, std::size_t(size), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) BIO_set_retry_write(bio);
    return int(n);
}

int bio_read(BIO* bio, char* buffer, int size) {
    auto* s = static_cast<SocketState*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    ssize_t n = ::recv(s->fd, buffer, std::size_t(size), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) BIO_set_retry_read(bio);
    if (n == 0) s->eof = true;
    return int(n);
}

long bio_ctrl(BIO* bio, int cmd, long, void*) {
    auto* s = static_cast<SocketState*>(BIO_get_data(bio));
    switch (cmd) {
        case BIO_CTRL_FLUSH: return 1;  // nothing buffered here
        case BIO_CTRL_EOF: return s && s->eof ? 1 : 0;
        default: return 0;
    }
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

const BIO_METHOD* socket_bio_method() {
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dplb probe socket");
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

SSL_CTX* client_context() {
    static SSL_CTX* ctx = [] {
        SSL_CTX* c = SSL_CTX_new(TLS_client_method());
        if (!c) return c;
        SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
        // A server that closes without close_notify has still answered: its end of stream
        // is the end of the answer, as for plain HTTP (keepalived reads until EOF).
        SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);
        SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        return c;
    }();
    return ctx;
}

// The OpenSSL error queue is per thread: drain it into the reason, leave it empty.
std::string openssl_reason(const char* fallback) {
    unsigned long first = ERR_get_error();
    ERR_clear_error();
    if (!first) return fallback;
    if (const char* r = ERR_reason_error_string(first)) return r;
    char buf[256];
    ERR_error_string_n(first, buf, sizeof buf);
    return buf;
}

class TlsTransport final : public Transport {
public:
    TlsTransport(SSL* ssl, std::unique_ptr<SocketState> socket) : ssl_(ssl), socket_(std::move(socket)) {}
    ~TlsTransport() override { SSL_free(ssl_); }  // frees the BIO too; the socket is the probe's
    TlsTransport(const TlsTransport&) = delete;
    TlsTransport& operator=(const TlsTransport&) = delete;

    IoResult handshake() override {
        ERR_clear_error();
        int r = SSL_connect(ssl_);
        if (r == 1) return {Io::done, 0, {}};
        return failure(r);
    }

    IoResult send(const char* data, std::size_t size) override {
        ERR_clear_error();
        int r = SSL_write(ssl_, data, int(size));
        if (r > 0) return {Io::done, std::size_t(r), {}};
        return failure(r);
    }

    IoResult receive(char* buffer, std::size_t size) override {
        ERR_clear_error();
        int r = SSL_read(ssl_, buffer, int(size));
        if (r > 0) return {Io::done, std::size_t(r), {}};
        return failure(r);
    }

private:
    IoResult failure(int r) {
        int err = errno;
        switch (SSL_get_error(ssl_, r)) {
            case SSL_ERROR_WANT_READ: return {Io::want_read, 0, {}};
            case SSL_ERROR_WANT_WRITE: return {Io::want_write, 0, {}};
            case SSL_ERROR_ZERO_RETURN: return {Io::closed, 0, {}};
            case SSL_ERROR_SYSCALL:
                if (ERR_peek_error()) return {Io::failed, 0, openssl_reason("system error")};
                if (socket_->eof || r == 0) return {Io::failed, 0, "connection closed by the server"};
                return {Io::failed, 0, errno_text(err)};
            default: return {Io::failed, 0, openssl_reason("TLS error")};
        }
    }

    SSL* ssl_;
    std::unique_ptr<SocketState> socket_;  // the BIO's data; outlives ssl_'s use of it
};

}  // namespace

std::unique_ptr<Transport> tls_transport(int fd, const std::string& sni, std::string& error) {
    SSL_CTX* ctx = client_context();
    SSL* ssl = ctx ? SSL_new(ctx) : nullptr;
    BIO* bio = ssl ? BIO_new(socket_bio_method()) : nullptr;
    if (!ssl || !bio) {
        error = openssl_reason("cannot create a TLS session");
        BIO_free(bio);
        SSL_free(ssl);
        return nullptr;
    }
    auto socket = std::make_unique<SocketState>();
    socket->fd = fd;
    BIO_set_data(bio, socket.get());
    SSL_set_bio(ssl, bio, bio);  // ssl owns bio now
    SSL_set_connect_state(ssl);
    if (!sni.empty() && SSL_set_tlsext_host_name(ssl, sni.c_str()) != 1) {
        error = openssl_reason("cannot set the server name");
        SSL_free(ssl);
        return nullptr;
    }
    return std::make_unique<TlsTransport>(ssl, std::move(socket));
}

}  // namespace dplb::health::probes
