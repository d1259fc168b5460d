/* model.c - see model.h. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "pkt.h"

static void ref_opts(const uint8_t *o, int n, struct ref *r)
{
	int i = 0;

	r->opts_ok = 1;
	while (i < n) {
		uint8_t kind = o[i], len;

		if (kind == 0)
			return;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			goto bad;
		len = o[i + 1];
		if (len < 2 || i + len > n)
			goto bad;
		/* a known kind with an unexpected length is skipped like an unknown one; a repeated
		 * option overrides */
		if (kind == 2 && len == 4) {
			r->mss = rd16(o + i + 2);
			r->has_mss = 1;
		} else if (kind == 3 && len == 3) {
			r->ws = o[i + 2];
			r->has_ws = 1;
		} else if (kind == 4 && len == 2) {
			r->sack = 1;
		} else if (kind == 8 && len == 10) {
			r->ts = 1;
			r->tsval = rd32(o + i + 2);
			r->tsecr = rd32(o + i + 6);
		}
		i += len;
	}
	return;
bad:
	r->opts_ok = 0;
}


/* IPv4 at off: the offset of the TCP header, or -1 when the frame ends here for the model. */
static int ref_ip4(const uint8_t *b, int len, int off, struct ref *r)
{
	int ihl;

	r->kind = RT_UNPARSED;
	if (off + 20 > len)
		return -1;
	ihl = b[off] & 15;
	if (b[off] >> 4 != 4 || ihl < 5)
		return -1;
	r->kind = RT_NOT_TCP;
	if (b[off + 9] != 6)
		return -1;
	r->family = 4;
	memcpy(r->saddr, b + off + 12, 4);
	memcpy(r->daddr, b + off + 16, 4);
	if (rd16(b + off + 6) & 0x3fff) {
		r->kind = RT_FRAG;
		return -1;
	}
	r->len_mismatch = rd16(b + off + 2) != len - off;
	return off + ihl * 4;
}

/* IPv6 at off, as ref_ip4. */
static int ref_ip6(const uint8_t *b, int len, int off, struct ref *r)
{
	uint8_t nh;
	int i;

	r->kind = RT_UNPARSED;
	if (off + 40 > len || b[off] >> 4 != 6)
		return -1;
	r->kind = RT_NOT_TCP;
	r->family = 6;
	nh = b[off + 6];
	memcpy(r->saddr, b + off + 8, 16);
	memcpy(r->daddr, b + off + 24, 16);
	r->len_mismatch = rd16(b + off + 4) != len - off - 40;
	off += 40;
	/* hop-by-hop, routing (segments left 0) and destination options headers, at most 4, or a
	 * fragment */
	for (i = 0; i < 4 && nh != 6; i++) {
		if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
			return -1;
		if (off + 2 > len) {
			r->kind = RT_UNPARSED;
			return -1;
		}
		if (nh == 44) {
			if (b[off] == 6)
				r->kind = RT_FRAG;
			return -1;
		}
		if (nh == 43) {
			if (off + 4 > len) {
				r->kind = RT_UNPARSED;
				return -1;
			}
			if (b[off + 3]) /* segments left: not for this host, passed */
				return -1;
		}
		nh = b[off];
		off += (b[off + 1] + 1) * 8;
	}
	if (nh == 0 || nh == 43 || nh == 60 || nh == 44)
		r->kind = RT_UNPARSED;
	return nh == 6 ? off : -1;
}

static void ref_tcp(const uint8_t *b, int len, int off, struct ref *r)
{
	if (off + 20 > len) {
		r->kind = RT_UNPARSED;
		return;
	}
	r->kind = RT_TCP;
	r->l4 = off;
	r->sport = rd16(b + off);
	r->dport = rd16(b + off + 2);
	r->seq = rd32(b + off + 4);
	r->ack = rd32(b + off + 8);
	r->doff = (b[off + 12] >> 4) * 4;
	r->flags = b[off + 13];
	r->hdr_ok = r->doff >= 20 && off + r->doff <= len;
	if (r->hdr_ok)
		ref_opts(b + off + 20, r->doff - 20, r);
}

