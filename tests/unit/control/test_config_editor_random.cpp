// ConfigEditor under long random sequences of mixed changes: its incremental indexes
// (services by key with swap-remove, the ordered address services and port-group matches,
// the refcounted NAT owners) and its undo log must never drift from what a fresh editor,
// built from scratch from the same configuration, decides.
//
// The changes are drawn from a small space of addresses, ports, marks and persistence
// settings so that collisions (duplicates, overlapping matches, covered services, NAT
// servers with two owners) are frequent. Every change is applied to the long-lived editor E
// and to F = ConfigEditor(E.config() before the change): both must decide alike (same error
// field and message), an accepted change must give the same configuration (order included)
// that validates, a refused one must leave E untouched. Batches are checked all or nothing
// against a change-by-change reference, and rollback()/rollback_to() against copies taken
// at commit()/mark time. After every step two probes (a random change and a NAT server
// put under another owner) are applied to E and a fresh editor, then undone on E with
// rollback_to(). Seeds 1-10, 4,000 steps each: about 0.3 s in a debugoptimized build.
// DPLB_RANDOM_STATS=1 prints how often each op was accepted/refused.
//
// Checked against injected bugs (each found): a swap-remove that forgets to reindex the
// moved service, delete-real keeping the NAT owner key, a removed port group that leaves
// later groups' positions stale, and a refused port-group widening that drops the mark
// service's NAT keys.
//
// A failure names the seed, the step and the change's JSON form, e.g.
//   seed 3 step 1234: add-real {"op":"add-real",...}: E accepted, fresh editor refused ...
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <cstdlib>
#include <random>
#include <sstream>

#include "codec/change_json.hpp"
#include "codec/config_json.hpp"
#include "model/config_editor.hpp"
#include "model/validate.hpp"

using namespace dplb;
using namespace dplb::config;
using model::ConfigEditor;

namespace {

// ---- a small space, so that changes collide often ------------------------------------------

class Gen {
public:
    explicit Gen(uint32_t seed) : rng_(seed) {}

    std::mt19937& rng() { return rng_; }
    uint32_t below(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }
    bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
    template <class T>
    const T& pick(const std::vector<T>& v) {
        return v[below(uint32_t(v.size()))];
    }

    Ip4 vip() { return Ip4::from_host(0x0a000001u + below(2)); }       // 10.0.0.1-2
    Ip4 rip() { return Ip4::from_host(0x0a010001u + below(2)); }       // 10.1.0.1-2
    Ip4 lip() {                                                         // 10.2.0.1-3, rarely invalid
        if (chance(0.03)) return Ip4::from_host(0);
        return Ip4::from_host(0x0a020001u + below(3));
    }
    Protocol proto() { return chance(0.5) ? Protocol::tcp : Protocol::udp; }
    uint32_t mark() { return 1 + below(3); }

    ServiceKey key() {
        ServiceKey k;
        if (chance(0.25)) {
            k.fwmark = mark();
            if (chance(0.02)) k.port = 80;  // invalid: a fwmark key is canonical
            return k;
        }
        k.protocol = proto();
        k.address = vip();
        static const uint16_t ports[] = {0, 80, 81, 443};
        k.port = ports[below(4)];
        return k;
    }

    std::optional<Persistence> persistence() {
        switch (below(4)) {
            case 0: return std::nullopt;
            case 1: return Persistence{300, Ip4::from_host(0xffffffffu)};
            case 2: return Persistence{60, Ip4::from_host(0xffffff00u)};
            default:
                if (chance(0.1)) return Persistence{300, Ip4::from_host(0xff00ff00u)};  // invalid netmask
                return Persistence{120, Ip4::from_host(0xffffffffu)};
        }
    }

