// The log events of an accepted change (docs/operations.md, "Logs"): what an operator or a
// script changed, written once the change is durable. Health's runtime changes
// (SetRealHealth, SetSorryActive) have none here: the health engine logs those transitions.
//
// Threading: a pure function.
#pragma once

#include <vector>

#include "common/log.hpp"
#include "model/change.hpp"

namespace dplb::server {

// The events of a batch's changes, in order; each is rate-limited (a restore of 10,000
// services must not write 10,000 lines: a burst, then log_suppressed counts the rest).
std::vector<log::Event> change_events(const model::Batch& batch);

}  // namespace dplb::server
