// The runtime health state of a configuration (config.hpp: RealServer::health and
// dynamic_weight, Service::sorry_active): owned by dplb-control's health checker, never by
// an operator's request and never persisted. The request decoders use these so that a
// configuration an operator sends (add-service, replace-config, ...) neither sets nor loses
// what the checker decided.
//
// Threading: pure functions of plain values.
#pragma once

#include <functional>

#include "dplb/config.hpp"
#include "model/change.hpp"

namespace dplb::model {

// Back to "up, no dynamic weight, sorry server not active".
void clear_runtime_state(config::RealServer&);
void clear_runtime_state(config::Service&);
void clear_runtime_state(config::Config&);

// Whether anything differs from the cleared state.
bool has_runtime_state(const config::RealServer&);
bool has_runtime_state(const config::Service&);
// A runtime change (is_runtime), or a change carrying a server or service with runtime state:
// whether the batch's journal form (RuntimeState::omit) differs from its dataplane form.
bool has_runtime_state(const Batch&);

// `next` takes the runtime state of `current` where they name the same servers: each real
// server of `next` that `current` has (same address and port) gets its health and dynamic
// weight, the others are up; the sorry server stays active if `current`'s was and `next`
// still has one.
void carry_runtime_state(config::Service& next, const config::Service& current);
// The same for every service of `next` that `find` knows (by key); the others are cleared.
void carry_runtime_state(config::Config& next,
                         const std::function<const config::Service*(const config::ServiceKey&)>& find);

}  // namespace dplb::model
