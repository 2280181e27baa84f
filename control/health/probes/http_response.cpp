#include "control/health/probes/http_response.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace dplb::health::probes {

struct HttpResponse::Md5 {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    Md5() { EVP_DigestInit_ex(ctx, EVP_md5(), nullptr); }
    ~Md5() { EVP_MD_CTX_free(ctx); }
    Md5(const Md5&) = delete;
    Md5& operator=(const Md5&) = delete;
};

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// "HTTP/1.1 200 OK": the three digits after the first space (keepalived's
// extract_status_code), followed by a space or the end of the line. 0 when malformed.
int parse_status_line(std::string_view line) {
    auto sp = line.find(' ');
    if (sp == std::string_view::npos || line.size() < sp + 4) return 0;
    std::string_view code = line.substr(sp + 1, 3);
    if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) return 0;
    if (line.size() > sp + 4 && line[sp + 4] != ' ') return 0;
    return (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
}

std::optional<std::size_t> parse_length(std::string_view v) {
    v = trim(v);
    if (v.empty() || v.size() > 18) return std::nullopt;
    std::size_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + std::size_t(c - '0');
    }
    return n;
}

}  // namespace

HttpResponse::HttpResponse(bool compute_digest) {
    if (compute_digest) md5_ = std::make_unique<Md5>();
}

HttpResponse::~HttpResponse() = default;

HttpResponse::Progress HttpResponse::fail(std::string why) {
    error_ = std::move(why);
    done_ = true;
    return Progress::failed;
}

HttpResponse::Progress HttpResponse::complete() {
    done_ = true;
    if (md5_) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_DigestFinal_ex(md5_->ctx, d, &n);
        static const char hex[] = "0123456789abcdef";
        digest_.clear();
        for (unsigned i = 0; i < n; ++i) {
            digest_ += hex[d[i] >> 4];
            digest_ += hex[d[i] & 15];
        }
    }
    return Progress::complete;
}

HttpResponse::Progress HttpResponse::feed(std::string_view bytes) {
    if (done_) return error_.empty() ? Progress::complete : Progress::failed;
    if (headers_done_) return take_body(bytes);
    // Look for the blank line from where the previous search could not have found it.
    std::size_t from = head_.size() < 3 ? 0 : head_.size() - 3;
    head_.append(bytes);
    auto crlf = head_.find("\r\n\r\n", from);
    auto lf = head_.find("\n\n", from);
    if (crlf == std::string::npos && lf == std::string::npos) {
        if (head_.size() > max_header_bytes) return fail("answer headers larger than 64 KiB");
        return Progress::more;
    }
    if (crlf != std::string::npos && (lf == std::string::npos || crlf < lf)) return take_headers(crlf, 4);
    return take_headers(lf, 2);
}

HttpResponse::Progress HttpResponse::take_headers(std::size_t end, std::size_t separator) {
    if (end > max_header_bytes) return fail("answer headers larger than 64 KiB");
    headers_done_ = true;
    std::string_view head(head_.data(), end);
    auto eol = head.find('\n');
    std::string_view status_line = trim(head.substr(0, eol));
    status_ = parse_status_line(status_line);
    if (status_ == 0) return fail("malformed status line '" + std::string(status_line.substr(0, 80)) + "'");
    while (eol != std::string_view::npos) {
        std::size_t start = eol + 1;
        eol = head.find('\n', start);
        std::string_view line = head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
        auto colon = line.find(':');
        if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), "content-length"))
            content_length_ = parse_length(line.substr(colon + 1));
    }
    std::string body = head_.substr(end + separator);
    head_.clear();
    head_.shrink_to_fit();
    return take_body(body);
}

HttpResponse::Progress HttpResponse::take_body(std::string_view bytes) {
    if (content_length_) bytes = bytes.substr(0, *content_length_ - body_bytes_);
    if (body_bytes_ + bytes.size() > max_body_bytes) return fail("answer body larger than 16 MiB");
    if (md5_ && !bytes.empty()) EVP_DigestUpdate(md5_->ctx, bytes.data(), bytes.size());
    body_bytes_ += bytes.size();
    if (content_length_ && body_bytes_ == *content_length_) return complete();
    return Progress::more;
}

HttpResponse::Progress HttpResponse::finish() {
    if (done_) return error_.empty() ? Progress::complete : Progress::failed;
    if (headers_done_) return complete();
    if (head_.find('\n') == std::string::npos) return fail("connection closed before the status line");
    return fail("connection closed before the end of the headers");
}

}  // namespace dplb::health::probes