    // Attributes (no lists); port-0 keys usually get a persistence so they are valid.
    void attributes(Service& s) {
        static const Scheduler scheds[] = {Scheduler::rr, Scheduler::wrr, Scheduler::wlc, Scheduler::sh, Scheduler::mh};
        s.scheduler = scheds[below(5)];
        s.sched_flags = 0;
        s.mh_table_size = 65537;
        if (s.scheduler == Scheduler::sh && chance(0.3)) s.sched_flags = sched_flag_sh_port;
        if (s.scheduler == Scheduler::mh && chance(0.3)) s.mh_table_size = 251;
        if (chance(0.03)) s.sched_flags = sched_flag_mh_fallback;  // invalid unless mh
        s.persistence = persistence();
        if (!s.key.is_fwmark() && s.key.port == 0 && !s.persistence && chance(0.85))
            s.persistence = Persistence{300, Ip4::from_host(0xffffffffu)};
        s.timeouts = overrides();
        s.sorry_server.reset();
        s.sorry_active = false;
        if (chance(0.3)) {  // often at a real server's address: the NAT owner rule covers it too
            RealServer r = real(s.key);
            s.sorry_server = SorryServer{r.address, r.port, r.forward, chance(0.5)};
            s.sorry_active = chance(0.3);
        }
        if (chance(0.02)) s.sorry_active = true;  // invalid without a sorry server
    }

    // Runtime state, as the health checker sets it.
    void health(RealServer& r) {
        static const RealHealth h[] = {RealHealth::up, RealHealth::up, RealHealth::removed, RealHealth::inhibited};
        r.health = h[below(4)];
        r.dynamic_weight.reset();
        if (chance(0.2)) r.dynamic_weight = below(5);
    }

    TimeoutOverrides overrides() {
        TimeoutOverrides t;
        if (chance(0.3)) t.tcp = 1 + below(1000);
        if (chance(0.2)) t.udp = 1 + below(1000);
        if (chance(0.1)) t.tcp_fin = 1 + below(100);
        if (chance(0.03)) t.tcp = 0;  // invalid
        return t;
    }

    ForwardMethod forward() {
        static const ForwardMethod f[] = {ForwardMethod::nat,    ForwardMethod::nat, ForwardMethod::nat,
                                          ForwardMethod::fullnat, ForwardMethod::dr,  ForwardMethod::tunnel};
        return f[below(6)];
    }

    // A real server for `key`, mostly valid (DR/TUN keep the service's port).
    RealServer real(const ServiceKey& key) {
        RealServer r;
        r.address = chance(0.02) ? Ip4::from_host(0xffffffffu) : rip();
        r.forward = forward();
        bool any_port = key.is_fwmark() || key.port == 0;
        static const uint16_t ports[] = {80, 80, 8080};
        if (r.forward == ForwardMethod::dr || r.forward == ForwardMethod::tunnel)
            r.port = chance(0.9) ? key.port : ports[below(3)];
        else
            r.port = any_port && chance(0.3) ? 0 : ports[below(3)];
        if (chance(0.03)) r.port = 0;
        r.weight = below(4);
        if (chance(0.1)) {
            r.upper_threshold = 1 + below(10);
            r.lower_threshold = below(12);  // sometimes above upper: invalid
        }
        if (chance(0.2)) health(r);
        return r;
    }

    PortMatch match() {
        PortMatch m;
        m.protocol = proto();
        m.address = vip();
        // Around the service ports (80, 81, 443) so matches cover services and overlap.
        uint16_t base = chance(0.6) ? 78 : 440;
        m.first_port = uint16_t(base + below(8));
        m.last_port = uint16_t(m.first_port + below(4));
        if (chance(0.02)) m.first_port = 0;  // invalid
        return m;
    }

