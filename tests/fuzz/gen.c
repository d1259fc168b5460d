/* gen.c - see gen.h. */
#include <string.h>

#include "gen.h"
#include "model.h"
#include "oracle.h"
#include "pkt.h"

uint64_t rnd64(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t rnd(struct rng *r, uint32_t n) /* 0..n-1 */
{
	return n ? (uint32_t)(rnd64(r) % n) : 0;
}

int pct(struct rng *r, unsigned p)
{
	return rnd(r, 100) < p;
}

/* Fixed keys: corpus frames carrying valid cookies must stay valid from run to run. */
static void fixed_keys(struct sf_secrets *s)
{
	int i, j;

	for (i = 0; i < SF_EPOCH_SLOTS; i++)
		for (j = 0; j < 2; j++)
			s->key[i][j] = 0x5346555a5a000000ull ^ (uint64_t)(i * 2 + j) * 0x0101010101010101ull;
}

/* sel: bit 0..3 TIMESTAMPS, SACK, WSCALE, ECN cleared when set; bits 4..5 secret variant (epoch 5,
 * 1, 0xfffffff2, none); bit 6 program disabled; bit 7 other MSS/window/wscale/TTL. Bits 6 and 7
 * both set: monitor mode (enabled; MSS and window do not matter there: no SYN-ACK is built), with
 * monitor_epoch = epoch - 1 when bit 3 is set (cookies of the previous epoch still handed off),
 * else 0 (nothing handed off). Bits 0..3 and 7 set, 6 clear (SEL_CALM): engage = auto, the test
 * interface calm (enabled, the sysctls on), engaged_epoch = epoch - 1 (cookies of the previous
 * epoch still handed off, of the current one not). */
#define SEL_CALM_MASK 0xcf
#define SEL_CALM      0x8f
static int cur_sel = -1;

uint32_t sel_epoch(uint8_t sel)
{
	static const uint32_t epochs[4] = { 5, 1, 0xfffffff2u, 0 };

	return epochs[(sel >> 4) & 3];
}

unsigned long gen_limit_burst;

int sel_apply(uint8_t sel)
{
	static const __u64 limit_seed[2] = { 0x5346555a5a4c494dull, 0x9e3779b97f4a7c15ull };
	struct sf_config c = { 0 };
	struct sf_secrets s = { 0 };

	if (cur_sel == sel)
		return 0;
	c.flags = SF_CFG_TIMESTAMPS | SF_CFG_SACK | SF_CFG_WSCALE | SF_CFG_ECN;
	c.flags &= ~(((uint32_t)sel & 1 ? SF_CFG_TIMESTAMPS : 0) | (sel & 2 ? SF_CFG_SACK : 0) |
		     (sel & 4 ? SF_CFG_WSCALE : 0) | (sel & 8 ? SF_CFG_ECN : 0));
	if (!(sel & 0x40))
		c.flags |= SF_CFG_ENABLED;
	if ((sel & 0xc0) == 0xc0) {
		c.flags |= SF_CFG_ENABLED | SF_CFG_MONITOR;
		c.monitor_epoch = sel & 8 ? sel_epoch(sel) - 1 : 0;
	}
	if ((sel & SEL_CALM_MASK) == SEL_CALM) {
		c.flags |= SF_CFG_TIMESTAMPS | SF_CFG_SACK | SF_CFG_WSCALE | SF_CFG_ECN;
		c.calm_slots = 1ull << ENV_SLOT;
		c.engaged_epoch = sel_epoch(sel) - 1;
	}
	if ((sel & 0xc0) == 0x80) {
		c.mss4 = 8960;
		c.mss6 = 1220;
		c.window = 1024;
		c.rcv_wscale = 14;
		c.ttl = 255;
	} else {
		c.mss4 = 1460;
		c.mss6 = 1440;
		c.window = 65535;
		c.rcv_wscale = 7;
		c.ttl = 64;
	}
	if (gen_limit_burst)
		sf_limit_fill(&c, 1, gen_limit_burst, 32, 64, limit_seed);
	s.epoch = sel_epoch(sel);
	fixed_keys(&s);
	if (env_set(&E, &c, &s))
		return -1;
	cur_sel = sel;
	return 0;
}

static const uint8_t cli_mac[6] = { 0x02, 0xc1, 0x1e, 0, 0, 1 }, srv_mac[6] = { 0x02, 0x5e, 0x27, 0, 0, 2 };

static void rand_bytes(struct rng *g, uint8_t *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd64(g);
}

static void pick_addr(struct rng *g, int family, uint8_t *a, int server)
{
	memset(a, 0, 16);
	if (family == 4) {
		a[0] = 198;
		a[1] = 18 + (uint8_t)rnd(g, 2);
		a[2] = server ? 0 : (uint8_t)rnd(g, 256);
		a[3] = server ? 1 : (uint8_t)rnd(g, 256);
	} else {
		a[0] = 0xfd;
		if (server)
			a[15] = 1;
		else
			rand_bytes(g, a + 8, 8);
	}
}

/* The selector: mostly the default config; sometimes another. */
static uint8_t gen_sel(struct rng *g)
{
	uint8_t sel = pct(g, 80) ? 0 : (uint8_t)rnd64(g);

	if ((sel & 0x40) && pct(g, 75))
		sel &= ~0x40;
	if ((sel & 0x30) == 0x30 && pct(g, 50))
		sel &= ~0x30;
	if (pct(g, 8)) /* monitor mode */
		sel |= 0xc0;
	else if (pct(g, 8)) /* engage = auto, calm */
		sel = (uint8_t)((sel & ~SEL_CALM_MASK) | SEL_CALM);
	return sel;
}

/* L2 and L3: family, tags, IPv4 options, IPv6 extension headers, fragments, TTL. */
static void gen_l2_l3(struct rng *g, struct pkt_spec *s)
{
	static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100, 0x0800, 0x86dd };
	int i;

	s->family = pct(g, 60) ? 4 : 6;
	memcpy(s->smac, cli_mac, 6);
	memcpy(s->dmac, srv_mac, 6);
	i = (int)rnd(g, 100);
	s->nvlan = i < 60 ? 0 : i < 80 ? 1 : i < 96 ? 2 : 3;
	for (i = 0; i < s->nvlan; i++) {
		s->vlan[i].tpid = pct(g, 90) ? tpids[rnd(g, 2)] : tpids[rnd(g, 5)];
		s->vlan[i].tci = (uint16_t)rnd(g, 65536);
	}
	if (s->family == 4 && pct(g, 20))
		s->ipoptlen = 4 * (int)(1 + rnd(g, 10));
	if (s->family == 6 && pct(g, 30)) {
		s->v6ext = rnd(g, 16);
		/* sometimes more destination options headers than the program walks */
		s->v6ndst = pct(g, 20) ? (int)(1 + rnd(g, 6)) : 0;
	}
	s->v6frag = (uint16_t)(pct(g, 50) ? 0 : rnd(g, 65536));
	if (pct(g, 5)) {
		s->frag_set = 1;
		s->frag = (uint16_t)rnd(g, 65536);
	}
	s->ttl = (uint8_t)(1 + rnd(g, 255));
}

