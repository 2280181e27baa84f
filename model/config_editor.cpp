// ConfigEditor: one apply function per change type, each checking before it writes (so a
// refused change leaves nothing behind) and recording a closure that undoes it exactly.
// Undo closures run last-in first-out, so each finds the configuration (positions
// included) exactly as its change left it.
#include "model/config_editor.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <vector>

#include "model/config_find.hpp"
#include "model/describe.hpp"
#include "model/match_index.hpp"
#include "model/nat_owners.hpp"
#include "model/paths.hpp"
#include "model/port_matches.hpp"
#include "model/scheduling_set.hpp"
#include "model/validate.hpp"

namespace dplb::model {

namespace cfg = dplb::config;

namespace {

struct KeyHash {
    std::size_t operator()(const cfg::ServiceKey& k) const noexcept {
        uint64_t a = uint64_t(k.fwmark) << 32 | k.address.host();
        uint64_t b = uint64_t(k.port) << 8 | uint8_t(k.protocol);
        return std::hash<uint64_t>{}(a * 0x9e3779b97f4a7c15ull ^ b);
    }
};

cfg::ServiceKey mark_key(uint32_t mark) {
    cfg::ServiceKey k;
    k.fwmark = mark;
    return k;
}

// Real or sorry server: both take FULLNAT connections from the local addresses.
bool has_fullnat(const cfg::Service& s) {
    bool any = false;
    for_each_configured_server(s, [&](const cfg::RealServer& r) { any = any || r.forward == cfg::ForwardMethod::fullnat; });
    return any;
}

}  // namespace

struct ConfigEditor::Impl {
    cfg::Config c;
    std::unordered_map<cfg::ServiceKey, std::size_t, KeyHash> services;  // key -> position
    std::unordered_map<uint32_t, std::size_t> groups;                      // mark -> position
    MatchIndex matches;
    NatOwners nat;
    std::vector<std::function<void()>> undo;  // one per applied change

    explicit Impl(cfg::Config initial) : c(std::move(initial)) { rebuild(); }

    // ---- indexes -------------------------------------------------------------------------

    // Every index from scratch: O(size), for construction, Clear and ReplaceConfig. The NAT
    // owner conflicts are reported (the first one), not indexed twice.
    Status rebuild(const std::string& path = "") {
        services.clear();
        groups.clear();
        matches.clear();
        nat.clear();
        for (std::size_t g = 0; g < c.port_groups.size(); ++g) {
            groups[c.port_groups[g].mark] = g;
            for (const auto& m : c.port_groups[g].matches) matches.add_match(m, c.port_groups[g].mark);
        }
        Status first;
        for (std::size_t i = 0; i < c.services.size(); ++i) {
            const auto& s = c.services[i];
            services[s.key] = i;
            matches.add_service(s.key);
            if (auto bad = nat_add(s); bad && !first)
                first = Error{nat_refused_path(s, *bad, index_path(member_path(path, "services"), i)),
                              nat_refused_message(s, *bad)};
        }
        return first;
    }

    // The protocols of a service's packets: a fwmark service's come from its port group.
    uint8_t protocols_of(const cfg::Service& s) const {
        auto bit = [](cfg::Protocol p) { return p == cfg::Protocol::tcp ? proto_tcp_bit : proto_udp_bit; };
        if (!s.key.is_fwmark()) return bit(s.key.protocol);
        const cfg::PortGroup* g = find_group(s.key.fwmark);
        uint8_t out = 0;
        if (g)
            for (const auto& m : g->matches) out |= bit(m.protocol);
        return out;
    }

