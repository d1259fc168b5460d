/* fuzz_bpf.c - packet fuzzer of the synfence XDP and TC programs through BPF_PROG_TEST_RUN.
 *
 * Every frame is run through the XDP program, then through the TC program (the handoff, with a
 * real listener on lo), and both are judged against invariants and against a reference model of
 * the specification written here from the protocol rules and README/include/synfence.h, sharing
 * no code with bpf/: verdicts, counters, SYN-ACKs, TC's handoff decision and its attributes, the
 * flow cache. Cookies are checked with libsodium's SipHash (tests/unit/oracle.c), checksums with
 * RFC 1071 sums, SYN-ACKs with the strict parser of tests/unit/pkt.c.
 *
 * Two entry points, one source:
 *   sf_fuzz_bpf     structure-aware generator + mutator, deterministic for a seed, bounded in time
 *                   and/or frames (CI); replays a corpus first; can save interesting frames.
 *   sf_fuzz_bpf_lf  libFuzzer (clang -fsanitize=fuzzer,address,undefined), with the same
 *                   structure-aware mutator as a custom mutator; a finding aborts.
 * An input (corpus file) is one selector byte (config/secret variant, see sel_apply) + the frame.
 *
 * Must run in a network namespace of its own (it opens listeners on lo): tests/fuzz/run-in-netns.sh.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <sodium.h>

#include "env.h"
#include "oracle.h"
#include "pkt.h"

#define MAX_FRAME 1600

/* ---------------------------------------------------------------------------------------------
 * Deterministic PRNG (splitmix64)
 * ------------------------------------------------------------------------------------------- */
struct rng {
	uint64_t s;
};

