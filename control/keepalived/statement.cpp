#include "control/keepalived/statement.hpp"

namespace dplb::keepalived {

namespace {

// keepalived's own nesting is 3-4 levels deep: a cap keeps a hostile file from exhausting
// the stack through recursion.
constexpr int max_depth = 32;

struct Parser {
    const std::vector<Token>& t;
    std::size_t i = 0;
    int depth = 0;

    // Statements up to the `}` closing `opener` (consumed), or to the end when opener is null.
    model::Result<std::vector<Statement>> block(const Statement* opener) {
        std::vector<Statement> out;
        while (i < t.size()) {
            const Token& k = t[i];
            if (k.is_close()) {
                if (!opener) return error_at(k.where, "}", "no block to close (an extra '}')");
                ++i;
                return out;
            }
            if (k.is_open()) return error_at(k.where, "{", "a block needs a keyword before it");
            Statement s;
            s.keyword = k;
            ++i;
            while (i < t.size() && !t[i].line_start && !t[i].is_open() && !t[i].is_close()) s.args.push_back(t[i++]);
            if (i < t.size() && t[i].is_open()) {
                if (depth == max_depth) return error_at(t[i].where, "{", "blocks nested too deeply");
                ++i;
                s.has_block = true;
                ++depth;
                auto inner = block(&s);
                --depth;
                if (!inner) return inner.error();
                s.block = std::move(*inner);
            }
            out.push_back(std::move(s));
        }
        if (opener) return error_at(opener->where(), opener->name(), "missing '}': the block opened here is not closed");
        return out;
    }
};

}  // namespace

model::Result<std::vector<Statement>> parse_statements(const std::vector<Token>& tokens) {
    Parser p{tokens};
    return p.block(nullptr);
}

}  // namespace dplb::keepalived