    Timeouts timeouts() {
        Timeouts t{1 + below(1000), 1 + below(200), 1 + below(500)};
        if (chance(0.05)) t.udp = 0;  // invalid
        return t;
    }

private:
    std::mt19937 rng_;
};

// A random change against configuration `c`: it mostly names what exists (so edits and
// deletes apply), sometimes what does not.
model::Change random_change(Gen& g, const Config& c, const std::vector<Config>& earlier) {
    auto some_service = [&]() -> const Service* {
        if (c.services.empty() || g.chance(0.1)) return nullptr;
        return &g.pick(c.services);
    };
    auto key_of = [&](const Service* s) { return s ? s->key : g.key(); };
    if (g.chance(0.08)) {  // the health checker's changes
        const Service* found = some_service();
        if (g.chance(0.3)) return model::SetSorryActive{key_of(found), g.chance(0.7)};
        RealServer rs = g.real(key_of(found));
        if (found && !found->reals.empty() && g.chance(0.85)) rs = g.pick(found->reals);
        g.health(rs);
        if (g.chance(0.02)) rs.dynamic_weight = 70000;  // invalid
        return model::SetRealHealth{key_of(found), rs.address, rs.port, rs.health, rs.dynamic_weight};
    }
    uint32_t r = g.below(1000);

    if (r < 130) {  // add-service
        Service s;
        s.key = g.key();
        g.attributes(s);
        for (uint32_t n = g.below(4); n > 0; --n) s.reals.push_back(g.real(s.key));
        if (g.chance(0.3) && !c.services.empty()) {  // NAT servers another service has (owner rule)
            for (RealServer rs : g.pick(c.services).reals)
                if (rs.forward == ForwardMethod::nat && rs.port != 0 && s.reals.size() < 4) {
                    rs.weight = g.below(4);
                    s.reals.push_back(rs);
                }
        }
        for (uint32_t n = g.below(3); n > 0; --n) s.local_addresses.push_back(g.lip());
        return model::AddService{s};
    }
    if (r < 220) {  // edit-service: new attributes, lists left as they are (or junk: ignored)
        const Service* found = some_service();
        Service s;
        s.key = key_of(found);
        g.attributes(s);
        if (g.chance(0.2)) s.reals.push_back(g.real(s.key));
        return model::EditService{s};
    }
    if (r < 290) return model::DeleteService{key_of(some_service())};
    if (r < 440) {  // add-real: often an address:port the service or another one already has
        const Service* found = some_service();
        ServiceKey k = key_of(found);
        RealServer rs = g.real(k);
        if (found && !found->reals.empty() && g.chance(0.2)) {
            rs.address = g.pick(found->reals).address;
            rs.port = g.pick(found->reals).port;
        }
        if (g.chance(0.3) && !c.services.empty()) {  // a NAT server of another service
            const Service& other = g.pick(c.services);
            if (!other.reals.empty()) {
                rs = g.pick(other.reals);
                rs.forward = ForwardMethod::nat;
            }
        }
        return model::AddReal{k, rs};
    }
    if (r < 540) {  // edit-real
        const Service* found = some_service();
        ServiceKey k = key_of(found);
        RealServer rs = g.real(k);
        if (found && !found->reals.empty() && g.chance(0.85)) {
            const RealServer& old = g.pick(found->reals);
            rs.address = old.address;
            rs.port = old.port;
            if (rs.forward == ForwardMethod::dr || rs.forward == ForwardMethod::tunnel) rs.forward = old.forward;
        }
        return model::EditReal{k, rs};
    }
    if (r < 610) {  // delete-real
        const Service* found = some_service();
        ServiceKey k = key_of(found);
        if (found && !found->reals.empty() && g.chance(0.85)) {
            const RealServer& old = g.pick(found->reals);
            return model::DeleteReal{k, old.address, old.port};
        }
        RealServer rs = g.real(k);
        return model::DeleteReal{k, rs.address, rs.port};
    }
    if (r < 670) return model::AddLocalAddress{key_of(some_service()), g.lip()};
    if (r < 720) {  // delete-local-address
        const Service* found = some_service();
        if (found && !found->local_addresses.empty() && g.chance(0.85))
            return model::DeleteLocalAddress{found->key, g.pick(found->local_addresses)};
        return model::DeleteLocalAddress{key_of(found), g.lip()};
    }
    if (r < 810) {  // add-port-group
        PortGroup pg;
        pg.mark = g.chance(0.02) ? 0 : g.mark();
        for (uint32_t n = g.below(3) + (g.chance(0.97) ? 1 : 0); n > 0; --n) pg.matches.push_back(g.match());
        // Often: a single-protocol group of a mark service gets the other protocol, which
        // moves that service's NAT servers into the other protocol's owner rule.
        if (g.chance(0.5))
            for (const auto& grp : c.port_groups) {
                bool tcp = false, udp = false;
                for (const auto& m : grp.matches) (m.protocol == Protocol::tcp ? tcp : udp) = true;
                if (tcp == udp) continue;
                pg.mark = grp.mark;
                pg.matches = {g.match()};
                pg.matches[0].protocol = tcp ? Protocol::udp : Protocol::tcp;
                break;
            }
        return model::AddPortGroup{pg};
    }
    if (r < 880) {  // delete-port-group: whole, or one match
        model::DeletePortGroup d;
        if (!c.port_groups.empty() && g.chance(0.85)) {
            const PortGroup& pg = g.pick(c.port_groups);
            d.mark = pg.mark;
            if (g.chance(0.6)) d.match = g.chance(0.9) ? g.pick(pg.matches) : g.match();
        } else {
            d.mark = g.mark();
            if (g.chance(0.5)) d.match = g.match();
        }
        return d;
    }
    if (r < 920) return model::SetTimeouts{g.timeouts()};
    if (r < 977) return model::SetServiceTimeouts{key_of(some_service()), g.overrides()};
    if (r < 981) return model::Clear{};
    // replace-config: an earlier valid configuration, sometimes made invalid.
    Config next = earlier.empty() ? Config{} : g.pick(earlier);
    if (g.chance(0.1) && !next.services.empty()) next.services.push_back(next.services.front());  // duplicate
    if (g.chance(0.15) && !next.services.empty()) {
        // A copy of a service under another key with another persistence: valid for
        // validate_config, but its NAT servers may then have two owners.
        Service copy = g.pick(next.services);
        copy.key = g.key();
        copy.persistence = copy.persistence ? std::nullopt : std::optional<Persistence>(Persistence{});
        next.services.push_back(copy);
    }
    return model::ReplaceConfig{next};
}

std::string show(const model::Change& ch) {
    return std::string(model::op_name(ch)) + " " + model::to_json(ch).dump();
}

std::string show(const model::Status& e) { return e ? "refused (" + e->str() + ")" : "accepted"; }

// E's O(1) lookups agree with its configuration.
bool lookups_agree(const ConfigEditor& ed, std::string& why) {
    const Config& c = ed.config();
    for (std::size_t i = 0; i < c.services.size(); ++i)
        if (ed.find_service(c.services[i].key) != &c.services[i]) {
            why = "find_service(services[" + std::to_string(i) + "]) does not point at it";
            return false;
        }
    for (std::size_t i = 0; i < c.port_groups.size(); ++i)
        if (ed.find_port_group(c.port_groups[i].mark) != &c.port_groups[i]) {
            why = "find_port_group(port_groups[" + std::to_string(i) + "]) does not point at it";
            return false;
        }
    return true;
}

struct Run {
    uint32_t seed;
    Gen g;
    ConfigEditor e;
    Config committed;             // E's configuration at its last commit()
    std::vector<Config> earlier;  // valid configurations seen, for replace-config
    std::size_t step = 0;
    std::size_t accepted = 0, refused = 0, batches = 0, rollbacks = 0;
    std::map<std::string, std::pair<std::size_t, std::size_t>> by_op;  // op -> (accepted, refused)
    // A mark taken mid-way for rollback_to (pending count and configuration then).
    std::optional<std::pair<std::size_t, Config>> mark;

