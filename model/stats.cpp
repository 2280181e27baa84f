#include "model/stats.hpp"

namespace dplb::model {

bool any_below(const Counters& now, const Counters& base) {
    return now.conns < base.conns || now.inpkts < base.inpkts || now.outpkts < base.outpkts ||
           now.inbytes < base.inbytes || now.outbytes < base.outbytes;
}

Counters minus(const Counters& now, const Counters& base) {
    return Counters{now.conns - base.conns, now.inpkts - base.inpkts, now.outpkts - base.outpkts,
                    now.inbytes - base.inbytes, now.outbytes - base.outbytes};
}

}  // namespace dplb::model