void ref_parse(const uint8_t *b, int len, struct ref *r)
{
	uint16_t et;
	int off = 14, i;

	memset(r, 0, sizeof(*r));
	r->kind = RT_NOT_TCP;
	if (len < 14)
		return;
	et = rd16(b + 12);
	/* at most two tags: 802.1ad outer + 802.1Q inner, or two of either */
	for (i = 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++) {
		if (off + 4 > len)
			return;
		et = rd16(b + off + 2);
		off += 4;
		r->nvlan++;
	}
	r->l3 = off;
	if (et == 0x0800)
		off = ref_ip4(b, len, off, r);
	else if (et == 0x86dd)
		off = ref_ip6(b, len, off, r);
	else
		return;
	if (off >= 0)
		ref_tcp(b, len, off, r);
}

int ref_socket(const struct ref *r)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };

	if (r->family == 4 && !memcmp(r->daddr, lo4, 4) && E.cport) {
		if (!memcmp(r->saddr, lo4, 4) && ((r->sport == E.cport && r->dport == E.lport) ||
						  (r->sport == E.lport && r->dport == E.cport)))
			return SK_EST;
	}
	if (r->dport != E.lport)
		return SK_NONE;
	if (r->family == 4 && !memcmp(r->daddr, lo4, 4))
		return SK_LISTENER;
	if (r->family == 6 && E.have6 && !memcmp(r->daddr, lo6, 16))
		return SK_LISTENER;
	return SK_NONE;
}

void ref_tuple(const struct ref *r, uint32_t isn, struct oc_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = r->family;
	memcpy(t->saddr, r->saddr, 16);
	memcpy(t->daddr, r->daddr, 16);
	t->sport = r->sport;
	t->dport = r->dport;
	t->isn = isn;
}

int ref_ack(const struct ref *r, struct oc_params *cp)
{
	struct oc_tuple t;

	if (!r->hdr_ok)
		return ACK_MALFORMED;
	if (E.sec_now.epoch == 0)
		return ACK_NO_SECRET;
	if (!r->opts_ok)
		return ACK_MALFORMED;
	ref_tuple(r, r->seq - 1, &t);
	switch (oc_ack_check(&t, r->ack, r->ts, r->tsecr, E.sec_now.epoch, E.sec_now.key, cp)) {
	case OC_ACK_OK:
		return ACK_VALID;
	case OC_ACK_BAD_EPOCH:
		return ACK_BAD_EPOCH;
	}
	return ACK_BAD_HASH;
}

/* The flow cache (bpf/flowcache.h, hash and slots in include/synfence.h): a flow is cached when a
 * segment of it meets a socket other than a listener (XDP's ACK path, TC's lookup), in the slot its
 * tuple hashes to, replacing what was there; a SYN of a cached flow the kernel has no socket for
 * (or only the listener) uncaches it. Here only the namespace's established connection ever meets
 * such a socket, so a few entries hold the whole cache. */
static struct {
	uint32_t slot;
	struct ref r;
} mcache[8];
static int nmcache;

static uint32_t mflow_slot(const struct ref *r)
{
	uint8_t pb[4] = { (uint8_t)(r->sport >> 8), (uint8_t)r->sport, (uint8_t)(r->dport >> 8),
			  (uint8_t)r->dport };
	uint32_t sa[4], da[4], ports;

	/* the words as the program loads them from the packet */
	memcpy(sa, r->saddr, 16);
	memcpy(da, r->daddr, 16);
	memcpy(&ports, pb, 4);
	return sf_flow_hash_slot(sf_flow_hash(sa, da, ports));
}

int mflow_find(const struct ref *r)
{
	uint32_t slot = mflow_slot(r);
	int i;

	for (i = 0; i < nmcache; i++)
		if (mcache[i].slot == slot && mcache[i].r.family == r->family &&
		    !memcmp(mcache[i].r.saddr, r->saddr, 16) && !memcmp(mcache[i].r.daddr, r->daddr, 16) &&
		    mcache[i].r.sport == r->sport && mcache[i].r.dport == r->dport)
			return i;
	return -1;
}

void mflow_remember(const struct ref *r)
{
	uint32_t slot = mflow_slot(r);
	int i;

	for (i = 0; i < nmcache && mcache[i].slot != slot; i++)
		;
	if (i == nmcache) {
		if (nmcache == (int)(sizeof(mcache) / sizeof(mcache[0])))
			abort(); /* more cached flows than this namespace has connections */
		nmcache++;
	}
	mcache[i].slot = slot;
	mcache[i].r = *r;
}

void mflow_forget(int i)
{
	mcache[i] = mcache[--nmcache];
}

