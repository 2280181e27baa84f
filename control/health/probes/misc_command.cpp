#include "control/health/probes/misc_command.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "control/health/probes/errno_text.hpp"

namespace dplb::health::probes {
namespace {

model::Error error(std::string message) { return model::Error{"", std::move(message)}; }

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// One escape after a backslash at s[i]; i ends after it. keepalived's set: \xHH...,
// \cX (control character), up to three octal digits, \a \b \E \f \n \r \t \v, else the
// character itself (\\ \" \' \ ).
char unescape(std::string_view s, std::size_t& i) {
    char c = s[i];
    if (c == 'x' && i + 1 < s.size() && hex_digit(s[i + 1]) >= 0) {
        unsigned v = 0;
        for (++i; i < s.size() && hex_digit(s[i]) >= 0; ++i) v = (v << 4) | unsigned(hex_digit(s[i]));
        return char(v);
    }
    if (c == 'c' && i + 1 < s.size()) {
        i += 2;
        return char(s[i - 1] & 0x1f);
    }
    if (c >= '0' && c <= '7') {
        unsigned v = 0;
        for (int n = 0; n < 3 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++n, ++i) v = (v << 3) | unsigned(s[i] - '0');
        return char(v);
    }
    ++i;
    switch (c) {
        case 'a': return '\a';
        case 'b': return '\b';
        case 'E': return 0x1b;
        case 'f': return '\f';
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case 'v': return '\v';
        default: return c;
    }
}

// Why `path` cannot be executed; "" when it can.
std::string not_executable(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno_text(errno);
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) || ::access(path.c_str(), X_OK) != 0) return "not executable";
    return "";
}

model::Result<std::string> find_in_path(const std::string& name, std::string path) {
    std::size_t start = 0;
    for (;;) {
        std::size_t colon = path.find(':', start);
        std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        if (not_executable(candidate).empty()) return candidate;
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return error("'" + name + "' not found in PATH");
}

std::size_t lookup_buffer_size() {
    long a = ::sysconf(_SC_GETPW_R_SIZE_MAX), b = ::sysconf(_SC_GETGR_R_SIZE_MAX);
    long n = std::max(a, b);
    return n > 0 ? std::size_t(n) : 16384;
}

// getpwnam_r: nullopt when the user does not exist.
model::Result<std::optional<std::pair<uid_t, gid_t>>> lookup_user(const std::string& name) {
    std::vector<char> buf(lookup_buffer_size());
    passwd pw{};
    passwd* found = nullptr;
    int rc;
    while ((rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE) buf.resize(buf.size() * 2);
    if (rc != 0) return error("user '" + name + "': " + errno_text(rc));
    if (!found) return std::optional<std::pair<uid_t, gid_t>>{};
    return std::optional<std::pair<uid_t, gid_t>>{{pw.pw_uid, pw.pw_gid}};
}

model::Result<gid_t> lookup_group(const std::string& name) {
    std::vector<char> buf(lookup_buffer_size());
    group gr{};
    group* found = nullptr;
    int rc;
    while ((rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found)) == ERANGE) buf.resize(buf.size() * 2);
    if (rc != 0) return error("group '" + name + "': " + errno_text(rc));
    if (!found) return error("group '" + name + "' does not exist");
    return gr.gr_gid;
}

}  // namespace

model::Result<std::vector<std::string>> split_command_line(std::string_view s) {
    std::vector<std::string> words;
    std::size_t i = 0;
    for (;;) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        if (i >= s.size()) break;
        std::string word;
        char quote = 0;
        while (i < s.size()) {
            char c = s[i];
            if (c == '\\') {
                if (++i >= s.size()) return error("ends with a lone backslash");
                word += unescape(s, i);
            } else if (quote) {
                if (c == quote) quote = 0;
                else word += c;
                ++i;
            } else if (c == '"' || c == '\'') {
                quote = c;
                ++i;
            } else if (c == ' ' || c == '\t') {
                break;
            } else {
                word += c;
                ++i;
            }
        }
        if (quote) return error(std::string("missing terminating ") + quote);
        words.push_back(std::move(word));
    }
    return words;
}

model::Result<MiscCommand> prepare_misc_command(const std::string& misc_path, const std::optional<std::string>& user,
                                                std::optional<std::string> path_env) {
    MiscCommand cmd;
    auto words = split_command_line(misc_path);
    if (!words) return words.error();
    if (words->empty()) return error("misc_path is empty");
    const std::string& first = words->front();
    if (first[0] == '<' || first[0] == '>') {
        cmd.program = "/bin/sh";
        cmd.argv = {"sh", "-c", misc_path};
    } else if (first.find('/') != std::string::npos) {
        // keepalived drops a checker whose script is missing when it loads its
        // configuration; here the attempt fails and says why.
        if (std::string why = not_executable(first); !why.empty()) return error("'" + first + "': " + why);
        cmd.program = first;
        cmd.argv = std::move(*words);
    } else {
        if (!path_env) {
            const char* p = std::getenv("PATH");
            path_env = p ? p : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        }
        auto found = find_in_path(first, *path_env);
        if (!found) return found.error();
        cmd.program = *found;
        cmd.argv = std::move(*words);
    }

    if (user) {
        auto names = split_command_line(*user);
        if (!names || names->empty() || names->size() > 2) return error("user: want NAME [GROUP]");
        auto u = lookup_user(names->at(0));
        if (!u) return u.error();
        if (!*u) return error("user '" + names->at(0) + "' does not exist");
        cmd.uid = (*u)->first;
        cmd.gid = (*u)->second;
        if (names->size() == 2) {
            auto g = lookup_group(names->at(1));
            if (!g) return g.error();
            cmd.gid = *g;
        }
    } else {
        auto u = lookup_user("keepalived_script");
        if (u && *u) {
            cmd.uid = (*u)->first;
            cmd.gid = (*u)->second;
        }
    }
    return cmd;
}

}  // namespace dplb::health::probes