    explicit Run(uint32_t s) : seed(s), g(s) {}

    [[noreturn]] void fail(const std::string& what, const model::Change* ch = nullptr, const Config* before = nullptr) {
        std::ostringstream out;
        out << "seed " << seed << " step " << step << ": ";
        if (ch) out << show(*ch) << ": ";
        out << what;
        if (before) out << "\nconfiguration before: " << model::to_json(*before).dump();
        FAIL(out.str());
        throw std::logic_error("unreachable");
    }

    void same_decision(const model::Status& a, const model::Status& b, const model::Change* ch, const Config& before,
                       const char* who) {
        if (bool(a) != bool(b) || (a && (a->field != b->field || a->message != b->message)))
            fail(std::string("E ") + show(a) + ", " + who + " " + show(b), ch, &before);
    }

    void check_valid(const model::Change* ch, const Config& before) {
        if (auto v = model::validate_config(e.config())) fail("accepted into an invalid configuration: " + v->str(), ch, &before);
        std::string why;
        if (!lookups_agree(e, why)) fail(why, ch, &before);
    }

    // One change on E and on a fresh editor built from E's configuration.
    void one() {
        model::Change ch = random_change(g, e.config(), earlier);
        Config before = e.config();
        std::size_t pending = e.pending();
        ConfigEditor f(before);
        auto ee = e.apply(ch);
        auto ef = f.apply(ch);
        same_decision(ee, ef, &ch, before, "fresh editor");
        auto& counts = by_op[model::op_name(ch)];
        ++(ee ? counts.second : counts.first);
        if (ee && ee->message.find("NAT real server") != std::string::npos) {
            ++by_op[std::string("NAT:") + model::op_name(ch)].second;
            if (auto* a = std::get_if<model::AddPortGroup>(&ch); a && f.find_port_group(a->group.mark))
                ++by_op["NAT:add-port-group to an existing group"].second;
        }
        if (ee) {
            ++refused;
            if (!(e.config() == before)) fail("refused but the configuration changed", &ch, &before);
            if (e.pending() != pending) fail("refused but the undo log grew", &ch, &before);
            return;
        }
        ++accepted;
        if (!(e.config() == f.config())) fail("E and the fresh editor disagree on the result", &ch, &before);
        if (e.pending() != pending + 1) fail("accepted without exactly one undo entry", &ch, &before);
        check_valid(&ch, before);
    }

