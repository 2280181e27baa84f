// The state store: state file + journal, torn tails, durability order, compaction, failed
// writes. File-system calls go through test::RecordingFileSystem where their order matters.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <future>
#include <sstream>
#include <thread>

#include "codec/config_json.hpp"
#include "control/state/crc32c.hpp"
#include "control/state/state_snapshot.hpp"
#include "control/state/store.hpp"
#include "helpers.hpp"
#include "recording_fs.hpp"

using namespace dplb;
using state::JournalRecord;
using Records = std::vector<JournalRecord>;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

uint64_t size_of(const std::string& path) { return std::filesystem::file_size(path); }

// A fresh store over `path`, loaded; fails the test if loading fails.
state::Loaded load(const std::string& path) {
    state::RealFileSystem fs;
    state::Store s(path, fs);
    auto l = s.load();
    REQUIRE(l.ok());
    return std::move(*l);
}

// Index of the first call equal to `entry` at or after `from`; calls.size() when none.
std::size_t find_call(const std::vector<std::string>& calls, const std::string& entry, std::size_t from = 0) {
    for (std::size_t i = from; i < calls.size(); ++i)
        if (calls[i] == entry) return i;
    return calls.size();
}

// Polls until the store's compaction finished; returns its status.
model::Status finish_compaction(state::Store& s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        auto st = s.poll_compaction();
        if (!s.compacting()) return st;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FAIL("compaction did not finish");
    return std::nullopt;
}

}  // namespace

TEST_CASE("crc32c is CRC-32C (Castagnoli)") {
    CHECK(state::crc32c("123456789") == 0xE3069283u);
    CHECK(state::crc32c("") == 0u);
    // Continuing over pieces gives the CRC of the whole (the journal checksums generation, then payload).
    CHECK(state::crc32c("56789", state::crc32c("1234")) == 0xE3069283u);
}

TEST_CASE("store: nothing on disk is an empty configuration at generation 0") {
    test::TempDir dir;
    auto l = load(dir.file("none/config.json"));
    CHECK(l.config == config::Config{});
    CHECK(l.generation == 0);
    CHECK(l.records.empty());
    CHECK(l.warning.empty());
}

TEST_CASE("store: appended and synced records load back, above the state file's generation only") {
    test::TempDir dir;
    std::string path = dir.file("lib/config.json");
    state::RealFileSystem fs;
    {
        state::Store s(path, fs);
        REQUIRE(s.load().ok());
        REQUIRE_FALSE(s.write_snapshot(test::nat_lab(), 5));
        REQUIRE_FALSE(s.append(6, R"({"batch":6})"));
        REQUIRE_FALSE(s.append(7, std::string("\0binary\xff", 8)));
        REQUIRE_FALSE(s.sync());
        CHECK(s.journal_bytes() == 2 * state::journal_header_bytes + 11 + 8);
    }
    auto l = load(path);
    CHECK(l.config == test::nat_lab());
    CHECK(l.generation == 5);
    CHECK(l.records == Records{{6, R"({"batch":6})"}, {7, std::string("\0binary\xff", 8)}});
    CHECK(l.warning.empty());

    SECTION("records at or below the state file's generation are skipped (a compaction got that far)") {
        REQUIRE_FALSE(state::replace_file(fs, path, state::encode_snapshot(test::every_feature(), 6)));
        auto after = load(path);
        CHECK(after.config == test::every_feature());
        CHECK(after.generation == 6);
        CHECK(after.records == Records{{7, std::string("\0binary\xff", 8)}});
    }
}

TEST_CASE("store: append refuses a generation that does not increase, and append before load") {
    test::TempDir dir;
    state::RealFileSystem fs;
    state::Store s(dir.file("config.json"), fs);
    CHECK(s.append(1, "x").has_value());  // not loaded yet: the journal's last generation is unknown
    REQUIRE(s.load().ok());
    REQUIRE_FALSE(s.append(3, "a"));
    auto e = s.append(3, "b");
    REQUIRE(e);
    CHECK(e->message.find("generation 3 is not above the last one, 3") != std::string::npos);
    CHECK(s.append(2, "b").has_value());
    REQUIRE_FALSE(s.sync());
    CHECK(load(s.path()).records == Records{{3, "a"}});
}

