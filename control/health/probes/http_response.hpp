// Reads one HTTP answer the way keepalived's HTTP_GET does, fed with whatever bytes arrive:
// the status line and headers up to the blank line, then the body up to Content-Length or
// the end of the stream. The body's MD5 is computed on the fly (OpenSSL EVP, the digest
// keepalived's genhash prints), over the raw bytes after the headers: a chunked body is
// hashed with its chunk framing, as genhash hashes it. Nothing of the body is kept.
//
// Bounded: headers beyond 64 KiB, or a body beyond 16 MiB, fail the answer (keepalived
// itself gives up on headers beyond 4 KiB; a health page is never that large).
//
// Threading: one reader per answer, used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dplb::health::probes {

class HttpResponse {
public:
    static constexpr std::size_t max_header_bytes = 64 * 1024;
    static constexpr std::size_t max_body_bytes = 16 * 1024 * 1024;

    enum class Progress : uint8_t {
        more,      // keep reading
        complete,  // the whole answer is in (Content-Length reached, or finish())
        failed,    // error() says why
    };

    explicit HttpResponse(bool compute_digest);
    ~HttpResponse();
    HttpResponse(const HttpResponse&) = delete;
    HttpResponse& operator=(const HttpResponse&) = delete;

    Progress feed(std::string_view bytes);
    // The stream ended: complete once the headers were in (a body shorter than its
    // Content-Length is what arrived, as keepalived takes it), failed before that.
    Progress finish();

    int status() const { return status_; }
    // Lower-case hex MD5 of the body; empty unless compute_digest and complete.
    const std::string& digest() const { return digest_; }
    const std::string& error() const { return error_; }

private:
    Progress take_headers(std::size_t end, std::size_t separator);
    Progress take_body(std::string_view bytes);
    Progress fail(std::string why);
    Progress complete();

    struct Md5;
    std::unique_ptr<Md5> md5_;  // null: no digest wanted
    std::string head_;           // bytes until the end of the headers
    bool headers_done_ = false;
    int status_ = 0;
    std::optional<std::size_t> content_length_;
    std::size_t body_bytes_ = 0;
    bool done_ = false;
    std::string digest_;
    std::string error_;
};

}  // namespace dplb::health::probes
