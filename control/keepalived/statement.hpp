// keepalived.conf's structure: statements ("keyword args..." up to the end of the line, a
// `{` or a `}`), each optionally followed by a `{ ... }` block of statements. Only braces are
// checked here; what a keyword means is the section parsers' business.
//
// Threading: plain values.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "control/keepalived/token.hpp"

namespace dplb::keepalived {

struct Statement {
    Token keyword;
    std::vector<Token> args;
    bool has_block = false;
    std::vector<Statement> block;

    const std::string& name() const { return keyword.text; }
    const Location& where() const { return keyword.where; }
};

// A `}` with no block open, a `{` with no keyword, or a block not closed before the end
// (named by the statement that opened it) are errors.
model::Result<std::vector<Statement>> parse_statements(const std::vector<Token>& tokens);

}  // namespace dplb::keepalived
