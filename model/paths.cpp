#include "model/paths.hpp"

namespace dplb::model {

std::string member_path(const std::string& parent, std::string_view name) {
    if (parent.empty()) return std::string(name);
    return parent + "." + std::string(name);
}

std::string index_path(const std::string& parent, std::size_t index) {
    return parent + "[" + std::to_string(index) + "]";
}

}  // namespace dplb::model
