// Decoding an optional array member item by item, with each item's path ("x.items[3]").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec/json_reader.hpp"
#include "common/result.hpp"

namespace dplb::model {

// An absent member leaves `out` as it is; `decode(item, path)` returns Result<T>.
template <class T, class Decode>
Status read_array(ObjectReader& r, std::string_view name, std::vector<T>& out, Decode&& decode) {
    const nlohmann::json* arr = r.get(name);
    if (!arr) return std::nullopt;
    std::string field = r.field(name);
    if (!arr->is_array()) return type_error(field, "an array", *arr);
    out.clear();
    out.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size(); ++i) {
        Result<T> item = decode((*arr)[i], index_path(field, i));
        if (!item) return item.error();
        out.push_back(std::move(*item));
    }
    return std::nullopt;
}

}  // namespace dplb::model
