/* sf_replay.bpf.c - micro-benchmark wrapper (test_xdp --bench): replays one frame per iteration
 * of a BPF_PROG_TEST_RUN with a large repeat, so that a path which rewrites the frame (SYN ->
 * SYN-ACK) can be timed without a syscall per packet.
 *
 * Each iteration writes the template frame back when one is set (the SYN case: synfence turned it
 * into a SYN-ACK of the same length), then tail-calls the program in slot 0 of `target`:
 * synfence_xdp, or the trivial XDP_PASS program for the baseline (the wrapper's own cost is then
 * subtracted). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define SF_REPLAY_LEN 74 /* Ethernet + IPv4 + TCP with Linux's 20 bytes of SYN options */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

/* Set by userspace (the whole .bss, one struct): restore = 1 writes tmpl over the frame, which
 * must then be SF_REPLAY_LEN bytes long. */
struct replay_cfg {
	__u32 restore;
	__u8 tmpl[SF_REPLAY_LEN];
} replay_cfg = {};

SEC("xdp")
int sf_replay(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	if (replay_cfg.restore) {
		if (data + SF_REPLAY_LEN > data_end)
			return XDP_ABORTED;
		__builtin_memcpy(data, replay_cfg.tmpl, SF_REPLAY_LEN);
	}
	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
