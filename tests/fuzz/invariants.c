/* invariants.c - see invariants.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "invariants.h"
#include "model.h"
#include "pkt.h"
#include "synack.h"
#include "synfence.skel.h"

static const char *const inv_names[INV_N] = {
	"test run ok, verdict PASS/DROP/TX",
	"verdict and counters = reference model",
	"XDP_TX only for a well-formed SYN to a protected port",
	"SYN-ACK parses, checksums, addresses, cookie (libsodium), options",
	"TC hands off only a valid cookie ACK (libsodium) to a listener, attributes = cookie",
	"valid cookie ACK to the listener is passed and handed off",
	"unprotected port / not TCP / fragment: passed untouched, no handoff",
	"passed frame is unchanged",
	"counter identities (one class per segment, reasons sum up)",
	"TC: test run ok, TC_ACT_UNSPEC, frame unchanged",
	"TC: handoff decision and counters = reference model (socket, cookie, flow cache)",
	"monitor mode: every frame passes unchanged, monitor_pass = would-be TX + DROP",
	"sampling: one sample per packet's end, its class, specific reason, frame as it arrived",
};

struct fuzz_stats S;
char inv_why[4096];

static void fail(int inv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(int inv, const char *fmt, ...)
{
	size_t n = strlen(inv_why);
	va_list ap;

	if (n + 8 >= sizeof(inv_why))
		return;
	n += (size_t)snprintf(inv_why + n, sizeof(inv_why) - n, "%s[%s] ", n ? "; " : "",
			      inv_names[inv]);
	va_start(ap, fmt);
	vsnprintf(inv_why + n, sizeof(inv_why) - n, fmt, ap);
	va_end(ap);
}

#define CHECK(inv, cond, ...)                                                                   \
	do {                                                                                    \
		S.checks[inv]++;                                                                \
		if (!(cond))                                                                    \
			fail(inv, __VA_ARGS__);                                                 \
	} while (0)

static void count_path(const char *p)
{
	int i;

	for (i = 0; i < S.npaths; i++)
		if (S.paths[i].path == p) {
			S.paths[i].n++;
			return;
		}
	if (S.npaths < MAX_PATHS) {
		S.paths[S.npaths].path = p;
		S.paths[S.npaths++].n = 1;
	}
}

/* The SYN-ACK to the SYN in (r: as the model reads it), judged by the checker the unit tests use. */
static void check_synack(const uint8_t *in, const struct ref *r, const struct xrun *xr)
{
	struct synack_syn s = { .family = r->family, .nvlan = r->nvlan, .sport = r->sport,
				.dport = r->dport, .seq = r->seq, .flags = r->flags,
				.has_mss = r->has_mss, .mss = r->mss, .has_ws = r->has_ws,
				.ws = r->ws, .sack = r->sack, .ts = r->ts, .tsval = r->tsval };
	struct synack_expect x;
	char msg[2048] = "";
	int i;

	S.synacks++;
	if (r->len_mismatch)
		S.len_mismatch_tx++;
	memcpy(s.smac, in + 6, 6);
	memcpy(s.dmac, in, 6);
	for (i = 0; i < r->nvlan; i++) {
		s.vlan[i].tpid = rd16(in + 12 + 4 * i);
		s.vlan[i].tci = rd16(in + 14 + 4 * i);
	}
	memcpy(s.saddr, r->saddr, 16);
	memcpy(s.daddr, r->daddr, 16);
	synack_expect(&s, &E.cfg_now, E.sec_now.epoch, E.sec_now.key, &x);
	S.checks[INV_TX_FRAME] += (uint64_t)synack_check(&x, &E.cfg_now, xr->frame, xr->framelen,
							 xr->metalen, msg, sizeof(msg));
	if (msg[0])
		fail(INV_TX_FRAME, "%s", msg);
}

/* include/synfence.h: TC counts only the handoff_* outcomes, XDP never does. */
static int is_tc_counter(int i)
{
	return !strncmp(env_cnt_names[i], "handoff_", 8);
}

