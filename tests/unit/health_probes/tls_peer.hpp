// A TLS server for the SSL_GET tests: a self-signed certificate made here with OpenSSL
// (EC P-256 key, X509 v3), blocking SSL_accept per connection, and a record of the server
// name (SNI) each client sent.
#pragma once

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <mutex>
#include <string>
#include <vector>

#include "peers.hpp"

namespace probe_test {

class TlsPeer {
public:
    explicit TlsPeer(std::string response) : response_(std::move(response)) {
        ctx_ = SSL_CTX_new(TLS_server_method());
        REQUIRE(ctx_);
        EVP_PKEY* key = EVP_EC_gen("P-256");
        REQUIRE(key);
        X509* cert = X509_new();
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("probe-test"), -1, -1, 0);
        X509_set_issuer_name(cert, name);
        REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
        REQUIRE(SSL_CTX_use_certificate(ctx_, cert) == 1);
        REQUIRE(SSL_CTX_use_PrivateKey(ctx_, key) == 1);
        X509_free(cert);
        EVP_PKEY_free(key);
        SSL_CTX_set_tlsext_servername_callback(ctx_, &TlsPeer::on_servername);
        SSL_CTX_set_tlsext_servername_arg(ctx_, this);
        server_ = std::make_unique<TcpServer>([this](int& fd, const Stop& stop) { serve(fd, stop); });
    }
    ~TlsPeer() {
        server_.reset();
        SSL_CTX_free(ctx_);
    }
    TlsPeer(const TlsPeer&) = delete;
    TlsPeer& operator=(const TlsPeer&) = delete;

    uint16_t port() const { return server_->port(); }
    void stop() { server_->stop(); }
    // One entry per handshake: the server name sent, "" for none.
    std::vector<std::string> server_names() {
        std::lock_guard lock(mutex_);
        return names_;
    }
    std::vector<std::string> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    static int on_servername(SSL* ssl, int*, void* arg) {
        auto* self = static_cast<TlsPeer*>(arg);
        const char* n = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        std::lock_guard lock(self->mutex_);
        self->names_.push_back(n ? n : "");
        return SSL_TLSEXT_ERR_OK;
    }

    void serve(int fd, const Stop&) {
        timeval tv{1, 500000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        SSL* ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            std::string req;
            char buf[4096];
            while (req.find("\r\n\r\n") == std::string::npos) {
                int n = SSL_read(ssl, buf, sizeof buf);
                if (n <= 0) break;
                req.append(buf, std::size_t(n));
            }
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(req);
            }
            SSL_write(ssl, response_.data(), int(response_.size()));
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        ERR_clear_error();
    }

    std::string response_;
    SSL_CTX* ctx_ = nullptr;
    std::mutex mutex_;
    std::vector<std::string> names_;
    std::vector<std::string> requests_;
    std::unique_ptr<TcpServer> server_;
};

}  // namespace probe_test
