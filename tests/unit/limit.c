/* limit.c - see limit.h. A case is a limiter config and a sequence of SYNs, each with its expected
 * outcome. Each case gets fresh random sketch seeds (so cells left by earlier cases are not in its
 * rows) and sources of its own. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cases.h"
#include "limit.h"

#define LIM_BUF 256

enum lim_out {
	L_END,
	L_TX,      /* answered, nothing limited */
	L_LIMITED, /* dropped as drop_rate_limited */
	L_MON_TX,  /* monitor mode: would be answered (passes, monitor_pass) */
	L_MON_LIM, /* monitor mode: would be dropped (passes, drop_rate_limited and monitor_pass) */
	L_SLEEP,   /* no SYN: sleep 600 ms (longer than the 500 ms retransmission gap) */
};

struct lim_step {
	enum lim_out out;
	int v6;          /* > 0: source 2001:db8:a[0]a[1]:a[2]a[3]::v6 (the IPv4 prefixes are
			  * the same bits), else a[0].a[1].a[2].a[3] */
	uint8_t a[4];
	uint16_t sport;
	uint32_t isn;
	int repeat;      /* this many SYNs (sport and ISN + 0, 1, ...); 0: 1 */
};

struct lim_case {
	const char *name;
	unsigned long rate, burst, p4, p6; /* rate 0: off */
	int monitor;
	/* steps separated by ';': OUT A.B.C.D[/H] SPORT ISN [xN], OUT one of T (answered), L
	 * (limited), MT, ML (monitor mode: would be answered, would be limited); /H: the IPv6 source
	 * 2001:db8:AB:CD::H; or S: sleep 600 ms (longer than the 500 ms retransmission gap) */
	const char *script;
};

/* Each IPv4 case also runs over IPv6 as "NAME/v6" (lim_v6). limit_over_burst: a source over its
 * burst is dropped, the dropped SYNs took nothing, another source is untouched. prefix_24: one rate
 * for the /24 (IPv6: /56, the same bits). retransmitted: the same tuple and ISN after a
 * retransmission timeout passes while a new SYN from the source is over (0.6 s gave back 0.6
 * SYN), a repeat faster than any timeout is counted. prefix6_64: hosts of one /64 share a rate, and
 * /64s that differ in one bit anywhere (first or last bit of a 32-bit word) have rates of their own
 * (the fuzzer found IPv6 prefixes merged by a key that dropped bits). */
static const struct lim_case lim_cases[] = {
	{ "limit_over_burst_dropped_other_source_untouched", 1, 20, 32, 64, 0, "T 192.0.2.10 20000 1000 x20; L 192.0.2.10 20100 5000 x2; T 192.0.2.20 20000 1000; L 192.0.2.10 20102 5002" },
	{ "limit_prefix_24_aggregates", 1, 3, 24, 56, 0, "T 203.0.113.10 30000 1; T 203.0.113.77 30000 2; T 203.0.113.200 30000 3; L 203.0.113.10 30001 4; L 203.0.113.200 30001 5; T 203.0.114.10 30000 6" },
	{ "limit_retransmitted_syn_not_counted_twice", 1, 3, 32, 64, 0, "T 198.18.7.1 40000 4096 x3; L 198.18.7.1 40003 16384; S; T 198.18.7.1 40000 4096; T 198.18.7.1 40002 4098; L 198.18.7.1 40004 20480; L 198.18.7.1 40000 4096" },
	{ "limit_off_no_effect", 0, 0, 0, 0, 0, "T 192.0.2.30 50000 0 x100" },
	{ "limit_monitor_counts_and_passes", 1, 2, 32, 64, 1, "MT 192.0.2.40 51000 0 x2; ML 192.0.2.40 51002 2" },
	{ "limit_prefix6_64_aggregates", 1, 2, 32, 64, 0, "T 7.7.1.1/1 30000 1; T 7.7.1.1/2 30000 2; L 7.7.1.1/3 30001 3; T 7.7.1.2/1 30000 4; T 6.7.1.1/1 30000 5; T 135.7.1.1/1 30000 6; T 7.7.1.0/1 30000 7" },
};

/* One step of a script at *p (advanced past it); 0 at its end, -1 when it does not parse. */
static int lim_step_parse(const char **p, struct lim_step *st)
{
	char out[3], rest[16];
	unsigned a[4], h = 0, sport, isn, n = 0;
	int used = 0, got;

	memset(st, 0, sizeof(*st));
	*p += strspn(*p, " ;");
	if (!**p)
		return 0;
	if (**p == 'S') {
		st->out = L_SLEEP;
		(*p)++;
		return 1;
	}
	got = sscanf(*p, "%2s %u.%u.%u.%u%n", out, &a[0], &a[1], &a[2], &a[3], &used);
	if (got != 5)
		return -1;
	*p += used;
	if (**p == '/' && sscanf(*p, "/%u%n", &h, &used) == 1)
		*p += used;
	if (sscanf(*p, " %u %u%n", &sport, &isn, &used) != 2)
		return -1;
	*p += used;
	if (sscanf(*p, " %15[x0-9]", rest) == 1 && rest[0] == 'x' && sscanf(rest + 1, "%u", &n) == 1)
		*p += strcspn(*p, ";");
	st->out = !strcmp(out, "T") ? L_TX : !strcmp(out, "L") ? L_LIMITED : !strcmp(out, "MT") ? L_MON_TX :
		  !strcmp(out, "ML") ? L_MON_LIM : L_END;
	for (int i = 0; i < 4; i++)
		st->a[i] = (uint8_t)a[i];
	st->v6 = (int)h;
	st->sport = (uint16_t)sport;
	st->isn = isn;
	st->repeat = (int)n;
	return st->out == L_END ? -1 : 1;
}

