// ipvsadm -R: rules (one dplbadm command line per line, as -S writes them) applied to a
// configuration all or nothing. Each line goes through the same argument parser as the
// command line and the same request decoders and ConfigEditor dplb-control runs (control/api/mutations.hpp),
// so a restored configuration is exactly what the commands one by one would have built.
// dplbadm -R sends the rules as one `batch` request, which dplb-control applies the same way,
// all or nothing; restore() does it locally (tests, and checking a file without a server).
#pragma once

#include <string_view>
#include <vector>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "dplb/config.hpp"

namespace dplb::dplbadm {

// A line split into words as ipvsadm's config_stream does: blanks separate words, '...' and
// "..." quote; a '#' at the start of a word comments out the rest of the line.
std::vector<std::string> split_rule_line(std::string_view line);

// One rule: its line number and the change request it stands for.
struct Rule {
    std::size_t line;
    nlohmann::json request;
};

// The rules of `text` (blank and comment lines skipped, a leading "ipvsadm" or "dplbadm"
// word ignored). On the first line that is not a change: Error{"", "line N: <why>"}.
model::Result<std::vector<Rule>> parse_rules(std::string_view text);

// The error dplb-control gave for a batch of `rules`, with the rule named by its line:
// field "requests[3].real_server.weight" becomes "line 7: real_server.weight: ...".
std::string name_rule_line(const std::vector<Rule>& rules, const std::string& field, const std::string& error);

// `current` with every rule of `text` applied. Blank and comment lines are skipped, and a
// leading "ipvsadm" or "dplbadm" word is ignored. On the first bad line: Error{"",
// "line N: <why>"} and nothing of the rest matters.
model::Result<config::Config> restore(const config::Config& current, std::string_view text);

}  // namespace dplb::dplbadm