/* Checked by INV_SAMPLE, not by the model. */
static int is_sample_counter(int i)
{
	return i >= C(sample_tx) && i <= C(sample_capped);
}

static int monitor(void)
{
	return (E.cfg_now.flags & (SF_CFG_ENABLED | SF_CFG_MONITOR)) ==
	       (SF_CFG_ENABLED | SF_CFG_MONITOR);
}

static void check_counters(const struct expect *x, const struct xrun *xr)
{
	const int64_t *d = xr->d;
	int64_t seg = 0, synend;
	int i;

	for (i = 0; i < SF_CNT_MAX; i++)
		CHECK(INV_MODEL, is_sample_counter(i) || d[i] == x->d[i],
		      "counter %s %+" PRId64 ", model says %+d (path %s)", env_cnt_names[i], d[i],
		      x->d[i], x->path);
	/* the identities of include/synfence.h, independent of the model */
	CHECK(INV_COUNTERS, d[C(ack_cookie_bad)] == d[C(ack_bad_hash)] + d[C(ack_bad_epoch)] +
							d[C(ack_bad_malformed)],
	      "ack_cookie_bad != sum of its reasons");
	synend = d[C(synack_sent)] + d[C(drop_syn_flags)] + d[C(drop_malformed)] +
		 d[C(drop_no_room)] + d[C(syn_pass_existing)] + d[C(drop_rate_limited)] + d[C(syn_pass_calm)] +
		 (d[C(syn_recv)] ? d[C(pass_no_secret)] + d[C(pass_allowed)] + d[C(drop_denied)] : 0);
	CHECK(INV_COUNTERS, synend == d[C(syn_recv)], "a SYN did not end in exactly one outcome");
	seg = d[C(syn_recv)] + d[C(est_pass)] + d[C(ack_no_listener)] + d[C(ack_cookie_ok)] +
	      d[C(ack_cookie_bad)] + d[C(pass_unprotected)] + d[C(pass_fragment)] + d[C(pass_other)] +
	      (d[C(syn_recv)] ? 0 : d[C(pass_no_secret)] + d[C(pass_allowed)] + d[C(drop_denied)]);
	CHECK(INV_COUNTERS, seg == (x->path && strcmp(x->path, "not-tcp") && strcmp(x->path, "disabled") &&
				    strcmp(x->path, "unparsed")),
	      "%" PRId64 " segment classes counted", seg);
	CHECK(INV_COUNTERS, (xr->ret == XDP_TX) == (d[C(synack_sent)] == 1 && !monitor()) &&
		      (xr->ret == XDP_PASS || !d[C(ack_cookie_ok)]),
	      "verdict %s does not match the counters", env_verdict_name(xr->ret));
	for (i = 0; i < SF_CNT_MAX; i++)
		CHECK(INV_COUNTERS, !is_tc_counter(i) || !d[i], "XDP moved TC's counter %s",
		      env_cnt_names[i]);
}

/* TC's: at most one handoff outcome per segment, the handoff_err reasons sum up, the attempt (the
 * attributes stored) is counted, and nothing of XDP's moves. */
static void check_tc_counters(const struct xrun *tr)
{
	const int64_t *d = tr->d;
	int64_t outcomes = d[C(handoff_ok)] + d[C(handoff_err)] + d[C(handoff_no_listener)] +
			   d[C(handoff_dup)] + d[C(handoff_cookie_bad)];
	int i;

	CHECK(INV_COUNTERS, outcomes == 0 || outcomes == 1, "%" PRId64 " handoff outcomes counted",
	      outcomes);
	CHECK(INV_COUNTERS, d[C(handoff_err)] == d[C(handoff_err_einval)] + d[C(handoff_err_enomem)] +
							d[C(handoff_err_other)],
	      "handoff_err != sum of its reasons");
	CHECK(INV_COUNTERS, (tr->handoff.mss != 0) == (d[C(handoff_ok)] + d[C(handoff_err)] == 1),
	      "handoff attempted (mss %u) but handoff_ok %+" PRId64 ", handoff_err %+" PRId64,
	      tr->handoff.mss, d[C(handoff_ok)], d[C(handoff_err)]);
	for (i = 0; i < SF_CNT_MAX; i++)
		CHECK(INV_COUNTERS, is_tc_counter(i) || !d[i], "TC moved XDP's counter %s",
		      env_cnt_names[i]);
}

