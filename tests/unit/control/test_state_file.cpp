#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "codec/config_json.hpp"
#include "control/state/state_file.hpp"
#include "helpers.hpp"

using namespace dplb;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::size_t files_in(const std::string& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
    return n;
}

}  // namespace

TEST_CASE("a missing state file is an empty configuration") {
    test::TempDir dir;
    state::StateFile sf(dir.file("none/config.json"));
    auto c = sf.load();
    REQUIRE(c.ok());
    CHECK(*c == config::Config{});
}

TEST_CASE("prepare + commit writes the configuration; load restores it") {
    test::TempDir dir;
    state::StateFile sf(dir.file("lib/dplb/config.json"));  // the directory is created
    config::Config c = test::nat_lab();
    auto temp = sf.prepare(c);
    REQUIRE(temp.ok());
    CHECK(std::filesystem::exists(*temp));
    CHECK_FALSE(std::filesystem::exists(sf.path()));
    REQUIRE_FALSE(sf.commit(*temp));
    CHECK_FALSE(std::filesystem::exists(*temp));
    auto back = sf.load();
    REQUIRE(back.ok());
    CHECK(*back == c);
    CHECK(files_in(dir.file("lib/dplb")) == 1);  // no temporary file left behind
}

TEST_CASE("abandon leaves the previous state file as it was") {
    test::TempDir dir;
    state::StateFile sf(dir.file("config.json"));
    auto first = sf.prepare(test::nat_lab());
    REQUIRE(first.ok());
    REQUIRE_FALSE(sf.commit(*first));
    std::string before = slurp(sf.path());

    auto temp = sf.prepare(config::Config{});
    REQUIRE(temp.ok());
    sf.abandon(*temp);
    CHECK(slurp(sf.path()) == before);
    CHECK(files_in(dir.path()) == 1);
    CHECK(*sf.load() == test::nat_lab());
}

TEST_CASE("a corrupt state file is an error naming the file and the problem, and is left alone") {
    test::TempDir dir;
    std::string path = dir.file("config.json");
    state::StateFile sf(path);

    struct Case {
        const char* text;
        const char* problem;
    };
    Case cases[] = {
        {R"({"services":[)", "not valid JSON"},
        {"", "not valid JSON"},
        {R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":0,"scheduler":"rr"}]})",
         "services[0].port: port 0 (all ports) is only allowed for persistent services"},
        {R"({"servces":[]})", "servces: unknown member 'servces'"},
        {R"([1,2])", "expected an object, got array"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        spit(path, c.text);
        auto r = sf.load();
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("state file " + path + ": ") == 0);
        CHECK(r.error().message.find(c.problem) != std::string::npos);
        CHECK(slurp(path) == c.text);
    }
}

TEST_CASE("an unreadable state file path is an error, not an empty configuration") {
    test::TempDir dir;
    std::filesystem::create_directory(dir.file("config.json"));  // a directory where the file should be
    state::StateFile sf(dir.file("config.json"));
    auto r = sf.load();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(dir.file("config.json")) != std::string::npos);
}