    // Every NAT server of `s` (its sorry server included), or none: the first refused one,
    // as an index in s.reals (s.reals.size(): the sorry server).
    std::optional<std::size_t> nat_add(const cfg::Service& s) {
        uint8_t protos = protocols_of(s);
        auto owner = NatOwners::owner_of(s);
        std::optional<std::size_t> refused;
        std::size_t i = 0;
        for_each_configured_server(s, [&](const cfg::RealServer& r) {
            if (!refused && !nat.add(protos, r, owner)) refused = i;
            ++i;
        });
        if (!refused) return std::nullopt;
        std::size_t k = 0;
        for_each_configured_server(s, [&](const cfg::RealServer& r) {
            if (k++ < *refused) nat.remove(protos, r);
        });
        return refused;
    }
    void nat_remove(const cfg::Service& s) {
        uint8_t protos = protocols_of(s);
        for_each_configured_server(s, [&](const cfg::RealServer& r) { nat.remove(protos, r); });
    }
    // Where nat_add's refusal is, and the message for it.
    static std::string nat_refused_path(const cfg::Service& s, std::size_t i, const std::string& service_path) {
        if (i == s.reals.size()) return member_path(service_path, "sorry_server");
        return index_path(member_path(service_path, "real_servers"), i);
    }
    static std::string nat_refused_message(const cfg::Service& s, std::size_t i) {
        return nat_owner_message(i == s.reals.size() ? sorry_as_real(*s.sorry_server) : s.reals[i]);
    }

    const cfg::PortGroup* find_group(uint32_t mark) const {
        auto it = groups.find(mark);
        return it == groups.end() ? nullptr : &c.port_groups[it->second];
    }
    cfg::Service* find(const cfg::ServiceKey& k) {
        auto it = services.find(k);
        return it == services.end() ? nullptr : &c.services[it->second];
    }

    // "port group 66's tcp 10.0.0.1:80 (port_groups[0].matches[1])".
    std::string describe_found(const MatchIndex::Found& f) const {
        std::size_t g = groups.at(f.mark);
        const auto& ms = c.port_groups[g].matches;
        std::size_t k = std::find(ms.begin(), ms.end(), f.match) - ms.begin();
        return describe_match(c, MatchRef{g, k});
    }

    // ---- services: appended at the end, removed by moving the last one in their place ----

    void push_service(cfg::Service s) {
        services[s.key] = c.services.size();
        matches.add_service(s.key);
        c.services.push_back(std::move(s));
    }
    cfg::Service take_service(std::size_t pos) {
        cfg::Service out = std::move(c.services[pos]);
        services.erase(out.key);
        matches.remove_service(out.key);
        std::size_t last = c.services.size() - 1;
        if (pos != last) {
            c.services[pos] = std::move(c.services[last]);
            services[c.services[pos].key] = pos;
        }
        c.services.pop_back();
        return out;
    }
    void insert_service_at(std::size_t pos, cfg::Service s) {
        push_service(std::move(s));
        std::size_t last = c.services.size() - 1;
        if (pos == last) return;
        std::swap(c.services[pos], c.services[last]);
        services[c.services[pos].key] = pos;
        services[c.services[last].key] = last;
    }

    // ---- port groups: order kept (there are few; positions after `pos` shift) -----------

    void reindex_groups_from(std::size_t pos) {
        for (std::size_t g = pos; g < c.port_groups.size(); ++g) groups[c.port_groups[g].mark] = g;
    }

    // ---- one apply per change type -------------------------------------------------------

    Error no_service(const cfg::ServiceKey& k, const std::string& path) const {
        return Error{member_path(path, "service"), "no service " + describe(k)};
    }

    Status apply(const AddService& ch, const std::string& path) {
        const cfg::Service& s = ch.service;
        const std::string field = member_path(path, "service");
        if (services.count(s.key)) return Error{field, "service " + describe(s.key) + " already exists"};
        if (auto e = validate_service(s, field)) return e;
        if (auto f = matches.covering(s.key))
            return Error{field, "service " + describe(s.key) + " is also matched by " + describe_found(*f) +
                                    "; a packet can belong to one service only"};
        if (auto bad = nat_add(s)) return Error{nat_refused_path(s, *bad, field), nat_refused_message(s, *bad)};
        push_service(s);
        undo.push_back([this] { nat_remove(take_service(c.services.size() - 1)); });
        return std::nullopt;
    }

