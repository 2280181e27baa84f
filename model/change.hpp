// Typed configuration changes: what every mutation becomes, from the JSON socket to the
// journal and the dataplane link (docs/architecture.md "How a change travels").
//
// A change is complete in itself: an edit carries the object's new values in full (the
// request decoder in control/api merged the members the request left out with the current
// ones), so applying it needs no request and gives the same result on dplb-control, on
// journal replay and on the dataplane. A Batch is applied all or nothing (ConfigEditor).
//
// Their JSON form (codec/change_json.hpp) is the control socket's request form with "op" in
// place of "cmd", so an error path such as "real_server.weight" means the same member in
// both.
//
// Threading: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "dplb/config.hpp"

namespace dplb::model {

struct AddService { config::Service service; };  // with its real servers and local addresses
// The service's new attributes (scheduler, flags, mh size, persistence, timeouts, sorry
// server and its runtime sorry_active); its real servers and local addresses are kept
// whatever `service` holds.
struct EditService { config::Service service; };
struct DeleteService { config::ServiceKey key; };

struct AddReal { config::ServiceKey service; config::RealServer real; };
// Replaces the real server with real.address:real.port, every member (the runtime ones too:
// the request decoder copies them from the current server).
struct EditReal { config::ServiceKey service; config::RealServer real; };
struct DeleteReal { config::ServiceKey service; Ip4 address; uint16_t port = 0; };

struct AddLocalAddress { config::ServiceKey service; Ip4 address; };
struct DeleteLocalAddress { config::ServiceKey service; Ip4 address; };

// Adds the matches to the group with that mark (created when absent), as ipvsadm's
// port-group requests do.
struct AddPortGroup { config::PortGroup group; };
// The whole group, or one match of it (a group left without matches is removed).
struct DeletePortGroup { uint32_t mark = 0; std::optional<config::PortMatch> match; };

struct SetTimeouts { config::Timeouts timeouts; };
struct SetServiceTimeouts { config::ServiceKey service; config::TimeoutOverrides timeouts; };

struct Clear {};  // every service and port group (not the sync daemons: ipvsadm -C keeps them)
struct ReplaceConfig { config::Config config; };

// Runtime health state (config.hpp), decided by dplb-control's health checker: never an
// operator's request, never journaled (is_runtime).
// The real server's health and dynamic weight (nullopt: none, the configured weight).
struct SetRealHealth {
    config::ServiceKey service;
    Ip4 address;
    uint16_t port = 0;
    config::RealHealth health = config::RealHealth::up;
    std::optional<uint32_t> dynamic_weight;
};
// The service's quorum is lost (active) or back: its sorry server replaces its real servers.
struct SetSorryActive { config::ServiceKey service; bool active = false; };

// Connection sync daemons (ipvsadm --start-daemon / --stop-daemon): a daemon of a state
// that runs already is refused, as IPVS answers EEXIST ("Daemon has already run"), and
// stopping a state that does not run is refused, as ESRCH ("No daemon is running"). To change
// a daemon's settings, stop it and start it again (one batch does both at once).
struct StartSyncDaemon { config::SyncDaemon daemon; };
struct StopSyncDaemon { config::SyncState state = config::SyncState::master; };

using Change = std::variant<AddService, EditService, DeleteService, AddReal, EditReal, DeleteReal, AddLocalAddress,
                            DeleteLocalAddress, AddPortGroup, DeletePortGroup, SetTimeouts, SetServiceTimeouts,
                            Clear, ReplaceConfig, SetRealHealth, SetSorryActive, StartSyncDaemon, StopSyncDaemon>;

struct Batch {
    std::vector<Change> changes;
};

// What a batch touched, for the dataplane's snapshot builder: only these services are
// rebuilt (their scheduler tables included); `timeouts` alone rebuilds no table.
struct Touched {
    bool everything = false;   // Clear or ReplaceConfig: compare every service
    bool port_groups = false;  // mark services' lookup keys may have moved
    bool timeouts = false;     // the global timeouts changed
    std::vector<config::ServiceKey> services;  // added, edited or deleted (may repeat)
    // A sync daemon started or stopped: no service table changes (the sync engine's business).
    bool sync_daemons = false;
};
Touched touched_by(const Batch&);

// The service without its real servers and local addresses: what an EditService carries.
config::Service attributes_of(const config::Service&);
// Copies those attributes (not the key, real servers or local addresses): the one list of
// what an EditService carries, for attributes_of and the editor.
void set_attributes(config::Service& to, const config::Service& from);

// Whether the change only sets runtime health state (SetRealHealth, SetSorryActive): pushed
// to the dataplane, never persisted.
bool is_runtime(const Change&);

// "add-real", "edit-service", ...: the request name a change comes from (the "op" member of
// its JSON form).
const char* op_name(const Change&);

}  // namespace dplb::model
