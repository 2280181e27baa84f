// The dataplane's `counters` reply (docs/api.md): the `stats` reply's counters in positional
// arrays, without rates, for a scrape of /metrics. At 10,000 services a `stats` reply is
// built as a JSON tree of objects on one side and parsed into one on the other: ~0.5 s. This
// one is written as text directly and read with a SAX parser into the model, never a tree:
//
//   {"ok":true,"generation":N,"services":[
//     [PROTO,"VIP",PORT,FWMARK,CONNS,INPKTS,OUTPKTS,INBYTES,OUTBYTES,
//      [["REAL",PORT,CONNS,INPKTS,OUTPKTS,INBYTES,OUTBYTES,ACTIVE,INACTIVE],...]],...]}
//
// PROTO is the IP protocol number (6, 17); a fwmark service has FWMARK != 0 (VIP "0.0.0.0",
// PORT 0). It is still one line of JSON: any JSON tool reads it.
//
// Threading: functions of their arguments.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "model/stats.hpp"

namespace dplb::model {

// The whole reply line (no newline). Rates, persistent_conns and the passive counts are left out.
std::string counters_reply_text(const StatsSnapshot&);
// Reads a reply; members other than ok, generation and services are ignored (a newer
// dataplane may send more); anything else not in the shape above is an error.
Result<StatsSnapshot> counters_reply_from_text(std::string_view text);

}  // namespace dplb::model
