/* sample.c - see sample.h. The frames are the lists checks' kind (LSYN4 to the listener, a forged
 * cookie ACK, an ACK of the established connection); sf_sample_ctl is written straight into the
 * object's map and the ring read with libbpf's ring_buffer, as user/lib/sample.c does in the pins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cases.h"
#include "env.h"
#include "sample.h"
#include "synfence.skel.h"

#define SMP_MAX 8          /* records kept of one check */
#define SMP_MANY 4096      /* a cap high enough not to matter */
#define SMP_REC_BYTES 160  /* a record in the ring: 8 bytes of header + struct sf_sample, 8-aligned */

enum { SF_SYN, SF_FACK, SF_EST, SF_N };

struct got {
	int n;
	struct sf_sample s[SMP_MAX];
};

static int keep(void *ctx, void *data, size_t len)
{
	struct got *g = ctx;

	if (len >= sizeof(struct sf_sample) && g->n < SMP_MAX)
		memcpy(&g->s[g->n], data, sizeof(struct sf_sample));
	g->n++;
	return 0;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static int build(uint8_t f[SF_N][PKT_MAX], int n[SF_N])
{
	struct pkt_spec s4 = LSYN4();
	struct tcase fa = { .scen = S_ACK, .pkt = LSYN4(), .am = { .flip = 1u << 13 } };
	struct tcase es = { .scen = S_EST };
	struct sf_handoff_attrs m;
	char why[1024] = "";

	spec_fixup(&s4);
	n[SF_SYN] = pkt_build(&s4, f[SF_SYN], PKT_MAX);
	n[SF_FACK] = build_ack(&fa, f[SF_FACK], &m, why, sizeof(why));
	n[SF_EST] = build_frame(&es, f[SF_EST]);
	return n[SF_SYN] > 0 && n[SF_FACK] > 0 && n[SF_EST] > 0 ? 0 : -1;
}
#pragma GCC diagnostic pop

/* The switch as a check sets it: on, each packet of every class, any interface and reason. */
static struct sf_sample_ctl ctl_all(void)
{
	struct sf_sample_ctl c = { .on = 1, .every = { 1, 1, 1 }, .per_cpu_sec = SMP_MANY };

	return c;
}

/* Write the switch, empty every CPU's cap window. 0 or -1. */
static int ctl_set(const struct sf_sample_ctl *c)
{
	struct sf_sample_win *w = calloc((size_t)E.ncpu, sizeof(*w));
	__u32 zero = 0;
	int err;

	if (!w)
		return -1;
	err = bpf_map_update_elem(bpf_map__fd(E.skel->maps.sf_sample_ctl), &zero, c, BPF_ANY) ||
	      bpf_map_update_elem(bpf_map__fd(E.skel->maps.sf_sample_win), &zero, w, BPF_ANY);
	free(w);
	return err ? -1 : 0;
}

struct scheck {
	const char *name;
	int frame;
	__u32 cfg_set;                   /* SF_CFG_MONITOR */
	void (*tune)(struct sf_sample_ctl *c);
	int n;                           /* samples expected (0 or 1) */
	enum sf_verdict_class vc;        /* of the sample */
	enum sf_counter reason;
};

static void off(struct sf_sample_ctl *c) { c->on = 0; }
static void other_if(struct sf_sample_ctl *c) { c->ifindex = ENV_IFINDEX + 1000; }
static void this_if(struct sf_sample_ctl *c) { c->ifindex = ENV_IFINDEX; }
static void only_denied(struct sf_sample_ctl *c) { c->reasons = 1ull << SF_CNT_drop_denied; }
static void only_synack(struct sf_sample_ctl *c) { c->reasons = 1ull << SF_CNT_synack_sent; }
static void only_bad_hash(struct sf_sample_ctl *c) { c->reasons = 1ull << SF_CNT_ack_bad_hash; }
static void no_tx(struct sf_sample_ctl *c) { c->every[SF_VC_TX] = 0; }
static void no_drop(struct sf_sample_ctl *c) { c->every[SF_VC_DROP] = 0; }
static void no_pass(struct sf_sample_ctl *c) { c->every[SF_VC_PASS] = 0; }
static void all(struct sf_sample_ctl *c) { (void)c; }

#define C(x) SF_CNT_##x
static const struct scheck checks[] = {
	{ "sample_off_takes_nothing", SF_SYN, 0, off, 0, 0, 0 },
	{ "sample_syn_tx_is_the_syn", SF_SYN, 0, all, 1, SF_VC_TX, C(synack_sent) },
	{ "sample_forged_ack_drop_bad_hash", SF_FACK, 0, all, 1, SF_VC_DROP, C(ack_bad_hash) },
	{ "sample_est_pass", SF_EST, 0, all, 1, SF_VC_PASS, C(est_pass) },
	{ "sample_monitor_syn_is_pass", SF_SYN, SF_CFG_MONITOR, all, 1, SF_VC_PASS, C(synack_sent) },
	{ "sample_monitor_forged_ack_pass_bad_hash", SF_FACK, SF_CFG_MONITOR, all, 1, SF_VC_PASS, C(ack_bad_hash) },
	{ "sample_ifindex_other_filtered", SF_SYN, 0, other_if, 0, 0, 0 },
	{ "sample_ifindex_this_taken", SF_SYN, 0, this_if, 1, SF_VC_TX, C(synack_sent) },
	{ "sample_reason_other_filtered", SF_SYN, 0, only_denied, 0, 0, 0 },
	{ "sample_reason_this_taken", SF_SYN, 0, only_synack, 1, SF_VC_TX, C(synack_sent) },
	{ "sample_reason_specific_not_aggregate", SF_FACK, 0, only_bad_hash, 1, SF_VC_DROP, C(ack_bad_hash) },
	{ "sample_every_tx_0_none", SF_SYN, 0, no_tx, 0, 0, 0 },
	{ "sample_every_drop_0_none", SF_FACK, 0, no_drop, 0, 0, 0 },
	{ "sample_every_pass_0_none", SF_EST, 0, no_pass, 0, 0, 0 },
	{ "sample_every_pass_0_tx_taken", SF_SYN, 0, no_pass, 1, SF_VC_TX, C(synack_sent) },
};

/* The record against the frame it was taken of. */
static void judge_record(const struct scheck *c, const struct sf_sample *s, const uint8_t *f, int n,
			 char *why, size_t wl)
{
	int cap = n < SF_SAMPLE_SNAP ? n : SF_SAMPLE_SNAP;

	if (s->vclass != c->vc || s->reason != c->reason)
		addf(why, wl, "class %u reason %s, expected %u %s", s->vclass,
		     s->reason < SF_CNT_MAX ? env_cnt_names[s->reason] : "?", c->vc,
		     env_cnt_names[c->reason]);
	if (s->ifindex != ENV_IFINDEX || s->frame_len != (__u32)n || s->cap_len != cap || s->every != 1)
		addf(why, wl, "ifindex %u frame_len %u cap_len %u every %u, expected %d %d %d 1",
		     s->ifindex, s->frame_len, s->cap_len, s->every, ENV_IFINDEX, n, cap);
	else if (memcmp(s->data, f, (size_t)cap))
		addf(why, wl, "data is not the frame as it arrived");
	if (!s->ts_ns)
		addf(why, wl, "no timestamp");
}

static void run_check(const struct scheck *c, struct ring_buffer *rb, struct got *g,
		      uint8_t f[SF_N][PKT_MAX], int n[SF_N], struct xrun *r, char *why, size_t wl)
{
	struct tcase cfg = { .cfg_set = c->cfg_set };
	struct sf_sample_ctl ctl = ctl_all();
	enum sf_counter taken = (enum sf_counter)(C(sample_tx) + c->vc);

	apply_case_config(&cfg);
	env_flows_clear(&E);
	env_syn_checks_refill(&E);
	if (c->frame == SF_EST)
		env_xdp(&E, f[SF_EST], n[SF_EST], r); /* the flow cached: est_pass from the cache */
	c->tune(&ctl);
	ring_buffer__consume(rb);
	g->n = 0;
	if (ctl_set(&ctl)) {
		addf(why, wl, "cannot write sf_sample_ctl");
		return;
	}
	env_xdp(&E, f[c->frame], n[c->frame], r);
	ring_buffer__consume(rb);
	if (r->err)
		addf(why, wl, "test run failed: %d", r->err);
	else if (g->n != c->n)
		addf(why, wl, "%d samples, expected %d", g->n, c->n);
	else if (c->n)
		judge_record(c, &g->s[0], f[c->frame], n[c->frame], why, wl);
	if (!r->err && c->n && r->d[taken] != 1)
		addf(why, wl, "%s %+lld, expected +1", env_cnt_names[taken], (long long)r->d[taken]);
}

/* repeat runs of the established ACK with ctl; the counter deltas in d. -1 when it failed. */
static int burst(const struct sf_sample_ctl *ctl, const uint8_t *f, int n, int repeat,
		 struct xrun *r, int64_t d[SF_CNT_MAX])
{
	uint64_t b4[SF_CNT_MAX], af[SF_CNT_MAX];

	if (ctl_set(ctl) || env_counters(&E, b4) || env_run_xdp(E.xdp, f, n, r, repeat) ||
	    env_counters(&E, af))
		return -1;
	for (int i = 0; i < SF_CNT_MAX; i++)
		d[i] = (int64_t)(af[i] - b4[i]);
	return 0;
}

/* per_cpu_sec 30, 10 packets at once on one CPU: the burst (30 / SF_SAMPLE_BURST_DIV + 1 = 4)
 * taken, 6 capped (one more taken for each 1/30 s the run lasts). */
static void check_cap(struct ring_buffer *rb, struct got *g, const uint8_t *f, int n, struct xrun *r,
		      char *why, size_t wl)
{
	struct sf_sample_ctl ctl = ctl_all();
	int64_t d[SF_CNT_MAX];

	ctl.per_cpu_sec = 30;
	ring_buffer__consume(rb);
	g->n = 0;
	if (burst(&ctl, f, n, 10, r, d)) {
		addf(why, wl, "test run failed");
		return;
	}
	ring_buffer__consume(rb);
	if (d[C(sample_pass)] < 4 || d[C(sample_pass)] > 6 || d[C(sample_pass)] + d[C(sample_capped)] != 10 ||
	    g->n != d[C(sample_pass)])
		addf(why, wl, "sample_pass %+lld sample_capped %+lld, %d in the ring; expected 4 + 6",
		     (long long)d[C(sample_pass)], (long long)d[C(sample_capped)], g->n);
}

/* More packets than the ring holds, nobody reading: the rest count in sample_lost. */
static void check_full(struct ring_buffer *rb, struct got *g, const uint8_t *f, int n, struct xrun *r,
		       char *why, size_t wl)
{
	struct sf_sample_ctl ctl = ctl_all();
	int room = SF_SAMPLES_RING / SMP_REC_BYTES, repeat = room + 1000;
	int64_t d[SF_CNT_MAX];

	ctl.per_cpu_sec = (__u32)repeat * SF_SAMPLE_BURST_DIV; /* a burst of repeat + 1: no cap */
	ring_buffer__consume(rb);
	if (burst(&ctl, f, n, repeat, r, d)) {
		addf(why, wl, "test run failed");
		return;
	}
	g->n = 0;
	ring_buffer__consume(rb);
	if (d[C(sample_lost)] < 1000 || d[C(sample_pass)] + d[C(sample_lost)] != repeat ||
	    g->n != d[C(sample_pass)] || d[C(sample_pass)] > room)
		addf(why, wl, "sample_pass %+lld sample_lost %+lld, %d read; expected at most %d taken, "
		     "the other %d lost", (long long)d[C(sample_pass)], (long long)d[C(sample_lost)], g->n,
		     room, repeat - room);
}

void sample_unit(void (*report)(const char *name, const char *why, const char *note))
{
	static uint8_t f[SF_N][PKT_MAX];
	struct sf_sample_ctl zero_ctl = { 0 };
	struct xrun *r = calloc(1, sizeof(*r));
	struct got *g = calloc(1, sizeof(*g));
	struct ring_buffer *rb = NULL;
	int n[SF_N];
	char why[512];

	if (!r || !g || build(f, n) ||
	    !(rb = ring_buffer__new(bpf_map__fd(E.skel->maps.sf_samples), keep, g, NULL))) {
		report("sample", "test bug: cannot build the frames or open the ring", NULL);
		goto out;
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		why[0] = '\0';
		run_check(&checks[i], rb, g, f, n, r, why, sizeof(why));
		report(checks[i].name, why, NULL);
	}
	why[0] = '\0';
	check_cap(rb, g, f[SF_EST], n[SF_EST], r, why, sizeof(why));
	report("sample_cap_counts_capped", why, NULL);
	why[0] = '\0';
	check_full(rb, g, f[SF_EST], n[SF_EST], r, why, sizeof(why));
	report("sample_full_ring_counts_lost", why, NULL);
out:
	ctl_set(&zero_ctl);
	ring_buffer__free(rb);
	free(g);
	free(r);
}
