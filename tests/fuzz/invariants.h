/* invariants.h - the BPF fuzzer's judge: every frame through the XDP program, then through the TC
 * program, each run held against the reference model (model.h) and against invariants stated on
 * their own, so that they hold even if the model is wrong; the statistics of a run. */
#ifndef SF_FUZZ_INVARIANTS_H
#define SF_FUZZ_INVARIANTS_H

#include <stdint.h>

enum inv {
	INV_RUN,        /* the test run succeeds, verdict in {PASS, DROP, TX} */
	INV_MODEL,      /* verdict and counter deltas are the reference model's */
	INV_TX_SYN,     /* XDP_TX only for a well-formed SYN to a protected port */
	INV_TX_FRAME,   /* every SYN-ACK parses, checksums right, addresses/ports/MACs/VLANs right,
			   cookie = libsodium's, options = negotiated (tests/unit/synack.c) */
	INV_HANDOFF,    /* TC hands off only an ACK carrying a valid cookie to a listener; its
			   attributes = the cookie's */
	INV_VALID_PASS, /* a valid cookie ACK to the listener is passed by XDP, handed off by TC */
	INV_UNPROT,     /* nothing outside the protected ports (or not TCP, or fragment) is dropped,
			   changed, counted as a connection or handed off */
	INV_PASS_SAME,  /* a passed frame is byte-for-byte the input */
	INV_COUNTERS,   /* counter accounting identities of include/synfence.h */
	INV_TC_RUN,     /* TC: the test run succeeds, TC_ACT_UNSPEC, the frame untouched */
	INV_TC_MODEL,   /* TC: handoff decision and counter deltas are the reference model's */
	INV_MONITOR,    /* monitor mode: every frame passes unchanged; monitor_pass counts the would-be
			   SYN-ACKs and drops (and never moves outside monitor mode) */
	INV_SAMPLE,     /* sampling on (1 in 1, no cap): a run that ends a packet's way leaves one
			   sample (a SYN the rewrite failed on: two), of its verdict's class and
			   its specific reason counter, holding the frame as it arrived; a frame
			   nothing counted leaves none */
	INV_N
};

#define MAX_PATHS 48

struct fuzz_stats {
	uint64_t frames, tc_runs, tc_refused, synacks, handoffs, evictions, len_mismatch_tx;
	uint64_t refused_short, monitor_frames;
	uint64_t checks[INV_N];
	uint64_t verdicts[5];
	struct {
		const char *path;
		uint64_t n;
	} paths[MAX_PATHS];
	int npaths;
	uint64_t findings;
};

extern struct fuzz_stats S;
/* the reasons judge() found ("[invariant] reason; ...") */
extern char inv_why[4096];

/* Judge one frame: XDP, then TC. Returns 0, or -1 with the reasons in inv_why. */
int judge(const uint8_t *in, int len);
void print_stats(double secs, uint64_t corpus_n, uint64_t seed);

#endif
