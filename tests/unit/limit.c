/* limit.c - see limit.h. Each case gets fresh random sketch seeds (so cells left by earlier cases
 * are not in its rows) and sources of its own. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cases.h"
#include "limit.h"

#define LIM_BUF 256

struct lim {
	unsigned long rate, burst, p4, p6;
	int monitor;
};

static uint32_t mask32(unsigned long bits)
{
	if (bits == 0)
		return 0;
	if (bits >= 32)
		return 0xffffffffu;
	return htonl(~((1u << (32 - bits)) - 1));
}

/* The default config with the limiter as l says (rate 0: off), new seeds. */
static void lim_config(const struct lim *l)
{
	struct tcase dflt = { 0 };
	struct sf_config c;

	apply_case_config(&dflt);
	c = E.cfg_now;
	if (l->monitor)
		c.flags |= SF_CFG_MONITOR;
	if (l->rate) {
		c.limit_mask4 = mask32(l->p4);
		for (int i = 0; i < 4; i++)
			c.limit_mask6[i] = mask32(l->p6 > 32u * (unsigned)i ? l->p6 - 32u * (unsigned)i : 0);
		c.limit_t_ns = 1000000000ull / l->rate;
		c.limit_tau_ns = (l->burst - 1) * c.limit_t_ns;
		randombytes_buf(c.limit_seed, sizeof(c.limit_seed));
		c.limit_seed[0] |= 1;
		c.limit_seed[1] |= 1;
	}
	if (env_set(&E, &c, &E.sec_now))
		exit(1);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
/* One SYN from IPv4 a.b.c.d (or, with v6, 2001:db8:a:b::c:d) with this source port and ISN. */
static int lim_syn(int v6, const uint8_t a4[4], uint16_t sport, uint32_t isn, struct xrun *r)
{
	struct pkt_spec s4 = SYN4(.sport = sport, .seq = isn), s6 = SYN6(.sport = sport, .seq = isn);
	struct pkt_spec *s = v6 ? &s6 : &s4;
	uint8_t buf[PKT_MAX];
	int n;

	if (v6) {
		memset(s->saddr, 0, 16);
		s->saddr[0] = 0x20, s->saddr[1] = 0x01, s->saddr[2] = 0x0d, s->saddr[3] = 0xb8;
		s->saddr[5] = a4[0], s->saddr[7] = a4[1], s->saddr[13] = a4[2], s->saddr[15] = a4[3];
	} else {
		memcpy(s->saddr, a4, 4);
	}
	n = pkt_build(s, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return env_xdp(&E, buf, n, r);
}
#pragma GCC diagnostic pop

/* Expect verdict v and drop_rate_limited += dl (and monitor_pass += mp); else a reason. */
static int lim_expect(const struct xrun *r, uint32_t v, int dl, int mp, const char *what, char *why)
{
	if (r->err)
		snprintf(why, LIM_BUF, "%s: test run failed: %d", what, r->err);
	else if (r->ret != v)
		snprintf(why, LIM_BUF, "%s: %s, expected %s", what, env_verdict_name(r->ret),
			 v == XDP_TX ? "XDP_TX" : v == XDP_DROP ? "XDP_DROP" : "XDP_PASS");
	else if (r->d[SF_CNT_drop_rate_limited] != dl || r->d[SF_CNT_monitor_pass] != mp ||
		 r->d[SF_CNT_syn_recv] != 1)
		snprintf(why, LIM_BUF, "%s: drop_rate_limited %+lld monitor_pass %+lld syn_recv %+lld, "
			 "expected %+d %+d +1", what, (long long)r->d[SF_CNT_drop_rate_limited],
			 (long long)r->d[SF_CNT_monitor_pass], (long long)r->d[SF_CNT_syn_recv], dl, mp);
	else
		return 0;
	return -1;
}

#define SYN_OK(v6, a, sp, isn, what)                                                             \
	do {                                                                                     \
		if (lim_syn(v6, a, sp, isn, &r) < 0 || lim_expect(&r, XDP_TX, 0, 0, what, why))  \
			return;                                                                  \
	} while (0)
#define SYN_LIMITED(v6, a, sp, isn, what)                                                        \
	do {                                                                                     \
		if (lim_syn(v6, a, sp, isn, &r) < 0 || lim_expect(&r, XDP_DROP, 1, 0, what, why)) \
			return;                                                                  \
	} while (0)

/* a source over its burst is dropped as drop_rate_limited; another source is untouched */
static void over_burst(int v6, char *why)
{
	struct lim l = { .rate = 1, .burst = 20, .p4 = 32, .p6 = 64 };
	uint8_t a[4] = { 192, 0, 2, v6 ? 11 : 10 }, b[4] = { 192, v6 ? 1 : 0, 2, 20 };
	struct xrun r;
	char what[64];

	lim_config(&l);
	for (int i = 0; i < 20; i++) {
		snprintf(what, sizeof(what), "SYN %d of the burst", i + 1);
		SYN_OK(v6, a, (uint16_t)(20000 + i), 1000u + (uint32_t)i, what);
	}
	SYN_LIMITED(v6, a, 20100, 5000, "SYN 21 (over the burst)");
	SYN_LIMITED(v6, a, 20101, 5001, "SYN 22 (over the burst)");
	/* another prefix (IPv6: another /64) */
	SYN_OK(v6, b, 20000, 1000, "another source");
	/* the dropped SYNs took nothing: the source is still limited, not more */
	SYN_LIMITED(v6, a, 20102, 5002, "SYN 23 (over the burst)");
	why[0] = '\0';
}

static void v4_over_burst(char *why) { over_burst(0, why); }
static void v6_over_burst(char *why) { over_burst(1, why); }

/* /24: sources in one /24 share a rate, the next /24 has its own */
static void prefix24(char *why)
{
	struct lim l = { .rate = 1, .burst = 3, .p4 = 24, .p6 = 64 };
	uint8_t a[4] = { 203, 0, 113, 10 }, b[4] = { 203, 0, 113, 77 }, c[4] = { 203, 0, 113, 200 },
		d[4] = { 203, 0, 114, 10 };
	struct xrun r;

	lim_config(&l);
	SYN_OK(0, a, 30000, 1, "203.0.113.10");
	SYN_OK(0, b, 30000, 2, "203.0.113.77");
	SYN_OK(0, c, 30000, 3, "203.0.113.200");
	SYN_LIMITED(0, a, 30001, 4, "203.0.113.10 (its /24 is over)");
	SYN_LIMITED(0, c, 30001, 5, "203.0.113.200 (its /24 is over)");
	SYN_OK(0, d, 30000, 6, "203.0.114.10 (another /24)");
	why[0] = '\0';
}

/* /64 (IPv6 default): 2001:db8:x:y::* share one rate */
static void prefix64(char *why)
{
	struct lim l = { .rate = 1, .burst = 2, .p4 = 32, .p6 = 64 };
	uint8_t a[4] = { 7, 7, 1, 1 }, b[4] = { 7, 7, 9, 9 }, c[4] = { 7, 8, 1, 1 };
	struct xrun r;

	lim_config(&l);
	SYN_OK(1, a, 30000, 1, "2001:db8:7:7::1:1");
	SYN_OK(1, b, 30000, 2, "2001:db8:7:7::9:9");
	SYN_LIMITED(1, a, 30001, 3, "2001:db8:7:7::1:1 (its /64 is over)");
	SYN_OK(1, c, 30000, 4, "2001:db8:7:8::1:1 (another /64)");
	why[0] = '\0';
}

/* a retransmitted SYN (same tuple and ISN, after the client's retransmission timeout) is not
 * counted again: it passes when a new SYN from the same source is over the limit */
static void retransmit(char *why)
{
	struct lim l = { .rate = 1, .burst = 3, .p4 = 32, .p6 = 64 };
	uint8_t a[4] = { 198, 18, 7, 1 };
	struct timespec ts = { 0, 600 * 1000 * 1000 }; /* > the 500 ms retransmission gap */
	struct xrun r;

	lim_config(&l);
	SYN_OK(0, a, 40000, 0x1000, "SYN 1");
	SYN_OK(0, a, 40001, 0x2000, "SYN 2");
	SYN_OK(0, a, 40002, 0x3000, "SYN 3");
	SYN_LIMITED(0, a, 40003, 0x4000, "SYN 4 (over)");
	nanosleep(&ts, NULL);
	SYN_OK(0, a, 40000, 0x1000, "SYN 1 retransmitted");
	SYN_OK(0, a, 40002, 0x3000, "SYN 3 retransmitted");
	/* 0.6 s gave back 0.6 SYN: a new SYN is still over, so the retransmissions took nothing */
	SYN_LIMITED(0, a, 40004, 0x5000, "SYN 5 (still over)");
	/* an immediate repeat (faster than any retransmission timeout) is counted: over */
	SYN_LIMITED(0, a, 40000, 0x1000, "SYN 1 repeated at once");
	why[0] = '\0';
}

/* off (rate 0): 100 SYNs from one source all answered, nothing counted */
static void off(char *why)
{
	struct lim l = { 0 };
	uint8_t a[4] = { 192, 0, 2, 30 };
	struct xrun r;

	lim_config(&l);
	for (int i = 0; i < 100; i++)
		SYN_OK(0, a, (uint16_t)(50000 + i), (uint32_t)i, "SYN with the limiter off");
	why[0] = '\0';
}

/* monitor mode: the SYN over the limit is counted as drop_rate_limited and passes */
static void monitor(char *why)
{
	struct lim l = { .rate = 1, .burst = 2, .p4 = 32, .p6 = 64, .monitor = 1 };
	uint8_t a[4] = { 192, 0, 2, 40 };
	struct xrun r;

	lim_config(&l);
	for (int i = 0; i < 2; i++)
		if (lim_syn(0, a, (uint16_t)(51000 + i), (uint32_t)i, &r) < 0 ||
		    lim_expect(&r, XDP_PASS, 0, 1, "SYN within the burst (would be answered)", why))
			return;
	if (lim_syn(0, a, 51002, 2, &r) < 0 ||
	    lim_expect(&r, XDP_PASS, 1, 1, "SYN over the limit (would be dropped)", why))
		return;
	why[0] = '\0';
}

static const struct {
	const char *name;
	void (*fn)(char *why);
} lim_cases[] = {
	{ "limit_v4_over_burst_dropped_other_source_untouched", v4_over_burst },
	{ "limit_v6_over_burst_dropped_other_source_untouched", v6_over_burst },
	{ "limit_prefix4_24_aggregates", prefix24 },
	{ "limit_prefix6_64_aggregates", prefix64 },
	{ "limit_retransmitted_syn_not_counted_twice", retransmit },
	{ "limit_off_no_effect", off },
	{ "limit_monitor_counts_and_passes", monitor },
};

void run_limit_cases(int (*selected)(const char *name), void (*report)(const char *name, const char *why))
{
	for (size_t i = 0; i < sizeof(lim_cases) / sizeof(lim_cases[0]); i++) {
		char why[LIM_BUF] = "did not finish";

		if (!selected(lim_cases[i].name))
			continue;
		lim_cases[i].fn(why);
		report(lim_cases[i].name, why[0] ? why : NULL);
	}
	/* leave the default config (limiter off) for what follows */
	{
		struct tcase dflt = { 0 };

		apply_case_config(&dflt);
	}
}
