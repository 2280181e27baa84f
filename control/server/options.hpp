// dplb-control's command line.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace dplb::server {

struct Options {
    std::string socket;
    std::string dataplane_socket;
    std::string state_file;
    std::size_t max_request_bytes = 0;
    bool help = false;
};

// `args` without the program name. Defaults come from dplb/api.hpp.
model::Result<Options> parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace dplb::server