    Status apply(const EditService& ch, const std::string& path) {
        const std::string field = member_path(path, "service");
        auto it = services.find(ch.service.key);
        if (it == services.end()) return no_service(ch.service.key, path);
        std::size_t pos = it->second;
        // The lists stay; their validity does not depend on the attributes (only on the key).
        // The local addresses are the sorry server's concern too (fullnat needs one).
        cfg::Service probe = attributes_of(ch.service);
        probe.local_addresses = c.services[pos].local_addresses;
        if (auto e = validate_service(probe, field)) return e;
        cfg::Service old = attributes_of(c.services[pos]);
        if (auto e = set_owned_attributes(pos, probe)) return Error{member_path(field, e->field), e->message};
        undo.push_back([this, pos, old] { set_owned_attributes(pos, old); });
        return std::nullopt;
    }

    // Sets a service's attributes, moving its NAT servers to the new owner when persistence
    // changes, and the sorry server's NAT keys when it changes; refused (and nothing changed)
    // when an owner conflicts. The error's field is the member at fault under the service.
    Status set_owned_attributes(std::size_t pos, const cfg::Service& attrs) {
        cfg::Service& s = c.services[pos];
        if (NatOwners::owner_of(s) == NatOwners::owner_of(attrs) && s.sorry_server == attrs.sorry_server) {
            set_attributes(s, attrs);
            return std::nullopt;
        }
        cfg::Service old = attributes_of(s);
        nat_remove(s);
        set_attributes(s, attrs);
        if (auto bad = nat_add(s)) {
            bool sorry = *bad == s.reals.size();
            bool owner_moved = !(NatOwners::owner_of(old) == NatOwners::owner_of(attrs));
            Error e{sorry && !owner_moved ? "sorry_server" : "persistence", nat_refused_message(s, *bad)};
            set_attributes(s, old);
            nat_add(s);
            return e;
        }
        return std::nullopt;
    }

    Status apply(const DeleteService& ch, const std::string& path) {
        auto it = services.find(ch.key);
        if (it == services.end()) return no_service(ch.key, path);
        std::size_t pos = it->second;
        nat_remove(c.services[pos]);
        cfg::Service old = take_service(pos);
        undo.push_back([this, pos, old = std::move(old)] {
            nat_add(old);
            insert_service_at(pos, old);
        });
        return std::nullopt;
    }

    // FULLNAT rewrites the client address to one of the service's local addresses.
    Status check_real(const cfg::Service& s, const cfg::RealServer& r, const std::string& field) {
        if (auto e = validate_real_server(s, r, field)) return e;
        if (r.forward == cfg::ForwardMethod::fullnat && s.local_addresses.empty())
            return Error{member_path(field, "forward"), "service " + describe(s.key) +
                                                            " has no local address; a fullnat real server needs one "
                                                            "(add one with --add-laddr first)"};
        return std::nullopt;
    }

    Status apply(const AddReal& ch, const std::string& path) {
        const std::string field = member_path(path, "real_server");
        auto it = services.find(ch.service);
        if (it == services.end()) return no_service(ch.service, path);
        std::size_t pos = it->second;
        cfg::Service& s = c.services[pos];
        const cfg::RealServer& r = ch.real;
        if (find_real(s, r.address, r.port))
            return Error{field, "real server " + describe(r.address, r.port) + " already exists in service " +
                                    describe(s.key)};
        if (auto e = check_real(s, r, field)) return e;
        if (!nat.add(protocols_of(s), r, NatOwners::owner_of(s))) return Error{field, nat_owner_message(r)};
        s.reals.push_back(r);
        undo.push_back([this, pos] {
            cfg::Service& svc = c.services[pos];
            nat.remove(protocols_of(svc), svc.reals.back());
            svc.reals.pop_back();
        });
        return std::nullopt;
    }

