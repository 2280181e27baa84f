#include "control/state/recover.hpp"

#include <algorithm>

#include "codec/change_json.hpp"
#include "codec/json_parse.hpp"

namespace dplb::state {

model::Result<Recovered> recover(Store& store) {
    auto loaded = store.load();
    if (!loaded) return loaded.error();
    Recovered out;
    out.warning = loaded->warning;
    out.config = model::ConfigEditor(std::move(loaded->config));
    out.generation = loaded->generation;
    for (const auto& rec : loaded->records) {
        const std::string where = store.path() + ": journal record of generation " + std::to_string(rec.generation);
        auto j = model::parse_json(rec.payload);
        if (!j) return model::Error{"", where + ": " + j.error().str()};
        auto batch = model::batch_from_json(*j, "changes");
        if (!batch) return model::Error{"", where + ": " + batch.error().str()};
        if (auto e = out.config.apply_batch(*batch)) return model::Error{"", where + " cannot be applied: " + e->str()};
        out.generation = rec.generation;
        ++out.replayed;
    }
    // Generation 1 is an empty configuration nobody changed yet, as before the journal.
    out.generation = std::max<uint64_t>(out.generation, 1);
    return out;
}

}  // namespace dplb::state
