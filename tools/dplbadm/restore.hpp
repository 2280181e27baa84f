// ipvsadm -R: rules (one dplbadm command line per line, as -S writes them) applied to a
// configuration all or nothing. Each line goes through the same argument parser as the
// command line and the same request decoders and ConfigEditor dplb-control runs (control/api/mutations.hpp),
// so a restored configuration is exactly what the commands one by one would have built;
// dplbadm then sends it whole with one replace-config.
#pragma once

#include <string_view>
#include <vector>
#include <string>

#include "common/result.hpp"
#include "dplb/config.hpp"

namespace dplb::dplbadm {

// A line split into words as ipvsadm's config_stream does: blanks separate words, '...' and
// "..." quote; a '#' at the start of a word comments out the rest of the line.
std::vector<std::string> split_rule_line(std::string_view line);

// `current` with every rule of `text` applied. Blank and comment lines are skipped, and a
// leading "ipvsadm" or "dplbadm" word is ignored. On the first bad line: Error{"",
// "line N: <why>"} and nothing of the rest matters.
model::Result<config::Config> restore(const config::Config& current, std::string_view text);

}  // namespace dplb::dplbadm