    // A change applied to E and to a fresh editor and then undone on E with rollback_to():
    // probes E's indexes without moving the sequence on. The NAT probe puts a NAT server the
    // configuration has into a new service with a random persistence, which only the owner
    // index can refuse.
    void probe(bool nat) {
        const Config& c = e.config();
        model::Change ch = random_change(g, c, earlier);
        if (nat) {
            // A NAT server of service `from`, in a new address service of one of `from`'s
            // protocols whose persistence gives another owner: refused exactly when the
            // owner index holds the server's key.
            std::vector<std::pair<const Service*, const RealServer*>> servers;
            for (const auto& svc : c.services)
                for (const auto& rs : svc.reals)
                    if (rs.forward == ForwardMethod::nat) servers.emplace_back(&svc, &rs);
            if (servers.empty()) return;
            auto [from, rs] = g.pick(servers);
            Service s;
            s.key.protocol = from->key.protocol;
            if (from->key.is_fwmark()) {
                const PortGroup* pg = e.find_port_group(from->key.fwmark);
                if (pg) s.key.protocol = g.pick(pg->matches).protocol;
            }
            s.key.address = g.vip();
            s.key.port = rs->port == 0 ? 0 : 80;
            std::vector<std::optional<Persistence>> owners = {std::nullopt, Persistence{300, Ip4::from_host(0xffffffffu)},
                                                              Persistence{300, Ip4::from_host(0xffffff00u)}};
            std::erase_if(owners, [&](const std::optional<Persistence>& p) {
                if (s.key.port == 0 && !p) return true;
                if (!p || !from->persistence) return !p == !from->persistence;
                return p->netmask == from->persistence->netmask;
            });
            s.persistence = g.pick(owners);
            s.reals = {*rs};
            ch = model::AddService{s};
        }
        Config before = c;
        std::size_t pending = e.pending();
        ConfigEditor f(before);
        auto ee = e.apply(ch);
        auto ef = f.apply(ch);
        same_decision(ee, ef, &ch, before, "fresh editor (probe)");
        if (!ee && !(e.config() == f.config())) fail("E and the fresh editor disagree on the result (probe)", &ch, &before);
        e.rollback_to(pending);
        if (!(e.config() == before)) fail("rollback_to() after a probe did not restore the configuration", &ch, &before);
    }

