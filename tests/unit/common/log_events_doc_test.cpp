// Every event name the code logs is listed in docs/operations.md's "Logs" table, and every
// name listed there is still logged somewhere (names are a contract with whoever greps or
// alerts on them). Names are found where they are written: after a logger's call
// (log_.info(, logger.warning(, log::Logger{}.limited(, ...), a log::Event's braces, or
// the health engine's real_event( / service_event( helpers, up to the fields' first brace.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

fs::path source_dir() {
    const char* d = std::getenv("DPLB_SOURCE_DIR");
    return d ? fs::path(d) : fs::path(DPLB_SOURCE_DIR_DEFAULT);
}

// The event names of one source file.
std::set<std::string> events_in(const std::string& text) {
    static const std::regex opener(
        R"((?:\b(?:log_|log|logger|Logger\{\})\.(?:debug|info|notice|warning|error|write|limited)\(|\bEvent\s+\w+\s*\{|\bEvent\s*\{|\breal_event\(|\bservice_event\())");
    static const std::regex literal(R"lit("([a-z][a-z0-9_]*)")lit");
    std::set<std::string> out;
    for (std::sregex_iterator it(text.begin(), text.end(), opener), end; it != end; ++it) {
        std::size_t from = std::size_t(it->position() + it->length());
        std::size_t to = text.find_first_of("{;", from);
        std::string span = text.substr(from, to == std::string::npos ? std::string::npos : to - from);
        for (std::sregex_iterator l(span.begin(), span.end(), literal), lend; l != lend; ++l) out.insert((*l)[1].str());
    }
    return out;
}

// The names in the first column of the "## Logs" section's table: lines starting "| `name`"
// (other sections have tables of the same shape: metric families, ...).
std::set<std::string> documented(const std::string& doc) {
    static const std::regex row(R"(\n\| `([a-z0-9_]+)` *\|)");
    const std::size_t from = doc.find("\n## Logs\n");
    if (from == std::string::npos) return {};
    const std::size_t to = doc.find("\n## ", from + 1);
    const std::string logs = doc.substr(from, to == std::string::npos ? std::string::npos : to - from);
    std::set<std::string> out;
    for (std::sregex_iterator it(logs.begin(), logs.end(), row), end; it != end; ++it) out.insert((*it)[1].str());
    return out;
}

}  // namespace

TEST_CASE("log events: the scanner finds names where the code writes them") {
    auto got = events_in(R"(
        log_.warning("a_one", {{"cmd", "x"}});
        log::Logger{}.limited(log::Level::warning, errno == ENOBUFS ? "b_two" : "c_three",
                              {{"netns", s.netns}});
        log::Event e{r.up ? log::Level::info : log::Level::warning, r.up ? "d_four" : "e_five", {}, true};
        out.log.push_back(real_event(log::Level::notice, "f_six", config_.key, c, {{"k", "not_an_event"}}));
        reply.error().message;  if (x) y["not_either"];
    )");
    CHECK(got == std::set<std::string>{"a_one", "b_two", "c_three", "d_four", "e_five", "f_six"});
}

TEST_CASE("log events: every event name logged is in docs/operations.md's Logs table, and only those") {
    const fs::path root = source_dir();
    const std::string doc = read(root / "docs" / "operations.md");
    REQUIRE(!doc.empty());
    std::set<std::string> code{"log_suppressed"};  // written by common/log.cpp's output
    std::string all_sources;
    for (const char* dir : {"control", "dataplane", "common"})
        for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
            auto ext = entry.path().extension();
            if (ext != ".cpp" && ext != ".hpp") continue;
            const std::string text = read(entry.path());
            for (auto& n : events_in(text)) code.insert(n);
            all_sources += text;
        }
    CHECK(code.size() > 40);  // the scan found the code's events
    const auto table = documented(doc);
    for (const auto& n : code) {
        INFO("event " << n << " is logged but not in docs/operations.md's Logs table");
        CHECK(table.count(n) == 1);
    }
    for (const auto& n : table) {
        INFO("event " << n << " is in docs/operations.md's Logs table but no code logs it");
        CHECK(all_sources.find('"' + n + '"') != std::string::npos);
    }
}
