/* env.h - the BPF side of the fuzzers and the forgery test: the synfence object loaded (never
 * attached), its maps filled, a real listener on lo (so bpf_skc_lookup_tcp finds it), and one
 * established connection. Runs inside a network namespace the caller made (tests/fuzz/run-in-netns.sh). */
#ifndef SF_FUZZ_ENV_H
#define SF_FUZZ_ENV_H

#include <stdint.h>
#include <linux/types.h>

#include "synfence.h"

#define ENV_SLOT 1 /* counter slot of lo (ifindex 1), the test-run ingress device */
#define ENV_LPORT 33333 /* listener port, when free (always in a fresh namespace) */
#define ENV_CPORT 33334 /* client port of the established connection */

struct synfence_bpf;

struct env {
	struct synfence_bpf *skel;
	int xdp, tc, cfg, sec, ports, slot, cnt, syn_checks, ncpu;
	uint16_t lport;            /* listener on 127.0.0.1 and ::1 (protected) */
	int have6;
	uint16_t cport;            /* established 127.0.0.1:cport -> 127.0.0.1:lport (0: none) */
	int lfd4, lfd6, cfd, afd;
	__u64 prot[SF_PORT_WORDS]; /* the protected set, as written to sf_ports */
	struct sf_config cfg_now;
	struct sf_secrets sec_now;
	struct sf_counters *pcpu;  /* scratch for per-CPU reads */
};

struct xrun {
	int err;               /* 0 or -errno of bpf_prog_test_run_opts */
	uint32_t ret;
	uint8_t out[4096];
	uint32_t outlen, metalen;
	const uint8_t *frame;  /* out + metalen */
	int framelen;
	int64_t d[SF_CNT_MAX]; /* counter deltas */
};

/* Refuses to run in the initial network namespace unless SF_FUZZ_ANY_NETNS=1. Returns 0 or -1
 * with a message on stderr. */
int env_setup(struct env *e);
void env_close(struct env *e);
int env_protected(const struct env *e, unsigned port);
int env_set(struct env *e, const struct sf_config *c, const struct sf_secrets *s);
int env_counters(struct env *e, uint64_t out[SF_CNT_MAX]);
/* Give every CPU its whole budget of kernel checks for uncached SYNs (bpf/flowcache.h), so that
 * the next SYN's check does not depend on the clock. 0 or -1 with a message on stderr. */
int env_syn_checks_refill(struct env *e);
/* One XDP run (repeat 1) with counter deltas. */
int env_xdp(struct env *e, const uint8_t *in, int len, struct xrun *r);
/* One TC run (no metadata can be given to an skb test run): return value and counter deltas. */
int env_tc(struct env *e, const uint8_t *in, int len, uint32_t *ret, int64_t d[SF_CNT_MAX]);

extern const char *const env_cnt_names[SF_CNT_MAX];

#endif
