#include "dataplane/runtime/capture.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>

#include <cstring>
#include <filesystem>

namespace dplb::runtime {

namespace {

// --huge-unlink and --huge-unlink=always unlink the hugepage files a secondary would map;
// --huge-unlink=never keeps them. EAL has no getter for it.
bool unlinks_hugepages(const std::vector<std::string>& eal_args) {
    for (const auto& a : eal_args)
        if (a == "--huge-unlink" || a == "--huge-unlink=always") return true;
    return false;
}

}  // namespace

CaptureSupport enable_capture(const std::vector<std::string>& eal_args) {
    CaptureSupport c;
    const char* dir = rte_eal_get_runtime_dir();
    c.runtime_dir = dir ? dir : "";
    if (auto slash = c.runtime_dir.rfind('/'); slash != std::string::npos) c.file_prefix = c.runtime_dir.substr(slash + 1);
    // A secondary maps the primary's configuration from <runtime dir>/config; --in-memory and
    // --no-shconf write none (rte_pdump_init() itself still succeeds then).
    std::error_code ec;
    if (!std::filesystem::exists(c.runtime_dir + "/config", ec)) {
        c.reason = "EAL runs without shared configuration (--in-memory or --no-shconf): a secondary process "
                   "(dpdk-dumpcap) cannot attach";
        return c;
    }
    if (!rte_eal_has_hugepages()) {
        c.reason = "EAL runs with --no-huge: its memory is not shared, a secondary process (dpdk-dumpcap) cannot attach";
        return c;
    }
    if (unlinks_hugepages(eal_args)) {
        c.reason = "EAL runs with --huge-unlink: the hugepage files a secondary process (dpdk-dumpcap) maps are gone";
        return c;
    }
    if (rte_pdump_init() != 0) {
        c.reason = std::string("rte_pdump_init failed: ") + rte_strerror(rte_errno);
        return c;
    }
    c.available = true;
    return c;
}

void disable_capture(const CaptureSupport& c) {
    if (c.available) rte_pdump_uninit();
}

}  // namespace dplb::runtime