void mflow_clear(void)
{
	nmcache = 0;
}


const struct mlist mlists[] = {
	{ 4, 1, 20, 0, { 198, 19, 0, 0 } },   /* denied: 1/32 of the generator's IPv4 sources */
	{ 4, 0, 24, 0, { 198, 19, 7, 0 } },   /* allowed inside it: the allow list wins */
	{ 4, 0, 22, 0, { 198, 19, 16, 0 } },  /* allowed */
	{ 4, 1, 19, 1, { 198, 19, 32, 0 } },  /* an expired live entry: ignored */
	{ 6, 1, 68, 0, { 0xfd, [8] = 0xb0 } }, /* denied: 1/16 of the IPv6 sources */
	{ 6, 0, 72, 0, { 0xfd, [8] = 0xba } }, /* allowed inside it */
	{ 6, 0, 68, 0, { 0xfd, [8] = 0xa0 } }, /* allowed */
};
const int n_mlists = sizeof(mlists) / sizeof(mlists[0]);

static int prefix_match(const uint8_t *a, const uint8_t *p, int len)
{
	for (int i = 0; i < len; i++)
		if (((a[i / 8] ^ p[i / 8]) >> (7 - i % 8)) & 1)
			return 0;
	return 1;
}

/* The lists' verdict on the source: 1 allowed, -1 denied, 0 neither (the allow list wins). */
static int ref_lists(const struct ref *r)
{
	int allowed = 0, denied = 0;

	for (int i = 0; i < n_mlists; i++) {
		const struct mlist *m = &mlists[i];

		if (m->family != r->family || m->expired || !prefix_match(r->saddr, m->addr, m->len))
			continue;
		if (m->deny)
			denied = 1;
		else
			allowed = 1;
	}
	return allowed ? 1 : denied ? -1 : 0;
}

/* A SYN or a would-be cookie ACK from a listed source: its verdict, counted; 0 when in no list. */
static int expect_lists(const struct ref *r, struct expect *x, const char *what)
{
	int l = ref_lists(r);

	if (!l)
		return 0;
	x->path = l > 0 ? (what[0] == 's' ? "syn/allowed" : "ack/allowed") :
			  (what[0] == 's' ? "syn/denied" : "ack/denied");
	x->verdict = l > 0 ? XDP_PASS : XDP_DROP;
	x->d[l > 0 ? C(pass_allowed) : C(drop_denied)] = 1;
	return 1;
}

/* A SYN (without ACK) to a protected port. */
int model_calm(void)
{
	return (E.cfg_now.calm_slots >> ENV_SLOT) & 1;
}

int model_handoff_limited(uint32_t *limit)
{
	if (E.cfg_now.flags & SF_CFG_MONITOR) {
		*limit = E.cfg_now.monitor_epoch;
		return 1;
	}
	if (model_calm()) {
		*limit = E.cfg_now.engaged_epoch;
		return 1;
	}
	return 0;
}

static void expect_syn(const struct ref *r, struct expect *x)
{
	x->d[C(syn_recv)] = 1;
	if (expect_lists(r, x, "syn"))
		return;
	if (model_calm()) { /* the kernel answers */
		x->path = "syn/calm";
		x->d[C(syn_pass_calm)] = 1;
		return;
	}
	x->verdict = XDP_DROP;
	x->forget = !(r->flags & (TF_FIN | TF_RST)) && mflow_find(r) >= 0 && ref_socket(r) != SK_EST;
	if (r->flags & (TF_FIN | TF_RST)) {
		x->path = "syn/flags";
		x->d[C(drop_syn_flags)] = 1;
	} else if (ref_socket(r) == SK_EST) {
		/* cached or not, the kernel is asked (judge() refills the per-CPU budget for
		 * uncached tuples first, bpf/flowcache.h) */
		x->path = "syn/existing";
		x->verdict = XDP_PASS;
		x->d[C(syn_pass_existing)] = 1;
	} else if (!r->hdr_ok) {
		x->path = "syn/bad-doff";
		x->d[C(drop_malformed)] = 1;
	} else if (E.sec_now.epoch == 0) {
		x->path = "syn/no-secret";
		x->verdict = XDP_PASS;
		x->d[C(pass_no_secret)] = 1;
	} else if (!r->opts_ok) {
		x->path = "syn/bad-options";
		x->d[C(drop_malformed)] = 1;
	} else {
		/* what the SYN-ACK carries: tests/unit/synack.c, shared with the unit tests */
		x->path = "syn/synack";
		x->verdict = XDP_TX;
		x->d[C(synack_sent)] = 1;
		x->synack = 1;
	}
}

