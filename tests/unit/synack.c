/* synack.c - see synack.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "env.h"
#include "synack.h"

void synack_syn_parsed(const struct pkt_parsed *p, struct synack_syn *s)
{
	memset(s, 0, sizeof(*s));
	s->family = p->family;
	memcpy(s->smac, p->smac, 6);
	memcpy(s->dmac, p->dmac, 6);
	s->nvlan = p->nvlan;
	memcpy(s->vlan, p->vlan, sizeof(s->vlan));
	memcpy(s->saddr, p->saddr, 16);
	memcpy(s->daddr, p->daddr, 16);
	s->sport = p->sport;
	s->dport = p->dport;
	s->seq = p->seq;
	s->flags = p->flags;
	s->has_mss = p->has_mss;
	s->mss = p->mss;
	s->has_ws = p->has_ws;
	s->ws = p->ws;
	s->sack = p->has_sack;
	s->ts = p->has_ts;
	s->tsval = p->tsval;
}

void synack_expect(const struct synack_syn *s, const struct sf_config *c, uint32_t epoch,
		   const void *keys, struct synack_expect *x)
{
	const uint64_t(*k)[2] = keys;
	struct oc_tuple t = { .family = s->family, .sport = s->sport, .dport = s->dport,
			      .isn = s->seq };

	memset(x, 0, sizeof(*x));
	x->syn = *s;
	x->cp.epoch = epoch;
	x->cp.mss_idx = oc_mss_idx(s->has_mss ? s->mss : -1, s->family);
	x->cp.ts = s->ts && (c->flags & SF_CFG_TIMESTAMPS);
	x->cp.sack = s->sack && (c->flags & SF_CFG_SACK);
	x->cp.ws = s->has_ws && (c->flags & SF_CFG_WSCALE) ? (s->ws > 14 ? 14 : s->ws)
							  : SF_COOKIE_WS_NONE;
	x->cp.ecn = (s->flags & TF_ECE) && (s->flags & TF_CWR) && (c->flags & SF_CFG_ECN);
	memcpy(t.saddr, s->saddr, 16);
	memcpy(t.daddr, s->daddr, 16);
	x->cookie = oc_cookie((const uint8_t *)k[epoch & 3], &t, &x->cp, &x->tsval);
}

/* The judging of one SYN-ACK: the reasons and how many properties were checked. */
struct judge {
	char *why;
	size_t wl;
	int n;
};

