/* expect.c - see expect.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "oracle.h"

int syn_expect(const uint8_t *syn, int len, uint32_t epoch, struct synack_expect *x, char *why,
	       size_t wl)
{
	struct pkt_parsed p;
	struct synack_syn s;
	char err[128];

	memset(x, 0, sizeof(*x));
	if (pkt_parse(syn, len, &p, err, sizeof(err)) < 0) {
		addf(why, wl, "test bug: cannot parse our own SYN: %s", err);
		return -1;
	}
	synack_syn_parsed(&p, &s);
	synack_expect(&s, &E.cfg_now, epoch, E.sec_now.key, x);
	return 0;
}

void check_synack(const struct synack_expect *x, const struct xrun *r, char *why, size_t wl)
{
	synack_check(x, &E.cfg_now, r->frame, r->framelen, r->metalen, why, wl);
}

void check_unchanged(const uint8_t *in, int len, const struct xrun *r, char *why, size_t wl)
{
	if (r->metalen)
		addf(why, wl, "%d bytes of metadata in front of a passed frame", r->metalen);
	if (r->framelen != len)
		addf(why, wl, "frame length changed: %d -> %d", len, r->framelen);
	else if (memcmp(in, r->frame, (size_t)len)) {
		int i;

		for (i = 0; i < len && in[i] == r->frame[i]; i++)
			;
		addf(why, wl, "frame modified (first difference at byte %d: %02x -> %02x)", i, in[i],
		     r->frame[i]);
	}
}

void check_tc_run(const uint8_t *in, int len, const struct xrun *t, const int64_t *want,
		  const struct sf_handoff_attrs *m, char *why, size_t wl)
{
	char diff[512];
	int i;

	if (t->err) {
		struct pkt_parsed p;
		char err[128];

		/* the kernel refuses a TC test run of a frame whose IP header is cut, as our
		 * parser does; anything else is a failure */
		if (t->err != -EINVAL || pkt_parse(in, len, &p, err, sizeof(err)) == 0)
			addf(why, wl, "TC: bpf_prog_test_run_opts failed: %s", strerror(-t->err));
		return;
	}
	if (t->ret != ENV_TC_VERDICT)
		addf(why, wl, "TC: verdict %d, expected TC_ACT_UNSPEC (-1)", (int)t->ret);
	if (t->framelen != len || memcmp(in, t->frame, (size_t)len))
		addf(why, wl, "TC: frame modified");
	for (i = 0; i < SF_CNT_MAX; i++)
		if (t->d[i] != (want ? want[i] : 0))
			addf(why, wl, "TC: counter %s: expected +%lld, got %+lld", env_cnt_names[i],
			     (long long)(want ? want[i] : 0), (long long)t->d[i]);
	if (!m) {
		if (t->handoff.mss)
			addf(why, wl, "TC: handoff attempted (mss %u) for a segment it must not hand off",
			     t->handoff.mss);
		return;
	}
	if (oc_handoff_diff(m, &t->handoff, diff, sizeof(diff)))
		addf(why, wl, "TC: %s", diff);
}

void check_tc(const uint8_t *in, int len, const struct sf_handoff_attrs *m, char *why, size_t wl)
{
	struct xrun *t = calloc(1, sizeof(*t));
	int64_t want[SF_CNT_MAX] = { 0 };

	if (!t)
		exit(1);
	env_tc(&E, in, len, t);
	/* A test run is not at TC ingress, so the kfunc refuses every handoff there with EINVAL
	 * (after checking its attributes): the attempt is what this judges, the connection itself
	 * is the integration tests' (10-connect and the others accept() it). */
	if (m) {
		want[SF_CNT_handoff_err] = 1;
		want[SF_CNT_handoff_err_einval] = 1;
	}
	check_tc_run(in, len, t, want, m, why, wl);
	free(t);
}

void check_counters(const struct tcase *tc, const int64_t *d, char *why, size_t wl)
{
	int i;

	for (i = 0; i < SF_CNT_MAX; i++) {
		if (tc->dontcare & (1ull << i))
			continue;
		if (d[i] != tc->delta[i])
			addf(why, wl, "counter %s: expected +%d, got %+lld", env_cnt_names[i],
			     tc->delta[i], (long long)d[i]);
	}
}

void check_verdict(unsigned allowed, const struct xrun *r, char *why, size_t wl)
{
	char exp[64] = "";
	uint32_t v;

	if (r->err) {
		addf(why, wl, "bpf_prog_test_run_opts failed: %s", strerror(-r->err));
		return;
	}
	if (r->ret < 32 && (allowed & (1u << r->ret)))
		return;
	for (v = 0; v <= XDP_REDIRECT; v++)
		if (allowed & (1u << v))
			snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp), "%s%s",
				 exp[0] ? "|" : "", env_verdict_name(v));
	addf(why, wl, "verdict: expected %s, got %s", exp, env_verdict_name(r->ret));
}

void check_output(const struct tcase *tc, const uint8_t *in, int len, const struct xrun *r,
		  const struct sf_handoff_attrs *m, char *why, size_t wl)
{
	if (r->err || r->ret >= 32 || !(tc->verdicts & (1u << r->ret)))
		return;
	if (tc->chk == CHK_NONE)
		return;
	if (r->ret == XDP_PASS) {
		/* XDP passes it up untouched; TC then hands it off (only) if it is a valid cookie ACK */
		check_unchanged(in, len, r, why, wl);
		check_tc(in, len, tc->chk == CHK_HANDOFF ? m : NULL, why, wl);
		return;
	}
	if (r->ret == XDP_TX) {
		struct synack_expect x;

		if (syn_expect(in, len, E.sec_now.epoch, &x, why, wl) == 0)
			check_synack(&x, r, why, wl);
	}
}