TEST_CASE("store: a torn or corrupt journal tail is ignored with a warning and cut off") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    std::string journal = path + ".journal";
    state::RealFileSystem fs;
    {
        state::Store s(path, fs);
        REQUIRE(s.load().ok());
        REQUIRE_FALSE(s.append(1, "one"));
        REQUIRE_FALSE(s.append(2, "two"));
        REQUIRE_FALSE(s.append(3, "three"));
        REQUIRE_FALSE(s.sync());
    }
    const uint64_t two_records = 2 * state::journal_header_bytes + 6;
    const uint64_t full = two_records + state::journal_header_bytes + 5;
    REQUIRE(size_of(journal) == full);
    std::string bytes = slurp(journal);

    Records expected;
    uint64_t cut_at = 0;
    std::string why;
    SECTION("the last record cut short (a crash during the write)") {
        spit(journal, bytes.substr(0, bytes.size() - 3));
        expected = {{1, "one"}, {2, "two"}};
        cut_at = two_records;
        why = "ignored a torn record of 18 bytes at offset " + std::to_string(two_records);
    }
    SECTION("only part of a header") {
        spit(journal, bytes.substr(0, two_records + 5));
        expected = {{1, "one"}, {2, "two"}};
        cut_at = two_records;
        why = "ignored a torn record of 5 bytes at offset " + std::to_string(two_records);
    }
    SECTION("garbage after the last record") {
        spit(journal, bytes + std::string(40, '\xff'));
        expected = {{1, "one"}, {2, "two"}, {3, "three"}};
        cut_at = full;
        why = "ignored a corrupt record (length 4294967295) of 40 bytes at offset " + std::to_string(full);
    }
    SECTION("a flipped byte in the last record's payload") {
        bytes[bytes.size() - 2] ^= 0x20;
        spit(journal, bytes);
        expected = {{1, "one"}, {2, "two"}};
        cut_at = two_records;
        why = "ignored a corrupt record (bad checksum) of 21 bytes at offset " + std::to_string(two_records);
    }
    SECTION("a flipped bit in a generation") {
        bytes[two_records + 8] ^= 0x01;
        spit(journal, bytes);
        expected = {{1, "one"}, {2, "two"}};
        cut_at = two_records;
        why = "ignored a corrupt record (bad checksum)";
    }

    state::Store s(path, fs);
    auto l = s.load();
    REQUIRE(l.ok());
    CHECK(l->records == expected);
    CHECK(l->warning.find("journal " + journal + ": " + why) == 0);
    CHECK(size_of(journal) == cut_at);  // cut, so that what follows is read

    REQUIRE_FALSE(s.append(4, "four"));
    REQUIRE_FALSE(s.sync());
    auto again = load(path);
    expected.push_back({4, "four"});
    CHECK(again.records == expected);
    CHECK(again.warning.empty());
}

