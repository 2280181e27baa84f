// MISC_CHECK's command line, prepared in the parent so the forked child has nothing left to
// do but async-signal-safe calls (probes run in a multi-threaded process).
//
// As keepalived 2.2.7 runs it (lib/notify.c), not through a shell: misc_path is split into
// words with keepalived's quoting ('single', "double", backslash escapes \n \t \xHH \ooo
// \cX ...), a bare program name is searched in PATH, and the program is exec'd directly.
// The one exception is keepalived's too: a command starting with '<' or '>' (a redirection
// testing that a file opens) is run by /bin/sh -c.
//
// `user NAME [GROUP]`: the script runs with NAME's uid and gid (GROUP's gid when given) and
// no supplementary group besides it. Without `user`, keepalived runs scripts as the user
// "keepalived_script" when it exists, else as itself (root).
//
// Note: the names are resolved with getpwnam_r/getgrnam_r, which read the local user
// database; an NSS backend that queries the network (LDAP, ...) would block here.
//
// Threading: plain functions and values.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace dplb::health::probes {

struct MiscCommand {
    std::string program;             // what execve runs (absolute or relative path)
    std::vector<std::string> argv;   // argv[0] as written
    std::optional<uid_t> uid;        // nullopt: keep ours
    std::optional<gid_t> gid;
};

// keepalived's word splitting of a script line; an error on an unterminated quote or a
// trailing backslash.
model::Result<std::vector<std::string>> split_command_line(std::string_view);

// Splits, finds the program, resolves the user. `path_env`: PATH to search (nullopt: the
// process's PATH, or the system default when unset).
model::Result<MiscCommand> prepare_misc_command(const std::string& misc_path, const std::optional<std::string>& user,
                                                std::optional<std::string> path_env = std::nullopt);

}  // namespace dplb::health::probes