/* Who it is for: the listener, the established connection, a protected port elsewhere, or
 * mostly unprotected ones. */
static void gen_target(struct rng *g, struct pkt_spec *s)
{
	int i, target = (int)rnd(g, 100);

	pick_addr(g, s->family, s->saddr, 0);
	s->sport = (uint16_t)(1 + rnd(g, 65535));
	if (target < 45 || (!E.have6 && target < 55 && s->family == 6)) {
		if (s->family == 4) {
			s->daddr[0] = 127;
			s->daddr[3] = 1;
		} else {
			s->daddr[15] = 1;
		}
		s->dport = E.lport;
	} else if (target < 55 && E.cport) {
		s->family = 4;
		s->v6ext = 0;
		memset(s->saddr, 0, 16);
		memset(s->daddr, 0, 16);
		s->saddr[0] = s->daddr[0] = 127;
		s->saddr[3] = s->daddr[3] = 1;
		s->sport = pct(g, 80) ? E.cport : E.lport;
		s->dport = s->sport == E.cport ? E.lport : E.cport;
	} else if (target < 75) {
		pick_addr(g, s->family, s->daddr, 1);
		i = (int)rnd(g, 103);
		s->dport = (uint16_t)(i == 101 ? 80 : i == 102 ? 443 : 8000 + i);
	} else {
		pick_addr(g, s->family, s->daddr, 1);
		do
			s->dport = (uint16_t)rnd(g, 65536);
		while (env_protected(&E, s->dport) && pct(g, 95));
	}
}

