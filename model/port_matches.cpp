#include "model/port_matches.hpp"

#include "model/describe.hpp"

namespace dplb::model {

template <class Pred>
static std::optional<MatchRef> find_match(const config::Config& c, Pred&& pred) {
    for (std::size_t g = 0; g < c.port_groups.size(); ++g)
        for (std::size_t k = 0; k < c.port_groups[g].matches.size(); ++k)
            if (pred(MatchRef{g, k}, c.port_groups[g].matches[k])) return MatchRef{g, k};
    return std::nullopt;
}

std::optional<MatchRef> find_overlap(const config::Config& c, const config::PortMatch& m,
                                     std::optional<MatchRef> skip) {
    return find_match(c, [&](MatchRef ref, const config::PortMatch& other) {
        return !(skip && *skip == ref) && overlaps(m, other);
    });
}

std::optional<MatchRef> find_covering(const config::Config& c, const config::ServiceKey& key) {
    return find_match(c, [&](MatchRef, const config::PortMatch& m) { return covers(m, key); });
}

const config::Service* find_covered_service(const config::Config& c, const config::PortMatch& m) {
    for (const auto& s : c.services)
        if (covers(m, s.key)) return &s;
    return nullptr;
}

std::string describe_match(const config::Config& c, MatchRef ref) {
    const auto& g = c.port_groups[ref.group];
    return "port group " + std::to_string(g.mark) + "'s " + describe(g.matches[ref.match]) + " (port_groups[" +
           std::to_string(ref.group) + "].matches[" + std::to_string(ref.match) + "])";
}

}  // namespace dplb::model
