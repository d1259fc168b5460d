/* sf_forge.bpf.c - forged-ACK generator for the forgery test (tests/fuzz/forge.c).
 *
 * Run through BPF_PROG_TEST_RUN with a large repeat: each iteration writes a fresh forged ACK
 * (seq, ack and, in the timestamp classes, TSecr) into the frame, derived from (seed, class,
 * iteration) by splitmix64, then tail-calls the real synfence XDP program. A tail call does not
 * come back, so the next iteration (or sf_forge_close after the last one) reads what synfence
 * counted for it: ack_cookie_ok moved by one means it accepted that ACK, ack_cookie_bad by one that
 * it refused it, anything else is an anomaly. Userspace recomputes every forged value with
 * libsodium and checks that exactly the iterations the oracle accepts were accepted. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "synfence.h"
#include "consts.h"
/* for sf_counters, synfence's own counter map: userspace gives its fd before the load (the other
 * maps are created, unused) */
#include "maps.h"
#include "hook.h"
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
/* Written here: the next iteration; how many have their outcome noted (accepted ones in acc[],
 * anomalies counted); synfence's counts, on the CPU the last iteration ran on, before it ran. */
__u64 iter = 0, noted = 0;
__u32 acc_n = 0, odd = 0;
__u64 acc[FORGE_ACC_MAX] = {};
__u64 last_ok = 0, last_bad = 0;
__u32 last_cpu = 0;

static __always_inline __u64 mix(__u64 z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The outcome of iteration iter - 1, if not noted yet: whichever counter synfence moved for it. */
static __always_inline void note_last(void)
{
	__u32 slot = cfg.slot, cpu = last_cpu;
	struct sf_counters *c;
	__u64 ok, bad;

	if (noted == iter)
		return;
	noted = iter;
	c = bpf_map_lookup_percpu_elem(&sf_counters, &slot, cpu);
	if (!c) {
		odd++;
		return;
	}
	ok = c->c[SF_CNT_ack_cookie_ok] - last_ok;
	bad = c->c[SF_CNT_ack_cookie_bad] - last_bad;
	if (ok + bad != 1) {
		odd++;
	} else if (ok) {
		__u32 n = acc_n;

		if (n < FORGE_ACC_MAX)
			acc[n] = iter - 1;
		acc_n = n + 1;
	}
}

SEC("xdp")
int sf_forge(struct xdp_md *ctx)
{
	void *data, *data_end;
	struct sf_counters *c;
	struct forge_plan pl;
	struct sf_pkt p = {};
	__u32 slot = cfg.slot;
	__u8 *tcp;
	__u64 i;

	note_last();
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
	/* synfence runs next, on this CPU */
	c = bpf_map_lookup_elem(&sf_counters, &slot);
	if (!c)
		return XDP_ABORTED;
	last_ok = c->c[SF_CNT_ack_cookie_ok];
	last_bad = c->c[SF_CNT_ack_cookie_bad];
	last_cpu = bpf_get_smp_processor_id();
	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED;
}

/* Run once after each chunk of sf_forge iterations: notes the outcome of the last one. */
SEC("xdp")
int sf_forge_close(struct xdp_md *ctx)
{
	(void)ctx;
	note_last();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
