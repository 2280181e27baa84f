// Start-up: the configuration dplb-control accepted before it stopped, from the state file
// and the journal records after it (each record a batch of typed changes, applied in order).
//
// A torn last record (power cut mid-write) was never acknowledged: the Store drops it and
// says so in `warning`. A record that decodes but cannot be applied means the files were
// edited or corrupted in a way the checksum missed: start-up is refused rather than run with
// less than what was accepted.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "control/state/store.hpp"
#include "model/config_editor.hpp"

namespace dplb::state {

struct Recovered {
    model::ConfigEditor config;
    uint64_t generation = 1;  // of the last record replayed (1 for an empty history)
    std::size_t replayed = 0;  // journal records applied
    std::string warning;
};

model::Result<Recovered> recover(Store& store);

}  // namespace dplb::state
