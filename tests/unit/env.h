/* env.h - the test-run environment of the unit tests (test_xdp), the BPF fuzzer and the forgery
 * test: the synfence object loaded (never attached), its maps filled, real listeners on lo (so that
 * bpf_skc_lookup_tcp finds them) and one established connection; the XDP and TC programs run
 * through BPF_PROG_TEST_RUN with the counter deltas around each run and TC's sf_last_handoff.
 *
 * How BPF_PROG_TEST_RUN behaves here (Linux 6.18):
 * - The ingress device is the current netns's lo (ifindex 1): counters land in sf_if_slot[1]'s
 *   slot, and bpf_skc_lookup_tcp() sees this process's sockets.
 * - XDP metadata would come back in front of the frame in data_out, its length in ctx_out.data
 *   (ctx_out needs a ctx_in with data = 0, data_end = data_size_in): synfence writes none.
 * - A TC test run is not at TC ingress, so the handoff kfunc refuses there with EINVAL after TC
 *   decided to call it (handoff_err, handoff_err_einval, the attributes stored). The kernel
 *   refuses TC test runs of frames whose IP header is cut (EINVAL).
 * - Frames shorter than 14 bytes are refused with EINVAL before the program runs.
 * - With repeat > 1 the frame is not reset between iterations. */
#ifndef SF_TEST_ENV_H
#define SF_TEST_ENV_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "synfence.h"

#define ENV_IFINDEX 1 /* lo, the test runs' ingress device */
/* synfence_tc's only verdict, TC_ACT_UNSPEC (bpf/consts.h), as a test run's retval */
#define ENV_TC_VERDICT 0xffffffffu
#define ENV_SLOT 1 /* its counter slot */
#define ENV_LPORT 33333 /* the fuzzers' listener port, when free (always in a fresh namespace) */
#define ENV_CPORT 33334 /* the fuzzers' client port of the established connection */

/* What a caller wants of the environment. */
struct env_opts {
	int any_netns;         /* may run in the initial network namespace (the fuzzers refuse to,
				* unless SF_FUZZ_ANY_NETNS=1: they open listeners on lo) */
	uint16_t lport;        /* listener port to try first (0: a free one) */
	uint16_t cport;        /* client port of the established connection (0: an ephemeral one) */
	int backlog;
	int wildcard;          /* also listeners on the wildcard addresses (wport), protected */
	int protect_cport;     /* protect cport too: segments to the client side, the est path */
	uint16_t protect[4][2]; /* port ranges protected besides the listener's ({0, 0} ends) */
};

/* The fuzzers' and the forgery test's: fixed ports (corpus frames keep hitting the listener),
 * 80, 443, 8000-8100 protected. */
extern const struct env_opts env_fuzz_opts;

struct synfence_bpf;

struct env {
	struct synfence_bpf *skel;
	int xdp, tc, cfg, sec, ports, slot, cnt, syn_checks, ncpu;
	uint16_t lport;            /* listener on 127.0.0.1 and ::1 (protected) */
	int lfd4, lfd6, have6;     /* have6: the ::1 one exists */
	uint16_t wport;            /* env_opts.wildcard: listener on 0.0.0.0 and :: (protected) */
	int wfd4, wfd6;
	uint16_t cport;            /* established 127.0.0.1:cport -> 127.0.0.1:lport (0: none) */
	int cfd, afd;
	__u64 prot[SF_PORT_WORDS]; /* the protected set, as written to sf_ports */
	struct sf_config cfg_now;  /* what env_set wrote last */
	struct sf_secrets sec_now;
	struct sf_counters *pcpu;  /* scratch for per-CPU reads */
};

/* One test run, XDP or TC. */
struct xrun {
	int err;               /* 0 or -errno of bpf_prog_test_run_opts */
	uint32_t ret;          /* the program's verdict */
	uint8_t out[4096];     /* data_out: XDP metadata (none expected), then the frame */
	int outlen;            /* 0 when err */
	int metalen;           /* XDP: bytes of metadata in front of the frame (ctx_out.data) */
	const uint8_t *frame;  /* out + metalen: the frame after the run */
	int framelen;
	uint32_t duration;     /* the kernel's timer: ns per iteration */
	int64_t d[SF_CNT_MAX]; /* counter deltas (env_xdp, env_tc) */
	/* env_tc: the program's sf_last_handoff after the run, cleared before it: mss != 0 iff the
	 * run attempted a handoff (refused in a test run, see above) */
	struct sf_handoff_attrs handoff;
};

/* 0, or -1 with a message on stderr. */
int env_setup(struct env *e, const struct env_opts *o);
void env_close(struct env *e);
int env_protected(const struct env *e, unsigned port);
/* Add the ports lo..hi to the protected set (sf_ports). 0 or -1 with a message on stderr. */
int env_protect(struct env *e, unsigned lo, unsigned hi);
/* Write the config and the secrets (kept in cfg_now, sec_now). 0 or -1 with a message on stderr. */
int env_set(struct env *e, const struct sf_config *c, const struct sf_secrets *s);
/* The counters of ENV_SLOT summed over the CPUs. 0 or -1. */
int env_counters(struct env *e, uint64_t out[SF_CNT_MAX]);
/* Give every CPU its whole budget of kernel checks for uncached SYNs (bpf/flowcache.h), so that
 * the next SYN's check does not depend on the clock. 0 or -1 with a message on stderr. */
int env_syn_checks_refill(struct env *e);
/* Empty the flow cache, as colliding flows would evict its entries. 0 or -1 with a message. */
int env_flows_clear(struct env *e);

/* synfence's XDP or TC program, once, with the counter deltas (and TC's handoff attempt). Return
 * r->err, or -EIO when the counters cannot be read. */
int env_xdp(struct env *e, const uint8_t *in, int len, struct xrun *r);
int env_tc(struct env *e, const uint8_t *in, int len, struct xrun *r);
/* Any XDP or TC program, repeat times, nothing else read (the micro-benchmark). Return r->err. */
int env_run_xdp(int prog, const uint8_t *in, int len, struct xrun *r, int repeat);
int env_run_tc(int prog, const uint8_t *in, int len, struct xrun *r, int repeat);

extern const char *const env_cnt_names[SF_CNT_MAX];
/* "XDP_PASS", ..., or "verdict N" (in a static buffer). */
const char *env_verdict_name(uint32_t v);
/* Append a reason to why ("; " between reasons), as long as there is room. */
void addf(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