/* bpf_prog_test_run_skb refuses (EINVAL) a frame whose outer ethertype is IPv4/IPv6 and whose IP
 * header is not complete, without running the program. */
static int tc_refusable(const uint8_t *b, int len)
{
	uint16_t et = rd16(b + 12);
	int ihl = len > 14 ? (b[14] & 15) * 4 : 0;

	if (et == 0x0800)
		return len < 14 + 20 || len < 14 + ihl;
	return et == 0x86dd && len < 14 + 40;
}

/* Whether the flow cache is emptied between the XDP and the TC run of a frame (as colliding flows
 * may evict an entry in between): for one in four frames, by a hash of the frame, so that a frame
 * replays alike. TC then meets its cached flows' sockets (tc/established, tc/dup). */
static int evict_before_tc(const uint8_t *in, int len)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < len; i++)
		h = (h ^ in[i]) * 16777619u;
	return (h >> 13 & 3) == 0;
}

/* Not TCP, disabled, or to a port synfence does not protect: nothing for synfence to do. */
static int unprotected(const struct ref *r)
{
	return r->kind != RT_TCP || !(E.cfg_now.flags & SF_CFG_ENABLED) || !env_protected(&E, r->dport);
}

/* The brief's invariants on an XDP run, stated on their own so that they hold even if the model is
 * wrong. */
static void check_xdp_invariants(const uint8_t *in, int len, const struct ref *r,
				 const struct expect *x, const struct xrun *xr)
{
	int same = xr->framelen == len && !memcmp(xr->frame, in, (size_t)len), i;

	if (xr->ret == XDP_TX) {
		CHECK(INV_TX_SYN, r->kind == RT_TCP && (E.cfg_now.flags & SF_CFG_ENABLED) &&
			      env_protected(&E, r->dport) &&
			      (r->flags & (TF_SYN | TF_ACK | TF_RST | TF_FIN)) == TF_SYN &&
			      r->hdr_ok && r->opts_ok && E.sec_now.epoch,
		      "XDP_TX for a frame that is not a well-formed SYN to a protected port (path %s)",
		      x->path);
		if (x->synack)
			check_synack(in, r, xr);
	}
	if (x->valid)
		CHECK(INV_VALID_PASS, xr->ret == XDP_PASS, "a valid cookie ACK got %s",
		      env_verdict_name(xr->ret));
	if (monitor()) {
		const int64_t *d = xr->d;

		S.monitor_frames++;
		CHECK(INV_MONITOR, xr->ret == XDP_PASS && same, "monitor mode: verdict %s, frame %s",
		      env_verdict_name(xr->ret), same ? "unchanged" : "CHANGED");
		CHECK(INV_MONITOR, d[C(monitor_pass)] == d[C(synack_sent)] + d[C(drop_syn_flags)] +
				   d[C(drop_malformed)] + d[C(ack_cookie_bad)] + d[C(drop_denied)] +
				   d[C(drop_rate_limited)] && !d[C(drop_no_room)],
		      "monitor_pass %+" PRId64 " is not the would-be SYN-ACKs and drops",
		      d[C(monitor_pass)]);
	} else {
		CHECK(INV_MONITOR, !xr->d[C(monitor_pass)], "monitor_pass moved outside monitor mode");
	}
	if (unprotected(r)) {
		int64_t moved = 0;

		for (i = 0; i < SF_CNT_MAX; i++)
			if (i != C(pass_unprotected) && i != C(pass_fragment) &&
			    i != C(pass_unparsed) && !is_sample_counter(i))
				moved += xr->d[i] != 0;
		CHECK(INV_UNPROT, xr->ret == XDP_PASS && same && !moved,
		      "%s frame got %s (path %s)", r->kind != RT_TCP ? "a non-TCP" : "an unprotected",
		      env_verdict_name(xr->ret), x->path);
	}
	if (xr->ret == XDP_PASS)
		CHECK(INV_PASS_SAME, same, "passed frame modified");
}

