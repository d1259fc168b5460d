/* env.h - the BPF side of the fuzzers and the forgery test: the synfence object loaded (never
 * attached), its maps filled, a real listener on lo (so bpf_skc_lookup_tcp finds it), and one
 * established connection. Runs inside a network namespace the caller made (tests/fuzz/run-in-netns.sh). */
#ifndef SF_FUZZ_ENV_H
#define SF_FUZZ_ENV_H

#include <stdint.h>
#include <linux/types.h>

#include "synfence.h"

#define ENV_IFINDEX 1 /* lo, the test runs' ingress device */
/* synfence_tc's only verdict, TC_ACT_UNSPEC (bpf/consts.h), as a test run's retval */
#define ENV_TC_VERDICT 0xffffffffu
#define ENV_SLOT 1 /* its counter slot */
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

/* One test run (repeat 1), XDP or TC. */
struct xrun {
	int err;               /* 0 or -errno of bpf_prog_test_run_opts */
	uint32_t ret;          /* the program's verdict */
	uint8_t out[4096];     /* the frame after the run */
	int outlen;
	int64_t d[SF_CNT_MAX]; /* counter deltas */
	/* TC: the program's sf_last_handoff after the run, cleared before it: mss != 0 iff the run
	 * attempted a handoff. A test run is not at TC ingress, so the kfunc refuses every handoff
	 * there with EINVAL (handoff_err, handoff_err_einval) after the attributes are stored. */
	struct sf_handoff_attrs handoff;
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
int env_xdp(struct env *e, const uint8_t *in, int len, struct xrun *r);
int env_tc(struct env *e, const uint8_t *in, int len, struct xrun *r);
/* Empty the flow cache, as colliding flows would evict its entries. 0 or -1 with a message. */
int env_flows_clear(struct env *e);

extern const char *const env_cnt_names[SF_CNT_MAX];

#endif