/* The default config with the case's limiter, new seeds. */
static void lim_config(const struct lim_case *l)
{
	struct tcase dflt = { 0 };
	struct sf_config c;
	__u64 seed[2];

	apply_case_config(&dflt);
	c = E.cfg_now;
	if (l->monitor)
		c.flags |= SF_CFG_MONITOR;
	randombytes_buf(seed, sizeof(seed));
	sf_limit_fill(&c, l->rate, l->burst, l->p4, l->p6, seed);
	if (env_set(&E, &c, &E.sec_now))
		exit(1);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
/* SYN i of step s */
static int lim_syn(const struct lim_step *s, int i, struct xrun *r)
{
	struct pkt_spec s4 = SYN4(.sport = (uint16_t)(s->sport + i), .seq = s->isn + (uint32_t)i),
			s6 = SYN6(.sport = (uint16_t)(s->sport + i), .seq = s->isn + (uint32_t)i);
	struct pkt_spec *p = s->v6 ? &s6 : &s4;
	uint8_t buf[PKT_MAX];
	int n;

	if (s->v6) {
		memset(p->saddr, 0, 16);
		p->saddr[0] = 0x20, p->saddr[1] = 0x01, p->saddr[2] = 0x0d, p->saddr[3] = 0xb8;
		memcpy(p->saddr + 4, s->a, 4);
		p->saddr[15] = (uint8_t)s->v6;
	} else {
		memcpy(p->saddr, s->a, 4);
	}
	n = pkt_build(p, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return env_xdp(&E, buf, n, r);
}
#pragma GCC diagnostic pop

/* 0, or -1 with a reason in why */
static int lim_judge(const struct lim_step *s, int k, int i, const struct xrun *r, char *why)
{
	uint32_t v = s->out == L_TX ? XDP_TX : s->out == L_LIMITED ? XDP_DROP : XDP_PASS;
	int dl = s->out == L_LIMITED || s->out == L_MON_LIM, mp = s->out == L_MON_TX || s->out == L_MON_LIM;

	if (r->err)
		snprintf(why, LIM_BUF, "step %d SYN %d: test run failed: %d", k, i, r->err);
	else if (r->ret != v)
		snprintf(why, LIM_BUF, "step %d SYN %d: %s, expected %s", k, i, env_verdict_name(r->ret),
			 env_verdict_name(v));
	else if (r->d[SF_CNT_drop_rate_limited] != dl || r->d[SF_CNT_monitor_pass] != mp ||
		 r->d[SF_CNT_syn_recv] != 1)
		snprintf(why, LIM_BUF, "step %d SYN %d: drop_rate_limited %+lld monitor_pass %+lld "
			 "syn_recv %+lld, expected %+d %+d +1", k, i,
			 (long long)r->d[SF_CNT_drop_rate_limited], (long long)r->d[SF_CNT_monitor_pass],
			 (long long)r->d[SF_CNT_syn_recv], dl, mp);
	else
		return 0;
	return -1;
}

static int lim_step_run(const struct lim_step *s, int k, int v6, char *why)
{
	struct lim_step st = *s;
	int n = s->repeat ? s->repeat : 1;

	if (s->out == L_SLEEP) {
		struct timespec ts = { 0, 600 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		return 0;
	}
	if (v6 && !st.v6)
		st.v6 = 1;
	for (int i = 0; i < n; i++) {
		struct xrun r;

		if (lim_syn(&st, i, &r) < 0) {
			snprintf(why, LIM_BUF, "step %d: cannot build the SYN", k);
			return -1;
		}
		if (lim_judge(&st, k, i, &r, why))
			return -1;
	}
	return 0;
}

/* v6: the IPv4 steps from 2001:db8:A.B:C.D::1 instead (the IPv6 twin of an IPv4 case) */
static void lim_run(const struct lim_case *l, int v6, char *why)
{
	const char *p = l->script;
	struct lim_step st;
	int k = 0, r;

	lim_config(l);
	while ((r = lim_step_parse(&p, &st)) > 0) {
		if (lim_step_run(&st, k++, v6, why))
			return;
	}
	if (r < 0)
		snprintf(why, LIM_BUF, "step %d does not parse: %s", k, p);
	else
		why[0] = '\0';
}

void run_limit_cases(int (*selected)(const char *name), void (*report)(const char *name, const char *why))
{
	struct tcase dflt = { 0 };

	for (size_t i = 0; i < sizeof(lim_cases) / sizeof(lim_cases[0]); i++) {
		char why[LIM_BUF] = "did not finish";

		if (!selected(lim_cases[i].name))
			continue;
		lim_run(&lim_cases[i], 0, why);
		report(lim_cases[i].name, why[0] ? why : NULL);
	}
	for (size_t i = 0; i < sizeof(lim_cases) / sizeof(lim_cases[0]); i++) {
		char why[LIM_BUF] = "did not finish", name[128];

		snprintf(name, sizeof(name), "%s/v6", lim_cases[i].name);
		if (strchr(lim_cases[i].script, '/') || !selected(name))
			continue;
		lim_run(&lim_cases[i], 1, why);
		report(name, why[0] ? why : NULL);
	}
	apply_case_config(&dflt); /* the default config (limiter off) for what follows */
}