/* TCP: flags, numbers, then options (none, the usual ones, a random script in script[16], or raw
 * bytes in raw[40]), payload, padding. */
static void gen_tcp(struct rng *g, struct pkt_spec *s, char *script, uint8_t *raw)
{
	static const uint16_t mss_vals[] = { 0, 1, 100, 535, 536, 1219, 1220, 1300, 1380, 1420,
					     1440, 1460, 1461, 8960, 9000, 65535 };
	static const char opt_letters[] = "MSTNWEU";
	int i = (int)rnd(g, 100);

	s->flags = i < 40 ? TF_SYN : i < 75 ? TF_ACK : i < 85 ? TF_ACK | TF_PSH : (uint8_t)rnd(g, 256);
	if ((s->flags & TF_SYN) && pct(g, 20))
		s->flags |= TF_ECE | TF_CWR;
	s->seq = (uint32_t)rnd64(g);
	s->ack = (uint32_t)rnd64(g);
	s->window = (uint16_t)rnd(g, 65536);
	s->mss = pct(g, 80) ? mss_vals[rnd(g, sizeof(mss_vals) / 2)] : (uint16_t)rnd(g, 65536);
	s->ws = (uint8_t)(pct(g, 85) ? rnd(g, 16) : rnd(g, 256));
	s->tsval = (uint32_t)rnd64(g);
	s->tsecr = pct(g, 50) ? 0 : (uint32_t)rnd64(g);

	i = (int)rnd(g, 100);
	if (i < 15) {
		s->opts = NULL;
	} else if (i < 45) {
		s->opts = (s->flags & TF_SYN) ? "MSTNW" : "NNT";
	} else if (i < 85) {
		int k, len = 0, nl = (int)rnd(g, 9);

		for (k = 0; k < nl; k++) {
			char ch = opt_letters[rnd(g, 7)];
			int w = ch == 'M' ? 4 : ch == 'S' ? 2 : ch == 'T' ? 10 : ch == 'W' ? 3 : ch == 'U' ? 4 : 1;

			if (len + w > 40)
				break;
			script[k] = ch;
			len += w;
		}
		script[k] = 0;
		s->opts = script;
	} else {
		s->rawoptlen = (int)rnd(g, 41);
		rand_bytes(g, raw, s->rawoptlen);
		for (i = 0; i < s->rawoptlen; i++) /* make it look like options more often than not */
			if (pct(g, 40))
				raw[i] = (uint8_t)rnd(g, 12);
		s->rawopt = raw;
	}
	if (pct(g, 12))
		s->paylen = (int)rnd(g, 300);
	if (pct(g, 5))
		s->pad_to = 60;
}

/* Make it the final ACK with a valid cookie, as a client that got our SYN-ACK would send it
 * (epoch: the current one, the one before, or older). */
static void gen_valid_ack(struct rng *g, struct pkt_spec *s, uint8_t sel)
{
	struct oc_params p = { 0 };
	struct oc_tuple t = { 0 };
	struct sf_secrets ks;
	uint32_t tsv, cur = sel_epoch(sel) ? sel_epoch(sel) : 5;
	int d = (int)rnd(g, 10);

	p.epoch = d < 6 ? cur : d < 9 ? cur - 1 : cur - 2 - rnd(g, 2);
	p.mss_idx = rnd(g, 8);
	if (s->family == 6 && p.mss_idx < 1 && pct(g, 80))
		p.mss_idx = 1;
	p.ws = rnd(g, 16);
	p.sack = rnd(g, 2);
	p.ecn = rnd(g, 2);
	p.ts = rnd(g, 2);
	t.family = s->family;
	memcpy(t.saddr, s->saddr, 16);
	memcpy(t.daddr, s->daddr, 16);
	t.sport = s->sport;
	t.dport = s->dport;
	t.isn = s->seq - 1;
	fixed_keys(&ks);
	s->ack = oc_cookie((const uint8_t *)ks.key[p.epoch & 3], &t, &p, &tsv) + 1;
	s->flags = pct(g, 80) ? TF_ACK : TF_ACK | TF_PSH;
	s->rawopt = NULL;
	s->opts = p.ts ? (pct(g, 70) ? "NNT" : "TNN") : (pct(g, 80) ? NULL : "NNNN");
	s->tsecr = tsv;
}

