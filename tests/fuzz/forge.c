/* forge.c - forgery resistance of the synfence cookie: millions of forged final ACKs per class
 * through the real XDP program (BPF_PROG_TEST_RUN, a real listener on lo), the accepted ones
 * counted and compared with the theory (2^-21 without timestamps, 2^-53 with) and, iteration by
 * iteration, with libsodium's verdict on the same values. Then through the TC program, which checks
 * the cookie again before the handoff: every forgery XDP accepted must be handed off (they are
 * valid cookies), and a sample of each class run through TC directly is handed off exactly when
 * libsodium accepts it, with the cookie's attributes, and otherwise refused (handoff_cookie_bad).
 *
 * Usage: sf_forge [--seed N] [--scale F] [--only CLASS]   (in a namespace: run-in-netns.sh)
 * Output: one line per class, "  ok ..." / "  FAIL ..." checks, and a summary. Exit 0/1, 2 on a
 * setup error. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "env.h"
#include "forge.h"
#include "oracle.h"
#include "pkt.h"
#include "sf_forge.skel.h"

#define CHUNK 1000000u
#define TC_SAMPLE 20000u     /* iterations of each class run through TC directly */
#define FORGE_TSVAL 0x01020304u /* the client's TSval in the timestamp frame */

static struct env E;
static struct sf_forge_bpf *F;
static int fails, checks;