static void expect(struct judge *j, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void expect(struct judge *j, int ok, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	j->n++;
	if (ok)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	addf(j->why, j->wl, "%s", msg);
}

static void expect_eq(struct judge *j, const char *what, unsigned long long e, unsigned long long g)
{
	expect(j, e == g, "%s: expected %llu (0x%llx), got %llu (0x%llx)", what, e, e, g, g);
}

#define EXPECT_EQ(what, exp, got) \
	expect_eq(j, what, (unsigned long long)(exp), (unsigned long long)(got))

static void describe_low(char *b, size_t n, uint32_t isn)
{
	snprintf(b, n, "epoch&3=%u mss_idx=%u ws=%u sack=%u ecn=%u hash21=0x%06x",
		 isn >> SF_COOKIE_EPOCH_SHIFT & 3, isn >> SF_COOKIE_MSS_SHIFT & 7,
		 isn >> SF_COOKIE_WS_SHIFT & 15, isn >> SF_COOKIE_SACK_SHIFT & 1, isn & 1,
		 isn >> SF_COOKIE_HASH_SHIFT);
}

static void check_l2(struct judge *j, const struct synack_syn *s, const struct pkt_parsed *a)
{
	int i;

	expect(j, !memcmp(a->dmac, s->smac, 6) && !memcmp(a->smac, s->dmac, 6), "MACs not swapped");
	expect(j, a->nvlan == s->nvlan, "VLAN tags: expected %d, got %d", s->nvlan, a->nvlan);
	for (i = 0; i < a->nvlan && i < s->nvlan; i++)
		expect(j, a->vlan[i].tpid == s->vlan[i].tpid && a->vlan[i].tci == s->vlan[i].tci,
		       "VLAN tag %d: expected %04x/%04x, got %04x/%04x", i, s->vlan[i].tpid,
		       s->vlan[i].tci, a->vlan[i].tpid, a->vlan[i].tci);
}

/* Returns where the headers end. */
static int check_l3(struct judge *j, const struct synack_syn *s, const struct sf_config *c,
		    const struct pkt_parsed *a, const uint8_t *frame)
{
	size_t alen = s->family == 4 ? 4 : 16;

	expect(j, !memcmp(a->saddr, s->daddr, alen) && !memcmp(a->daddr, s->saddr, alen),
	       "IP addresses not swapped");
	if (a->family == 6) {
		EXPECT_EQ("IPv6 version", 6, a->ver);
		EXPECT_EQ("IPv6 next header", 6, a->nexthdr);
		EXPECT_EQ("IPv6 hop limit", c->ttl, a->hlim);
		EXPECT_EQ("IPv6 payload length", a->doff, a->plen);
		expect(j, !a->v6_ext, "SYN-ACK carries IPv6 extension headers");
		return a->l3off + 40 + a->doff;
	}
	EXPECT_EQ("IPv4 version", 4, a->ver);
	EXPECT_EQ("IPv4 IHL", 5, a->ihl);
	EXPECT_EQ("IPv4 TTL", c->ttl, a->ttl);
	EXPECT_EQ("IPv4 DF|MF|offset", 0x4000, a->frag);
	EXPECT_EQ("IPv4 protocol", 6, a->proto);
	expect(j, a->ip_csum_ok, "IPv4 header checksum wrong: field 0x%04x, computed 0x%04x",
	       rd16(frame + a->l3off + 10), oc_ip4_csum(frame + a->l3off, 20));
	EXPECT_EQ("IPv4 total length", 20 + a->doff, a->tot_len);
	return a->l3off + 20 + a->doff;
}

static void check_l4(struct judge *j, const struct synack_expect *x, const struct sf_config *c,
		     const struct pkt_parsed *a, const uint8_t *frame)
{
	const struct synack_syn *s = &x->syn;
	char e[96], g[96];

	EXPECT_EQ("TCP source port", s->dport, a->sport);
	EXPECT_EQ("TCP destination port", s->sport, a->dport);
	EXPECT_EQ("TCP flags", TF_SYN | TF_ACK | (x->cp.ecn ? TF_ECE : 0), a->flags);
	EXPECT_EQ("TCP reserved bits", 0, a->res);
	EXPECT_EQ("TCP ack (client ISN + 1)", (uint32_t)(s->seq + 1), a->ack);
	describe_low(e, sizeof(e), x->cookie);
	describe_low(g, sizeof(g), a->seq);
	expect(j, a->seq == x->cookie, "TCP seq (cookie): expected 0x%08x [%s], got 0x%08x [%s]",
	       x->cookie, e, a->seq, g);
	EXPECT_EQ("TCP window", c->window, a->window);
	EXPECT_EQ("TCP urgent pointer", 0, a->urg);
	EXPECT_EQ("TCP payload length", 0, a->paylen);
	expect(j, a->tcp_csum_ok, "TCP checksum wrong: field 0x%04x, computed 0x%04x", a->csum,
	       oc_l4_csum(a->family, a->saddr, a->daddr, 6, frame + a->l4off, (size_t)a->tcp_len, 16));
}

static void check_options(struct judge *j, const struct synack_expect *x,
			  const struct sf_config *c, const struct pkt_parsed *a)
{
	expect(j, a->has_mss, "no MSS option");
	if (a->has_mss)
		EXPECT_EQ("MSS option", a->family == 4 ? c->mss4 : c->mss6, a->mss);
	EXPECT_EQ("SACK_PERM option present", x->cp.sack, a->has_sack);
	EXPECT_EQ("TS option present", x->cp.ts, a->has_ts);
	if (x->cp.ts && a->has_ts) {
		EXPECT_EQ("TS option TSval (h >> 32)", x->tsval, a->tsval);
		EXPECT_EQ("TS option TSecr (client TSval)", x->syn.tsval, a->tsecr);
	}
	EXPECT_EQ("WS option present", x->cp.ws != SF_COOKIE_WS_NONE, a->has_ws);
	if (x->cp.ws != SF_COOKIE_WS_NONE && a->has_ws)
		EXPECT_EQ("WS option shift (rcv_wscale)", c->rcv_wscale, a->ws);
	expect(j, !a->n_unknown, "%d unknown options in the SYN-ACK", a->n_unknown);
	expect(j, !a->n_dup, "%d duplicated options in the SYN-ACK", a->n_dup);
}

int synack_check(const struct synack_expect *x, const struct sf_config *c, const uint8_t *frame,
		 int len, int metalen, char *why, size_t wl)
{
	struct judge jd = { why, wl, 0 }, *j = &jd;
	struct pkt_parsed a;
	char err[128] = "";
	int parsed = pkt_parse(frame, len, &a, err, sizeof(err)) == 0;

	expect(j, parsed, "SYN-ACK does not parse: %s", err);
	if (!parsed)
		return j->n;
	expect(j, !metalen, "%d bytes of metadata left in front of the SYN-ACK", metalen);
	check_l2(j, &x->syn, &a);
	expect(j, a.family == x->syn.family, "IP family: expected %d, got %d", x->syn.family, a.family);
	if (a.family != x->syn.family)
		return j->n;
	EXPECT_EQ("frame length (exactly the headers)", check_l3(j, &x->syn, c, &a, frame), len);
	check_l4(j, x, c, &a, frame);
	check_options(j, x, c, &a);
	return j->n;
}
