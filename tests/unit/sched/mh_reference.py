#!/usr/bin/python3
"""The Linux kernel's IPVS Maglev scheduler, written again from the kernel's source alone.

An independent reference for dplb's mh (dataplane/sched/mh*.cpp): nothing here is taken from
dplb's code. What it follows, read in torvalds/linux:

- net/netfilter/ipvs/ip_vs_mh.c: the fixed hsiphash keys (generate_hash_secret), the hash of
  a server or client (ip_vs_mh_hashkey: hsiphash of the 32-bit sum offset + ntohs(port) +
  ntohl(addr), hashed as its 4 bytes in memory), the permutation (offset = hash1 % size,
  skip = hash2 % (size - 1) + 1), the weights (gcd of the non-zero last_weights, then
  rshift = fls(max / gcd) - IP_VS_MH_TAB_BITS, turns = (w / gcd) >> rshift or 1 if w != 0),
  the population loop (ip_vs_mh_populate) and the lookup (ip_vs_mh_get, ip_vs_mh_get_fallback);
  the table sizes (primes[CONFIG_IP_VS_MH_TAB_INDEX - 8], IP_VS_MH_TAB_BITS = INDEX / 2).
- net/netfilter/ipvs/ip_vs_ctl.c (__ip_vs_update_dest): a new destination is put at the
  HEAD of svc->destinations (list_add_rcu), so the population walks the servers newest first;
  last_weight is the weight given when the server was added (and the latest non-zero one).
- lib/siphash.c: on 64-bit kernels hsiphash is SipHash-1-3 truncated to 32 bits; checked
  below against lib/test_siphash.c's 64-bit hsiphash vectors.

The servers of a case are given in the order `ipvsadm -a` (or keepalived) added them, which
is dplb's configuration order; the kernel's list is that order reversed.

  mh_reference.py --self-test           hsiphash against the kernel's vectors
  mh_reference.py --header FILE         writes the C++ expectations (mh_kernel_expected.hpp)
  mh_reference.py --check-header FILE   fails if FILE is not what --header writes now
"""
import argparse
import ipaddress
import math
import sys

M64 = (1 << 64) - 1

# lib/siphash.c's initial state ("somepseudorandomlygeneratedbytes").
SIP_INIT = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)

# ip_vs_mh.c, generate_hash_secret: both words of each key.
HASH1 = (2654435761, 2654435761)  # offsets and client lookups
HASH2 = (2654446892, 2654446892)  # skips

# ip_vs_mh.c: the table size is primes[CONFIG_IP_VS_MH_TAB_INDEX - 8], INDEX 8..17, default 12.
KERNEL_PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071]
KERNEL_DEFAULT_SIZE = KERNEL_PRIMES[12 - 8]  # 4093


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M64


def _sipround(v):
    v0, v1, v2, v3 = v
    v0 = (v0 + v1) & M64
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & M64
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & M64
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & M64
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return [v0, v1, v2, v3]


