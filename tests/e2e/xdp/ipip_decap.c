// SPDX-License-Identifier: GPL-2.0
//
// IPIP decapsulation for the TUN labs' real servers (tests/e2e/test_tun_lab.py).
//
// The kernel of the test machines has no ipip module (../shared/notes/platform.md), so a
// real server cannot terminate dplb's IPIP tunnel the way an LVS-TUN real server does with
// tunl0. This XDP program, attached in generic mode to the real server's interface, does
// the tunl0 part: an IPv4 packet carrying protocol 4 (IPIP, RFC 2003) loses its outer IPv4
// header and goes on up the stack as the inner packet, which the kernel then delivers to
// the VIP held on `lo` like any packet to a local address.
//
// Verdicts (every case is exercised by tests/e2e/test_xdp_decap.py):
//   - not Ethernet + IPv4, or not protocol 4           -> XDP_PASS, untouched
//   - outer header truncated, IHL < 5, total length
//     shorter than the headers, or an outer fragment  -> XDP_PASS, untouched (the kernel
//     drops or answers it as it would without this program)
//   - inner header truncated or not IPv4              -> XDP_PASS, untouched
//   - outer header checksum wrong                     -> XDP_DROP (what the kernel's IPv4
//     input does with it; once stripped, nobody could tell any more)
//   - otherwise                                       -> outer header removed, Ethernet
//     header kept (same MACs, EtherType IPv4), XDP_PASS
//
// The outer destination is not checked: in the labs every IPIP packet reaching a real
// server is addressed to it. Inner TTL and checksums are left alone (RFC 2003 section 3.1:
// the decapsulator does not change the inner header).
//
// Build: clang -O2 -g -target bpf -I/usr/include/$(gcc -print-multiarch) -c ipip_decap.c
// Load:  ip link set dev IF xdpgeneric obj ipip_decap.o sec xdp
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_FRAGMENT_BITS 0x3fff  // MF flag and fragment offset

// One's-complement sum of the outer header (ihl 32-bit words, at most 15): 0xffff when the
// header checksum is right. Bounded loop, one bounds check per word, for the verifier.
static __always_inline int header_checksum_ok(const struct iphdr *ip, const void *data_end)
{
    const __u32 *word = (const __u32 *)ip;
    __u64 sum = 0;
#pragma unroll
    for (int i = 0; i < 15; i++) {
        if (i >= ip->ihl)
            break;
        if ((const void *)(word + i + 1) > data_end)
            return 0;
        sum += word[i];
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

SEC("xdp")
int ipip_decap(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;

    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;

    struct iphdr *outer = (void *)(eth + 1);
    if ((void *)(outer + 1) > data_end)
        return XDP_PASS;
    if (outer->version != 4 || outer->protocol != IPPROTO_IPIP || outer->ihl < 5)
        return XDP_PASS;
    if (outer->frag_off & bpf_htons(IP_FRAGMENT_BITS))
        return XDP_PASS;

    __u32 outer_len = outer->ihl * 4;  // 20..60
    if (bpf_ntohs(outer->tot_len) < outer_len + sizeof(struct iphdr))
        return XDP_PASS;

    struct iphdr *inner = (void *)outer + outer_len;
    if ((void *)(inner + 1) > data_end || inner->version != 4)
        return XDP_PASS;

    if (!header_checksum_ok(outer, data_end))
        return XDP_DROP;

    // Move the Ethernet header forward over the outer IPv4 header, then drop the bytes
    // in front of it.
    struct ethhdr saved = *eth;
    if (bpf_xdp_adjust_head(ctx, (int)outer_len))
        return XDP_PASS;  // cannot shrink: leave the packet as it came (unchanged so far)

    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;  // unreachable: the inner header followed the Ethernet header
    __builtin_memcpy(eth, &saved, sizeof(saved));
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
