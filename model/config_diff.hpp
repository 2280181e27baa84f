// The typed changes that turn one configuration into another, for a reload of a whole
// description (keepalived.conf on SIGHUP) that must touch only what differs: a service
// whose attributes, real servers and local addresses are unchanged produces nothing, so the
// dataplane rebuilds nothing for it and no session notices.
//
// Order inside the result keeps every step valid for the editor where it can: services
// removed first (their addresses may be reused), then per service the local addresses
// added, attributes edited, real servers edited/added/deleted, local addresses deleted,
// then new services, then the sync daemons that differ (stopped, then started again with
// their new settings). Global timeouts and port groups: a SetTimeouts when they differ; port
// groups that differ cannot be expressed as a diff here and make the result nullopt (the
// caller sends a ReplaceConfig instead), as does anything the editor refuses step by step.
//
// Threading: pure function.
#pragma once

#include <optional>
#include <vector>

#include "dplb/config.hpp"
#include "model/change.hpp"

namespace dplb::model {

std::optional<std::vector<Change>> diff_config(const config::Config& from, const config::Config& to);

}  // namespace dplb::model