def hsiphash(data, key):
    """The 64-bit kernel's hsiphash(data, len, key): one SipRound per 8-byte word, three at the
    end, the last word carrying the length in its top byte; the 64-bit result cut to 32."""
    k0, k1 = key
    v = [SIP_INIT[0] ^ k0, SIP_INIT[1] ^ k1, SIP_INIT[2] ^ k0, SIP_INIT[3] ^ k1]
    whole = len(data) - len(data) % 8
    for i in range(0, whole, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v[3] ^= m
        v = _sipround(v)
        v[0] ^= m
    b = (len(data) & 0xFF) << 56 | int.from_bytes(data[whole:], "little")
    v[3] ^= b
    v = _sipround(v)
    v[0] ^= b
    v[2] ^= 0xFF
    for _ in range(3):
        v = _sipround(v)
    return (v[0] ^ v[1] ^ v[2] ^ v[3]) & 0xFFFFFFFF


# lib/test_siphash.c, BITS_PER_LONG == 64: hsiphash of the bytes 0, 1, ..., n-1 (n = index)
# under the key 00 01 .. 0f. The first 16 of its 64 vectors.
KERNEL_HSIPHASH_VECTORS = [
    0x050FC4DC, 0x7D57CA93, 0x4DC7D44D, 0xE7DDF7FB, 0x88D38328, 0x49533B67, 0xC59F22A7, 0x9BB11140,
    0x8D299A8E, 0x6C063DE4, 0x92FF097F, 0xF94DC352, 0x57B4D9A2, 0x1229FFA7, 0xC0F95D34, 0x2A519956,
]
VECTOR_KEY = (0x0706050403020100, 0x0F0E0D0C0B0A0908)


def self_test():
    for n, want in enumerate(KERNEL_HSIPHASH_VECTORS):
        got = hsiphash(bytes(range(n)), VECTOR_KEY)
        if got != want:
            raise AssertionError(f"hsiphash of {n} bytes: {got:#010x}, the kernel's vector {want:#010x}")


def hashkey(addr, port, key, offset=0):
    """ip_vs_mh_hashkey for IPv4: v = offset + ntohs(port) + ntohl(addr) as an unsigned int,
    hashed as the 4 bytes it occupies in memory (little-endian x86)."""
    v = (offset + port + int(ipaddress.IPv4Address(addr))) & 0xFFFFFFFF
    return hsiphash(v.to_bytes(4, "little"), key)


def tab_bits(size):
    """IP_VS_MH_TAB_BITS for a kernel table size."""
    return (KERNEL_PRIMES.index(size) + 8) // 2


def fls(x):
    return x.bit_length()


class Service:
    """One mh service as the kernel holds it after `ipvsadm -a` of `servers` in that order.
    servers: [(addr, port, weight)]. Indices in results are positions in `servers`."""

    def __init__(self, servers, size=KERNEL_DEFAULT_SIZE):
        if size not in KERNEL_PRIMES:
            raise ValueError(f"{size} is not a table size a kernel can be built with")
        self.servers = list(servers)
        self.size = size
        # list_add_rcu: each new destination goes to the head of svc->destinations.
        self.kernel_order = list(reversed(range(len(self.servers))))
        last_weight = [w for (_, _, w) in self.servers]
        g = 0
        for w in last_weight:  # ip_vs_mh_gcd_weight, in list order (gcd does not care)
            if w > 0:
                g = math.gcd(w, g) if g > 0 else w
        self.gcd = g
        self.rshift = 0
        if g >= 1:  # ip_vs_mh_shift_weight
            shift = fls(max(last_weight) // g) - tab_bits(size)
            self.rshift = shift if shift >= 0 else 0
        self.offset, self.skip, self.turns = [], [], []
        for addr, port, w in self.servers:  # ip_vs_mh_permutate (per server, order-free)
            self.offset.append(hashkey(addr, port, HASH1) % size)
            self.skip.append(hashkey(addr, port, HASH2) % (size - 1) + 1)
            t = (w // g) >> self.rshift if g >= 1 else 0
            self.turns.append(t if t else int(w != 0))
        self.table = self._populate()

    def _populate(self):
        """ip_vs_mh_populate: None where no server holds the position."""
        size = self.size
        table = [None] * size
        if self.gcd < 1:
            return table
        perm = {i: self.offset[i] for i in self.kernel_order}
        n = 0
        dt_count = 0
        while n < size:
            pos = 0  # p = the list's first destination, ds = dest_setup[0]
            while pos < len(self.kernel_order):
                i = self.kernel_order[pos]
                if self.turns[i] < 1:
                    pos += 1
                    continue
                c = perm[i]
                while table[c] is not None:
                    perm[i] += self.skip[i]
                    if perm[i] >= size:
                        perm[i] -= size
                    c = perm[i]
                table[c] = i
                n += 1
                if n == size:
                    return table
                dt_count += 1
                if dt_count >= self.turns[i]:
                    dt_count = 0
                    pos += 1
        return table

    def lookup(self, client, port=0):
        """ip_vs_mh_get: the server of a client (port: its source port with mh-port, else 0),
        ignoring availability. None: no server."""
        return self.table[hashkey(client, port, HASH1) % self.size]


# ----- the C++ expectations ---------------------------------------------------------------

CASES = [
    # (name, size, servers in `ipvsadm -a` order)
    ("three servers, weights 1 2 3, 251 positions", 251,
     [("10.0.0.11", 80, 1), ("10.0.0.12", 80, 2), ("10.0.0.13", 80, 3)]),
    ("three servers, weights 1 2 3, the kernel's default 4093 positions", 4093,
     [("10.0.0.11", 80, 1), ("10.0.0.12", 80, 2), ("10.0.0.13", 80, 3)]),
    ("one server at weight 0, ports differ (8080, 8443, 9000), 251 positions", 251,
     [("192.168.253.143", 8080, 5), ("192.168.253.144", 8443, 0), ("192.168.253.143", 9000, 10)]),
    ("weights 1000 and 1 (rshift 4), 4093 positions", 4093,
     [("172.16.1.1", 443, 1000), ("172.16.1.2", 443, 1)]),
    ("five equal servers, 509 positions", 509,
     [(f"10.1.0.{i}", 53, 4) for i in range(1, 6)]),
    ("all weights 0: an empty table", 251,
     [("10.0.0.11", 80, 0), ("10.0.0.12", 80, 0)]),
    ("three servers, weights 1 2 3, 65521 positions (digest)", 65521,
     [("10.0.0.11", 80, 1), ("10.0.0.12", 80, 2), ("10.0.0.13", 80, 3)]),
]
FULL_TABLE_MAX = 4093  # larger tables are checked by digest
CLIENTS = ["198.51.100.7", "203.0.113.9", "192.168.227.200", "10.255.0.1"]
CLIENT_PORTS = [0, 1024, 40000, 65535]


def fnv1a(table):
    """64-bit FNV-1a of the table's entries as little-endian uint16 (0xffff: none)."""
    h = 0xCBF29CE484222325
    for e in table:
        v = 0xFFFF if e is None else e
        for byte in (v & 0xFF, v >> 8):
            h = ((h ^ byte) * 0x100000001B3) & M64
    return h


def header():
    out = [
        "// Generated by tests/unit/sched/mh_reference.py --header: do not edit. The Linux kernel's",
        "// IPVS Maglev (ip_vs_mh.c) computed by an independent Python re-implementation, for dplb's",
        "// mh to be compared against (sched_mh_kernel_test.cpp). Servers are in `ipvsadm -a` order;",
        "// table entries are indices into them, 0xffff where no server holds the position.",
        "#pragma once",
        "",
        "#include <cstdint>",
        "#include <vector>",
        "",
        "namespace dplb::test::mh_kernel {",
        "",
        "struct Server {",
        "    const char* addr;",
        "    uint16_t port;",
        "    uint32_t weight;",
        "    uint32_t offset, skip;  // ip_vs_mh_permutate",
        "    int32_t turns;",
        "};",
        "struct Lookup {",
        "    const char* client;",
        "    uint16_t port;  // hashed as with mh-port (0: as without it)",
        "    uint16_t server;",
        "};",
        "struct Case {",
        "    const char* what;",
        "    uint32_t size;",
        "    std::vector<Server> servers;",
        "    std::vector<uint16_t> table;  // empty: too large, see digest",
        "    uint64_t digest;              // fnv1a of the whole table as little-endian uint16",
        "    std::vector<Lookup> lookups;",
        "};",
        "",
        "inline const std::vector<Case>& cases() {",
        "    static const std::vector<Case> all = {",
    ]
    for name, size, servers in CASES:
        s = Service(servers, size)
        out.append(f'        {{"{name}", {size},')
        out.append("         {")
        for i, (addr, port, w) in enumerate(servers):
            out.append(f'             {{"{addr}", {port}, {w}, {s.offset[i]}, {s.skip[i]}, {s.turns[i]}}},')
        out.append("         },")
        if size <= FULL_TABLE_MAX:
            vals = ["0xffff" if e is None else str(e) for e in s.table]
            out.append("         {")
            for k in range(0, len(vals), 40):
                out.append("             " + ", ".join(vals[k:k + 40]) + ",")
            out.append("         },")
        else:
            out.append("         {},")
        out.append(f"         {fnv1a(s.table):#018x}ULL,")
        out.append("         {")
        for client in CLIENTS:
            for port in CLIENT_PORTS:
                d = s.lookup(client, port)
                out.append(f'             {{"{client}", {port}, {0xFFFF if d is None else d}}},')
        out.append("         }},")
    out += ["    };", "    return all;", "}", "", "}  // namespace dplb::test::mh_kernel", ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--header")
    ap.add_argument("--check-header")
    a = ap.parse_args()
    self_test()
    if a.header:
        with open(a.header, "w") as f:
            f.write(header())
    if a.check_header:
        with open(a.check_header) as f:
            if f.read() != header():
                sys.exit(f"{a.check_header} is not what mh_reference.py --header writes: regenerate it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