static uint64_t rnd64(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd(struct rng *r, uint32_t n) /* 0..n-1 */
{
	return n ? (uint32_t)(rnd64(r) % n) : 0;
}

static int pct(struct rng *r, unsigned p)
{
	return rnd(r, 100) < p;
}

/* ---------------------------------------------------------------------------------------------
 * Environment and the selector byte
 * ------------------------------------------------------------------------------------------- */
static struct env E;

/* Fixed keys: corpus frames carrying valid cookies must stay valid from run to run. */
static void fixed_keys(struct sf_secrets *s)
{
	int i, j;

	for (i = 0; i < SF_EPOCH_SLOTS; i++)
		for (j = 0; j < 2; j++)
			s->key[i][j] = 0x5346555a5a000000ull ^ (uint64_t)(i * 2 + j) * 0x0101010101010101ull;
}

/* sel: bit 0..3 TIMESTAMPS, SACK, WSCALE, ECN cleared when set; bits 4..5 secret variant (epoch 5,
 * 1, 0xfffffff2, none); bit 6 program disabled; bit 7 other MSS/window/wscale/TTL. */
static int cur_sel = -1;

static uint32_t sel_epoch(uint8_t sel)
{
	static const uint32_t epochs[4] = { 5, 1, 0xfffffff2u, 0 };

	return epochs[(sel >> 4) & 3];
}

static int sel_apply(uint8_t sel)
{
	struct sf_config c = { 0 };
	struct sf_secrets s = { 0 };

	if (cur_sel == sel)
		return 0;
	c.flags = SF_CFG_TIMESTAMPS | SF_CFG_SACK | SF_CFG_WSCALE | SF_CFG_ECN;
	c.flags &= ~(((uint32_t)sel & 1 ? SF_CFG_TIMESTAMPS : 0) | (sel & 2 ? SF_CFG_SACK : 0) |
		     (sel & 4 ? SF_CFG_WSCALE : 0) | (sel & 8 ? SF_CFG_ECN : 0));
	if (!(sel & 0x40))
		c.flags |= SF_CFG_ENABLED;
	if (sel & 0x80) {
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
	s.epoch = sel_epoch(sel);
	fixed_keys(&s);
	if (env_set(&E, &c, &s))
		return -1;
	cur_sel = sel;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Reference model: what the spec says about a frame
 * ------------------------------------------------------------------------------------------- */
/* RT_UNPARSED: IPv4/IPv6 whose IP or TCP header cannot be read (cut, bad version or IHL, more
 * than 4 IPv6 extension headers); another ethertype or protocol is RT_NOT_TCP. */
enum { RT_NOT_TCP, RT_TCP, RT_FRAG, RT_UNPARSED };

struct ref {
	int kind;                 /* RT_* */
	int family, nvlan, l3, l4;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	int doff;                 /* bytes */
	int hdr_ok;               /* doff >= 20 and the whole header inside the frame */
	int opts_ok;              /* options well-formed (RFC 9293 3.1: kind, length >= 2, no overrun) */
	int has_mss, has_ws, sack, ts;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	int len_mismatch;         /* IP length field disagrees with the frame (not judged by XDP) */
};

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

static void ref_parse(const uint8_t *b, int len, struct ref *r)
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
	if (et == 0x0800) {
		int ihl;

		r->kind = RT_UNPARSED;
		if (off + 20 > len)
			return;
		ihl = b[off] & 15;
		if (b[off] >> 4 != 4 || ihl < 5)
			return;
		r->kind = RT_NOT_TCP;
		if (b[off + 9] != 6)
			return;
		r->family = 4;
		memcpy(r->saddr, b + off + 12, 4);
		memcpy(r->daddr, b + off + 16, 4);
		if (rd16(b + off + 6) & 0x3fff) {
			r->kind = RT_FRAG;
			return;
		}
		r->len_mismatch = rd16(b + off + 2) != len - off;
		off += ihl * 4;
	} else if (et == 0x86dd) {
		uint8_t nh;
		int ext = 0;

		r->kind = RT_UNPARSED;
		if (off + 40 > len || b[off] >> 4 != 6)
			return;
		r->kind = RT_NOT_TCP;
		r->family = 6;
		nh = b[off + 6];
		memcpy(r->saddr, b + off + 8, 16);
		memcpy(r->daddr, b + off + 24, 16);
		r->len_mismatch = rd16(b + off + 4) != len - off - 40;
		off += 40;
		/* hop-by-hop, routing (segments left 0) and destination options headers, at most 4, or a
		 * fragment */
		for (i = 0; i < 4 && nh != 6; i++, ext++) {
			if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
				return;
			if (off + 2 > len) {
				r->kind = RT_UNPARSED;
				return;
			}
			if (nh == 44) {
				if (b[off] == 6)
					r->kind = RT_FRAG;
				return;
			}
			if (nh == 43) {
				if (off + 4 > len) {
					r->kind = RT_UNPARSED;
					return;
				}
				if (b[off + 3]) /* segments left: not for this host, passed */
					return;
			}
			nh = b[off];
			off += (b[off + 1] + 1) * 8;
		}
		if (nh == 0 || nh == 43 || nh == 60 || nh == 44)
			r->kind = RT_UNPARSED;
		if (nh != 6)
			return;
	} else {
		return;
	}
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

/* Which socket the kernel's lookup finds for the segment (the namespace holds only ours). */
enum { SK_NONE, SK_LISTENER, SK_EST };

static int ref_socket(const struct ref *r)
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

static void ref_tuple(const struct ref *r, uint32_t isn, struct oc_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = r->family;
	memcpy(t->saddr, r->saddr, 16);
	memcpy(t->daddr, r->daddr, 16);
	t->sport = r->sport;
	t->dport = r->dport;
	t->isn = isn;
}

/* The check of a segment only a listener would get, in the spec's order: the whole TCP header, a
 * secret, well-formed options, then the cookie (libsodium). On ACK_VALID, cp is what the cookie
 * remembers. */
enum { ACK_VALID, ACK_NO_SECRET, ACK_MALFORMED, ACK_BAD_HASH, ACK_BAD_EPOCH };

static int ref_ack(const struct ref *r, struct oc_params *cp)
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

static int mflow_find(const struct ref *r)
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

static void mflow_remember(const struct ref *r)
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

static void mflow_forget(int i)
{
	mcache[i] = mcache[--nmcache];
}

/* What the XDP program must do with a frame. */
struct expect {
	const char *path;      /* the path in the spec, for statistics and messages */
	unsigned verdict;
	int8_t d[SF_CNT_MAX];  /* exact counter deltas */
	int synack;            /* XDP_TX with this SYN-ACK */
	int valid;             /* a valid cookie ACK to the listener: passed, then TC's to hand off */
	struct oc_params cp;   /* negotiated (synack) or decoded (valid) */
	int sock;
	int remember, forget;  /* the flow is cached / uncached after it */
};

/* What the TC program must then do with the same frame. */
struct tc_expect {
	const char *path;
	int8_t d[SF_CNT_MAX];
	int handoff;           /* attempts a handoff, with these attributes */
	struct sf_handoff_attrs attrs;
	int remember;
};

#define C(x) SF_CNT_##x

static void expect_frame(const struct ref *r, struct expect *x)
{
	const struct sf_config *c = &E.cfg_now;
	int no_secret = E.sec_now.epoch == 0;

	memset(x, 0, sizeof(*x));
	x->verdict = XDP_PASS;
	if (r->kind == RT_NOT_TCP) {
		x->path = "not-tcp";
		return;
	}
	if (!(c->flags & SF_CFG_ENABLED)) {
		x->path = "disabled";
		return;
	}
	if (r->kind == RT_FRAG) {
		x->path = "fragment";
		x->d[C(pass_fragment)] = 1;
		return;
	}
	if (r->kind == RT_UNPARSED) {
		x->path = "unparsed";
		x->d[C(pass_unparsed)] = 1;
		return;
	}
	if (!env_protected(&E, r->dport)) {
		x->path = "unprotected";
		x->d[C(pass_unprotected)] = 1;
		return;
	}
	if ((r->flags & TF_SYN) && !(r->flags & TF_ACK)) {
		x->d[C(syn_recv)] = 1;
		x->verdict = XDP_DROP;
		x->forget = !(r->flags & (TF_FIN | TF_RST)) && mflow_find(r) >= 0 &&
			    ref_socket(r) != SK_EST;
		if (r->flags & (TF_FIN | TF_RST)) {
			x->path = "syn/flags";
			x->d[C(drop_syn_flags)] = 1;
		} else if (ref_socket(r) == SK_EST) {
			/* cached or not, the kernel is asked (judge() refills the per-CPU budget
			 * for uncached tuples first, bpf/flowcache.h) */
			x->path = "syn/existing";
			x->verdict = XDP_PASS;
			x->d[C(syn_pass_existing)] = 1;
		} else if (!r->hdr_ok) {
			x->path = "syn/bad-doff";
			x->d[C(drop_malformed)] = 1;
		} else if (no_secret) {
			x->path = "syn/no-secret";
			x->verdict = XDP_PASS;
			x->d[C(pass_no_secret)] = 1;
		} else if (!r->opts_ok) {
			x->path = "syn/bad-options";
			x->d[C(drop_malformed)] = 1;
		} else {
			x->path = "syn/synack";
			x->verdict = XDP_TX;
			x->d[C(synack_sent)] = 1;
			x->synack = 1;
			x->cp.epoch = E.sec_now.epoch;
			x->cp.mss_idx = oc_mss_idx(r->has_mss && r->mss ? r->mss : -1, r->family);
			x->cp.ts = r->ts && (c->flags & SF_CFG_TIMESTAMPS);
			x->cp.sack = r->sack && (c->flags & SF_CFG_SACK);
			x->cp.ws = r->has_ws && (c->flags & SF_CFG_WSCALE) ? (r->ws > 14 ? 14 : r->ws)
									  : SF_COOKIE_WS_NONE;
			x->cp.ecn = (r->flags & (TF_ECE | TF_CWR)) == (TF_ECE | TF_CWR) &&
				    (c->flags & SF_CFG_ECN);
		}
		return;
	}
	if ((r->flags & (TF_SYN | TF_ACK | TF_RST)) != TF_ACK) {
		x->path = "other";
		x->d[C(pass_other)] = 1;
		return;
	}
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

/* TC sees the frame after XDP (the flow cache as XDP left it). Its gate: a TCP segment with ACK
 * but neither SYN nor RST, to a protected port, while enabled, of no cached flow; then the socket
 * lookup and, whatever the socket, the check of the segment as a final ACK. */
static void expect_tc(const struct ref *r, struct tc_expect *t)
{
	struct oc_params cp;
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

/* ---------------------------------------------------------------------------------------------
 * Invariants
 * ------------------------------------------------------------------------------------------- */
enum inv {
	INV_RUN,        /* the test run succeeds, verdict in {PASS, DROP, TX} */
	INV_MODEL,      /* verdict and counter deltas are the reference model's */
	INV_TX_SYN,     /* XDP_TX only for a well-formed SYN to a protected port */
	INV_TX_FRAME,   /* every SYN-ACK parses, checksums right, addresses/ports/MACs/VLANs right,
			   cookie = libsodium's, options = negotiated */
	INV_HANDOFF,    /* TC hands off only an ACK carrying a valid cookie to a listener; its
			   attributes = the cookie's */
	INV_VALID_PASS, /* a valid cookie ACK to the listener is passed by XDP, handed off by TC */
	INV_UNPROT,     /* nothing outside the protected ports (or not TCP, or fragment) is dropped,
			   changed, counted as a connection or handed off */
	INV_PASS_SAME,  /* a passed frame is byte-for-byte the input */
	INV_COUNTERS,   /* counter accounting identities of include/synfence.h */
	INV_TC_RUN,     /* TC: the test run succeeds, TC_ACT_UNSPEC, the frame untouched */
	INV_TC_MODEL,   /* TC: handoff decision and counter deltas are the reference model's */
	INV_N
};

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
};

#define MAX_PATHS 48

static struct {
	uint64_t frames, tc_runs, tc_refused, synacks, handoffs, evictions, len_mismatch_tx;
	uint64_t refused_short;
	uint64_t checks[INV_N];
	uint64_t verdicts[5];
	struct {
		const char *path;
		uint64_t n;
	} paths[MAX_PATHS];
	int npaths;
	uint64_t findings;
} S;

static char why[4096];

static void fail(int inv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(int inv, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n + 8 >= sizeof(why))
		return;
	n += (size_t)snprintf(why + n, sizeof(why) - n, "%s[%s] ", n ? "; " : "", inv_names[inv]);
	va_start(ap, fmt);
	vsnprintf(why + n, sizeof(why) - n, fmt, ap);
	va_end(ap);
}

#define CHECK(inv, cond, ...)                                                                   \
	do {                                                                                    \
		S.checks[inv]++;                                                                \
		if (!(cond))                                                                    \
			fail(inv, __VA_ARGS__);                                                 \
	} while (0)

static const char *vname(uint32_t v)
{
	static const char *const n[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT" };

	return v < 5 ? n[v] : "verdict?";
}

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

static void check_synack(const uint8_t *in, const struct ref *r, const struct expect *x,
			 const struct xrun *xr)
{
	const struct sf_config *c = &E.cfg_now;
	struct pkt_parsed a;
	struct oc_tuple t;
	uint32_t tsval, cookie;
	char err[128];
	int alen = r->family == 4 ? 4 : 16, i, ok = 1;

	S.synacks++;
	if (r->len_mismatch)
		S.len_mismatch_tx++;
	if (pkt_parse(xr->out, xr->outlen, &a, err, sizeof(err)) < 0) {
		CHECK(INV_TX_FRAME, 0, "SYN-ACK does not parse: %s", err);
		return;
	}
	ref_tuple(r, r->seq, &t);
	cookie = oc_cookie((const uint8_t *)E.sec_now.key[E.sec_now.epoch & 3], &t, &x->cp, &tsval);
#define T(cond, ...) do { S.checks[INV_TX_FRAME]++; if (!(cond)) { ok = 0; fail(INV_TX_FRAME, __VA_ARGS__); } } while (0)
	T(!memcmp(a.dmac, in + 6, 6) && !memcmp(a.smac, in, 6), "MACs not swapped");
	T(a.nvlan == r->nvlan, "VLAN tags %d -> %d", r->nvlan, a.nvlan);
	for (i = 0; i < a.nvlan && i < r->nvlan; i++)
		T(a.vlan[i].tpid == rd16(in + 12 + 4 * i) && a.vlan[i].tci == rd16(in + 14 + 4 * i),
		  "VLAN tag %d changed", i);
	T(a.family == r->family, "family %d -> %d", r->family, a.family);
	T(!memcmp(a.saddr, r->daddr, (size_t)alen) && !memcmp(a.daddr, r->saddr, (size_t)alen),
	  "addresses not swapped");
	if (a.family == 4) {
		T(a.ihl == 5 && a.ip_csum_ok, "IPv4 header: ihl %d, checksum %s", a.ihl,
		  a.ip_csum_ok ? "ok" : "WRONG");
		T(a.ttl == c->ttl && a.frag == 0x4000 && a.tot_len == 20 + a.doff,
		  "IPv4 ttl %u frag %#x tot_len %u", a.ttl, a.frag, a.tot_len);
		T(xr->outlen == a.l3off + 20 + a.doff, "frame length %d, headers end at %d",
		  xr->outlen, a.l3off + 20 + a.doff);
	} else {
		T(!a.v6_ext && a.nexthdr == 6 && a.hlim == c->ttl && a.plen == a.doff,
		  "IPv6 header: ext %d nexthdr %u hlim %u plen %u", a.v6_ext, a.nexthdr, a.hlim, a.plen);
		T(xr->outlen == a.l3off + 40 + a.doff, "frame length %d, headers end at %d",
		  xr->outlen, a.l3off + 40 + a.doff);
	}
	T(a.tcp_csum_ok, "TCP checksum wrong");
	T(a.sport == r->dport && a.dport == r->sport, "ports not swapped");
	T(a.flags == (TF_SYN | TF_ACK | (x->cp.ecn ? TF_ECE : 0)) && a.res == 0 && a.urg == 0,
	  "flags %#x res %u urg %u", a.flags, a.res, a.urg);
	T(a.ack == r->seq + 1, "ack %#x, client ISN %#x", a.ack, r->seq);
	T(a.seq == cookie, "cookie %#x, libsodium says %#x", a.seq, cookie);
	T(a.window == c->window && a.paylen == 0, "window %u payload %d", a.window, a.paylen);
	T(a.has_mss && a.mss == (a.family == 4 ? c->mss4 : c->mss6), "MSS option %d/%u", a.has_mss, a.mss);
	T(a.has_sack == (int)x->cp.sack && a.has_ts == (int)x->cp.ts &&
		  a.has_ws == (x->cp.ws != SF_COOKIE_WS_NONE) && !a.n_unknown && !a.n_dup,
	  "options sack %d ts %d ws %d unknown %d dup %d (want %u %u %d)", a.has_sack, a.has_ts,
	  a.has_ws, a.n_unknown, a.n_dup, x->cp.sack, x->cp.ts, x->cp.ws != SF_COOKIE_WS_NONE);
	if (a.has_ts && x->cp.ts)
		T(a.tsval == tsval && a.tsecr == r->tsval, "TS %#x/%#x, want %#x/%#x", a.tsval,
		  a.tsecr, tsval, r->tsval);
	if (a.has_ws)
		T(a.ws == c->rcv_wscale, "WS %u, want %u", a.ws, c->rcv_wscale);
#undef T
	(void)ok;
}

/* include/synfence.h: TC counts only the handoff_* outcomes, XDP never does. */
static int is_tc_counter(int i)
{
	return !strncmp(env_cnt_names[i], "handoff_", 8);
}

static void check_counters(const struct expect *x, const struct xrun *xr)
{
	const int64_t *d = xr->d;
	int64_t seg = 0, synend;
	int i;

	for (i = 0; i < SF_CNT_MAX; i++)
		CHECK(INV_MODEL, d[i] == x->d[i], "counter %s %+" PRId64 ", model says %+d (path %s)",
		      env_cnt_names[i], d[i], x->d[i], x->path);
	/* the identities of include/synfence.h, independent of the model */
	CHECK(INV_COUNTERS, d[C(ack_cookie_bad)] == d[C(ack_bad_hash)] + d[C(ack_bad_epoch)] +
							d[C(ack_bad_malformed)],
	      "ack_cookie_bad != sum of its reasons");
	synend = d[C(synack_sent)] + d[C(drop_syn_flags)] + d[C(drop_malformed)] +
		 d[C(drop_no_room)] + d[C(syn_pass_existing)] +
		 (d[C(syn_recv)] ? d[C(pass_no_secret)] : 0);
	CHECK(INV_COUNTERS, synend == d[C(syn_recv)], "a SYN did not end in exactly one outcome");
	seg = d[C(syn_recv)] + d[C(est_pass)] + d[C(ack_no_listener)] + d[C(ack_cookie_ok)] +
	      d[C(ack_cookie_bad)] + d[C(pass_unprotected)] + d[C(pass_fragment)] + d[C(pass_other)] +
	      (d[C(syn_recv)] ? 0 : d[C(pass_no_secret)]);
	CHECK(INV_COUNTERS, seg == (x->path && strcmp(x->path, "not-tcp") && strcmp(x->path, "disabled") &&
				    strcmp(x->path, "unparsed")),
	      "%" PRId64 " segment classes counted", seg);
	CHECK(INV_COUNTERS, (xr->ret == XDP_TX) == (d[C(synack_sent)] == 1) &&
		      (xr->ret == XDP_PASS || !d[C(ack_cookie_ok)]),
	      "verdict %s does not match the counters", vname(xr->ret));
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

/* The XDP run of a frame, judged. Returns 0 to go on to TC, 1 when the frame ends here (too short
 * for any test run), -1 on a failed run. */
static int judge_xdp(const uint8_t *in, int len, const struct ref *r, struct expect *x,
		     struct xrun *xr)
{
	int i, rc;

	if ((r->flags & (TF_SYN | TF_ACK)) == TF_SYN && ref_socket(r) == SK_EST &&
	    env_syn_checks_refill(&E))
		return -1;
	rc = env_xdp(&E, in, len, xr);
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
	      "verdict %s", vname(xr->ret));
	if (xr->ret < 5)
		S.verdicts[xr->ret]++;
	expect_frame(r, x);
	count_path(x->path);

	CHECK(INV_MODEL, xr->ret == x->verdict, "verdict %s, model says %s (path %s)", vname(xr->ret),
	      vname(x->verdict), x->path);
	check_counters(x, xr);

	/* The brief's invariants, stated on their own so that they hold even if the model is wrong. */
	if (xr->ret == XDP_TX) {
		CHECK(INV_TX_SYN, r->kind == RT_TCP && (E.cfg_now.flags & SF_CFG_ENABLED) &&
			      env_protected(&E, r->dport) &&
			      (r->flags & (TF_SYN | TF_ACK | TF_RST | TF_FIN)) == TF_SYN &&
			      r->hdr_ok && r->opts_ok && E.sec_now.epoch,
		      "XDP_TX for a frame that is not a well-formed SYN to a protected port (path %s)",
		      x->path);
		if (x->synack)
			check_synack(in, r, x, xr);
	}
	if (x->valid)
		CHECK(INV_VALID_PASS, xr->ret == XDP_PASS, "a valid cookie ACK got %s", vname(xr->ret));
	if (r->kind != RT_TCP || !(E.cfg_now.flags & SF_CFG_ENABLED) || !env_protected(&E, r->dport)) {
		int64_t moved = 0;

		for (i = 0; i < SF_CNT_MAX; i++)
			if (i != C(pass_unprotected) && i != C(pass_fragment) &&
			    i != C(pass_unparsed))
				moved += xr->d[i] != 0;
		CHECK(INV_UNPROT, xr->ret == XDP_PASS && xr->outlen == len &&
			      !memcmp(xr->out, in, (size_t)len) && !moved,
		      "%s frame got %s (path %s)", r->kind != RT_TCP ? "a non-TCP" : "an unprotected",
		      vname(xr->ret), x->path);
	}
	if (xr->ret == XDP_PASS)
		CHECK(INV_PASS_SAME, xr->outlen == len && !memcmp(xr->out, in, (size_t)len),
		      "passed frame modified");

	if (x->remember)
		mflow_remember(r);
	if (x->forget)
		mflow_forget(mflow_find(r));
	return 0;
}

/* The TC run of the same frame, judged: the handoff decision against the model and, on its own,
 * "TC hands off only for valid cookies". */
static int judge_tc(const uint8_t *in, int len, const struct ref *r, const struct expect *x,
		    struct xrun *tr)
{
	struct tc_expect t;
	struct oc_params cp;
	char diff[512];
	int i, rc, same;

	if (r->kind == RT_TCP && mflow_find(r) >= 0 && evict_before_tc(in, len)) {
		if (env_flows_clear(&E))
			return -1;
		nmcache = 0;
		S.evictions++;
	}
	rc = env_tc(&E, in, len, tr);
	S.tc_runs++;
	if (rc == -EINVAL && tc_refusable(in, len)) {
		S.tc_refused++; /* the kernel refuses an skb whose IP header is cut, before the program */
		count_path("tc/refused");
		return 0;
	}
	same = tr->outlen == len && !memcmp(tr->out, in, (size_t)len);
	CHECK(INV_TC_RUN, rc == 0 && tr->ret == ENV_TC_VERDICT && same,
	      "TC test run: %s, verdict %d, frame %s", strerror(-rc), (int)tr->ret,
	      same ? "unchanged" : "CHANGED");
	if (rc)
		return -1;
	expect_tc(r, &t);
	count_path(t.path);
	for (i = 0; i < SF_CNT_MAX; i++)
		CHECK(INV_TC_MODEL, tr->d[i] == t.d[i], "TC counter %s %+" PRId64 ", model says %+d (path %s)",
		      env_cnt_names[i], tr->d[i], t.d[i], t.path);
	CHECK(INV_TC_MODEL, (tr->handoff.mss != 0) == t.handoff,
	      "TC %s a handoff, model says %s (path %s)",
	      tr->handoff.mss ? "attempted" : "did not attempt", t.handoff ? "hand off" : "not", t.path);
	check_tc_counters(tr);

	if (tr->handoff.mss) {
		int valid = r->kind == RT_TCP && (E.cfg_now.flags & SF_CFG_ENABLED) &&
			    env_protected(&E, r->dport) &&
			    (r->flags & (TF_SYN | TF_ACK | TF_RST)) == TF_ACK &&
			    ref_socket(r) == SK_LISTENER && ref_ack(r, &cp) == ACK_VALID;

		CHECK(INV_HANDOFF, valid, "TC attempted a handoff (mss %u) of a frame that is no valid "
		      "cookie ACK to a listener (path %s)", tr->handoff.mss, t.path);
		if (valid && t.handoff) {
			S.handoffs++;
			CHECK(INV_HANDOFF, !oc_handoff_diff(&t.attrs, &tr->handoff, diff, sizeof(diff)),
			      "%s", diff);
		}
	}
	if (x->valid)
		CHECK(INV_VALID_PASS, tr->handoff.mss, "TC did not hand off a valid cookie ACK (path %s)",
		      t.path);
	if (r->kind != RT_TCP || !(E.cfg_now.flags & SF_CFG_ENABLED) || !env_protected(&E, r->dport)) {
		int64_t moved = 0;

		for (i = 0; i < SF_CNT_MAX; i++)
			moved += tr->d[i] != 0;
		CHECK(INV_UNPROT, !moved && !tr->handoff.mss, "TC: %s frame counted or handed off",
		      r->kind != RT_TCP ? "a non-TCP" : "an unprotected");
	}
	if (t.remember)
		mflow_remember(r);
	return 0;
}

/* Judge one frame: XDP, then TC. Returns 0, or -1 with the reasons in why[]. */
static int judge(const uint8_t *in, int len)
{
	static struct xrun xr, tr;
	struct expect x;
	struct ref r;
	int rc;

	why[0] = 0;
	S.frames++;
	ref_parse(in, len, &r);
	rc = judge_xdp(in, len, &r, &x, &xr);
	if (rc == 0)
		rc = judge_tc(in, len, &r, &x, &tr);
	return rc < 0 || why[0] ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------------
 * Generator: valid frames of every shape, then mutated at every layer
 * ------------------------------------------------------------------------------------------- */
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

static const char opt_letters[] = "MSTNWEU";

/* A frame in buf (selector byte first); returns its total length. */
static int gen(struct rng *g, uint8_t *buf, int cap)
{
	static const uint16_t mss_vals[] = { 0, 1, 100, 535, 536, 1219, 1220, 1300, 1380, 1420,
					     1440, 1460, 1461, 8960, 9000, 65535 };
	static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100, 0x0800, 0x86dd };
	struct pkt_spec s;
	uint8_t frame[PKT_MAX], raw[40];
	char script[16];
	int n, i, target;
	uint8_t sel;

	memset(&s, 0, sizeof(s));
	/* mostly the default config; sometimes another */
	sel = pct(g, 80) ? 0 : (uint8_t)rnd64(g);
	if ((sel & 0x40) && pct(g, 75))
		sel &= ~0x40;
	if ((sel & 0x30) == 0x30 && pct(g, 50))
		sel &= ~0x30;
	s.family = pct(g, 60) ? 4 : 6;
	memcpy(s.smac, cli_mac, 6);
	memcpy(s.dmac, srv_mac, 6);
	i = (int)rnd(g, 100);
	s.nvlan = i < 60 ? 0 : i < 80 ? 1 : i < 96 ? 2 : 3;
	for (i = 0; i < s.nvlan; i++) {
		s.vlan[i].tpid = pct(g, 90) ? tpids[rnd(g, 2)] : tpids[rnd(g, 5)];
		s.vlan[i].tci = (uint16_t)rnd(g, 65536);
	}
	if (s.family == 4 && pct(g, 20))
		s.ipoptlen = 4 * (int)(1 + rnd(g, 10));
	if (s.family == 6 && pct(g, 30)) {
		s.v6ext = rnd(g, 16);
		/* sometimes more destination options headers than the program walks */
		s.v6ndst = pct(g, 20) ? (int)(1 + rnd(g, 6)) : 0;
	}
	s.v6frag = (uint16_t)(pct(g, 50) ? 0 : rnd(g, 65536));
	if (pct(g, 5)) {
		s.frag_set = 1;
		s.frag = (uint16_t)rnd(g, 65536);
	}
	s.ttl = (uint8_t)(1 + rnd(g, 255));

	/* who it is for */
	target = (int)rnd(g, 100);
	pick_addr(g, s.family, s.saddr, 0);
	s.sport = (uint16_t)(1 + rnd(g, 65535));
	if (target < 45 || (!E.have6 && target < 55 && s.family == 6)) {
		if (s.family == 4) {
			s.daddr[0] = 127;
			s.daddr[3] = 1;
		} else {
			s.daddr[15] = 1;
		}
		s.dport = E.lport;
	} else if (target < 55 && E.cport) {
		s.family = 4;
		s.v6ext = 0;
		memset(s.saddr, 0, 16);
		memset(s.daddr, 0, 16);
		s.saddr[0] = s.daddr[0] = 127;
		s.saddr[3] = s.daddr[3] = 1;
		s.sport = pct(g, 80) ? E.cport : E.lport;
		s.dport = s.sport == E.cport ? E.lport : E.cport;
	} else if (target < 75) {
		pick_addr(g, s.family, s.daddr, 1);
		i = (int)rnd(g, 103);
		s.dport = (uint16_t)(i == 101 ? 80 : i == 102 ? 443 : 8000 + i);
	} else {
		pick_addr(g, s.family, s.daddr, 1);
		do
			s.dport = (uint16_t)rnd(g, 65536);
		while (env_protected(&E, s.dport) && pct(g, 95));
	}

	/* flags */
	i = (int)rnd(g, 100);
	s.flags = i < 40 ? TF_SYN : i < 75 ? TF_ACK : i < 85 ? TF_ACK | TF_PSH : (uint8_t)rnd(g, 256);
	if ((s.flags & TF_SYN) && pct(g, 20))
		s.flags |= TF_ECE | TF_CWR;
	s.seq = (uint32_t)rnd64(g);
	s.ack = (uint32_t)rnd64(g);
	s.window = (uint16_t)rnd(g, 65536);
	s.mss = pct(g, 80) ? mss_vals[rnd(g, sizeof(mss_vals) / 2)] : (uint16_t)rnd(g, 65536);
	s.ws = (uint8_t)(pct(g, 85) ? rnd(g, 16) : rnd(g, 256));
	s.tsval = (uint32_t)rnd64(g);
	s.tsecr = pct(g, 50) ? 0 : (uint32_t)rnd64(g);

	/* options */
	i = (int)rnd(g, 100);
	if (i < 15) {
		s.opts = NULL;
	} else if (i < 45) {
		s.opts = (s.flags & TF_SYN) ? "MSTNW" : "NNT";
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
		s.opts = script;
	} else {
		s.rawoptlen = (int)rnd(g, 41);
		rand_bytes(g, raw, s.rawoptlen);
		for (i = 0; i < s.rawoptlen; i++) /* make it look like options more often than not */
			if (pct(g, 40))
				raw[i] = (uint8_t)rnd(g, 12);
		s.rawopt = raw;
	}
	if (pct(g, 12))
		s.paylen = (int)rnd(g, 300);
	if (pct(g, 5))
		s.pad_to = 60;

	/* the final ACK with a valid cookie, as a client that got our SYN-ACK would send it (also to
	 * a protected port without a listener, and on the established connection's tuple) */
	if (env_protected(&E, s.dport) && !(s.flags & TF_SYN) && pct(g, s.dport == E.lport ? 60 : 30)) {
		struct oc_params p = { 0 };
		struct oc_tuple t = { 0 };
		uint32_t tsv, cur = sel_epoch(sel) ? sel_epoch(sel) : 5;
		int d = (int)rnd(g, 10);

		p.epoch = d < 6 ? cur : d < 9 ? cur - 1 : cur - 2 - rnd(g, 2);
		p.mss_idx = rnd(g, 8);
		if (s.family == 6 && p.mss_idx < 1 && pct(g, 80))
			p.mss_idx = 1;
		p.ws = rnd(g, 16);
		p.sack = rnd(g, 2);
		p.ecn = rnd(g, 2);
		p.ts = rnd(g, 2);
		t.family = s.family;
		memcpy(t.saddr, s.saddr, 16);
		memcpy(t.daddr, s.daddr, 16);
		t.sport = s.sport;
		t.dport = s.dport;
		t.isn = s.seq - 1;
		{
			struct sf_secrets ks;

			fixed_keys(&ks);
			s.ack = oc_cookie((const uint8_t *)ks.key[p.epoch & 3], &t, &p, &tsv) + 1;
		}
		s.flags = pct(g, 80) ? TF_ACK : TF_ACK | TF_PSH;
		s.rawopt = NULL;
		s.opts = p.ts ? (pct(g, 70) ? "NNT" : "TNN") : (pct(g, 80) ? NULL : "NNNN");
		s.tsecr = tsv;
	}
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

/* Layer-aware mutations of a frame (selector byte excluded). Returns the new length. */
static int mutate(struct rng *g, uint8_t *f, int len, int cap)
{
	static const uint8_t lens[] = { 0, 1, 2, 3, 4, 8, 10, 11, 18, 38, 39, 40, 41, 255 };
	static const uint8_t nhs[] = { 0, 6, 17, 43, 44, 58, 59, 60, 135, 255 };
	struct ref r;
	int lo, hi, o, k, n = 1 + (int)rnd(g, 4);

	if (cap > MAX_FRAME)
		cap = MAX_FRAME;
	for (k = 0; k < n; k++) {
		ref_parse(f, len, &r);
		/* a layer: 0 L2, 1 L3, 2 TCP fixed header, 3 TCP options, 4 payload */
		switch (rnd(g, 5)) {
		case 0:
			lo = 0, hi = r.l3 ? r.l3 : 14;
			break;
		case 1:
			lo = r.l3 ? r.l3 : 14, hi = r.l4 ? r.l4 : lo + 40;
			break;
		case 2:
			lo = r.l4 ? r.l4 : 34, hi = lo + 20;
			break;
		case 3:
			lo = r.l4 ? r.l4 + 20 : 54, hi = r.l4 ? r.l4 + (r.doff > 20 ? r.doff : 24) : 94;
			break;
		default:
			lo = r.l4 ? r.l4 + r.doff : 54, hi = len;
		}
		if (hi > len)
			hi = len;
		if (lo >= hi)
			lo = 0, hi = len;
		o = lo + (int)rnd(g, (uint32_t)(hi - lo));
		switch (rnd(g, 12)) {
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
			if (r.l3 && r.l3 < len)
				f[r.l3] = (uint8_t)((f[r.l3] & 0xf0) | rnd(g, 16));
			break;
		case 4: /* TCP data offset */
			if (r.l4 && r.l4 + 12 < len)
				f[r.l4 + 12] = (uint8_t)(rnd(g, 16) << 4 | (f[r.l4 + 12] & 15));
			break;
		case 5: /* IP length field */
			if (r.l3 && r.l3 + 6 <= len)
				wr16(f + r.l3 + (r.family == 6 ? 4 : 2), (uint16_t)rnd(g, 65536));
			break;
		case 6: /* next header / protocol / extension header chain */
			if (r.family == 6 && r.l3 + 7 <= len)
				f[r.l3 + 6] = nhs[rnd(g, sizeof(nhs))];
			else if (r.family == 4 && r.l3 + 10 <= len)
				f[r.l3 + 9] = pct(g, 50) ? 6 : (uint8_t)rnd64(g);
			if (r.family == 6 && r.l3 + 42 <= len && pct(g, 50)) /* first ext header */
				f[r.l3 + 40 + rnd(g, 2)] = pct(g, 50) ? nhs[rnd(g, sizeof(nhs))] : (uint8_t)rnd64(g);
			break;
		case 7: /* TCP flags */
			if (r.l4 && r.l4 + 13 < len)
				f[r.l4 + 13] = pct(g, 50) ? (uint8_t)rnd64(g) : f[r.l4 + 13] ^ (uint8_t)(1u << rnd(g, 8));
			break;
		case 8: /* truncate */
			len = 14 + (int)rnd(g, (uint32_t)(len > 14 ? len - 13 : 1));
			if (pct(g, 3))
				len = (int)rnd(g, 14); /* below an Ethernet header: the kernel refuses it */
			break;
		case 9: /* extend with junk */
			if (len < cap) {
				int add = 1 + (int)rnd(g, (uint32_t)(cap - len < 64 ? cap - len : 64));

				rand_bytes(g, f + len, add);
				len += add;
			}
			break;
		case 10: /* insert or delete bytes inside a layer */
			if (pct(g, 50) && len < cap) {
				int add = 1 + (int)rnd(g, 8);

				if (len + add > cap)
					add = cap - len;
				memmove(f + o + add, f + o, (size_t)(len - o));
				rand_bytes(g, f + o, add);
				len += add;
			} else if (len > o + 1) {
				int del = 1 + (int)rnd(g, (uint32_t)(len - o - 1 < 8 ? len - o - 1 : 8));

				memmove(f + o, f + o + del, (size_t)(len - o - del));
				len -= del;
			}
			break;
		default: /* ethertype / VLAN tag */
			if (len >= 14) {
				int et = 12 + 4 * (int)rnd(g, (uint32_t)(r.nvlan + 1));

				if (et + 2 <= len)
					wr16(f + et, pct(g, 60) ? (pct(g, 50) ? 0x8100 : 0x88a8) :
						    pct(g, 50) ? (pct(g, 50) ? 0x0800 : 0x86dd) : (uint16_t)rnd64(g));
			}
		}
		if (len < 0)
			len = 0;
	}
	return len;
}

/* ---------------------------------------------------------------------------------------------
 * Findings and corpus
 * ------------------------------------------------------------------------------------------- */
static const char *findings_dir(void)
{
	const char *d = getenv("SF_FUZZ_FINDINGS");

	return d && *d ? d : "/tmp";
}

static void report_finding(const uint8_t *in, int len, uint8_t sel)
{
	char path[512];
	FILE *f;
	int i;

	S.findings++;
	snprintf(path, sizeof(path), "%s/sf-fuzz-bpf-finding-%d-%" PRIu64 ".bin", findings_dir(),
		 (int)getpid(), S.findings);
	fprintf(stderr, "FINDING (frame %" PRIu64 ", selector %#04x, %d bytes): %s\n", S.frames, sel,
		len, why);
	fprintf(stderr, "  frame:");
	for (i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n    ", in[i]);
	fprintf(stderr, "\n");
	f = fopen(path, "wb");
	if (f) {
		fputc(sel, f);
		fwrite(in, 1, (size_t)len, f);
		fclose(f);
		fprintf(stderr, "  saved as %s (replay: sf_fuzz_bpf --replay %s)\n", path, path);
	}
}

/* One input: selector byte + frame. Returns 0 or -1 (finding reported). */
static int one_input(const uint8_t *data, int size)
{
	if (size < 1)
		return 0;
	if (sel_apply(data[0]))
		exit(2);
	if (judge(data + 1, size - 1) == 0)
		return 0;
	report_finding(data + 1, size - 1, data[0]);
	return -1;
}

/* Interesting frames: the first of each (path, verdict, family, tags, mutated) signature. */
static const char *save_dir;
static struct {
	char sig[96];
	int n;
} sigs[512];
static int nsigs;

__attribute__((unused)) static void maybe_save(const uint8_t *data, int size, int mutated)
{
	struct ref r;
	struct expect x;
	char sig[96], path[700];
	FILE *f;
	int i;
	uint32_t h = 2166136261u;

	if (!save_dir || size < 15)
		return;
	ref_parse(data + 1, size - 1, &r);
	expect_frame(&r, &x);
	snprintf(sig, sizeof(sig), "%s-v%d-q%d-%s%s", x.path, r.family, r.nvlan, mutated ? "mut" : "gen",
		 r.len_mismatch ? "-lenmis" : "");
	for (i = 0; sig[i]; i++)
		if (sig[i] == '/')
			sig[i] = '_';
	for (i = 0; i < nsigs && strcmp(sigs[i].sig, sig); i++)
		;
	if (i == nsigs) {
		if (nsigs == 512)
			return;
		snprintf(sigs[nsigs++].sig, sizeof(sigs[0].sig), "%s", sig);
	}
	if (sigs[i].n >= 1)
		return;
	sigs[i].n++;
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	snprintf(path, sizeof(path), "%s/%s-%08x", save_dir, sig, h);
	f = fopen(path, "wb");
	if (f) {
		fwrite(data, 1, (size_t)size, f);
		fclose(f);
	}
}

static int replay_file(const char *path, uint64_t *n)
{
	uint8_t buf[MAX_FRAME + 2];
	FILE *f = fopen(path, "rb");
	int size;

	if (!f) {
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	size = (int)fread(buf, 1, sizeof(buf), f);
	fclose(f);
	(*n)++;
	return one_input(buf, size);
}

__attribute__((unused)) static int replay_dir(const char *dir, uint64_t *n)
{
	struct dirent **ents;
	char path[1024];
	int i, cnt, bad = 0;

	cnt = scandir(dir, &ents, NULL, alphasort);
	if (cnt < 0) {
		fprintf(stderr, "cannot read corpus %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < cnt; i++) {
		if (ents[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
			bad |= replay_file(path, n);
		}
		free(ents[i]);
	}
	free(ents);
	return bad;
}

__attribute__((unused)) static void print_stats(double secs, uint64_t corpus_n, uint64_t seed)
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

#ifdef SF_LIBFUZZER
/* ---------------------------------------------------------------------------------------------
 * libFuzzer entry points
 * ------------------------------------------------------------------------------------------- */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static void env_close_atexit(void)
{
	env_close(&E);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || env_setup(&E))
		exit(2);
	atexit(env_close_atexit);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_FRAME + 1)
		return -1; /* not added to the corpus */
	if (one_input(data, (int)size))
		abort();
	return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	struct rng g = { seed };
	int n;

	if (max_size < 2)
		return LLVMFuzzerMutate(data, size, max_size);
	switch (rnd(&g, 10)) {
	case 0: /* a fresh structured frame */
		n = gen(&g, data, (int)max_size);
		return (size_t)n;
	case 1: case 2: case 3: case 4: case 5: /* structured mutation of the frame */
		if (size < 2)
			return (size_t)gen(&g, data, (int)max_size);
		return 1 + (size_t)mutate(&g, data + 1, (int)size - 1, (int)max_size - 1);
	default:
		return LLVMFuzzerMutate(data, size, max_size);
	}
}
#else
/* ---------------------------------------------------------------------------------------------
 * Seeded, time-bounded run
 * ------------------------------------------------------------------------------------------- */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *o, const char *p)
{
	fprintf(o,
		"usage: %s [--seed N] [--seconds S] [--frames N] [--corpus DIR]... [--save-corpus DIR]\n"
		"       %s --replay FILE...\n"
		"Runs the synfence XDP and TC programs through BPF_PROG_TEST_RUN on generated and\n"
		"mutated frames and checks invariants on every verdict. Replays each --corpus first.\n"
		"Stops after S seconds (default 10) or N generated frames, whichever comes first.\n"
		"Exit status: 0 no finding, 1 findings (saved under $SF_FUZZ_FINDINGS, default /tmp),\n"
		"2 setup error. Must run in its own network namespace (see tests/fuzz/run-in-netns.sh).\n",
		p, p);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, max_frames = UINT64_MAX, corpus_n = 0, i;
	double seconds = 10, t0, t_end;
	const char *corpora[8];
	int ncorpora = 0, replay = 0, a, bad = 0;
	uint8_t buf[MAX_FRAME + 2];
	struct rng g;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--seconds") && a + 1 < argc)
			seconds = strtod(argv[++a], NULL);
		else if (!strcmp(argv[a], "--frames") && a + 1 < argc)
			max_frames = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--corpus") && a + 1 < argc && ncorpora < 8)
			corpora[ncorpora++] = argv[++a];
		else if (!strcmp(argv[a], "--save-corpus") && a + 1 < argc)
			save_dir = argv[++a];
		else if (!strcmp(argv[a], "--replay"))
			replay = a + 1;
		else if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			usage(stdout, argv[0]);
			return 0;
		} else if (!replay) {
			fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[a]);
			usage(stderr, argv[0]);
			return 2;
		}
		if (replay)
			break;
	}
	if (sodium_init() < 0 || env_setup(&E))
		return 2;
	if (!E.cport)
		fprintf(stderr, "warning: no established connection on lo: the established path is not exercised\n");
	if (sel_apply(0))
		return 2;
	t0 = now_s();
	if (replay) {
		for (a = replay; a < argc; a++)
			bad |= replay_file(argv[a], &corpus_n);
		print_stats(now_s() - t0, corpus_n, 0);
		env_close(&E);
		return bad ? 1 : 0;
	}
	for (a = 0; a < ncorpora; a++)
		bad |= replay_dir(corpora[a], &corpus_n);
	if (save_dir)
		mkdir(save_dir, 0755);
	g.s = seed;
	t_end = t0 + seconds;
	for (i = 0; i < max_frames; i++) {
		int n, mutated;

		if ((i & 255) == 0 && now_s() >= t_end)
			break;
		n = gen(&g, buf, sizeof(buf));
		mutated = pct(&g, 65);
		if (mutated)
			n = 1 + mutate(&g, buf + 1, n - 1, (int)sizeof(buf) - 1);
		if (one_input(buf, n))
			bad = 1;
		else
			maybe_save(buf, n, mutated);
		if (S.findings >= 20) {
			fprintf(stderr, "stopping after 20 findings\n");
			break;
		}
	}
	print_stats(now_s() - t0, corpus_n, seed);
	env_close(&E);
	return bad ? 1 : 0;
}
#endif