TEST_CASE("store: append only writes; sync() is what fsyncs the journal, and the directory once") {
    test::TempDir dir;
    test::RecordingFileSystem fs;
    fs.sync_is_noop = true;  // only the calls matter here
    state::Store s(dir.file("config.json"), fs);
    REQUIRE(s.load().ok());
    auto durable_ops = [&] { return fs.calls_of({"open_append", "write", "fsync", "fdatasync", "fsync_dir"}); };

    fs.clear();
    REQUIRE_FALSE(s.append(1, "a"));
    REQUIRE_FALSE(s.append(2, "b"));
    CHECK(durable_ops() == std::vector<std::string>{"open_append config.json.journal", "write config.json.journal",
                                                    "write config.json.journal"});
    fs.clear();
    REQUIRE_FALSE(s.sync());
    // The journal was created by the first append: its directory entry must be made durable too.
    CHECK(durable_ops() == std::vector<std::string>{"fdatasync config.json.journal", "fsync_dir dir"});

    fs.clear();
    REQUIRE_FALSE(s.sync());  // nothing appended since
    CHECK(durable_ops().empty());

    REQUIRE_FALSE(s.append(3, "c"));
    REQUIRE_FALSE(s.sync());
    CHECK(durable_ops() == std::vector<std::string>{"write config.json.journal", "fdatasync config.json.journal"});

    SECTION("an existing journal opened after a restart needs no directory fsync") {
        state::Store s2(dir.file("config.json"), fs);
        REQUIRE(s2.load().ok());
        fs.clear();
        REQUIRE_FALSE(s2.append(4, "d"));
        REQUIRE_FALSE(s2.sync());
        CHECK(durable_ops() == std::vector<std::string>{"open_append config.json.journal", "write config.json.journal",
                                                        "fdatasync config.json.journal"});
    }
}

TEST_CASE("store: after a failed sync nothing more is accepted (the kernel may have dropped the pages)") {
    test::TempDir dir;
    test::RecordingFileSystem fs;
    state::Store s(dir.file("config.json"), fs);
    REQUIRE(s.load().ok());
    REQUIRE_FALSE(s.append(1, "a"));
    fs.fail_fdatasync = true;
    auto e = s.sync();
    REQUIRE(e);
    CHECK(e->message.find("Input/output error") != std::string::npos);
    fs.fail_fdatasync = false;
    CHECK(s.sync().has_value());  // a retry must not report success
    CHECK(s.append(2, "b").has_value());
    // Re-reading the files establishes what is on disk again.
    REQUIRE(s.load().ok());
    REQUIRE_FALSE(s.append(2, "b"));
    REQUIRE_FALSE(s.sync());
}

TEST_CASE("store: a write that fails midway is cut back; the previous state stays loadable") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    std::string journal = path + ".journal";
    test::RecordingFileSystem fs;
    state::Store s(path, fs);
    REQUIRE(s.load().ok());
    REQUIRE_FALSE(s.write_snapshot(test::nat_lab(), 1));
    REQUIRE_FALSE(s.append(2, "first"));
    REQUIRE_FALSE(s.sync());
    uint64_t before = size_of(journal);

    fs.fail_write_after["config.json.journal"] = 7;  // the disk fills up inside the header
    auto e = s.append(3, std::string(100, 'x'));
    REQUIRE(e);
    CHECK(e->message == "write " + journal + ": No space left on device");
    CHECK(size_of(journal) == before);
    CHECK(s.journal_bytes() == before);
    auto l = load(path);
    CHECK(l.config == test::nat_lab());
    CHECK(l.records == Records{{2, "first"}});
    CHECK(l.warning.empty());

    // Space again: the next append follows the last good record.
    fs.fail_write_after.clear();
    REQUIRE_FALSE(s.append(3, "second"));
    REQUIRE_FALSE(s.sync());
    l = load(path);
    CHECK(l.records == Records{{2, "first"}, {3, "second"}});
    CHECK(l.warning.empty());
}

TEST_CASE("store: a write stopped by RLIMIT_FSIZE (a real short write, then EFBIG) is cut back") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    std::string journal = path + ".journal";
    state::RealFileSystem fs;
    {
        state::Store s(path, fs);
        REQUIRE(s.load().ok());
        REQUIRE_FALSE(s.append(1, "first"));
        REQUIRE_FALSE(s.sync());
    }
    uint64_t before = size_of(journal);

    // The limit applies to the whole process, so the append runs in a child.
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
        struct rlimit lim {
            rlim_t(before + 50), rlim_t(before + 50)
        };
        if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(10);
        state::RealFileSystem child_fs;
        state::Store s(path, child_fs);
        if (!s.load().ok()) ::_exit(11);
        auto e = s.append(2, std::string(4096, 'y'));
        if (!e) ::_exit(12);
        if (e->message.find("File too large") == std::string::npos) ::_exit(13);
        if (std::filesystem::file_size(journal) != before) ::_exit(14);
        // Within the limit, the next append works and follows the last good record.
        if (s.append(2, "small") || s.sync()) ::_exit(15);
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    auto l = load(path);
    CHECK(l.records == Records{{1, "first"}, {2, "small"}});
    CHECK(l.warning.empty());
}