/* The samples of one XDP run. */
static struct {
	int n;
	struct sf_sample s[2];
} G;

static int keep_sample(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (len >= sizeof(struct sf_sample) && G.n < 2)
		memcpy(&G.s[G.n], data, sizeof(struct sf_sample));
	G.n++;
	return 0;
}

/* Sampling on for the whole run, the ring emptied: NULL when it cannot be set up. */
static struct ring_buffer *sample_ring(void)
{
	static struct ring_buffer *rb;
	struct sf_sample_ctl c = { .on = 1, .every = { 1, 1, 1 }, .per_cpu_sec = ~0u };
	__u32 zero = 0;

	if (!rb && !bpf_map_update_elem(bpf_map__fd(E.skel->maps.sf_sample_ctl), &zero, &c, BPF_ANY))
		rb = ring_buffer__new(bpf_map__fd(E.skel->maps.sf_samples), keep_sample, NULL, NULL);
	if (rb)
		ring_buffer__consume(rb);
	G.n = 0;
	return rb;
}

/* The counters a sample's reason may be: each moved by the run, and not one that a packet's end
 * adds to (syn_recv, ack_cookie_bad, monitor_pass). */
static int sample_reason_ok(const int64_t *d, unsigned reason)
{
	return reason < SF_CNT_MAX && d[reason] >= 1 && reason != C(syn_recv) &&
	       reason != C(ack_cookie_bad) && reason != C(monitor_pass) && !is_sample_counter((int)reason);
}

static void check_sample(const struct sf_sample *s, const uint8_t *in, int len, const struct xrun *xr,
			 unsigned vc)
{
	int cap = len < SF_SAMPLE_SNAP ? len : SF_SAMPLE_SNAP;

	CHECK(INV_SAMPLE, s->vclass == vc && sample_reason_ok(xr->d, s->reason),
	      "sample class %u reason %u (%s) after verdict %s", s->vclass, s->reason,
	      s->reason < SF_CNT_MAX ? env_cnt_names[s->reason] : "?", env_verdict_name(xr->ret));
	CHECK(INV_SAMPLE, s->frame_len == (__u32)len && s->cap_len == cap && s->ifindex == ENV_IFINDEX &&
		      !memcmp(s->data, in, (size_t)cap),
	      "sample of %u bytes (cap %u, ifindex %u) is not the %d-byte frame as it arrived",
	      s->frame_len, s->cap_len, s->ifindex, len);
}

/* One sample per packet's end (of the counted ones), the classes' counters = the samples. */
static void check_samples(const uint8_t *in, int len, const struct expect *x, const struct xrun *xr)
{
	const int64_t *d = xr->d;
	int ended = (x->path && strcmp(x->path, "not-tcp") && strcmp(x->path, "disabled") &&
		     strcmp(x->path, "unparsed")) || d[C(pass_unparsed)];
	int want = !ended ? 0 : d[C(drop_no_room)] ? 2 : 1;
	unsigned vc = xr->ret == XDP_TX ? SF_VC_TX : xr->ret == XDP_DROP ? SF_VC_DROP : SF_VC_PASS;

	CHECK(INV_SAMPLE, G.n == want && d[C(sample_tx)] + d[C(sample_drop)] + d[C(sample_pass)] == want &&
		      !d[C(sample_lost)] && !d[C(sample_capped)],
	      "%d samples (tx %+" PRId64 " drop %+" PRId64 " pass %+" PRId64 "), expected %d (path %s)",
	      G.n, d[C(sample_tx)], d[C(sample_drop)], d[C(sample_pass)], want, x->path);
	/* (of two, the first is the tx sample of the SYN, the second its drop, of a frame the
	 * rewrite may have changed: only counted) */
	if (G.n == 1 && want == 1)
		check_sample(&G.s[0], in, len, xr, vc);
}

/* The XDP run of a frame, judged. Returns 0 to go on to TC, 1 when the frame ends here (too short
 * for any test run), -1 on a failed run. */
