#include "control/keepalived/token.hpp"

namespace dplb::keepalived {

namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

model::Result<std::vector<Token>> lex(std::string_view text, const std::string& file) {
    std::vector<Token> out;
    std::size_t line = 1;
    bool at_line_start = true;
    auto push = [&](std::string word, bool quoted) {
        out.push_back(Token{std::move(word), Location{file, line}, quoted, at_line_start});
        at_line_start = false;
    };
    std::size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c == '\n') {
            ++line;
            at_line_start = true;
            ++i;
        } else if (blank(c)) {
            ++i;
        } else if (c == '#' || c == '!') {
            while (i < text.size() && text[i] != '\n') ++i;
        } else if (c == '{' || c == '}') {
            push(std::string(1, c), false);
            ++i;
        } else if (c == '"') {
            auto end = text.find('"', i + 1);
            auto nl = text.find('\n', i + 1);
            if (end == std::string_view::npos || (nl != std::string_view::npos && nl < end))
                return error_at(Location{file, line}, "", "unterminated quoted string");
            push(std::string(text.substr(i + 1, end - i - 1)), true);
            i = end + 1;
        } else {
            std::size_t start = i;
            while (i < text.size() && !blank(text[i]) && text[i] != '\n' && text[i] != '{' && text[i] != '}' &&
                   text[i] != '"' && text[i] != '#' && text[i] != '!')
                ++i;
            push(std::string(text.substr(start, i - start)), false);
        }
    }
    return out;
}

}  // namespace dplb::keepalived