TEST_CASE("store: compaction replaces the state file atomically and keeps records appended meanwhile") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    test::RecordingFileSystem fs;
    state::Store s(path, fs, state::StoreOptions{64});
    REQUIRE(s.load().ok());
    REQUIRE_FALSE(s.write_snapshot(test::nat_lab(), 1));
    const std::string old_text = slurp(path);

    REQUIRE_FALSE(s.append(2, std::string(40, 'a')));
    CHECK_FALSE(s.maybe_compact(test::every_feature(), 2));  // not synced yet
    REQUIRE_FALSE(s.sync());
    CHECK_FALSE(s.maybe_compact(test::every_feature(), 2));  // 56 bytes: under the threshold
    REQUIRE_FALSE(s.append(3, std::string(40, 'b')));
    REQUIRE_FALSE(s.sync());
    CHECK_FALSE(s.maybe_compact(test::every_feature(), 2));  // the configuration misses record 3

    // Hold the compaction just before it renames the new state file into place.
    std::promise<void> reached, release;
    auto released = release.get_future().share();
    fs.before = [&](const std::string& call) {
        if (call == "rename config.json.tmp config.json") {
            reached.set_value();
            released.wait();
        }
    };
    int old_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(old_fd >= 0);
    fs.clear();
    REQUIRE(s.maybe_compact(test::every_feature(), 3));
    CHECK(s.compacting());
    CHECK_FALSE(s.maybe_compact(test::every_feature(), 3));  // one at a time
    REQUIRE(reached.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready);

    // Meanwhile: appends go on (to a fresh journal), the old state file is untouched, and a
    // crash now would load the old state file plus every record.
    REQUIRE_FALSE(s.append(4, "during"));
    REQUIRE_FALSE(s.sync());
    CHECK(slurp(path) == old_text);
    CHECK(std::filesystem::exists(path + ".journal.old"));
    auto mid = load(path);
    CHECK(mid.config == test::nat_lab());
    CHECK(mid.generation == 1);
    CHECK(mid.records == Records{{2, std::string(40, 'a')}, {3, std::string(40, 'b')}, {4, "during"}});
    CHECK(s.poll_compaction() == std::nullopt);
    CHECK(s.compacting());

    release.set_value();
    CHECK(finish_compaction(s) == std::nullopt);
    CHECK_FALSE(s.compacting());

    // The descriptor opened before still reads the old file: the rename replaced the name only.
    std::string held(old_text.size() + 10, '\0');
    ssize_t n = ::pread(old_fd, held.data(), held.size(), 0);
    ::close(old_fd);
    CHECK(std::string(held.data(), std::size_t(std::max<ssize_t>(n, 0))) == old_text);

    CHECK_FALSE(std::filesystem::exists(path + ".journal.old"));
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
    auto after = load(path);
    CHECK(after.config == test::every_feature());
    CHECK(after.generation == 3);
    CHECK(after.records == Records{{4, "during"}});
    CHECK(after.warning.empty());
    CHECK(s.journal_bytes() == state::journal_header_bytes + 6);

    // The order that makes each step crash-safe.
    auto calls = fs.calls();
    std::size_t rotate = find_call(calls, "rename config.json.journal config.json.journal.old");
    std::size_t rotate_sync = find_call(calls, "fsync_dir dir", rotate);
    std::size_t write_tmp = find_call(calls, "write config.json.tmp");
    std::size_t fsync_tmp = find_call(calls, "fsync config.json.tmp", write_tmp);
    std::size_t rename = find_call(calls, "rename config.json.tmp config.json", fsync_tmp);
    std::size_t rename_sync = find_call(calls, "fsync_dir dir", rename);
    std::size_t drop_old = find_call(calls, "unlink config.json.journal.old", rename_sync);
    std::size_t drop_sync = find_call(calls, "fsync_dir dir", drop_old);
    CHECK(rotate < rotate_sync);
    CHECK(rotate_sync < write_tmp);  // the rotation is durable before the compaction may delete it
    CHECK(write_tmp < fsync_tmp);
    CHECK(fsync_tmp < rename);
    CHECK(rename < rename_sync);
    CHECK(rename_sync < drop_old);
    CHECK(drop_old < drop_sync);
    CHECK(drop_sync < calls.size());
}

