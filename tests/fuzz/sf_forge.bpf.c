/* sf_forge.bpf.c - forged-ACK generator for the forgery test (tests/fuzz/forge.c).
 *
 * Run through BPF_PROG_TEST_RUN with a large repeat: each iteration writes a fresh forged ACK
 * (seq, ack and, in the timestamp classes, TSecr) into the frame, derived from (seed, class,
 * iteration) by splitmix64, then tail-calls the real synfence XDP program. An iteration that
 * synfence accepted leaves its handoff metadata in front of the frame (the test run does not reset
 * it); the next iteration records that and removes it. Userspace recomputes every forged value with
 * libsodium and checks that exactly the iterations the oracle accepts were accepted. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "synfence.h"
#include "consts.h"
#include "siphash.h"
#include "parse.h"
#include "tcpopt.h"
#include "cookie.h"
#define FORGE_INLINE static __always_inline
#include "forge.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

/* Set by userspace before each run. */
struct forge_cfg cfg = {};
/* Written here. */
__u64 iter = 0;
__u32 acc_n = 0;
__u64 acc[FORGE_ACC_MAX] = {};

static __always_inline __u64 mix(__u64 z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

SEC("xdp")
int sf_forge(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end, *meta = (void *)(long)ctx->data_meta;
	struct forge_plan pl;
	struct sf_pkt p = {};
	__u8 *tcp;
	__u64 i;

	if (meta + sizeof(struct sf_meta) <= data) {
		struct sf_meta *m = meta;

		if (m->magic == SF_META_MAGIC && iter > 0) {
			__u32 n = acc_n;

			if (n < FORGE_ACC_MAX)
				acc[n] = iter - 1;
			acc_n = n + 1;
		}
	}
	if (meta < data && bpf_xdp_adjust_meta(ctx, (int)(data - meta)))
		return XDP_ABORTED;
	i = iter++;

	forge_plan(&pl, &cfg, FORGE_R1(&cfg, i, mix), FORGE_R2(&cfg, i, mix));
	if (pl.hash_key >= 0) {
		p.saddr[0] = cfg.saddr;
		p.daddr[0] = cfg.daddr;
		p.ports = cfg.ports;
		forge_finish(&pl, sf_cookie_hash(&p, pl.h_isn, pl.h_epoch, pl.h_info,
						 pl.hash_key == 4 ? cfg.foreign : cfg.keys[pl.hash_key & 3]));
	}

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	tcp = data + FORGE_L4_OFF;
	if ((void *)(tcp + 20) > data_end)
		return XDP_ABORTED;
	*(__u32 *)(tcp + 4) = bpf_htonl(pl.seq);
	*(__u32 *)(tcp + 8) = bpf_htonl(pl.ack);
	if (cfg.ts) {
		if ((void *)(tcp + FORGE_TSECR_OFF + 4) > data_end)
			return XDP_ABORTED;
		*(__u32 *)(tcp + FORGE_TSECR_OFF) = bpf_htonl(pl.tsecr);
	}
	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