static int judge_xdp(const uint8_t *in, int len, const struct ref *r, struct expect *x,
		     struct xrun *xr)
{
	struct ring_buffer *rb;
	int rc;

	if ((r->flags & (TF_SYN | TF_ACK)) == TF_SYN && ref_socket(r) == SK_EST &&
	    env_syn_checks_refill(&E))
		return -1;
	if (!(rb = sample_ring()))
		return -1;
	rc = env_xdp(&E, in, len, xr);
	ring_buffer__consume(rb);
	if (len < 14) {
		/* the kernel refuses frames shorter than an Ethernet header before running anything */
		CHECK(INV_RUN, rc == -EINVAL, "a %d-byte frame: test run returned %d", len, rc);
		S.refused_short++;
		return 1;
	}
	CHECK(INV_RUN, rc == 0, "bpf_prog_test_run_opts: %s", strerror(-rc));
	if (rc)
		return -1;
	CHECK(INV_RUN, xr->ret == XDP_PASS || xr->ret == XDP_DROP || xr->ret == XDP_TX,
	      "verdict %s", env_verdict_name(xr->ret));
	if (xr->ret < 5)
		S.verdicts[xr->ret]++;
	expect_frame(r, x);
	expect_limit(r, x, xr->d[C(drop_rate_limited)] == 1);
	count_path(x->path);

	CHECK(INV_MODEL, xr->ret == x->verdict, "verdict %s, model says %s (path %s)",
	      env_verdict_name(xr->ret), env_verdict_name(x->verdict), x->path);
	check_counters(x, xr);
	check_xdp_invariants(in, len, r, x, xr);
	check_samples(in, len, x, xr);

	if (x->remember)
		mflow_remember(r);
	if (x->forget)
		mflow_forget(mflow_find(r));
	return 0;
}

/* A TC run against the model: its counters and whether it attempted a handoff. */
static void check_tc_model(const struct tc_expect *t, const struct xrun *tr)
{
	int i;

	for (i = 0; i < SF_CNT_MAX; i++)
		CHECK(INV_TC_MODEL, tr->d[i] == t->d[i], "TC counter %s %+" PRId64 ", model says %+d (path %s)",
		      env_cnt_names[i], tr->d[i], t->d[i], t->path);
	CHECK(INV_TC_MODEL, (tr->handoff.mss != 0) == t->handoff,
	      "TC %s a handoff, model says %s (path %s)",
	      tr->handoff.mss ? "attempted" : "did not attempt", t->handoff ? "hand off" : "not", t->path);
	check_tc_counters(tr);
}

/* On their own: TC hands off only for valid cookies, with the cookie's attributes, and every valid
 * cookie ACK XDP passed; nothing outside synfence's business is counted or handed off. */
static void check_tc_invariants(const struct ref *r, const struct expect *x,
				const struct tc_expect *t, const struct xrun *tr)
{
	struct oc_params cp;
	uint32_t limit;
	char diff[512];
	int i;

	if (tr->handoff.mss) {
		int valid = r->kind == RT_TCP && (E.cfg_now.flags & SF_CFG_ENABLED) &&
			    env_protected(&E, r->dport) &&
			    (r->flags & (TF_SYN | TF_ACK | TF_RST)) == TF_ACK &&
			    ref_socket(r) == SK_LISTENER && ref_ack(r, &cp) == ACK_VALID &&
			    (!model_handoff_limited(&limit) || cp.epoch <= limit);

		CHECK(INV_HANDOFF, valid, "TC attempted a handoff (mss %u) of a frame that is no valid "
		      "cookie ACK to a listener (path %s)", tr->handoff.mss, t->path);
		if (valid && t->handoff) {
			S.handoffs++;
			CHECK(INV_HANDOFF, !oc_handoff_diff(&t->attrs, &tr->handoff, diff, sizeof(diff)),
			      "%s", diff);
		}
	}
	if (x->valid && (!model_handoff_limited(&limit) || x->cp.epoch <= limit))
		CHECK(INV_VALID_PASS, tr->handoff.mss, "TC did not hand off a valid cookie ACK (path %s)",
		      t->path);
	if (unprotected(r)) {
		int64_t moved = 0;

		for (i = 0; i < SF_CNT_MAX; i++)
			moved += tr->d[i] != 0;
		CHECK(INV_UNPROT, !moved && !tr->handoff.mss, "TC: %s frame counted or handed off",
		      r->kind != RT_TCP ? "a non-TCP" : "an unprotected");
	}
}