TEST_CASE("store: a compaction after an interrupted one does not rename over the old journal") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    test::RecordingFileSystem fs;
    {
        state::Store s(path, fs);
        REQUIRE(s.load().ok());
        REQUIRE_FALSE(s.write_snapshot(test::nat_lab(), 1));
        REQUIRE_FALSE(s.append(2, "in old"));
        REQUIRE_FALSE(s.sync());
    }
    // As a crash right after a rotation leaves it.
    std::filesystem::rename(path + ".journal", path + ".journal.old");

    state::Store s(path, fs, state::StoreOptions{0});
    auto l = s.load();
    REQUIRE(l.ok());
    CHECK(l->records == Records{{2, "in old"}});
    REQUIRE_FALSE(s.append(3, "in current"));
    REQUIRE_FALSE(s.sync());

    std::promise<void> reached, release;
    auto released = release.get_future().share();
    fs.before = [&](const std::string& call) {
        if (call == "rename config.json.tmp config.json") {
            reached.set_value();
            released.wait();
        }
    };
    fs.clear();
    REQUIRE(s.maybe_compact(test::every_feature(), 3));
    REQUIRE(reached.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    // A crash here must still find record 2.
    CHECK(load(path).records == Records{{2, "in old"}, {3, "in current"}});
    release.set_value();
    CHECK(finish_compaction(s) == std::nullopt);
    CHECK(find_call(fs.calls(), "rename config.json.journal config.json.journal.old") == fs.calls().size());

    auto after = load(path);
    CHECK(after.config == test::every_feature());
    CHECK(after.generation == 3);
    CHECK(after.records.empty());  // record 3 is still in the journal, below the state file's generation
    REQUIRE_FALSE(s.append(4, "next"));
    REQUIRE_FALSE(s.sync());
    CHECK(load(path).records == Records{{4, "next"}});
}

TEST_CASE("store: a failed compaction is reported and loses nothing") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    test::RecordingFileSystem fs;
    state::Store s(path, fs, state::StoreOptions{0});
    REQUIRE(s.load().ok());
    REQUIRE_FALSE(s.write_snapshot(test::nat_lab(), 1));
    REQUIRE_FALSE(s.append(2, "two"));
    REQUIRE_FALSE(s.sync());
    fs.fail_write_after["config.json.tmp"] = 10;
    REQUIRE(s.maybe_compact(test::every_feature(), 2));
    auto e = finish_compaction(s);
    REQUIRE(e);
    CHECK(e->message == "write " + path + ".tmp: No space left on device");
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
    auto l = load(path);
    CHECK(l.config == test::nat_lab());
    CHECK(l.records == Records{{2, "two"}});

    // Retried later, it succeeds.
    fs.fail_write_after.clear();
    REQUIRE_FALSE(s.append(3, "three"));
    REQUIRE_FALSE(s.sync());
    REQUIRE(s.maybe_compact(test::every_feature(), 3));
    CHECK(finish_compaction(s) == std::nullopt);
    l = load(path);
    CHECK(l.config == test::every_feature());
    CHECK(l.generation == 3);
    CHECK(l.records.empty());
}