int gen(struct rng *g, uint8_t *buf, int cap)
{
	struct pkt_spec s;
	uint8_t frame[PKT_MAX], raw[40];
	char script[16];
	uint8_t sel;
	int n;

	memset(&s, 0, sizeof(s));
	sel = gen_sel(g);
	gen_l2_l3(g, &s);
	gen_target(g, &s);
	gen_tcp(g, &s, script, raw);
	/* also to a protected port without a listener, and on the established connection's tuple */
	if (env_protected(&E, s.dport) && !(s.flags & TF_SYN) && pct(g, s.dport == E.lport ? 60 : 30))
		gen_valid_ack(g, &s, sel);
	/* header fields at odds with the frame */
	if (pct(g, 4))
		s.doff = pct(g, 20) ? -1 : (int)rnd(g, 16);
	if (s.family == 4 && pct(g, 3))
		s.ihl = pct(g, 20) ? -1 : (int)rnd(g, 16);
	if (pct(g, 5))
		s.tot_len = (int)rnd(g, 65536);

	n = pkt_build(&s, frame, sizeof(frame));
	if (n < 14 || n + 1 > cap) {
		/* an impossible spec (options too long): a bare frame then */
		n = 60;
		rand_bytes(g, frame, n);
	}
	if (n > MAX_FRAME)
		n = MAX_FRAME;
	buf[0] = sel;
	memcpy(buf + 1, frame, (size_t)n);
	return n + 1;
}

/* A layer of the frame to mutate in: [*lo, *hi). */
static void pick_layer(struct rng *g, const struct ref *r, int len, int *lo, int *hi)
{
	/* 0 L2, 1 L3, 2 TCP fixed header, 3 TCP options, 4 payload */
	switch (rnd(g, 5)) {
	case 0:
		*lo = 0, *hi = r->l3 ? r->l3 : 14;
		break;
	case 1:
		*lo = r->l3 ? r->l3 : 14, *hi = r->l4 ? r->l4 : *lo + 40;
		break;
	case 2:
		*lo = r->l4 ? r->l4 : 34, *hi = *lo + 20;
		break;
	case 3:
		*lo = r->l4 ? r->l4 + 20 : 54, *hi = r->l4 ? r->l4 + (r->doff > 20 ? r->doff : 24) : 94;
		break;
	default:
		*lo = r->l4 ? r->l4 + r->doff : 54, *hi = len;
	}
	if (*hi > len)
		*hi = len;
	if (*lo >= *hi)
		*lo = 0, *hi = len;
}