/* The TC run of the same frame, judged. */
static int judge_tc(const uint8_t *in, int len, const struct ref *r, const struct expect *x,
		    struct xrun *tr)
{
	struct tc_expect t;
	int rc, same;

	if (r->kind == RT_TCP && mflow_find(r) >= 0 && evict_before_tc(in, len)) {
		if (env_flows_clear(&E))
			return -1;
		mflow_clear();
		S.evictions++;
	}
	rc = env_tc(&E, in, len, tr);
	S.tc_runs++;
	if (rc == -EINVAL && tc_refusable(in, len)) {
		S.tc_refused++; /* the kernel refuses an skb whose IP header is cut, before the program */
		count_path("tc/refused");
		return 0;
	}
	same = tr->framelen == len && !memcmp(tr->frame, in, (size_t)len);
	CHECK(INV_TC_RUN, rc == 0 && tr->ret == ENV_TC_VERDICT && same,
	      "TC test run: %s, verdict %d, frame %s", strerror(-rc), (int)tr->ret,
	      same ? "unchanged" : "CHANGED");
	if (rc)
		return -1;
	expect_tc(r, &t);
	count_path(t.path);
	check_tc_model(&t, tr);
	check_tc_invariants(r, x, &t, tr);
	if (t.remember)
		mflow_remember(r);
	return 0;
}

int judge(const uint8_t *in, int len)
{
	static struct xrun xr, tr;
	struct expect x;
	struct ref r;
	int rc;

	inv_why[0] = 0;
	S.frames++;
	ref_parse(in, len, &r);
	rc = judge_xdp(in, len, &r, &x, &xr);
	if (rc == 0)
		rc = judge_tc(in, len, &r, &x, &tr);
	return rc < 0 || inv_why[0] ? -1 : 0;
}

void print_stats(double secs, uint64_t corpus_n, uint64_t seed)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < INV_N; i++)
		total += S.checks[i];
	printf("frames: %" PRIu64 " (%" PRIu64 " from the corpus, seed %" PRIu64 "), %.1f s, %.0f frames/s\n",
	       S.frames, corpus_n, seed, secs, secs > 0 ? S.frames / secs : 0.0);
	printf("verdicts: XDP_PASS %" PRIu64 ", XDP_DROP %" PRIu64 ", XDP_TX %" PRIu64
	       "; SYN-ACKs verified %" PRIu64 ", frames < 14 bytes refused by the kernel %" PRIu64 "\n",
	       S.verdicts[XDP_PASS], S.verdicts[XDP_DROP], S.verdicts[XDP_TX], S.synacks,
	       S.refused_short);
	printf("tc: %" PRIu64 " runs (%" PRIu64 " with a cut IP header refused by the kernel), "
	       "handoffs verified %" PRIu64 ", flow cache emptied before TC %" PRIu64 " times\n",
	       S.tc_runs, S.tc_refused, S.handoffs, S.evictions);
	printf("monitor mode: %" PRIu64 " frames\n", S.monitor_frames);
	printf("paths:");
	for (i = 0; i < S.npaths; i++)
		printf(" %s=%" PRIu64, S.paths[i].path, S.paths[i].n);
	printf("\ninvariant checks: %" PRIu64 "\n", total);
	for (i = 0; i < INV_N; i++)
		printf("  %-10" PRIu64 " %s\n", S.checks[i], inv_names[i]);
	printf("note: SYN-ACKs sent for SYNs whose IP length field disagrees with the frame: %" PRIu64
	       " (XDP does not check IP lengths)\n", S.len_mismatch_tx);
	printf("findings: %" PRIu64 "\n", S.findings);
}
