#include "control/state/store.hpp"

#include <system_error>
#include <utility>

#include "control/state/state_snapshot.hpp"

namespace dplb::state {

using model::Error;

// One compaction: the thread writes `result`, then sets `done`; poll_compaction() joins it.
struct Store::Job {
    std::thread thread;
    std::atomic<bool> done{false};
    model::Status result;
};

Store::Store(std::string state_path, FileSystem& fs, StoreOptions options)
    : path_(std::move(state_path)),
      journal_path_(path_ + ".journal"),
      old_path_(path_ + ".journal.old"),
      dir_(parent_directory(path_)),
      fs_(fs),
      options_(options) {}

Store::~Store() {
    if (job_ && job_->thread.joinable()) job_->thread.join();
    close_journal();
}

void Store::close_journal() {
    // Nothing to report: every byte that matters was fsynced or is re-read by load().
    if (journal_.fd >= 0) fs_.close(journal_);
}

model::Status Store::broken() const {
    if (broken_) return Error{"", "state store " + path_ + " refuses writes after an earlier failure (" +
                                      broken_->str() + "); restart dplb-control"};
    return std::nullopt;
}

model::Status Store::open_journal() {
    if (journal_.fd >= 0) return std::nullopt;
    if (auto e = fs_.make_directories(dir_)) return e;
    auto f = fs_.open_append(journal_path_);
    if (!f) return f.error();
    auto size = fs_.size(*f);
    if (!size) {
        fs_.close(*f);
        return size.error();
    }
    journal_ = std::move(*f);
    journal_size_ = synced_size_ = *size;
    // A new directory entry is durable only after the directory is fsynced.
    if (journal_.created) dir_unsynced_ = true;
    return std::nullopt;
}

model::Result<std::vector<JournalRecord>> Store::read_journal(const std::string& path, uint64_t& last,
                                                              uint64_t& size, bool& exists, std::string& warning) {
    size = 0;
    auto bytes = fs_.read_file(path);
    if (!bytes) return bytes.error();
    exists = bytes->has_value();
    if (!exists) return std::vector<JournalRecord>{};
    DecodedJournal d = decode_records(**bytes, last);
    if (!d.problem.empty()) {
        if (!warning.empty()) warning += "; ";
        warning += "journal " + path + ": " + d.problem;
        // Cut the file at the last valid record, durably, so that records appended from now
        // on are not read as following garbage (load would stop before them).
        auto f = fs_.open_append(path);
        if (!f) return f.error();
        model::Status e = fs_.truncate(*f, d.valid_bytes);
        if (!e) e = fs_.fsync(*f);
        fs_.close(*f);
        if (e) return *e;
    }
    if (!d.records.empty()) last = d.records.back().generation;
    size = d.valid_bytes;
    return std::move(d.records);
}

model::Result<Loaded> Store::load() {
    if (job_) return Error{"", "state store " + path_ + ": cannot load while a compaction runs"};
    auto text = fs_.read_file(path_);
    if (!text) return Error{"", "state file " + path_ + ": " + text.error().str()};
    Loaded out;
    if (*text) {
        auto snap = decode_snapshot(**text, path_);
        if (!snap) return snap.error();
        out.config = std::move(snap->config);
        out.generation = snap->generation;
    }

    close_journal();
    uint64_t last = 0, old_size = 0, size = 0;
    bool old_exists = false, exists = false;
    auto old = read_journal(old_path_, last, old_size, old_exists, out.warning);
    if (!old) return old.error();
    auto current = read_journal(journal_path_, last, size, exists, out.warning);
    if (!current) return current.error();
    // Records at or below the state file's generation are already in it: a compaction
    // wrote the state file but had not yet removed the journal they came from.
    for (auto* list : {&*old, &*current})
        for (auto& r : *list)
            if (r.generation > out.generation) out.records.push_back(std::move(r));

    old_exists_ = old_exists;
    old_size_ = old_size;
    journal_size_ = synced_size_ = size;
    last_generation_ = std::max(out.generation, last);
    unsynced_ = dir_unsynced_ = false;
    broken_.reset();
    loaded_ = true;
    return out;
}

model::Status Store::append(uint64_t generation, std::string_view payload) {
    if (auto e = broken()) return e;
    if (!loaded_) return Error{"", "state store " + path_ + ": append before load()"};
    if (generation <= last_generation_)
        return Error{"", "journal " + journal_path_ + ": generation " + std::to_string(generation) +
                             " is not above the last one, " + std::to_string(last_generation_)};
    if (payload.size() > journal_max_payload)
        return Error{"", "journal " + journal_path_ + ": a record of " + std::to_string(payload.size()) +
                             " bytes is over the limit of " + std::to_string(journal_max_payload)};
    if (auto e = open_journal()) return e;

    std::string record = encode_record(generation, payload);
    if (auto e = fs_.write(journal_, record)) {
        // Part of the record may be in the file: cut it off so the journal ends with the last
        // good record, as if this append had never started.
        if (auto cut = fs_.truncate(journal_, journal_size_)) {
            broken_ = Error{"", "could not cut back " + journal_path_ + " after a failed write: " + cut->str()};
            return Error{"", e->str() + "; and then " + broken_->message};
        }
        return e;
    }
    journal_size_ += record.size();
    last_generation_ = generation;
    unsynced_ = true;
    return std::nullopt;
}

model::Status Store::sync() {
    if (auto e = broken()) return e;
    if (unsynced_ && journal_.fd >= 0) {
        if (auto e = fs_.fdatasync(journal_)) {
            // Linux may have dropped the dirty pages and a retry can report success without
            // them: nothing appended can be acknowledged any more. The records since the last
            // good sync are refused to their clients, so they must not come back at the next
            // start: cut them off (best effort; the caller then rewrites the state file).
            if (!fs_.truncate(journal_, synced_size_)) {
                journal_size_ = synced_size_;
                (void)fs_.fdatasync(journal_);
            }
            broken_ = e;
            return e;
        }
    }
    unsynced_ = false;
    synced_size_ = journal_size_;
    if (dir_unsynced_) {
        if (auto e = fs_.fsync_dir(dir_)) {
            broken_ = e;
            return e;
        }
        dir_unsynced_ = false;
    }
    return std::nullopt;
}

model::Status Store::rotate_journal() {
    // Appends stay on the event-loop thread: from here on they go to a fresh P.journal,
    // while the compaction only ever deletes P.journal.old, which nobody writes any more.
    close_journal();
    if (auto e = fs_.rename(journal_path_, old_path_)) return e;
    old_exists_ = true;
    old_size_ = journal_size_;
    journal_size_ = synced_size_ = 0;
    // Not strictly needed for correctness (load reads both names), but a compaction must not
    // delete P.journal.old before its name is durable.
    return fs_.fsync_dir(dir_);
}

bool Store::maybe_compact(const config::Config& config, uint64_t generation) {
    if (job_ || broken_ || !loaded_ || unsynced_ || dir_unsynced_) return false;
    if (journal_bytes() <= options_.compact_after_bytes) return false;
    // The state file at `generation` replaces every record in P.journal.old, so it must
    // include all of them.
    if (generation < last_generation_) return false;
    // After an interrupted compaction, P.journal.old holds records that are not in the state
    // file: do not rename over it. Compacting without rotating is still correct (P.journal's
    // records at or below `generation` are skipped by load, and dropped by the next rotation).
    if (!old_exists_) {
        if (auto e = rotate_journal()) {
            rotate_error_ = e;
            return false;
        }
    }
    job_ = std::make_unique<Job>();
    Job* job = job_.get();
    auto body = [job, &fs = fs_, path = path_, old = old_path_, dir = dir_, cfg = config, generation] {
        // Encoding happens here, off the event loop: for 10,000 services it is the slow part.
        model::Status st = replace_file(fs, path, encode_snapshot(cfg, generation));
        if (!st) st = fs.unlink(old);
        if (!st) st = fs.fsync_dir(dir);
        job->result = std::move(st);
        job->done.store(true, std::memory_order_release);
    };
    try {
        job->thread = std::thread(std::move(body));
    } catch (const std::system_error& e) {  // no thread to be had: keep the journal, report it
        job_.reset();
        rotate_error_ = Error{"", "state store " + path_ + ": cannot start a compaction thread: " + e.what()};
        return false;
    }
    return true;
}

model::Status Store::poll_compaction() {
    if (!job_) return std::exchange(rotate_error_, std::nullopt);
    if (!job_->done.load(std::memory_order_acquire)) return std::nullopt;
    if (job_->thread.joinable()) job_->thread.join();
    model::Status result = std::move(job_->result);
    job_.reset();
    if (!result) {
        old_exists_ = false;
        old_size_ = 0;
    }
    return result;
}

model::Status Store::write_snapshot(const config::Config& config, uint64_t generation) {
    if (job_) {
        // The snapshot replaces whatever the compaction writes: let it finish first (this is
        // a rare path: replace after a failed fsync, start-up migration, tests).
        if (job_->thread.joinable()) job_->thread.join();
        (void)poll_compaction();
    }
    if (generation < last_generation_)
        return Error{"", "state file " + path_ + ": generation " + std::to_string(generation) +
                             " is below the last one, " + std::to_string(last_generation_)};
    if (auto e = replace_file(fs_, path_, encode_snapshot(config, generation))) return e;
    // From here the state file holds everything: the journals' records are all at or below
    // `generation`, so even if removing them fails, load() skips them.
    loaded_ = true;
    last_generation_ = generation;
    broken_.reset();
    unsynced_ = dir_unsynced_ = false;
    close_journal();
    model::Status e = fs_.unlink(journal_path_);
    if (!e) e = fs_.unlink(old_path_);
    if (!e) e = fs_.fsync_dir(dir_);
    if (e) {
        old_exists_ = true;  // maybe; a later compaction then deletes it instead of renaming over it
        return e;
    }
    journal_size_ = synced_size_ = 0;
    old_size_ = 0;
    old_exists_ = false;
    return std::nullopt;
}

}  // namespace dplb::state
