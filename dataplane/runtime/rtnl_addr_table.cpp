#include "dataplane/runtime/rtnl_addr_table.hpp"

namespace dplb::runtime {

void RtnlAddrTable::dump_sent(uint32_t seq) {
    dump_seq_ = seq;
    dump_wanted_ = false;
    fresh_.clear();
}

bool RtnlAddrTable::apply(const std::vector<AddrEvent>& events, RtnlResult outcome) {
    bool changed = false;
    for (const AddrEvent& e : events) {
        if (!ifindexes_.count(e.ifindex)) continue;
        // Applied to what is known now and, during a dump, to the table being rebuilt.
        for (Table* table : {&held_, &fresh_}) {
            if (table == &fresh_ && !dump_seq_) continue;
            auto& set = (*table)[e.ifindex];
            const bool did = e.added ? set.insert(e.addr_be).second : set.erase(e.addr_be) > 0;
            if (table == &held_) changed |= did;
        }
    }
    if (!dump_seq_) return changed;
    if (outcome.status == RtnlStatus::done) {
        changed |= fresh_ != held_;
        held_ = std::move(fresh_);
        fresh_.clear();
        dump_seq_ = 0;
        synced_ = true;
    } else if (outcome.status == RtnlStatus::error) {
        ++refused_;
        fresh_.clear();
        dump_seq_ = 0;
        dump_wanted_ = true;
    }
    return changed;
}

}  // namespace dplb::runtime
