#include "control/keepalived/source.hpp"

#include <glob.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace dplb::keepalived {

namespace {

namespace fs = std::filesystem;

struct Reader {
    Source out;
    std::vector<std::string> open_files;  // canonical paths of the include chain

    model::Status read(const std::string& path, const Location* included_at) {
        std::error_code ec;
        std::string canonical = fs::weakly_canonical(path, ec).string();
        if (ec) canonical = path;
        for (std::size_t i = 0; i < open_files.size(); ++i) {
            if (open_files[i] != canonical) continue;
            std::string chain;
            for (std::size_t k = i; k < open_files.size(); ++k) chain += open_files[k] + " -> ";
            chain += canonical;
            return error_at(*included_at, "include", "include loop: " + chain);
        }
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            if (included_at) return error_at(*included_at, "include", "cannot read " + path);
            return model::Error{path, "cannot read the file"};
        }
        std::stringstream text;
        text << in.rdbuf();
        auto tokens = lex(text.str(), path);
        if (!tokens) return tokens.error();
        open_files.push_back(canonical);
        out.files.push_back(path);
        auto& t = *tokens;
        for (std::size_t i = 0; i < t.size(); ++i) {
            if (!(t[i].line_start && !t[i].quoted && t[i].text == "include")) {
                out.tokens.push_back(std::move(t[i]));
                continue;
            }
            Location at = t[i].where;
            if (i + 1 >= t.size() || t[i + 1].line_start || t[i + 1].is_open() || t[i + 1].is_close())
                return error_at(at, "include", "needs a file name or pattern");
            std::string pattern = t[i + 1].text;
            if (i + 2 < t.size() && !t[i + 2].line_start)
                return error_at(at, "include", "takes one file name or pattern, got more words");
            i += 1;
            if (auto e = include(pattern, path, at)) return e;
        }
        open_files.pop_back();
        return std::nullopt;
    }

    model::Status include(const std::string& pattern, const std::string& from, const Location& at) {
        std::string full = pattern;
        if (!pattern.starts_with("/")) {
            auto dir = fs::path(from).parent_path();
            full = (dir.empty() ? fs::path(pattern) : dir / pattern).string();
        }
        glob_t g{};
        int rc = glob(full.c_str(), GLOB_ERR, nullptr, &g);
        std::vector<std::string> files;
        if (rc == 0)
            for (std::size_t k = 0; k < g.gl_pathc; ++k) files.emplace_back(g.gl_pathv[k]);
        globfree(&g);
        if (rc == GLOB_NOMATCH || (rc == 0 && files.empty())) {
            out.warnings.push_back(at.str() + ": include " + pattern + " matches no file");
            return std::nullopt;
        }
        if (rc != 0) return error_at(at, "include", "cannot read the files of " + pattern);
        for (const auto& f : files)
            if (auto e = read(f, &at)) return e;
        return std::nullopt;
    }
};

}  // namespace

model::Result<Source> read_source(const std::string& path) {
    Reader r;
    if (auto e = r.read(path, nullptr)) return *e;
    return std::move(r.out);
}

}  // namespace dplb::keepalived
