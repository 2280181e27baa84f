// The status list of worker counters is derived from the struct: every counter has a name.
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "dataplane/stats/worker_counters.hpp"

using namespace dplb;

TEST_CASE("WorkerCounters: every counter is in worker_counter_fields, once", "[stats]") {
    const size_t counters = std::size(worker_counter_fields) + drop_reason_count;
    CHECK((counters * sizeof(Counter) + 63) / 64 * 64 == sizeof(WorkerCounters));
    std::set<std::string> names;
    std::set<const void*> members;
    WorkerCounters c;
    for (const auto& f : worker_counter_fields) {
        names.insert(f.name);
        members.insert(&(c.*f.member));
    }
    CHECK(names.size() == std::size(worker_counter_fields));
    CHECK(members.size() == std::size(worker_counter_fields));
    CHECK(names.count("sessions_created_not_owner"));
    CHECK(names.count("idle_sleeps"));
}