/* An ACK (without SYN or RST) to a protected port. */
static void expect_ack(const struct ref *r, struct expect *x)
{
	if (mflow_find(r) >= 0) {
		x->path = "ack/cached";
		x->d[C(est_pass)] = 1;
		return;
	}
	x->sock = ref_socket(r);
	if (x->sock == SK_EST) {
		x->path = "ack/established";
		x->d[C(est_pass)] = 1;
		x->remember = 1;
		return;
	}
	if (x->sock == SK_NONE) {
		x->path = "ack/no-socket";
		x->d[C(ack_no_listener)] = 1;
		return;
	}
	if (expect_lists(r, x, "ack"))
		return;
	x->verdict = XDP_DROP;
	switch (ref_ack(r, &x->cp)) {
	case ACK_VALID:
		x->path = "ack/cookie-ok";
		x->verdict = XDP_PASS;
		x->valid = 1;
		x->d[C(ack_cookie_ok)] = 1;
		return;
	case ACK_NO_SECRET:
		x->path = "ack/no-secret";
		x->verdict = XDP_PASS;
		x->d[C(pass_no_secret)] = 1;
		return;
	case ACK_MALFORMED:
		x->path = r->hdr_ok ? "ack/bad-options" : "ack/bad-doff";
		x->d[C(ack_bad_malformed)] = 1;
		break;
	case ACK_BAD_EPOCH:
		x->path = "ack/bad-epoch";
		x->d[C(ack_bad_epoch)] = 1;
		break;
	default:
		x->path = "ack/bad-hash";
		x->d[C(ack_bad_hash)] = 1;
	}
	x->d[C(ack_cookie_bad)] = 1;
}

/* Monitor mode: every verdict that would be XDP_TX or XDP_DROP is XDP_PASS, the frame untouched,
 * counted as what it would have been and in monitor_pass. */
static void expect_monitor(struct expect *x)
{
	if (!(E.cfg_now.flags & SF_CFG_MONITOR) || !(E.cfg_now.flags & SF_CFG_ENABLED) ||
	    x->verdict == XDP_PASS)
		return;
	x->verdict = XDP_PASS;
	x->synack = 0;
	x->d[C(monitor_pass)] = 1;
}

/* SYNs the limiter counted per source prefix (/32, /64), open addressing; when full, prefixes
 * not in it are unknown (any outcome allowed). */
#define MLIM_SLOTS 65536
static struct mlim {
	uint8_t key[9]; /* family, then the prefix */
	uint8_t used;
	uint32_t n;
} mlim[MLIM_SLOTS];
static unsigned mlim_n;

static struct mlim *mlim_find(const struct ref *r)
{
	uint8_t key[9] = { (uint8_t)r->family };
	uint32_t h = 2166136261u;
	unsigned i;

	memcpy(key + 1, r->saddr, r->family == 4 ? 4 : 8);
	for (i = 0; i < sizeof(key); i++)
		h = (h ^ key[i]) * 16777619u;
	for (i = 0; i < MLIM_SLOTS; i++) {
		struct mlim *m = &mlim[(h + i) % MLIM_SLOTS];

		if (m->used && !memcmp(m->key, key, sizeof(key)))
			return m;
		if (!m->used) {
			if (mlim_n >= MLIM_SLOTS / 2)
				return NULL;
			m->used = 1;
			memcpy(m->key, key, sizeof(key));
			mlim_n++;
			return m;
		}
	}
	return NULL;
}

void expect_limit(const struct ref *r, struct expect *x, int limited)
{
	const struct sf_config *c = &E.cfg_now;
	struct mlim *m;

	/* the check comes after the SYN+FIN/RST drop, before everything else on the SYN path */
	if (!c->limit_t_ns || !(c->flags & SF_CFG_ENABLED) || strncmp(x->path, "syn/", 4) ||
	    !strcmp(x->path, "syn/flags"))
		return;
	m = mlim_find(r);
	if (!limited) {
		if (m)
			m->n++;
		return;
	}
	if (m && m->n < c->limit_tau_ns / c->limit_t_ns + 1)
		return; /* not allowed: the judge reports the difference */
	memset(x, 0, sizeof(*x));
	x->path = "syn/limited";
	x->verdict = XDP_DROP;
	x->d[C(syn_recv)] = 1;
	x->d[C(drop_rate_limited)] = 1;
	if (c->flags & SF_CFG_MONITOR) {
		x->verdict = XDP_PASS;
		x->d[C(monitor_pass)] = 1;
	}
}