    // Where real server address:port is in the service, or an error naming `field`.
    Result<std::size_t> locate_real(const cfg::Service& s, Ip4 address, uint16_t port, const std::string& field) {
        const cfg::RealServer* r = find_real(s, address, port);
        if (!r)
            return Error{field, "no real server " + describe(address, port) + " in service " + describe(s.key)};
        return std::size_t(r - s.reals.data());
    }

    // Replaces real server `ri`, moving its NAT keys; nothing changes when they conflict.
    bool replace_real(std::size_t pos, std::size_t ri, const cfg::RealServer& r) {
        cfg::Service& s = c.services[pos];
        uint8_t protos = protocols_of(s);
        auto owner = NatOwners::owner_of(s);
        nat.remove(protos, s.reals[ri]);
        if (!nat.add(protos, r, owner)) {
            nat.add(protos, s.reals[ri], owner);
            return false;
        }
        s.reals[ri] = r;
        return true;
    }

    Status apply(const EditReal& ch, const std::string& path) {
        const std::string field = member_path(path, "real_server");
        auto it = services.find(ch.service);
        if (it == services.end()) return no_service(ch.service, path);
        std::size_t pos = it->second;
        const cfg::Service& s = c.services[pos];
        auto ri = locate_real(s, ch.real.address, ch.real.port, field);
        if (!ri) return ri.error();
        if (auto e = check_real(s, ch.real, field)) return e;
        cfg::RealServer old = s.reals[*ri];
        if (!replace_real(pos, *ri, ch.real)) return Error{field, nat_owner_message(ch.real)};
        undo.push_back([this, pos, ri = *ri, old] { replace_real(pos, ri, old); });
        return std::nullopt;
    }

    Status apply(const DeleteReal& ch, const std::string& path) {
        auto it = services.find(ch.service);
        if (it == services.end()) return no_service(ch.service, path);
        std::size_t pos = it->second;
        cfg::Service& s = c.services[pos];
        auto ri = locate_real(s, ch.address, ch.port, member_path(path, "real_server"));
        if (!ri) return ri.error();
        cfg::RealServer old = s.reals[*ri];
        nat.remove(protocols_of(s), old);
        s.reals.erase(s.reals.begin() + std::ptrdiff_t(*ri));  // order kept: it is the listing order
        undo.push_back([this, pos, ri = *ri, old] {
            cfg::Service& svc = c.services[pos];
            nat.add(protocols_of(svc), old, NatOwners::owner_of(svc));
            svc.reals.insert(svc.reals.begin() + std::ptrdiff_t(ri), old);
        });
        return std::nullopt;
    }

    Status apply(const AddLocalAddress& ch, const std::string& path) {
        const std::string field = member_path(path, "address");
        if (auto e = check_unicast(ch.address, field)) return e;
        auto it = services.find(ch.service);
        if (it == services.end()) return no_service(ch.service, path);
        std::size_t pos = it->second;
        auto& pool = c.services[pos].local_addresses;
        if (std::find(pool.begin(), pool.end(), ch.address) != pool.end())
            return Error{field, "local address " + ch.address.str() + " already exists in service " +
                                    describe(ch.service)};
        pool.push_back(ch.address);
        undo.push_back([this, pos] { c.services[pos].local_addresses.pop_back(); });
        return std::nullopt;
    }

    Status apply(const DeleteLocalAddress& ch, const std::string& path) {
        const std::string field = member_path(path, "address");
        auto it = services.find(ch.service);
        if (it == services.end()) return no_service(ch.service, path);
        std::size_t pos = it->second;
        cfg::Service& s = c.services[pos];
        auto& pool = s.local_addresses;
        auto at = std::find(pool.begin(), pool.end(), ch.address);
        if (at == pool.end())
            return Error{field, "no local address " + ch.address.str() + " in service " + describe(ch.service)};
        if (pool.size() == 1 && has_fullnat(s))
            return Error{field, ch.address.str() + " is the last local address of service " + describe(ch.service) +
                                    ", which has fullnat real (or sorry) servers"};
        std::size_t i = std::size_t(at - pool.begin());
        pool.erase(at);
        undo.push_back([this, pos, i, a = ch.address] {
            auto& list = c.services[pos].local_addresses;
            list.insert(list.begin() + std::ptrdiff_t(i), a);
        });
        return std::nullopt;
    }