TEST_CASE("store: write_snapshot writes the state file and empties the journal") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    test::RecordingFileSystem fs;
    state::Store s(path, fs);
    REQUIRE(s.load().ok());
    REQUIRE_FALSE(s.append(1, "one"));
    REQUIRE_FALSE(s.sync());
    fs.clear();
    REQUIRE_FALSE(s.write_snapshot(test::every_feature(), 7));
    CHECK(fs.calls_of({"write", "fsync", "rename", "fsync_dir", "unlink"}) ==
          std::vector<std::string>{"write config.json.tmp", "fsync config.json.tmp", "rename config.json.tmp config.json",
                                   "fsync_dir dir", "unlink config.json.journal", "unlink config.json.journal.old",
                                   "fsync_dir dir"});
    CHECK_FALSE(std::filesystem::exists(path + ".journal"));
    CHECK(s.journal_bytes() == 0);
    CHECK(s.write_snapshot(test::nat_lab(), 6).has_value());  // generations do not go back
    auto l = load(path);
    CHECK(l.config == test::every_feature());
    CHECK(l.generation == 7);
    CHECK(l.records.empty());
}

TEST_CASE("store: the state file format before the journal (a bare configuration) loads as generation 0") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    spit(path, model::to_json(test::every_feature()).dump(2));
    auto l = load(path);
    CHECK(l.config == test::every_feature());
    CHECK(l.generation == 0);
    CHECK(l.records.empty());
    CHECK(l.warning.empty());
}

TEST_CASE("store: a state file that cannot be decoded is an error naming it, and nothing is changed") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    state::RealFileSystem fs;
    struct Case {
        const char* text;
        const char* problem;
    };
    Case cases[] = {
        {R"({"generation":1)", "not valid JSON"},
        {R"({"generation":-1,"config":{}})", "generation"},
        {R"({"generation":1})", "config"},
        {R"({"generation":1,"config":{},"extra":2})", "extra"},
        {R"({"generation":1,"config":{"servces":[]}})", "servces"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        spit(path, c.text);
        state::Store s(path, fs);
        auto r = s.load();
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("state file " + path + ": ") == 0);
        CHECK(r.error().message.find(c.problem) != std::string::npos);
        CHECK(slurp(path) == c.text);
    }
}

TEST_CASE("store: a failed sync cuts the unacknowledged records off the journal") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    test::RecordingFileSystem fs;
    state::Store s(path, fs);
    REQUIRE(s.load().ok());
    REQUIRE_FALSE(s.append(1, "kept"));
    REQUIRE_FALSE(s.sync());
    REQUIRE_FALSE(s.append(2, "refused"));
    REQUIRE_FALSE(s.append(3, "refused too"));
    fs.fail_fdatasync = true;
    REQUIRE(s.sync());
    fs.fail_fdatasync = false;
    // Their clients were told no: a restart must not bring them back.
    auto after = load(path);
    CHECK(after.records == Records{{1, "kept"}});
}

TEST_CASE("store: write_snapshot while a compaction runs waits for it, then replaces everything") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    test::RecordingFileSystem fs;
    state::Store s(path, fs, state::StoreOptions{16});
    REQUIRE(s.load().ok());
    REQUIRE_FALSE(s.append(1, std::string(40, 'a')));
    REQUIRE_FALSE(s.sync());
    std::promise<void> reached;
    std::atomic<bool> signalled{false};
    fs.before = [&](const std::string& call) {
        if (call == "rename config.json.tmp config.json" && !signalled.exchange(true)) {
            reached.set_value();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // still running when asked
        }
    };
    REQUIRE(s.maybe_compact(test::nat_lab(), 1));
    REQUIRE(reached.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    REQUIRE_FALSE(s.write_snapshot(test::every_feature(), 5));
    CHECK_FALSE(s.compacting());
    auto after = load(path);
    CHECK(after.config == test::every_feature());
    CHECK(after.generation == 5);
    CHECK(after.records.empty());
    REQUIRE_FALSE(s.append(6, "next"));
    REQUIRE_FALSE(s.sync());
    CHECK(load(path).records == Records{{6, "next"}});
}
