// dplb-control's persistent state: a state file (the configuration as of one generation)
// plus a journal of the batches accepted since, so that accepting a batch costs one append
// and one fsync instead of rewriting every service.
//
// Files, for a state path P:
//   P                 the state file (state_snapshot.hpp), replaced only atomically
//   P.journal         records appended since the last rotation (journal_format.hpp)
//   P.journal.old     the journal being compacted away; exists only while a compaction
//                     runs, or after one was interrupted (then it is read and kept)
// The configuration is the state file's, then every record of P.journal.old and P.journal
// whose generation is above the state file's, in order.
//
// Durability: append() writes a record; sync() makes every appended record durable (fsync of
// the journal, and of the directory when the journal file was created since the last sync).
// The controller replies to a batch only after sync() succeeded. After a failed write the
// journal is cut back to its previous length; after a failed sync (whose outcome on Linux is
// unknowable, the kernel may have dropped the dirty pages) the store refuses appends and
// syncs until load() or write_snapshot() re-establishes what is on disk.
//
// Compaction: when the journal grows past StoreOptions::compact_after_bytes, maybe_compact()
// rotates P.journal to P.journal.old and starts a thread that writes the state file at the
// given generation, then deletes P.journal.old. Appends meanwhile go to a fresh P.journal.
// A crash at any point leaves files that load() turns into the same configuration.
//
// Threading: a Store belongs to the control event-loop thread; every member function is
// called from that thread. The compaction thread touches only the FileSystem (which must be
// safe for concurrent use on different files), the copy of the configuration it was given
// and a result slot that poll_compaction() reaps. The destructor waits for a running
// compaction.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.hpp"
#include "control/state/file_system.hpp"
#include "control/state/journal_format.hpp"
#include "dplb/config.hpp"

namespace dplb::state {

struct Loaded {
    config::Config config;               // the state file's configuration (empty when none)
    uint64_t generation = 0;             // the state file's generation (0 when none / old format)
    std::vector<JournalRecord> records;  // valid records with generation > that, in order
    std::string warning;                 // what was ignored and cut from the journal ("" if nothing)
};

struct StoreOptions {
    std::size_t compact_after_bytes = 8 << 20;
};

class Store {
public:
    Store(std::string state_path, FileSystem& fs, StoreOptions options = {});
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::string& path() const { return path_; }
    const std::string& journal_path() const { return journal_path_; }
    const std::string& old_journal_path() const { return old_path_; }

    // Reads the state file and the journal(s). A torn or corrupt tail (a crash during an
    // append, garbage) is reported in `warning` and cut off the file, so later appends follow
    // the last valid record. A state file that cannot be read or decoded is an error, and
    // nothing is changed. Call before the first append, and not while compacting.
    model::Result<Loaded> load();

    // Appends one record, written but not yet durable. `generation` must exceed every
    // generation appended or loaded. A write that fails midway cuts the journal back to its
    // previous length and returns the error: the previous state stays loadable and later
    // appends are not behind garbage.
    model::Status append(uint64_t generation, std::string_view payload);

    // Makes every appended record durable: fdatasync of the journal (which also flushes the
    // file size, the only metadata an append changes), then an fsync of the directory if the
    // journal file was created since the last sync. Group commit: append several batches,
    // then sync() once. A no-op when nothing was appended since the last sync.
    model::Status sync();

    // Starts a compaction when the journal holds more than compact_after_bytes, none is
    // running, every append is synced and `generation` is at least the last appended one
    // (`config` must be the configuration at `generation`, including every record appended).
    // Copies `config`. Returns whether one was started; a failure to rotate the journal is
    // returned by the next poll_compaction().
    bool maybe_compact(const config::Config& config, uint64_t generation);

    // Reaps a finished compaction: its error if it failed (the journal files are then kept,
    // nothing is lost, and a later maybe_compact() retries). nullopt while one runs.
    model::Status poll_compaction();
    bool compacting() const { return job_ != nullptr; }
    // False after a failed sync or a failed cut-back, until write_snapshot() or load().
    bool healthy() const { return !broken_; }

    // Synchronous full write (replace-config, start-up migration, tests): the state file at
    // `generation`, then both journal files removed. Waits for a running compaction first. `generation` must
    // be at least every generation appended or loaded.
    model::Status write_snapshot(const config::Config& config, uint64_t generation);

    // Bytes in the journal files load() would read (P.journal, plus P.journal.old until a
    // compaction removes it).
    std::size_t journal_bytes() const { return std::size_t(journal_size_ + old_size_); }

private:
    struct Job;  // one compaction's thread and result

    model::Status open_journal();
    void close_journal();
    model::Status broken() const;
    model::Status rotate_journal();
    model::Result<std::vector<JournalRecord>> read_journal(const std::string& path, uint64_t& last,
                                                           uint64_t& size, bool& exists, std::string& warning);

    std::string path_, journal_path_, old_path_, dir_;
    FileSystem& fs_;
    StoreOptions options_;

    File journal_;               // P.journal, open for appending (fd -1 until needed)
    uint64_t journal_size_ = 0;  // bytes of valid records in P.journal
    uint64_t synced_size_ = 0;   // of those, made durable by the last successful sync
    uint64_t old_size_ = 0;      // bytes in P.journal.old (0 when absent)
    bool old_exists_ = false;
    bool loaded_ = false;           // load() or write_snapshot() has established what is on disk
    uint64_t last_generation_ = 0;  // of the last record appended or loaded, or of the state file
    bool unsynced_ = false;         // records appended since the last successful sync
    bool dir_unsynced_ = false;     // P.journal created since the last successful sync
    model::Status broken_;          // set by a failed sync or a failed cut-back: refuse writes
    model::Status rotate_error_;    // a failed rotation, for poll_compaction()
    std::unique_ptr<Job> job_;
};

}  // namespace dplb::state