/* Mutation op (0..7, 11) of a header field or a byte at offset o; the length stays. */
static void mutate_field(struct rng *g, uint8_t *f, int len, const struct ref *r, int o, int op)
{
	static const uint8_t lens[] = { 0, 1, 2, 3, 4, 8, 10, 11, 18, 38, 39, 40, 41, 255 };
	static const uint8_t nhs[] = { 0, 6, 17, 43, 44, 58, 59, 60, 135, 255 };

	switch (op) {
	case 0: /* bit flip */
		f[o] ^= (uint8_t)(1u << rnd(g, 8));
		break;
	case 1: /* random byte */
		f[o] = (uint8_t)rnd64(g);
		break;
	case 2: /* an interesting length/kind value */
		f[o] = lens[rnd(g, sizeof(lens))];
		break;
	case 3: /* IPv4 IHL / IPv6 version nibble */
		if (r->l3 && r->l3 < len)
			f[r->l3] = (uint8_t)((f[r->l3] & 0xf0) | rnd(g, 16));
		break;
	case 4: /* TCP data offset */
		if (r->l4 && r->l4 + 12 < len)
			f[r->l4 + 12] = (uint8_t)(rnd(g, 16) << 4 | (f[r->l4 + 12] & 15));
		break;
	case 5: /* IP length field */
		if (r->l3 && r->l3 + 6 <= len)
			wr16(f + r->l3 + (r->family == 6 ? 4 : 2), (uint16_t)rnd(g, 65536));
		break;
	case 6: /* next header / protocol / extension header chain */
		if (r->family == 6 && r->l3 + 7 <= len)
			f[r->l3 + 6] = nhs[rnd(g, sizeof(nhs))];
		else if (r->family == 4 && r->l3 + 10 <= len)
			f[r->l3 + 9] = pct(g, 50) ? 6 : (uint8_t)rnd64(g);
		if (r->family == 6 && r->l3 + 42 <= len && pct(g, 50)) /* first ext header */
			f[r->l3 + 40 + rnd(g, 2)] = pct(g, 50) ? nhs[rnd(g, sizeof(nhs))] : (uint8_t)rnd64(g);
		break;
	case 7: /* TCP flags */
		if (r->l4 && r->l4 + 13 < len)
			f[r->l4 + 13] = pct(g, 50) ? (uint8_t)rnd64(g) : f[r->l4 + 13] ^ (uint8_t)(1u << rnd(g, 8));
		break;
	default: /* ethertype / VLAN tag */
		if (len >= 14) {
			int et = 12 + 4 * (int)rnd(g, (uint32_t)(r->nvlan + 1));

			if (et + 2 <= len)
				wr16(f + et, pct(g, 60) ? (pct(g, 50) ? 0x8100 : 0x88a8) :
					    pct(g, 50) ? (pct(g, 50) ? 0x0800 : 0x86dd) : (uint16_t)rnd64(g));
		}
	}
}

/* Mutation op (8..10) of the frame's length at offset o: truncate, extend, insert or delete.
 * Returns the new length. */
static int mutate_length(struct rng *g, uint8_t *f, int len, int cap, int o, int op)
{
	if (op == 8) { /* truncate */
		len = 14 + (int)rnd(g, (uint32_t)(len > 14 ? len - 13 : 1));
		if (pct(g, 3))
			len = (int)rnd(g, 14); /* below an Ethernet header: the kernel refuses it */
	} else if (op == 9) { /* extend with junk */
		if (len < cap) {
			int add = 1 + (int)rnd(g, (uint32_t)(cap - len < 64 ? cap - len : 64));

			rand_bytes(g, f + len, add);
			len += add;
		}
	} else if (pct(g, 50) && len < cap) { /* insert bytes inside a layer */
		int add = 1 + (int)rnd(g, 8);

		if (len + add > cap)
			add = cap - len;
		memmove(f + o + add, f + o, (size_t)(len - o));
		rand_bytes(g, f + o, add);
		len += add;
	} else if (len > o + 1) { /* ... or delete them */
		int del = 1 + (int)rnd(g, (uint32_t)(len - o - 1 < 8 ? len - o - 1 : 8));

		memmove(f + o, f + o + del, (size_t)(len - o - del));
		len -= del;
	}
	return len;
}

int mutate(struct rng *g, uint8_t *f, int len, int cap)
{
	struct ref r;
	int lo, hi, o, op, k, n = 1 + (int)rnd(g, 4);

	if (cap > MAX_FRAME)
		cap = MAX_FRAME;
	for (k = 0; k < n; k++) {
		ref_parse(f, len, &r);
		pick_layer(g, &r, len, &lo, &hi);
		o = lo + (int)rnd(g, (uint32_t)(hi - lo));
		op = (int)rnd(g, 12);
		if (op >= 8 && op <= 10)
			len = mutate_length(g, f, len, cap, o, op);
		else
			mutate_field(g, f, len, &r, o, op);
		if (len < 0)
			len = 0;
	}
	return len;
}