void expect_frame(const struct ref *r, struct expect *x)
{
	memset(x, 0, sizeof(*x));
	x->verdict = XDP_PASS;
	if (r->kind == RT_NOT_TCP) {
		x->path = "not-tcp";
	} else if (!(E.cfg_now.flags & SF_CFG_ENABLED)) {
		x->path = "disabled";
	} else if (r->kind == RT_FRAG) {
		x->path = "fragment";
		x->d[C(pass_fragment)] = 1;
	} else if (r->kind == RT_UNPARSED) {
		x->path = "unparsed";
		x->d[C(pass_unparsed)] = 1;
	} else if (!env_protected(&E, r->dport)) {
		x->path = "unprotected";
		x->d[C(pass_unprotected)] = 1;
	} else if ((r->flags & TF_SYN) && !(r->flags & TF_ACK)) {
		expect_syn(r, x);
	} else if ((r->flags & (TF_SYN | TF_ACK | TF_RST)) != TF_ACK) {
		x->path = "other";
		x->d[C(pass_other)] = 1;
	} else {
		expect_ack(r, x);
	}
	expect_monitor(x);
	/* calm: a bad cookie ACK passes (maybe the kernel's own cookie); a denied source stays dropped */
	if (model_calm() && x->verdict == XDP_DROP && x->d[C(ack_cookie_bad)]) {
		x->verdict = XDP_PASS;
		x->path = "ack/calm-bad";
	}
}

/* TC sees the frame after XDP (the flow cache as XDP left it). Its gate: a TCP segment with ACK
 * but neither SYN nor RST, to a protected port, while enabled, of no cached flow; then the socket
 * lookup and, whatever the socket, the check of the segment as a final ACK. */
void expect_tc(const struct ref *r, struct tc_expect *t)
{
	struct oc_params cp;
	uint32_t limit;
	int ack;

	memset(t, 0, sizeof(*t));
	if (r->kind != RT_TCP || (r->flags & (TF_SYN | TF_RST | TF_ACK)) != TF_ACK ||
	    !env_protected(&E, r->dport) || !(E.cfg_now.flags & SF_CFG_ENABLED)) {
		t->path = "tc/gate";
		return;
	}
	if (mflow_find(r) >= 0) {
		t->path = "tc/cached";
		return;
	}
	ack = ref_ack(r, &cp);
	switch (ref_socket(r)) {
	case SK_NONE:
		t->path = ack == ACK_VALID ? "tc/no-listener" : "tc/no-socket";
		t->d[C(handoff_no_listener)] = ack == ACK_VALID;
		break;
	case SK_EST: /* a cache entry lost to a colliding flow, or a second copy of a final ACK */
		t->path = ack == ACK_VALID ? "tc/dup" : "tc/established";
		t->d[C(handoff_dup)] = ack == ACK_VALID;
		t->remember = 1;
		break;
	default:
		if (model_handoff_limited(&limit)) {
			/* monitor mode, calm: only the ACK of a SYN-ACK sent before the switch is
			 * handed off (cookie epoch <= the limit); a bad one is not counted */
			if (ack != ACK_VALID || cp.epoch > limit) {
				if (E.cfg_now.flags & SF_CFG_MONITOR)
					t->path = ack == ACK_VALID ? "tc/monitor-valid" : "tc/monitor-other";
				else
					t->path = ack == ACK_VALID ? "tc/calm-valid" : "tc/calm-other";
				break;
			}
		}
		if (ack == ACK_VALID) {
			t->path = "tc/handoff";
			t->handoff = 1;
			t->d[C(handoff_err)] = t->d[C(handoff_err_einval)] = 1; /* see struct xrun */
			oc_handoff_attrs(&cp, r->ts, r->tsval, r->tsecr, E.cfg_now.rcv_wscale, &t->attrs);
		} else if (ack == ACK_NO_SECRET) {
			t->path = "tc/no-secret";
		} else {
			t->path = "tc/cookie-bad";
			t->d[C(handoff_cookie_bad)] = 1;
		}
	}
}