    // The next k changes as one batch: all or nothing, as applying them one by one says.
    void batch() {
        ++batches;
        Config before = e.config();
        std::size_t pending = e.pending();
        ConfigEditor ref(before);  // change by change
        model::Batch b;
        model::Status expect;
        std::size_t k = 2 + g.below(5);
        for (std::size_t i = 0; i < k; ++i) {
            model::Change ch = random_change(g, ref.config(), earlier);
            b.changes.push_back(ch);
            if (!expect)
                if (auto err = ref.apply(ch, "changes[" + std::to_string(i) + "]")) expect = err;
        }
        auto where = [&] { return "batch " + model::to_json(b).dump() + ": "; };
        ConfigEditor f(before);
        auto ee = e.apply_batch(b);
        auto ef = f.apply_batch(b);
        same_decision(ee, ef, nullptr, before, (where() + "fresh editor").c_str());
        same_decision(ee, expect, nullptr, before, (where() + "one by one").c_str());
        if (e.pending() != (ee ? pending : 0)) fail(where() + "pending() after apply_batch");
        if (ee) {
            if (!(e.config() == before)) fail(where() + "refused but the configuration changed", nullptr, &before);
        } else {
            if (!(e.config() == ref.config()) || !(f.config() == ref.config()))
                fail(where() + "result differs from applying the changes one by one", nullptr, &before);
            check_valid(nullptr, before);
        }
        // apply_batch commits everything (earlier pending changes included) when it succeeds
        // and rolls back only its own changes when it fails.
        if (!ee) {
            committed = e.config();
            mark.reset();
        }
    }

    void rollback() {
        ++rollbacks;
        e.rollback();
        if (!(e.config() == committed)) fail("rollback() did not return to the last commit()", nullptr, &committed);
        if (e.pending() != 0) fail("pending after rollback()");
        std::string why;
        if (!lookups_agree(e, why)) fail("after rollback(): " + why);
        mark.reset();
    }

    void rollback_to_mark() {
        ++rollbacks;
        e.rollback_to(mark->first);
        if (!(e.config() == mark->second))
            fail("rollback_to(" + std::to_string(mark->first) + ") did not return to the marked configuration", nullptr,
                 &mark->second);
        if (e.pending() != mark->first) fail("pending after rollback_to");
        std::string why;
        if (!lookups_agree(e, why)) fail("after rollback_to(): " + why);
        mark.reset();
    }

    void commit() {
        e.commit();
        committed = e.config();
        mark.reset();
    }

    void go(std::size_t steps) {
        for (step = 0; step < steps; ++step) {
            if (step % 50 == 25) {
                batch();
            } else {
                one();
            }
            probe(false);
            probe(true);
            if (step % 100 == 0 && earlier.size() < 16) earlier.push_back(e.config());
            else if (step % 100 == 0) earlier[g.below(16)] = e.config();
            uint32_t r = g.below(100);
            if (r < 3) rollback();  // the changes since commit() are undone; E goes on from there
            else if (r < 6 && mark) rollback_to_mark();
            else if (r < 10) commit();
            else if (r < 13 && !mark) mark.emplace(e.pending(), e.config());
        }
        // Whatever is pending rolls back to the last commit, and a fresh editor built from the
        // result agrees with E on one more round of changes.
        rollback();
        for (std::size_t i = 0; i < 50; ++i, ++step) one();
    }
};

}  // namespace

TEST_CASE("editor: random change sequences keep the indexes in step with a fresh editor") {
    auto start = std::chrono::steady_clock::now();
    std::size_t accepted = 0, refused = 0, batches = 0, rollbacks = 0;
    std::map<std::string, std::pair<std::size_t, std::size_t>> by_op;
    for (uint32_t seed = 1; seed <= 10; ++seed) {
        Run run(seed);
        run.go(4000);
        accepted += run.accepted;
        refused += run.refused;
        batches += run.batches;
        rollbacks += run.rollbacks;
        for (const auto& [op, n] : run.by_op) {
            by_op[op].first += n.first;
            by_op[op].second += n.second;
        }
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    // Both outcomes must be well represented, or the generator tests little.
    std::ostringstream ops;
    for (const auto& [op, n] : by_op) ops << " " << op << " " << n.first << "/" << n.second;
    INFO("accepted/refused:" << ops.str());
    if (std::getenv("DPLB_RANDOM_STATS")) WARN(ops.str() << "; " << ms << " ms");
    INFO("accepted " << accepted << ", refused " << refused << ", batches " << batches << ", rollbacks " << rollbacks
                     << ", " << ms << " ms");
    CHECK(accepted > 2000);
    CHECK(refused > 2000);
    CHECK(batches >= 5 * 39);
    CHECK(rollbacks > 50);
}