static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	fails += !ok;
	printf("  %-5s ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The forged ACKs' tuple, with a client ISN. */
static void forge_tuple(const struct forge_cfg *c, uint32_t isn, struct oc_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = 4;
	t->isn = isn;
	memcpy(t->saddr, &c->saddr, 4);
	memcpy(t->daddr, &c->daddr, 4);
	t->sport = rd16((const uint8_t *)&c->ports);
	t->dport = rd16((const uint8_t *)&c->ports + 2);
}

/* The values of forged ACK i, computed as the generator does, with libsodium's SipHash. */
static void forge_values(const struct forge_cfg *c, uint64_t i, struct forge_plan *pl)
{
	const __u64 *key;
	struct oc_tuple t;
	uint8_t msg[64];

	forge_plan(pl, c, FORGE_R1(c, i, mix), FORGE_R2(c, i, mix));
	if (pl->hash_key < 0)
		return;
	forge_tuple(c, pl->h_isn, &t);
	key = pl->hash_key == 4 ? c->foreign : c->keys[pl->hash_key & 3];
	forge_finish(pl, oc_siphash((const uint8_t *)key, msg,
				    oc_cookie_msg(&t, pl->h_epoch, pl->h_info, msg)));
}

/* The final-ACK rule of include/synfence.h on forged ACK pl, evaluated with libsodium; on
 * acceptance cp is what the cookie says. */
static int oracle_accepts(const struct forge_cfg *c, const struct forge_plan *pl,
			  struct oc_params *cp)
{
	struct oc_tuple t;

	forge_tuple(c, pl->seq - 1, &t);
	return oc_ack_check(&t, pl->ack, (int)c->ts, pl->tsecr, c->epoch, c->keys, cp) == OC_ACK_OK;
}

/* Poisson: the smallest k with P(X > k) < 1e-6 for mean lambda (how many acceptances are still
 * consistent with the theoretical rate). */
static uint64_t poisson_hi(double lambda)
{
	double p = exp(-lambda), cdf = p;
	uint64_t k = 0;

	while (1 - cdf >= 1e-6 && k < 1000000) {
		k++;
		p *= lambda / (double)k;
		cdf += p;
	}
	return k;
}

static const char *const class_names[FC_N] = {
	"random cookie, right tuple, random ISN, epoch bits right",
	"random cookie, epoch bits random too",
	"cookie made with another server's secret",
	"replayed genuine cookie of epoch cur-2/cur-3 (key still in the map)",
	"genuine cookie of this server for another client ISN",
	"control: genuine cookies of epochs cur and cur-1",
};

static const char *const class_ids[FC_N] = { "random", "random-epoch", "foreign", "replay", "isn-swap",
					      "genuine" };

/* log2 of the acceptance probability per try (0: always, -INFINITY: never) */
static double theory_log2(int cls, int ts)
{
	int bits = ts ? SF_COOKIE_HASH_BITS + 32 : SF_COOKIE_HASH_BITS;

	switch (cls) {
	case FC_RANDOM_EPOCH:
		return -(bits + 1); /* half of the epoch-bit values are valid (cur, cur-1) */
	case FC_REPLAY:
		return -INFINITY;
	case FC_GENUINE:
		return 0;
	default:
		return -bits;
	}
}

static uint8_t frame[2][PKT_MAX];
static int framelen[2];

static int build_frames(struct forge_cfg *c)
{
	struct pkt_spec s = { .family = 4, .smac = { 2, 0xc1, 0x1e, 0, 0, 1 },
			      .dmac = { 2, 0x5e, 0x27, 0, 0, 2 }, .saddr = { 198, 18, 0, 2 },
			      .daddr = { 127, 0, 0, 1 }, .sport = 40000, .flags = TF_ACK,
			      .tsval = FORGE_TSVAL };
	int ts;

	s.dport = E.lport;
	for (ts = 0; ts < 2; ts++) {
		s.opts = ts ? "NNT" : NULL;
		framelen[ts] = pkt_build(&s, frame[ts], PKT_MAX);
		if (framelen[ts] != FORGE_L4_OFF + 20 + (ts ? 12 : 0) ||
		    (ts && frame[ts][FORGE_L4_OFF + FORGE_TSECR_OFF - 6] != 8))
			return -1;
	}
	memcpy(&c->saddr, s.saddr, 4);
	memcpy(&c->daddr, s.daddr, 4);
	memcpy(&c->ports, frame[0] + FORGE_L4_OFF, 4);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct result {
	uint64_t tried, accepted, oracle;
	double secs_bpf, secs_oracle, ns_per_try;
};

/* The XDP runs of a class: n forged ACKs through the generator and synfence_xdp, in chunks; after
 * each chunk sf_forge_close notes the last iteration's outcome, which must agree with the chunk's
 * verdict (the last iteration's). Returns -1 on a failed run. */
static int xdp_runs(const struct forge_cfg *c, uint64_t n, uint64_t *verdict_mismatch)
{
	int wrapper = bpf_program__fd(F->progs.sf_forge);
	int closer = bpf_program__fd(F->progs.sf_forge_close);
	int ts = (int)c->ts;
	uint64_t done;

	F->bss->cfg = *c;
	F->bss->iter = F->bss->noted = 0;
	F->bss->acc_n = F->bss->odd = 0;
	*verdict_mismatch = 0;
	for (done = 0; done < n;) {
		uint32_t rep = n - done < CHUNK ? (uint32_t)(n - done) : CHUNK, acc_before;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame[ts], .data_size_in = (__u32)framelen[ts],
			    .repeat = rep);
		LIBBPF_OPTS(bpf_test_run_opts, oc, .data_in = frame[ts], .data_size_in = (__u32)framelen[ts],
			    .repeat = 1);

		if (bpf_prog_test_run_opts(wrapper, &o)) {
			fprintf(stderr, "test run: %s\n", strerror(errno));
			return -1;
		}
		if (o.retval != XDP_DROP && o.retval != XDP_PASS) {
			fprintf(stderr, "forged ACK got verdict %u (tail call failed?)\n", o.retval);
			return -1;
		}
		done += rep;
		if (F->bss->iter != done) {
			fprintf(stderr, "generator ran %llu iterations, expected %llu\n",
				(unsigned long long)F->bss->iter, (unsigned long long)done);
			return -1;
		}
		acc_before = F->bss->acc_n;
		if (bpf_prog_test_run_opts(closer, &oc) || F->bss->noted != done) {
			fprintf(stderr, "closing run: %s\n", strerror(errno));
			return -1;
		}
		*verdict_mismatch += (o.retval == XDP_PASS) != (F->bss->acc_n != acc_before);
	}
	return 0;
}

/* Forged ACK i of class c through TC directly. Returns 1 if TC did what libsodium's verdict says
 * (accepted: a handoff attempt with the cookie's attributes; else handoff_cookie_bad and nothing
 * stored), 0 if not, with the reason in why; *handed: it attempted a handoff. */
static int tc_agrees(const struct forge_cfg *c, uint64_t i, int *handed, char *why, size_t wl)
{
	static struct xrun r;
	int64_t want[SF_CNT_MAX] = { 0 };
	struct sf_handoff_attrs attrs;
	struct forge_plan pl;
	struct oc_params cp;
	uint8_t f[PKT_MAX];
	int n = framelen[c->ts], accepted, k;

	forge_values(c, i, &pl);
	accepted = oracle_accepts(c, &pl, &cp);
	memcpy(f, frame[c->ts], (size_t)n);
	wr32(f + FORGE_L4_OFF + 4, pl.seq);
	wr32(f + FORGE_L4_OFF + 8, pl.ack);
	if (c->ts)
		wr32(f + FORGE_L4_OFF + FORGE_TSECR_OFF, pl.tsecr);
	*handed = 0;
	if (env_tc(&E, f, n, &r) || r.ret != ENV_TC_VERDICT) {
		snprintf(why, wl, "iteration %" PRIu64 ": TC test run: %s, verdict %d", i,
			 strerror(-r.err), (int)r.ret);
		return 0;
	}
	*handed = r.handoff.mss != 0;
	if (accepted) { /* the kfunc refuses every handoff in a test run (env.h) */
		want[SF_CNT_handoff_err] = want[SF_CNT_handoff_err_einval] = 1;
		oc_handoff_attrs(&cp, (int)c->ts, FORGE_TSVAL, pl.tsecr, E.cfg_now.rcv_wscale, &attrs);
	} else {
		want[SF_CNT_handoff_cookie_bad] = 1;
	}
	for (k = 0; k < SF_CNT_MAX; k++)
		if (r.d[k] != want[k]) {
			snprintf(why, wl, "iteration %" PRIu64 " (libsodium: %s): TC counter %s %+" PRId64
				 ", want %+" PRId64, i, accepted ? "valid" : "forged", env_cnt_names[k],
				 r.d[k], want[k]);
			return 0;
		}
	if (!accepted && *handed) {
		snprintf(why, wl, "iteration %" PRIu64 ": handoff of a forged ACK attempted", i);
		return 0;
	}
	if (accepted && oc_handoff_diff(&attrs, &r.handoff, why, wl)) {
		char d[256];

		snprintf(d, sizeof(d), "%s", why);
		snprintf(why, wl, "iteration %" PRIu64 ": %s", i, d);
		return 0;
	}
	return 1;
}

/* TC on the iterations XDP accepted (as recorded, up to FORGE_ACC_MAX; if any) and on the first
 * TC_SAMPLE of the class. */
static void tc_checks(const struct forge_cfg *c, const char *hdr, const uint64_t *acc,
		      uint64_t nacc, uint64_t n)
{
	uint64_t i, sample = n < TC_SAMPLE ? n : TC_SAMPLE, handed = 0, agree = 0, oracle = 0;
	struct forge_plan pl;
	struct oc_params cp;
	char why[512] = "", w[512];
	int h;

	for (i = 0; i < nacc; i++) {
		int same = tc_agrees(c, acc[i], &h, w, sizeof(w));

		if (same && !h)
			snprintf(w, sizeof(w), "iteration %" PRIu64 ": not handed off (nor valid for "
				 "libsodium)", acc[i]);
		if (same && h)
			handed++;
		else if (!why[0])
			snprintf(why, sizeof(why), "%s", w);
	}
	if (nacc)
		check(handed == nacc, "%s: TC hands off each of the %" PRIu64 " ACKs XDP accepted%s, "
		      "with the cookie's attributes%s%s", hdr, nacc,
		      c->cls == FC_GENUINE ? " (the first ones)" : "", why[0] ? ": " : "", why);
	why[0] = 0;
	handed = 0;
	for (i = 0; i < sample; i++) {
		forge_values(c, i, &pl);
		oracle += oracle_accepts(c, &pl, &cp);
		if (tc_agrees(c, i, &h, w, sizeof(w)))
			agree++;
		else if (!why[0])
			snprintf(why, sizeof(why), "%s", w);
		handed += h;
	}
	check(agree == sample, "%s: TC on %" PRIu64 " of them directly: %" PRIu64 " handed off, "
	      "libsodium accepts %" PRIu64 "; the others refused (handoff_cookie_bad)%s%s", hdr,
	      sample, handed, oracle, why[0] ? ": " : "", why);
}

static int run_class(struct forge_cfg *base, int cls, int ts, uint64_t n, struct result *res)
{
	struct forge_cfg c = *base;
	uint64_t before[SF_CNT_MAX], after[SF_CNT_MAX], *acc, *exp_acc, nacc, nexp = 0, i, mismatch;
	uint64_t cap = n < 100000 ? n + 16 : n / 1000 + 4096; /* far above any plausible count */
	double t0;
	int64_t d[SF_CNT_MAX];
	char hdr[160];

	c.cls = (uint32_t)cls;
	c.ts = (uint32_t)ts;
	acc = calloc(cap, sizeof(*acc));
	exp_acc = calloc(cap, sizeof(*exp_acc));
	if (!acc || !exp_acc)
		return -1;
	if (env_counters(&E, before))
		return -1;
	t0 = now_s();
	if (xdp_runs(&c, n, &mismatch))
		return -1;
	res->secs_bpf = now_s() - t0;
	if (env_counters(&E, after))
		return -1;
	for (i = 0; i < SF_CNT_MAX; i++)
		d[i] = (int64_t)(after[i] - before[i]);
	/* only the first FORGE_ACC_MAX accepted iterations are recorded (the controls accept all) */
	nacc = F->bss->acc_n < FORGE_ACC_MAX ? F->bss->acc_n : FORGE_ACC_MAX;
	memcpy(acc, F->bss->acc, nacc * sizeof(*acc));
	qsort(acc, nacc, sizeof(*acc), cmp_u64);

	/* the oracle, iteration by iteration */
	t0 = now_s();
	for (i = 0; i < n; i++) {
		struct forge_plan pl;
		struct oc_params cp;

		forge_values(&c, i, &pl);
		if (oracle_accepts(&c, &pl, &cp)) {
			if (nexp < cap)
				exp_acc[nexp] = i;
			nexp++;
		}
	}
	res->secs_oracle = now_s() - t0;
	res->tried = n;
	res->accepted = F->bss->acc_n;
	res->oracle = nexp;
	res->ns_per_try = res->secs_bpf * 1e9 / (double)n;

	snprintf(hdr, sizeof(hdr), "%s/%s", class_ids[cls], ts ? "ts" : "no-ts");
	{
		double lg = theory_log2(cls, ts), lambda = isinf(lg) ? 0 : (double)n * exp2(lg);
		uint64_t hi = poisson_hi(lambda);
		uint64_t cmp = nexp < nacc ? nexp : nacc;
		int same = nexp == res->accepted && !memcmp(acc, exp_acc, (size_t)(cmp < cap ? cmp : cap) * sizeof(*acc));
		char th[64];

		if (isinf(lg))
			snprintf(th, sizeof(th), "0 (epoch check)");
		else
			snprintf(th, sizeof(th), "2^%.0f = %.3g", lg, exp2(lg));
		printf("%-18s %10" PRIu64 " tried, %8" PRIu64 " accepted (rate %.3g; theory %s,"
		       " expected %.3g); oracle accepts %" PRIu64 "; %.0f ns/try\n",
		       hdr, n, res->accepted, (double)res->accepted / (double)n, th, lambda, nexp,
		       res->ns_per_try);
		check(same, "%s: the accepted forgeries are exactly the ones libsodium accepts (%" PRIu64
		      " vs %" PRIu64 ")", hdr, res->accepted, nexp);
		check(F->bss->odd == 0 && d[SF_CNT_ack_cookie_ok] == (int64_t)res->accepted &&
			      d[SF_CNT_ack_cookie_bad] == (int64_t)(n - res->accepted),
		      "%s: counters ack_cookie_ok %+" PRId64 ", ack_cookie_bad %+" PRId64 "; iterations "
		      "that moved not exactly one of them: %u", hdr, d[SF_CNT_ack_cookie_ok],
		      d[SF_CNT_ack_cookie_bad], F->bss->odd);
		check(mismatch == 0, "%s: each chunk's verdict (XDP_PASS/XDP_DROP of its last ACK) agrees "
		      "with the counters (%" PRIu64 " disagree)", hdr, mismatch);
		if (cls == FC_GENUINE)
			check(res->accepted == n, "%s: every genuine cookie accepted (%" PRIu64 "/%" PRIu64 ")",
			      hdr, res->accepted, n);
		else if (cls == FC_REPLAY)
			check(res->accepted == 0 && d[SF_CNT_ack_bad_epoch] == (int64_t)n,
			      "%s: no replayed old cookie accepted, all counted as ack_bad_epoch", hdr);
		else
			check(res->accepted <= hi, "%s: %" PRIu64 " accepted <= %" PRIu64
			      " (P < 1e-6 above it for the theoretical rate)", hdr, res->accepted, hi);
	}
	tc_checks(&c, hdr, acc, nacc, n);
	free(acc);
	free(exp_acc);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		int cls, ts;
		uint64_t n; /* at --scale 1 */
	} plan[] = {
		{ FC_RANDOM, 0, 10000000 },      { FC_RANDOM, 1, 10000000 },
		{ FC_FOREIGN, 0, 10000000 },     { FC_FOREIGN, 1, 10000000 },
		{ FC_RANDOM_EPOCH, 0, 4000000 }, { FC_ISN_SWAP, 0, 4000000 },
		{ FC_ISN_SWAP, 1, 2000000 },     { FC_REPLAY, 0, 2000000 },
		{ FC_REPLAY, 1, 2000000 },       { FC_GENUINE, 0, 1000000 },
		{ FC_GENUINE, 1, 1000000 },
	};
	struct forge_cfg c = { 0 };
	struct sf_config cfg = { .flags = SF_CFG_ENABLED | SF_CFG_TIMESTAMPS | SF_CFG_SACK |
					  SF_CFG_WSCALE | SF_CFG_ECN,
				 .mss4 = 1460, .mss6 = 1440, .window = 65535, .rcv_wscale = 7, .ttl = 64 };
	struct sf_secrets sec = { .epoch = 6 };
	uint64_t seed = 1, tried = 0, tried_forged = 0, acc_forged = 0;
	const char *only = NULL;
	double scale = 1, t0 = now_s();
	__u32 k0 = 0;
	int fd, a, i, j;
	size_t p;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--scale") && a + 1 < argc)
			scale = strtod(argv[++a], NULL);
		else if (!strcmp(argv[a], "--only") && a + 1 < argc)
			only = argv[++a];
		else {
			fprintf(stderr, "usage: %s [--seed N] [--scale F] [--only CLASS]\n"
				"classes: random random-epoch foreign replay isn-swap genuine\n", argv[0]);
			return 2;
		}
	}
	if (sodium_init() < 0 || env_setup(&E, &env_fuzz_opts))
		return 2;
	/* the server's four keys (epochs 3..6 are all still in the map, as after rotations) and a
	 * foreign one, all from the seed */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 2; j++)
			c.keys[i][j] = sec.key[i][j] = mix(seed * 0x10001 + (uint64_t)(i * 2 + j));
	c.foreign[0] = mix(seed ^ 0xf0f0f0f0f0ull);
	c.foreign[1] = mix(seed ^ 0x0f0f0f0f0full);
	c.seed = seed;
	c.epoch = sec.epoch;
	if (env_set(&E, &cfg, &sec) || build_frames(&c)) {
		fprintf(stderr, "setup failed\n");
		return 2;
	}
	c.slot = ENV_SLOT;
	F = sf_forge_bpf__open();
	if (!F || bpf_map__reuse_fd(F->maps.sf_counters, E.cnt) || sf_forge_bpf__load(F)) {
		fprintf(stderr, "cannot load the forged-ACK generator: %s\n", strerror(errno));
		return 2;
	}
	fd = E.xdp;
	if (bpf_map_update_elem(bpf_map__fd(F->maps.target), &k0, &fd, BPF_ANY)) {
		fprintf(stderr, "cannot install synfence_xdp as the tail-call target: %s\n", strerror(errno));
		return 2;
	}
	printf("forged final ACKs to a real listener (127.0.0.1:%u, from 198.18.0.2:40000), epoch %u,"
	       " seed %" PRIu64 "\n", E.lport, c.epoch, seed);
	for (p = 0; p < sizeof(plan) / sizeof(plan[0]); p++) {
		struct result r;
		uint64_t n = (uint64_t)((double)plan[p].n * scale);

		if (only && strcmp(only, class_ids[plan[p].cls]))
			continue;
		if (n < 1)
			n = 1;
		if (run_class(&c, plan[p].cls, plan[p].ts, n, &r)) {
			fprintf(stderr, "class %s failed to run\n", class_ids[plan[p].cls]);
			return 2;
		}
		tried += n;
		if (plan[p].cls != FC_GENUINE) {
			tried_forged += n;
			acc_forged += r.accepted;
		}
	}
	printf("classes:\n");
	for (i = 0; i < FC_N; i++)
		printf("  %-13s %s\n", class_ids[i], class_names[i]);
	printf("forged ACKs tried: %" PRIu64 ", accepted: %" PRIu64 " (plus %" PRIu64
	       " genuine controls); %.1f s\n", tried_forged, acc_forged, tried - tried_forged,
	       now_s() - t0);
	printf("%d passed, %d failed\n", checks - fails, fails);
	sf_forge_bpf__destroy(F);
	env_close(&E);
	return fails ? 1 : 0;
}
