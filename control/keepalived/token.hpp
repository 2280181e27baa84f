// keepalived.conf's words: a file is read into one stream of tokens, its includes spliced in
// where they stand, each token carrying the file and line it came from so that every message
// can say "file:line".
//
// Threading: plain values.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace dplb::keepalived {

struct Location {
    std::string file;  // as the include named it (relative paths joined to the includer's folder)
    std::size_t line = 0;

    std::string str() const { return file + ":" + std::to_string(line); }
};

struct Token {
    std::string text;  // without the quotes of a quoted string
    Location where;
    bool quoted = false;  // "{" quoted is a word, not a brace
    bool line_start = false;  // the first token of its line: a new statement begins

    bool is_open() const { return !quoted && text == "{"; }
    bool is_close() const { return !quoted && text == "}"; }
};

// "file:line: keyword: what", keepalived's file and line first: field = "file:line",
// message = "keyword: what".
inline model::Error error_at(const Location& where, const std::string& keyword, const std::string& what) {
    return model::Error{where.str(), keyword.empty() ? what : keyword + ": " + what};
}

// One file's text split into tokens: blanks separate words; `{` and `}` are words of their
// own; "..." quotes (no escapes, as keepalived); `#` and `!` outside quotes comment out the
// rest of the line. An unterminated quote is an error.
model::Result<std::vector<Token>> lex(std::string_view text, const std::string& file);

}  // namespace dplb::keepalived
