/* sf_gen.bpf.c - test tool: the XDP programs of the flood generator tests/tools/sf_flood.c. Each
 * writes whole frames with sf_gen.h's sf_gen_write (the template prepared by userspace, then the
 * random fields and checksums): page contents persist across page-pool recycling and a receiver
 * may have rewritten them (a SYN-ACK built in place).
 *
 *   sf_gen      engine "live": run through BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, it
 *               returns XDP_TX, which the kernel turns into a transmit on the ingress device given
 *               in ctx_in. One frame per run; `sent` counts runs.
 *   sf_probe    returns XDP_DROP: one live-frames test run of it tells whether the kernel allows
 *               live frames at all (it sends nothing).
 *   sf_loop     engine "loop": on one end (b) of a veth pair of sf_flood's own; every frame that
 *               arrives is broadcast through `loop_ports`: LOOP_FAN copies to IFACE (out to the
 *               receiver), each rewritten into the next flood frame by sf_fan, the devmap's egress
 *               program, and the frame itself out of the pair's other end (a), so that it arrives
 *               at b again. A few seed frames keep circulating until the credit is spent.
 *   sf_reflect  engine "reflect": on IFACE itself; each answer to a spoofed source (the
 *               receiver's SYN-ACK or RST) is rewritten into the next flood frame and sent back
 *               with XDP_TX; everything else passes.
 *
 * The loop and reflect engines are bounded by `credit`, which userspace raises (the .bss is
 * mmapped) and each emitted frame takes one of; without credit a frame is dropped. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sf_gen.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* Filled in by sf_flood before load (frozen: the verifier sees constants). */
const volatile struct sf_gen_cfg gen_cfg = {};

__u64 sent = 0;   /* frame numbers handed out (live: frames generated) */
__s64 credit = 0; /* loop, reflect: frames they may still emit */

/* loop: copies to IFACE per pass. A pass costs about as much as several copies, so that fanning
 * out more than doubles the rate; the copies of one pass are separate pages, each rewritten into a
 * frame of its own (a flood of one frame repeated would be cheaper for the receiver than a real
 * one: same flow, warm cache). */
#define LOOP_FAN 8

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, LOOP_FAN + 1); /* IFACE with sf_fan LOOP_FAN times, then the pair's a */
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} loop_ports SEC(".maps");

static __always_inline int gen_variant(struct xdp_md *ctx, __u64 i, const int v6, const int ack)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	if (data + SF_GEN_LEN(v6, ack) > data_end)
		return -1;
	sf_gen_write(data, &gen_cfg, i, v6, ack);
	return 0;
}

/* Writes flood frame number i over the packet; -1 when the packet is too short. */
static __always_inline int gen_frame(struct xdp_md *ctx, __u64 i)
{
	if (gen_cfg.ipv6)
		return gen_cfg.ack ? gen_variant(ctx, i, 1, 1) : gen_variant(ctx, i, 1, 0);
	return gen_cfg.ack ? gen_variant(ctx, i, 0, 1) : gen_variant(ctx, i, 0, 0);
}

/* One unit of credit, or 0. A taker that finds none puts its decrement back, so userspace can
 * take the rest away exactly (compare-and-swap to 0) while frames are still circulating. */
static __always_inline int take_credit(void)
{
	if (__sync_fetch_and_add(&credit, -1) > 0)
		return 1;
	__sync_fetch_and_add(&credit, 1);
	return 0;
}

SEC("xdp")
int sf_gen(struct xdp_md *ctx)
{
	return gen_frame(ctx, sent++) ? XDP_ABORTED : XDP_TX;
}

SEC("xdp")
int sf_probe(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_DROP;
}

/* Is the packet long enough for a flood frame? (Checked before a credit is taken: gen_frame's own
 * check, which the verifier needs, then never fails.) */
static __always_inline int frame_fits(struct xdp_md *ctx)
{
	return (void *)(long)ctx->data + gen_cfg.len <= (void *)(long)ctx->data_end;
}

SEC("xdp")
int sf_loop(struct xdp_md *ctx __attribute__((unused)))
{
	if (credit <= 0)
		return XDP_DROP;
	return (int)bpf_redirect_map(&loop_ports, 0, BPF_F_BROADCAST);
}

SEC("xdp/devmap")
int sf_fan(struct xdp_md *ctx)
{
	if (!frame_fits(ctx) || !take_credit())
		return XDP_DROP;
	gen_frame(ctx, __sync_fetch_and_add(&sent, 1));
	return XDP_PASS;
}

/* Is the packet addressed to the flood's source prefix (an answer to a spoofed frame)? */
static __always_inline int to_spoofed(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	const volatile __u32 *prefix;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (gen_cfg.ipv6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		int k;

		if (eth->h_proto != bpf_htons(ETH_P_IPV6) || (void *)(ip6 + 1) > data_end)
			return 0;
		prefix = (const volatile __u32 *)&gen_cfg.tmpl[14 + 8]; /* the template's saddr */
#pragma unroll
		for (k = 0; k < 4; k++)
			if ((ip6->daddr.in6_u.u6_addr32[k] & ~gen_cfg.src_mask[k]) != prefix[k])
				return 0;
		return 1;
	}
	struct iphdr *ip = (void *)(eth + 1);

	if (eth->h_proto != bpf_htons(ETH_P_IP) || (void *)(ip + 1) > data_end)
		return 0;
	prefix = (const volatile __u32 *)&gen_cfg.tmpl[14 + 12];
	return (ip->daddr & ~gen_cfg.src_mask[0]) == *prefix;
}

SEC("xdp")
int sf_reflect(struct xdp_md *ctx)
{
	if (!to_spoofed(ctx))
		return XDP_PASS;
	/* nobody waits for answers to spoofed sources: without credit they are dropped */
	if (bpf_xdp_adjust_tail(ctx, (int)gen_cfg.len - (int)bpf_xdp_get_buff_len(ctx)) ||
	    !frame_fits(ctx) || !take_credit())
		return XDP_DROP;
	gen_frame(ctx, __sync_fetch_and_add(&sent, 1));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