    // No match of `g` may overlap another match (of any group, or of `g` itself) or take
    // the packets of an address service.
    Status check_new_matches(const cfg::PortGroup& g, const std::string& field) {
        for (std::size_t k = 0; k < g.matches.size(); ++k) {
            const auto& m = g.matches[k];
            const std::string mf = index_path(member_path(field, "matches"), k);
            if (auto f = matches.overlapping(m))
                return Error{mf, describe(m) + " overlaps " + describe_found(*f) +
                                     "; a packet can belong to one service only"};
            for (std::size_t j = 0; j < k; ++j)
                if (overlaps(m, g.matches[j]))
                    return Error{mf, describe(m) + " overlaps " + index_path(member_path(field, "matches"), j) + " (" +
                                         describe(g.matches[j]) + ")"};
            if (auto key = matches.covered_service(m))
                return Error{mf, describe(m) + " takes the packets of service " + describe(*key) +
                                     "; a packet can belong to one service only"};
        }
        return std::nullopt;
    }

    // The group with `mark` becomes `after` (nullopt: removed, from position `pos`) while
    // the NAT keys of the mark's service follow its protocols. False, with nothing changed,
    // when the new protocols give a NAT server two owners (`bad` then names it).
    bool replace_group(uint32_t mark, std::optional<cfg::PortGroup> after, std::size_t pos,
                       std::optional<cfg::RealServer>* bad = nullptr) {
        cfg::Service* svc = find(mark_key(mark));
        if (svc) nat_remove(*svc);
        std::optional<cfg::PortGroup> before;
        if (auto it = groups.find(mark); it != groups.end()) before = c.port_groups[it->second];
        set_group(mark, before, after, pos);
        if (!svc) return true;
        if (auto i = nat_add(*svc)) {
            if (bad) *bad = *i == svc->reals.size() ? sorry_as_real(*svc->sorry_server) : svc->reals[*i];
            set_group(mark, after, before, pos);
            nat_add(*svc);
            return false;
        }
        return true;
    }

    void set_group(uint32_t mark, const std::optional<cfg::PortGroup>& before,
                   const std::optional<cfg::PortGroup>& after, std::size_t pos) {
        if (before)
            for (const auto& m : before->matches) matches.remove_match(m);
        if (after)
            for (const auto& m : after->matches) matches.add_match(m, mark);
        if (before && after) {
            c.port_groups[groups.at(mark)] = *after;
        } else if (after) {
            c.port_groups.insert(c.port_groups.begin() + std::ptrdiff_t(pos), *after);
            reindex_groups_from(pos);
        } else if (before) {
            c.port_groups.erase(c.port_groups.begin() + std::ptrdiff_t(pos));
            groups.erase(mark);
            reindex_groups_from(pos);
        }
    }

    Status apply(const AddPortGroup& ch, const std::string& path) {
        const std::string field = member_path(path, "port_group");
        if (auto e = validate_port_group(ch.group, field)) return e;
        if (auto e = check_new_matches(ch.group, field)) return e;
        uint32_t mark = ch.group.mark;
        std::optional<cfg::PortGroup> before;
        std::size_t pos = c.port_groups.size();
        cfg::PortGroup after = ch.group;
        if (auto it = groups.find(mark); it != groups.end()) {
            pos = it->second;
            before = c.port_groups[pos];
            after.matches.insert(after.matches.begin(), before->matches.begin(), before->matches.end());
        }
        std::optional<cfg::RealServer> bad;
        if (!replace_group(mark, after, pos, &bad))
            return Error{field, nat_owner_message(*bad) + " (a server of service " + describe(mark_key(mark)) + ")"};
        undo.push_back([this, mark, before, pos] { replace_group(mark, before, pos); });
        return std::nullopt;
    }

