#include "dataplane/runtime/rtnl_addr.hpp"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace dplb::runtime {

namespace {

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t(3); }

// The attributes of an ifaddrmsg payload [p, end): the address to use, 0 if none.
bool read_address(const uint8_t* p, const uint8_t* end, uint32_t& addr) {
    bool have_local = false, have_address = false;
    uint32_t local = 0, address = 0;
    while (p < end) {
        if (size_t(end - p) < sizeof(rtattr)) return false;
        rtattr a;
        std::memcpy(&a, p, sizeof a);
        if (a.rta_len < sizeof(rtattr) || a.rta_len > size_t(end - p)) return false;
        const size_t data = a.rta_len - sizeof(rtattr);
        if ((a.rta_type == IFA_LOCAL || a.rta_type == IFA_ADDRESS) && data == 4) {
            uint32_t v;
            std::memcpy(&v, p + sizeof(rtattr), 4);
            if (a.rta_type == IFA_LOCAL) local = v, have_local = true;
            else address = v, have_address = true;
        }
        p += std::min(align4(a.rta_len), size_t(end - p));
    }
    addr = have_local ? local : have_address ? address : 0;
    return true;
}

}  // namespace

RtnlResult parse_rtnl_addr(const uint8_t* buf, size_t len, std::vector<AddrEvent>& out) {
    size_t off = 0;
    while (off < len) {
        if (len - off < sizeof(nlmsghdr)) return {RtnlStatus::malformed, 0};
        nlmsghdr h;
        std::memcpy(&h, buf + off, sizeof h);
        if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len - off) return {RtnlStatus::malformed, 0};
        const uint8_t* payload = buf + off + sizeof(nlmsghdr);
        const size_t plen = h.nlmsg_len - sizeof(nlmsghdr);
        if (h.nlmsg_type == NLMSG_DONE) return {RtnlStatus::done, 0};
        if (h.nlmsg_type == NLMSG_ERROR) {
            if (plen < sizeof(int)) return {RtnlStatus::malformed, 0};
            int err;
            std::memcpy(&err, payload, sizeof err);
            if (err != 0) return {RtnlStatus::error, err};
        } else if (h.nlmsg_type == RTM_NEWADDR || h.nlmsg_type == RTM_DELADDR) {
            if (plen < sizeof(ifaddrmsg)) return {RtnlStatus::malformed, 0};
            ifaddrmsg ifa;
            std::memcpy(&ifa, payload, sizeof ifa);
            if (ifa.ifa_family == AF_INET) {
                const uint8_t* attrs = payload + align4(sizeof(ifaddrmsg));
                const uint8_t* end = payload + plen;
                uint32_t addr = 0;
                if (attrs < end && !read_address(attrs, end, addr)) return {RtnlStatus::malformed, 0};
                if (addr) out.push_back({h.nlmsg_type == RTM_NEWADDR, ifa.ifa_index, addr, ifa.ifa_prefixlen});
            }
        }
        off += std::min(align4(h.nlmsg_len), len - off);
    }
    return {RtnlStatus::more, 0};
}

std::vector<uint8_t> rtnl_addr_dump_request(uint32_t seq) {
    struct {
        nlmsghdr h;
        ifaddrmsg ifa;
    } req{};
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_GETADDR;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = seq;
    req.ifa.ifa_family = AF_INET;
    const auto* p = reinterpret_cast<const uint8_t*>(&req);
    return std::vector<uint8_t>(p, p + sizeof req);
}

}  // namespace dplb::runtime
