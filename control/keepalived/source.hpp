// Reading keepalived.conf with its includes: `include PATTERN` (a statement of its own) is
// replaced by the tokens of every file the glob matches, in glob(3)'s sorted order. A
// relative pattern is taken from the including file's folder. A file that includes itself,
// directly or through others, is an error naming the include and the chain; a pattern that
// matches nothing is a warning (keepalived goes on too).
//
// Threading: none; reads files.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "control/keepalived/token.hpp"

namespace dplb::keepalived {

struct Source {
    std::vector<Token> tokens;
    std::vector<std::string> warnings;  // "file:line: ..."
    std::vector<std::string> files;     // every file read (the top one first, then includes)
};

model::Result<Source> read_source(const std::string& path);

}  // namespace dplb::keepalived
