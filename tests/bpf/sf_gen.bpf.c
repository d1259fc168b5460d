/* sf_gen.bpf.c - test tool: the packet generator of tests/tools/sf_flood.c.
 *
 * Run through BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: every run writes one complete
 * frame (Ethernet + IPv4/IPv6 + TCP with options, full checksums) into the live page and returns
 * XDP_TX, which the kernel turns into a transmit on the ingress device given in ctx_in (the client
 * veth, so the frame arrives at its peer). Page contents persist across page-pool recycling and the
 * receiver may have rewritten them (a SYN-ACK built in place), so the whole frame is written every
 * time: a template prepared by userspace, then the random fields and the checksums.
 *
 * Random fields (splitmix64 of seed + frame number, so a run is reproducible from its seed): the
 * source address (host bits of a prefix), source port (1024..65535), sequence number, IPv4 id,
 * TSval, and for ACKs the ack number (optionally with some bits of ack - 1 fixed, e.g. a cookie's
 * epoch bits, as an attacker who has seen one SYN-ACK would send) and TSecr. The frame number `sent` counts runs: it is the
 * exact number of frames generated, also when a test-run call is interrupted. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define GEN_MAX_LEN 96

/* Filled in by sf_flood before load (frozen: the verifier sees constants). */
const volatile struct {
	__u8 tmpl[GEN_MAX_LEN];  /* the frame with all random fields and checksums zero */
	__u32 len;               /* frame length */
	__u32 ipv6;              /* 0: IPv4, 1: IPv6 */
	__u32 ack;               /* 0: SYN (Linux options), 1: ACK (NOP NOP timestamps) */
	__u32 ip_sum;            /* IPv4 header: one's complement sum of the template (native words) */
	__u32 tcp_sum;           /* TCP pseudo header + template TCP header, likewise */
	__u32 src_mask[4];       /* host bits of the source prefix (network order words) */
	__u32 ack_mask;          /* ACKs: these bits of (ack number - 1) are ack_value's, not random */
	__u32 ack_value;
	__u64 seed;
} gen_cfg = {};

__u64 sent = 0; /* frames generated (one generator thread: not atomic) */

static __always_inline __u64 mix64(__u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __always_inline __u32 sum32(__u32 v)
{
	return (v & 0xffff) + (v >> 16);
}

static __always_inline __u16 fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __always_inline int gen(struct xdp_md *ctx, const int v6, const int ack)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	const int l4 = 14 + (v6 ? 40 : 20);
	const int len = l4 + (ack ? 32 : 40);
	__u64 i = sent++, r0, r1, r2;
	__u32 tsum = gen_cfg.tcp_sum, saddr_sum = 0, v;
	__u16 sport;
	int k;

	if (data + len > data_end)
		return XDP_ABORTED;
	/* the template, 8 bytes at a time (live frames start 8-byte aligned), then the tail */
#pragma unroll
	for (k = 0; k + 8 <= len; k += 8)
		*(__u64 *)(data + k) = *(const volatile __u64 *)&gen_cfg.tmpl[k];
	if (len % 8 >= 4)
		*(__u32 *)(data + (len & ~7)) = *(const volatile __u32 *)&gen_cfg.tmpl[len & ~7];
	if (len % 4 >= 2)
		*(__u16 *)(data + (len & ~3)) = *(const volatile __u16 *)&gen_cfg.tmpl[len & ~3];

	r0 = mix64(gen_cfg.seed + i * 0x9e3779b97f4a7c15ULL);
	r1 = mix64(r0 ^ 0x5851f42d4c957f2dULL);
	r2 = mix64(r1 ^ 0x14057b7ef767814fULL);

	if (v6) {
		/* source: template (the prefix) | random host bits in the low 64 bits */
		__u32 *s = data + 14 + 8;

#pragma unroll
		for (k = 0; k < 4; k++) {
			v = s[k] | ((k < 2 ? (__u32)r2 : k == 2 ? (__u32)(r2 >> 32) : (__u32)r0) &
				    gen_cfg.src_mask[k]);
			s[k] = v;
			saddr_sum += sum32(v);
		}
	} else {
		__u32 *s = data + 14 + 12;
		__u16 id = (__u16)(r0 >> 48);

		v = *s | ((__u32)r2 & gen_cfg.src_mask[0]);
		*s = v;
		saddr_sum = sum32(v);
		*(__u16 *)(data + 14 + 4) = id;
		*(__u16 *)(data + 14 + 10) = fold(gen_cfg.ip_sum + saddr_sum + id);
	}
	sport = (__u16)(1024 + (((r1 & 0xffff) * 64512) >> 16));
	sport = (__u16)((sport >> 8) | (sport << 8));
	*(__u16 *)(data + l4) = sport;
	v = (__u32)(r1 >> 32);
	*(__u32 *)(data + l4 + 4) = v; /* seq */
	tsum += saddr_sum + sport + sum32(v);
	if (ack) {
		v = (__u32)r0;
		if (gen_cfg.ack_mask) {
			v = ((v & ~gen_cfg.ack_mask) | gen_cfg.ack_value) + 1;
			v = bpf_htonl(v);
		}
		*(__u32 *)(data + l4 + 8) = v; /* ack_seq */
		tsum += sum32(v);
		v = (__u32)(r2 >> 32) ^ (__u32)(r1 << 16);
		*(__u32 *)(data + l4 + 24) = v; /* TSval (options: NOP NOP TS) */
		tsum += sum32(v);
		v = (__u32)(r0 >> 16);
		*(__u32 *)(data + l4 + 28) = v; /* TSecr */
		tsum += sum32(v);
	} else {
		v = (__u32)(r2 >> 16) ^ (__u32)r1;
		*(__u32 *)(data + l4 + 28) = v; /* TSval (options: MSS SACK-perm TS NOP WS) */
		tsum += sum32(v);
	}
	*(__u16 *)(data + l4 + 16) = fold(tsum);
	return XDP_TX;
}

SEC("xdp")
int sf_gen(struct xdp_md *ctx)
{
	if (gen_cfg.ipv6)
		return gen_cfg.ack ? gen(ctx, 1, 1) : gen(ctx, 1, 0);
	return gen_cfg.ack ? gen(ctx, 0, 1) : gen(ctx, 0, 0);
}

char LICENSE[] SEC("license") = "GPL";