    Status apply(const DeletePortGroup& ch, const std::string& path) {
        auto it = groups.find(ch.mark);
        if (it == groups.end()) return Error{member_path(path, "mark"), "no port group " + std::to_string(ch.mark)};
        std::size_t pos = it->second;
        cfg::PortGroup before = c.port_groups[pos];
        std::optional<cfg::PortGroup> after;
        if (ch.match) {
            auto& ms = before.matches;
            auto m = std::find(ms.begin(), ms.end(), *ch.match);
            if (m == ms.end())
                return Error{member_path(path, "match"),
                             "port group " + std::to_string(ch.mark) + " has no match " + describe(*ch.match)};
            if (ms.size() > 1) {  // a group without matches is removed with its last one
                after = before;
                after->matches.erase(after->matches.begin() + (m - ms.begin()));
            }
        }
        // Fewer protocols cannot give a NAT server a second owner.
        replace_group(ch.mark, after, pos);
        undo.push_back([this, mark = ch.mark, before, pos] { replace_group(mark, before, pos); });
        return std::nullopt;
    }

    Status apply(const SetTimeouts& ch, const std::string& path) {
        if (auto e = validate_timeouts(ch.timeouts, member_path(path, "timeouts"))) return e;
        undo.push_back([this, old = c.timeouts] { c.timeouts = old; });
        c.timeouts = ch.timeouts;
        return std::nullopt;
    }

    Status apply(const SetServiceTimeouts& ch, const std::string& path) {
        auto it = services.find(ch.service);
        if (it == services.end()) return no_service(ch.service, path);
        if (auto e = validate_timeout_overrides(ch.timeouts, member_path(path, "timeouts"))) return e;
        std::size_t pos = it->second;
        undo.push_back([this, pos, old = c.services[pos].timeouts] { c.services[pos].timeouts = old; });
        c.services[pos].timeouts = ch.timeouts;
        return std::nullopt;
    }

    // ---- runtime health state: one service, positions unchanged ------------------------

    Status apply(const SetRealHealth& ch, const std::string& path) {
        auto it = services.find(ch.service);
        if (it == services.end()) return no_service(ch.service, path);
        if (ch.dynamic_weight)
            if (*ch.dynamic_weight > 65535)
                return Error{member_path(path, "dynamic_weight"), "must be between 0 and 65535"};
        std::size_t pos = it->second;
        auto ri = locate_real(c.services[pos], ch.address, ch.port, member_path(path, "real_server"));
        if (!ri) return ri.error();
        cfg::RealServer& r = c.services[pos].reals[*ri];
        undo.push_back([this, pos, ri = *ri, health = r.health, weight = r.dynamic_weight] {
            cfg::RealServer& back = c.services[pos].reals[ri];
            back.health = health;
            back.dynamic_weight = weight;
        });
        r.health = ch.health;
        r.dynamic_weight = ch.dynamic_weight;
        return std::nullopt;
    }

    Status apply(const SetSorryActive& ch, const std::string& path) {
        auto it = services.find(ch.service);
        if (it == services.end()) return no_service(ch.service, path);
        std::size_t pos = it->second;
        cfg::Service& s = c.services[pos];
        if (ch.active && !s.sorry_server)
            return Error{member_path(path, "active"), "service " + describe(ch.service) +
                                                          " has no sorry server to activate"};
        undo.push_back([this, pos, old = s.sorry_active] { c.services[pos].sorry_active = old; });
        s.sorry_active = ch.active;
        return std::nullopt;
    }

    // ---- sync daemons: at most one per state, kept in the order they were started ------

    Status apply(const StartSyncDaemon& ch, const std::string& path) {
        const std::string field = member_path(path, "daemon");
        if (auto e = validate_sync_daemon(ch.daemon, field)) return e;
        for (const auto& d : c.sync_daemons)
            if (d.state == ch.daemon.state)
                return Error{member_path(field, "state"),
                             "a " + std::string(cfg::to_string(d.state)) + " sync daemon is already running (on " +
                                 d.mcast_interface + ", syncid " + std::to_string(d.syncid) + "); stop it first"};
        for (const auto& d : c.sync_daemons)
            if (auto e = validate_sync_daemon_pair(d, ch.daemon, member_path(field, "mcast_port"))) return e;
        c.sync_daemons.push_back(ch.daemon);
        undo.push_back([this] { c.sync_daemons.pop_back(); });
        return std::nullopt;
    }

    Status apply(const StopSyncDaemon& ch, const std::string& path) {
        auto& ds = c.sync_daemons;
        auto it = std::find_if(ds.begin(), ds.end(), [&](const cfg::SyncDaemon& d) { return d.state == ch.state; });
        if (it == ds.end())
            return Error{member_path(path, "state"),
                         "no " + std::string(cfg::to_string(ch.state)) + " sync daemon is running"};
        std::size_t pos = std::size_t(it - ds.begin());
        undo.push_back([this, pos, old = *it] { c.sync_daemons.insert(c.sync_daemons.begin() + std::ptrdiff_t(pos), old); });
        ds.erase(it);
        return std::nullopt;
    }

    Status apply(const Clear&, const std::string&) {
        // Port groups go too: -S saves them with the services, so `-C` then `-R` restores both.
        // The sync daemons stay, as ipvsadm -C leaves the kernel's running.
        cfg::Config next;
        next.timeouts = c.timeouts;
        next.sync_daemons = c.sync_daemons;
        return replace_whole(std::move(next), "");
    }

    Status apply(const ReplaceConfig& ch, const std::string& path) {
        const std::string field = member_path(path, "config");
        if (auto e = validate_config(ch.config, field)) return e;
        return replace_whole(ch.config, field);
    }

    // O(size): the whole configuration and every index; undone by swapping back.
    Status replace_whole(cfg::Config next, const std::string& field) {
        std::swap(c, next);
        if (auto e = rebuild(field)) {
            std::swap(c, next);
            rebuild();
            return e;
        }
        undo.push_back([this, old = std::move(next)] {
            c = old;
            rebuild();
        });
        return std::nullopt;
    }

    void rollback_to(std::size_t mark) {
        while (undo.size() > mark) {
            auto fn = std::move(undo.back());
            undo.pop_back();
            fn();
        }
    }
};

ConfigEditor::ConfigEditor(cfg::Config initial) : impl_(std::make_unique<Impl>(std::move(initial))) {}
ConfigEditor::~ConfigEditor() = default;
ConfigEditor::ConfigEditor(ConfigEditor&&) noexcept = default;
ConfigEditor& ConfigEditor::operator=(ConfigEditor&&) noexcept = default;

const cfg::Config& ConfigEditor::config() const { return impl_->c; }

const cfg::Service* ConfigEditor::find_service(const cfg::ServiceKey& k) const {
    auto it = impl_->services.find(k);
    return it == impl_->services.end() ? nullptr : &impl_->c.services[it->second];
}

const cfg::PortGroup* ConfigEditor::find_port_group(uint32_t mark) const { return impl_->find_group(mark); }

Status ConfigEditor::apply(const Change& change, const std::string& path) {
    return std::visit([&](const auto& ch) { return impl_->apply(ch, path); }, change);
}

Status ConfigEditor::apply_batch(const Batch& batch, bool indexed) {
    std::size_t mark = impl_->undo.size();
    for (std::size_t i = 0; i < batch.changes.size(); ++i)
        if (auto e = apply(batch.changes[i], indexed ? index_path("changes", i) : std::string())) {
            impl_->rollback_to(mark);
            return e;
        }
    commit();
    return std::nullopt;
}

void ConfigEditor::commit() { impl_->undo.clear(); }
void ConfigEditor::rollback() { impl_->rollback_to(0); }
void ConfigEditor::rollback_to(std::size_t mark) { impl_->rollback_to(mark); }
std::size_t ConfigEditor::pending() const { return impl_->undo.size(); }

}  // namespace dplb::model
