/* test_xdp.c - table-driven unit tests of the synfence XDP program, driven through
 * BPF_PROG_TEST_RUN (bpf_prog_test_run_opts, repeat = 1), with libsodium as the cookie oracle and
 * our own parser/checksums as the judge of every SYN-ACK. `test_xdp --bench` measures ns/packet.
 *
 * Usage: test_xdp [-v] [--pcap FILE] [--bench [--pass-obj PATH]] [SUBSTRING...]
 *   SUBSTRING...  run only the cases whose name contains one of them
 *   -v            hex dumps of the frames of failing cases
 *   --pcap FILE   write every frame sent and every frame returned (TX/PASS) to a pcap file
 * Output: one line per case ("ok NAME" / "FAIL NAME: reason"), then "N passed, N failed".
 *
 * How BPF_PROG_TEST_RUN behaves here (Linux 6.18):
 * - The ingress device is the current netns's lo (ifindex 1): counters land in sf_if_slot[1]'s
 *   slot, and bpf_skc_lookup_tcp() sees this process's sockets. The ACK cases therefore open a real
 *   listener on 127.0.0.1/::1 (a free port, marked protected) so that the lookup finds it.
 * - XDP metadata would come back in front of the frame in data_out, its length in ctx_out.data
 *   (ctx_out needs a ctx_in with data = 0, data_end = data_size_in): synfence writes none, and
 *   every passed frame is checked to have none.
 * - Every frame XDP passes also goes through the TC program (a __sk_buff test run, ingress
 *   ifindex 1). A TC test run is not at TC ingress, so the handoff kfunc refuses there with
 *   EINVAL after TC decided to call it: the attempt (counters, sf_last_handoff) is what is
 *   judged; the real handoff is the integration tests'. The kernel refuses TC test runs of
 *   frames whose IP header is cut (EINVAL).
 * - Frames shorter than 14 bytes are refused with EINVAL before the program runs.
 * - With repeat > 1 the frame is not reset between iterations. */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "synfence.h"
#include "synfence.skel.h"
#include "oracle.h"
#include "pkt.h"
#include "sock.h"

/* ---------------------------------------------------------------------------------------------
 * Environment
 * ------------------------------------------------------------------------------------------- */
#define TEST_SLOT 1       /* counter slot given to lo (ifindex 1), the test_run ingress device */
#define TEST_EPOCH 5u      /* the default current epoch (a case may set another) */

static struct {
	struct synfence_bpf *skel;
	int prog, tc, cfg, sec, ports, slot, cnt;
	int ncpu;
	struct sf_config cfg_default;
	struct sf_secrets sec_default;
	uint16_t lport;   /* protected listener port on 127.0.0.1 and ::1 */
	int lfd4, lfd6, have6;
	uint16_t wport;   /* another protected listener port, on the wildcard addresses */
	int wfd4, wfd6;
	int cfd, afd;     /* an established connection 127.0.0.1:cport -> 127.0.0.1:lport */
	uint16_t cport;
	int verbose;
	FILE *pcap;       /* --pcap FILE: every input and output frame */
	/* the state in force for the running case */
	struct sf_config cfg_now;
	struct sf_secrets sec_now;
} E;

static const char *cnt_names[SF_CNT_MAX] = {
#define SF_CNT_NAME(name, help) #name,
	SF_COUNTERS(SF_CNT_NAME)
#undef SF_CNT_NAME
};

static const char *verdict_name(int v)
{
	static char buf[16];

	switch (v) {
	case XDP_ABORTED: return "XDP_ABORTED";
	case XDP_DROP: return "XDP_DROP";
	case XDP_PASS: return "XDP_PASS";
	case XDP_TX: return "XDP_TX";
	case XDP_REDIRECT: return "XDP_REDIRECT";
	}
	snprintf(buf, sizeof(buf), "verdict %d", v);
	return buf;
}

/* Append a formatted reason ("; " separated). */
static void addf(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addf(char *why, size_t wl, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n + 3 >= wl)
		return;
	if (n) {
		strcpy(why + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + n, wl - n, fmt, ap);
	va_end(ap);
}

static void hexdump(const char *title, const uint8_t *b, int len)
{
	int i;

	fprintf(stderr, "  %s (%d bytes):", title, len);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n    ", b[i]);
	fprintf(stderr, "\n");
}

static int read_counters(uint64_t out[SF_CNT_MAX])
{
	struct sf_counters *v = calloc((size_t)E.ncpu, sizeof(*v));
	__u32 key = TEST_SLOT;
	int i, j;

	if (!v)
		return -1;
	memset(out, 0, sizeof(uint64_t) * SF_CNT_MAX);
	if (bpf_map_lookup_elem(E.cnt, &key, v)) {
		free(v);
		return -1;
	}
	for (i = 0; i < E.ncpu; i++)
		for (j = 0; j < SF_CNT_MAX; j++)
			out[j] += v[i].c[j];
	free(v);
	return 0;
}

static int set_config(const struct sf_config *c, const struct sf_secrets *s)
{
	__u32 k = 0;

	E.cfg_now = *c;
	E.sec_now = *s;
	if (bpf_map_update_elem(E.cfg, &k, c, BPF_ANY))
		return -1;
	return bpf_map_update_elem(E.sec, &k, s, BPF_ANY);
}

static int protect_port(uint16_t port)
{
	__u32 k = port / 64;
	__u64 w = 0;

	if (bpf_map_lookup_elem(E.ports, &k, &w))
		return -1;
	w |= 1ull << (port % 64);
	return bpf_map_update_elem(E.ports, &k, &w, BPF_ANY);
}

static const uint8_t *key_of(uint32_t epoch)
{
	return (const uint8_t *)E.sec_now.key[epoch & 3];
}

/* ---------------------------------------------------------------------------------------------
 * Running the program
 * ------------------------------------------------------------------------------------------- */
struct run {
	int err;                       /* 0 or -errno from bpf_prog_test_run_opts */
	uint32_t retval;
	uint8_t out[4096];
	uint32_t outlen;               /* data_size_out: metadata + frame */
	uint32_t metalen;              /* ctx_out.data: bytes of metadata in front of the frame */
	const uint8_t *frame;
	int framelen;
	uint32_t duration;
	int64_t d[SF_CNT_MAX];         /* counter deltas around the run(s) */
};

static int xdp_run_prog(int prog, const uint8_t *in, int len, struct run *r, int repeat)
{
	struct xdp_md ctx_in = { .data = 0, .data_end = (__u32)len };
	struct xdp_md ctx_out;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out), .repeat = repeat);
	int err;

	memset(&ctx_out, 0, sizeof(ctx_out));
	err = bpf_prog_test_run_opts(prog, &o);
	r->err = err < 0 ? -errno : 0;
	if (err < 0 && errno == 0)
		r->err = err;
	r->retval = o.retval;
	r->outlen = o.data_size_out;
	r->metalen = ctx_out.data;
	r->duration = o.duration;
	if (r->metalen > r->outlen)
		r->metalen = 0;
	r->frame = r->out + r->metalen;
	r->framelen = (int)(r->outlen - r->metalen);
	return r->err;
}

static void pcap_frame(const uint8_t *f, int len)
{
	struct timespec ts;
	uint32_t rec[4];

	if (!E.pcap || len <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	rec[0] = (uint32_t)ts.tv_sec;
	rec[1] = (uint32_t)(ts.tv_nsec / 1000);
	rec[2] = rec[3] = (uint32_t)len;
	fwrite(rec, sizeof(rec), 1, E.pcap);
	fwrite(f, (size_t)len, 1, E.pcap);
}

static void pcap_open(const char *path)
{
	/* classic pcap, microseconds, LINKTYPE_ETHERNET */
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };

	E.pcap = fopen(path, "wb");
	if (E.pcap)
		fwrite(gh, sizeof(gh), 1, E.pcap);
}

/* One run of the synfence program with the counter deltas. */
static int xdp_run(const uint8_t *in, int len, struct run *r)
{
	uint64_t before[SF_CNT_MAX], after[SF_CNT_MAX];
	int i;

	memset(r->d, 0, sizeof(r->d));
	if (read_counters(before))
		return -EIO;
	xdp_run_prog(E.prog, in, len, r, 1);
	pcap_frame(in, len);
	if (!r->err && r->retval != XDP_DROP)
		pcap_frame(r->frame, r->framelen);
	if (read_counters(after))
		return -EIO;
	for (i = 0; i < SF_CNT_MAX; i++)
		r->d[i] = (int64_t)(after[i] - before[i]);
	return r->err;
}

#define SF_TC_ACT_NEXT_ 0xffffffffu /* TC_ACT_UNSPEC = TCX_NEXT (bpf/consts.h), as retval */

static int tc_run_prog(int prog, const uint8_t *in, int len, struct run *r, int repeat)
{
	struct __sk_buff ctx_in = { .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog, &o);

	r->err = err < 0 ? (errno ? -errno : err) : 0;
	r->retval = o.retval;
	r->outlen = o.data_size_out;
	r->metalen = 0;
	r->frame = r->out;
	r->framelen = (int)r->outlen;
	r->duration = o.duration;
	return r->err;
}

/* One run of the TC program (ingress on lo, like the XDP runs) with the counter deltas; the
 * attributes of the last handoff are cleared first, so that sf_last_handoff.mss != 0 afterwards
 * means this run called the kfunc. */
static int tc_run(const uint8_t *in, int len, struct run *r)
{
	uint64_t before[SF_CNT_MAX], after[SF_CNT_MAX];
	int i;

	memset(r->d, 0, sizeof(r->d));
	memset(&E.skel->bss->sf_last_handoff, 0, sizeof(E.skel->bss->sf_last_handoff));
	if (read_counters(before))
		return -EIO;
	tc_run_prog(E.tc, in, len, r, 1);
	if (read_counters(after))
		return -EIO;
	for (i = 0; i < SF_CNT_MAX; i++)
		r->d[i] = (int64_t)(after[i] - before[i]);
	return r->err;
}

/* ---------------------------------------------------------------------------------------------
 * Expectations (the oracle side): what the SYN-ACK to a given SYN must be
 * ------------------------------------------------------------------------------------------- */
struct synexp {
	struct pkt_parsed syn;         /* the client's SYN, parsed by our parser */
	struct oc_tuple t;
	struct oc_params cp;
	uint32_t cookie, tsval;
};

/* Derive the negotiated parameters and the cookie for a SYN frame under the config in force,
 * cookie made in `epoch`. */
static int syn_expect(const uint8_t *syn, int len, uint32_t epoch, struct synexp *x, char *why,
		      size_t wl)
{
	const struct sf_config *c = &E.cfg_now;
	struct pkt_parsed *p = &x->syn;
	char err[128];

	memset(x, 0, sizeof(*x));
	if (pkt_parse(syn, len, p, err, sizeof(err)) < 0) {
		addf(why, wl, "test bug: cannot parse our own SYN: %s", err);
		return -1;
	}
	x->t.family = p->family;
	memcpy(x->t.saddr, p->saddr, 16);
	memcpy(x->t.daddr, p->daddr, 16);
	x->t.sport = p->sport;
	x->t.dport = p->dport;
	x->t.isn = p->seq;
	x->cp.epoch = epoch;
	x->cp.mss_idx = oc_mss_idx(p->has_mss ? p->mss : -1, p->family);
	x->cp.ts = p->has_ts && (c->flags & SF_CFG_TIMESTAMPS);
	x->cp.sack = p->has_sack && (c->flags & SF_CFG_SACK);
	x->cp.ws = p->has_ws && (c->flags & SF_CFG_WSCALE) ? (p->ws > 14 ? 14 : p->ws)
							   : SF_COOKIE_WS_NONE;
	x->cp.ecn = (p->flags & TF_ECE) && (p->flags & TF_CWR) && (c->flags & SF_CFG_ECN);
	x->cookie = oc_cookie(key_of(epoch), &x->t, &x->cp, &x->tsval);
	return 0;
}

static void describe_low(char *b, size_t n, uint32_t isn)
{
	snprintf(b, n, "epoch&3=%u mss_idx=%u ws=%u sack=%u ecn=%u hash21=0x%06x",
		 isn >> SF_COOKIE_EPOCH_SHIFT & 3, isn >> SF_COOKIE_MSS_SHIFT & 7,
		 isn >> SF_COOKIE_WS_SHIFT & 15, isn >> SF_COOKIE_SACK_SHIFT & 1, isn & 1,
		 isn >> SF_COOKIE_HASH_SHIFT);
}

#define EXPECT_EQ(what, exp, got)                                                               \
	do {                                                                                    \
		unsigned long long e_ = (unsigned long long)(exp), g_ = (unsigned long long)(got); \
		if (e_ != g_)                                                                   \
			addf(why, wl, "%s: expected %llu (0x%llx), got %llu (0x%llx)", what, e_, e_, \
			     g_, g_);                                                           \
	} while (0)

/* Judge a SYN-ACK (r->frame) against the SYN and the oracle. */
static void check_synack(const struct synexp *x, const struct run *r, char *why, size_t wl)
{
	const struct sf_config *c = &E.cfg_now;
	const struct pkt_parsed *s = &x->syn;
	struct pkt_parsed a;
	char err[128];
	int i, alen = s->family == 4 ? 4 : 16, hdrs;

	if (pkt_parse(r->frame, r->framelen, &a, err, sizeof(err)) < 0) {
		addf(why, wl, "SYN-ACK does not parse: %s", err);
		return;
	}
	if (r->metalen)
		addf(why, wl, "%u bytes of metadata left in front of the SYN-ACK", r->metalen);
	/* L2 */
	if (memcmp(a.dmac, s->smac, 6) || memcmp(a.smac, s->dmac, 6))
		addf(why, wl, "MACs not swapped");
	if (a.nvlan != s->nvlan)
		addf(why, wl, "VLAN tags: expected %d, got %d", s->nvlan, a.nvlan);
	else
		for (i = 0; i < a.nvlan; i++)
			if (a.vlan[i].tpid != s->vlan[i].tpid || a.vlan[i].tci != s->vlan[i].tci)
				addf(why, wl, "VLAN tag %d: expected %04x/%04x, got %04x/%04x", i,
				     s->vlan[i].tpid, s->vlan[i].tci, a.vlan[i].tpid, a.vlan[i].tci);
	if (a.family != s->family) {
		addf(why, wl, "IP family: expected %d, got %d", s->family, a.family);
		return;
	}
	/* L3 */
	if (memcmp(a.saddr, s->daddr, (size_t)alen) || memcmp(a.daddr, s->saddr, (size_t)alen))
		addf(why, wl, "IP addresses not swapped");
	if (a.family == 4) {
		EXPECT_EQ("IPv4 version", 4, a.ver);
		EXPECT_EQ("IPv4 IHL", 5, a.ihl);
		EXPECT_EQ("IPv4 TTL", c->ttl, a.ttl);
		EXPECT_EQ("IPv4 DF|MF|offset", 0x4000, a.frag);
		EXPECT_EQ("IPv4 protocol", 6, a.proto);
		if (!a.ip_csum_ok)
			addf(why, wl, "IPv4 header checksum wrong: field 0x%04x, computed 0x%04x",
			     rd16(r->frame + a.l3off + 10), oc_ip4_csum(r->frame + a.l3off, 20));
		hdrs = a.l3off + 20 + a.doff;
		EXPECT_EQ("IPv4 total length", 20 + a.doff, a.tot_len);
	} else {
		EXPECT_EQ("IPv6 version", 6, a.ver);
		EXPECT_EQ("IPv6 next header", 6, a.nexthdr);
		EXPECT_EQ("IPv6 hop limit", c->ttl, a.hlim);
		EXPECT_EQ("IPv6 payload length", a.doff, a.plen);
		if (a.v6_ext)
			addf(why, wl, "SYN-ACK carries IPv6 extension headers");
		hdrs = a.l3off + 40 + a.doff;
	}
	EXPECT_EQ("frame length (exactly the headers)", hdrs, r->framelen);
	/* L4 */
	EXPECT_EQ("TCP source port", s->dport, a.sport);
	EXPECT_EQ("TCP destination port", s->sport, a.dport);
	EXPECT_EQ("TCP flags", TF_SYN | TF_ACK | (x->cp.ecn ? TF_ECE : 0), a.flags);
	EXPECT_EQ("TCP reserved bits", 0, a.res);
	EXPECT_EQ("TCP ack (client ISN + 1)", (uint32_t)(s->seq + 1), a.ack);
	if (a.seq != x->cookie) {
		char e[96], g[96];

		describe_low(e, sizeof(e), x->cookie);
		describe_low(g, sizeof(g), a.seq);
		addf(why, wl, "TCP seq (cookie): expected 0x%08x [%s], got 0x%08x [%s]", x->cookie, e,
		     a.seq, g);
	}
	EXPECT_EQ("TCP window", c->window, a.window);
	EXPECT_EQ("TCP urgent pointer", 0, a.urg);
	EXPECT_EQ("TCP payload length", 0, a.paylen);
	if (!a.tcp_csum_ok)
		addf(why, wl, "TCP checksum wrong: field 0x%04x, computed 0x%04x", a.csum,
		     oc_l4_csum(a.family, a.saddr, a.daddr, 6, r->frame + a.l4off, (size_t)a.tcp_len,
				16));
	/* options */
	if (!a.has_mss)
		addf(why, wl, "no MSS option");
	else
		EXPECT_EQ("MSS option", a.family == 4 ? c->mss4 : c->mss6, a.mss);
	EXPECT_EQ("SACK_PERM option present", x->cp.sack, a.has_sack);
	EXPECT_EQ("TS option present", x->cp.ts, a.has_ts);
	if (x->cp.ts && a.has_ts) {
		EXPECT_EQ("TS option TSval (h >> 32)", x->tsval, a.tsval);
		EXPECT_EQ("TS option TSecr (client TSval)", s->tsval, a.tsecr);
	}
	EXPECT_EQ("WS option present", x->cp.ws != SF_COOKIE_WS_NONE, a.has_ws);
	if (x->cp.ws != SF_COOKIE_WS_NONE && a.has_ws)
		EXPECT_EQ("WS option shift (rcv_wscale)", c->rcv_wscale, a.ws);
	if (a.n_unknown)
		addf(why, wl, "%d unknown options in the SYN-ACK", a.n_unknown);
	if (a.n_dup)
		addf(why, wl, "%d duplicated options in the SYN-ACK", a.n_dup);
}

/* The frame passed up must be the input, byte for byte, with nothing in front of it. */
static void check_unchanged(const uint8_t *in, int len, const struct run *r, char *why, size_t wl)
{
	if (r->metalen)
		addf(why, wl, "%u bytes of metadata in front of a passed frame", r->metalen);
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

/* A TC run: TC_ACT_OK, the frame untouched, and exactly the TC counters in want[] (the handoff of
 * a valid cookie ACK, whose attributes must then be m's; or nothing at all). */
static void check_tc_run(const uint8_t *in, int len, const struct run *t, const int64_t *want,
			 const struct sf_handoff_attrs *got, const struct sf_handoff_attrs *m,
			 char *why, size_t wl)
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
	if (t->retval != SF_TC_ACT_NEXT_)
		addf(why, wl, "TC: verdict %d, expected TC_ACT_UNSPEC (-1)", (int)t->retval);
	if (t->framelen != len || memcmp(in, t->frame, (size_t)len))
		addf(why, wl, "TC: frame modified");
	for (i = 0; i < SF_CNT_MAX; i++)
		if (t->d[i] != (want ? want[i] : 0))
			addf(why, wl, "TC: counter %s: expected +%lld, got %+lld", cnt_names[i],
			     (long long)(want ? want[i] : 0), (long long)t->d[i]);
	if (!m) {
		if (got->mss)
			addf(why, wl, "TC: handoff attempted (mss %u) for a segment it must not hand off",
			     got->mss);
		return;
	}
	if (oc_handoff_diff(m, got, diff, sizeof(diff)))
		addf(why, wl, "TC: %s", diff);
}

/* Runs a frame through TC and checks it: handed off with m's attributes (m != NULL), or left
 * alone, nothing counted. */
static void check_tc(const uint8_t *in, int len, const struct sf_handoff_attrs *m, char *why,
		     size_t wl)
{
	struct run *t = calloc(1, sizeof(*t));
	int64_t want[SF_CNT_MAX] = { 0 };

	if (!t)
		exit(1);
	tc_run(in, len, t);
	/* A test run is not at TC ingress, so the kfunc refuses every handoff there with EINVAL
	 * (after checking its attributes): the attempt is what this judges, the connection itself
	 * is the integration tests' (10-connect and the others accept() it). */
	if (m) {
		want[SF_CNT_handoff_err] = 1;
		want[SF_CNT_handoff_err_einval] = 1;
	}
	check_tc_run(in, len, t, want, &E.skel->bss->sf_last_handoff, m, why, wl);
	free(t);
}

/* ---------------------------------------------------------------------------------------------
 * The case table
 * ------------------------------------------------------------------------------------------- */
enum scen {
	S_FRAME,    /* send pkt as built (dport 0 = the listener port, WPORT = the wildcard one) */
	S_ACK,      /* pkt is the client's SYN (never sent); send the final ACK with a cookie for it */
	S_RT,       /* round trip: send the SYN, build the ACK from the SYN-ACK, send it */
	S_EST,      /* an ACK of the real established connection on lo */
	S_ARP,
	S_ORACLE,   /* self-test of the oracle */
};

enum chk { CHK_AUTO, CHK_NONE, CHK_HANDOFF };

#define WPORT 1 /* pkt_spec.dport: the port of the wildcard listener (E.wport) */

struct ackmod {
	int epoch_delta;     /* cookie made in epoch E + epoch_delta */
	uint32_t flip;       /* XOR into the cookie */
	int32_t tsecr_delta;
	int sport_delta;     /* the ACK comes from another source port */
	int saddr_delta;     /* ... from another source address (last byte + this) */
	int daddr_delta;     /* ... goes to another destination address (last byte + this) */
	int to_wport;        /* ... goes to the wildcard listener's port (also protected) */
	int seq_delta;
	int no_ts;           /* the ACK has no TS option although TS was negotiated */
	int paylen;
	uint8_t flags;       /* 0: ACK */
	int to_nowhere;      /* address the ACK to 198.51.100.20:80 (no socket) */
	const uint8_t *rawopt; /* raw option bytes instead of the TS option */
	int rawoptlen;
	int doff;            /* override the data offset (0: computed) */
};

struct poke {
	int off;              /* byte offset in the built frame */
	uint8_t val;
};

struct tcase {
	const char *name;
	enum scen scen;
	struct pkt_spec pkt;
	struct ackmod am;
	uint32_t cfg_clear;   /* config flags cleared for this case */
	int no_secret;        /* sf_secrets.epoch = 0 */
	uint32_t epoch;       /* current epoch for this case (0: TEST_EPOCH) */
	int npoke;            /* bytes overwritten after building (S_FRAME) */
	struct poke poke[4];
	int sweep;            /* truncate at every length 0 .. full-1 (one result line each) */
	int tc_only;          /* the frame goes to the TC program alone; delta: its counters */
	unsigned verdicts;    /* mask of 1 << XDP_* */
	enum chk chk;
	int8_t delta[SF_CNT_MAX];
	uint32_t dontcare;    /* counters not judged */
};

#define V_TX (1u << XDP_TX)
#define V_PASS (1u << XDP_PASS)
#define V_DROP (1u << XDP_DROP)
#define DC(x) (1u << SF_CNT_##x)
#define D(x) [SF_CNT_##x] = 1

#define CLI_MAC { 0x02, 0xc1, 0x1e, 0x00, 0x00, 0x01 }
#define SRV_MAC { 0x02, 0x5e, 0x27, 0x00, 0x00, 0x02 }
#define CLI4 { 192, 0, 2, 10 }
#define SRV4 { 198, 51, 100, 20 }
#define CLI6 { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 }
#define SRV6 { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20 }
#define LO4 { 127, 0, 0, 1 }
#define PEER4 { 127, 0, 0, 2 }
#define LO6 { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }
#define PEER6 { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 }

/* A Linux-like SYN: MSS, SACK_PERM, TS (ecr 0), NOP, WS 10; TTL 55 so that a copied TTL shows. */
#define BASE_SYN .smac = CLI_MAC, .dmac = SRV_MAC, .sport = 40000, .seq = 0xdeadbeef,            \
		 .flags = TF_SYN, .opts = "MSTNW", .tsval = 0x11223344, .tsecr = 0, .ws = 10,    \
		 .window = 64240, .ttl = 55
#define SYN4(...) { .family = 4, BASE_SYN, .saddr = CLI4, .daddr = SRV4, .dport = 80,            \
		    .mss = 1460, __VA_ARGS__ }
#define SYN6(...) { .family = 6, BASE_SYN, .saddr = CLI6, .daddr = SRV6, .dport = 80,            \
		    .mss = 1440, __VA_ARGS__ }
/* SYNs (for ACK cases: the SYN the client is assumed to have sent) to the test's listener */
#define LSYN4(...) { .family = 4, BASE_SYN, .saddr = PEER4, .daddr = LO4, .dport = 0,            \
		     .sport = 41000, .mss = 1460, __VA_ARGS__ }
#define LSYN6(...) { .family = 6, BASE_SYN, .saddr = PEER6, .daddr = LO6, .dport = 0,            \
		     .sport = 41000, .mss = 1440, __VA_ARGS__ }
#define VLAN1 .nvlan = 1, .vlan = { { ETH_P_8021Q_, 0x0064 } }
#define QINQ .nvlan = 2, .vlan = { { ETH_P_8021AD_, 0x00c8 }, { ETH_P_8021Q_, 0x2064 } }
#define VLAN3 .nvlan = 3, .vlan = { { ETH_P_8021AD_, 0x00c8 }, { ETH_P_8021Q_, 0x2064 },         \
				    { ETH_P_8021Q_, 0x0033 } }

#define SYNACK_OK .verdicts = V_TX, .delta = { D(syn_recv), D(synack_sent) }
#define PASS_QUIET .verdicts = V_PASS
#define ACK_OK .verdicts = V_PASS, .chk = CHK_HANDOFF, .delta = { D(ack_cookie_ok) }
#define ACK_BAD_HASH .verdicts = V_DROP, .delta = { D(ack_cookie_bad), D(ack_bad_hash) }
#define ACK_BAD_EPOCH .verdicts = V_DROP, .delta = { D(ack_cookie_bad), D(ack_bad_epoch) }
#define MALFORMED .verdicts = V_DROP, .delta = { D(drop_malformed) }, .dontcare = DC(syn_recv)
#define ACK_MALFORMED .verdicts = V_DROP, .delta = { D(ack_cookie_bad), D(ack_bad_malformed) }
#define PASS_UNPROT .verdicts = V_PASS, .delta = { D(pass_unprotected) }
#define PASS_UNPARSED .verdicts = V_PASS, .delta = { D(pass_unparsed) }
/* TC alone (a frame XDP did not see): a test run is not at TC ingress, so a handoff it attempts
 * ends in the kfunc's EINVAL (see check_tc) */
#define TC_HANDOFF .tc_only = 1, .chk = CHK_HANDOFF, .delta = { D(handoff_err), D(handoff_err_einval) }
#define TC_REFUSED .tc_only = 1, .delta = { D(handoff_cookie_bad) }
#define TC_QUIET .tc_only = 1
_Static_assert(SF_CNT_MAX <= 32, "tcase.dontcare is a 32-bit mask of counters");

/* raw option blocks for the malformed cases */
static const uint8_t opt_len0[] = { 2, 4, 0x05, 0xb4, 3, 0, 7, 1 };
static const uint8_t opt_len1[] = { 2, 4, 0x05, 0xb4, 4, 1, 1, 1 };
static const uint8_t opt_ts_overrun[] = { 2, 4, 0x05, 0xb4, 8, 10, 0, 0 };
static const uint8_t opt_mss_overrun[] = { 1, 1, 2, 4 };
static const uint8_t opt_unknown_overrun[] = { 2, 4, 0x05, 0xb4, 254, 40, 0, 0 };
static const uint8_t opt_kind_at_end[] = { 2, 4, 0x05, 0xb4, 1, 1, 1, 3 };
/* options after EOL must be ignored: MSS 1460, EOL, then a SACK_PERM and junk */
static const uint8_t opt_after_eol[] = { 2, 4, 0x05, 0xb4, 0, 4, 2, 0xff };

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct tcase cases[] = {
	{ "oracle_selftest", S_ORACLE },

	/* --- SYN -> SYN-ACK, IPv4 --- */
	{ "syn4_linux", S_FRAME, SYN4(), SYNACK_OK },
	{ "syn4_no_options", S_FRAME, SYN4(.opts = NULL), SYNACK_OK },
	{ "syn4_mss_only", S_FRAME, SYN4(.opts = "M"), SYNACK_OK },
	{ "syn4_no_ts_sack_ws", S_FRAME, SYN4(.opts = "MNNSNW"), SYNACK_OK },
	{ "syn4_windows_order", S_FRAME, SYN4(.opts = "MNWNNS"), SYNACK_OK },
	{ "syn4_ts_only", S_FRAME, SYN4(.opts = "NNT"), SYNACK_OK },
	{ "syn4_ts_nonzero_ecr", S_FRAME, SYN4(.tsecr = 0x55aa55aa), SYNACK_OK },
	{ "syn4_ecn_setup", S_FRAME, SYN4(.flags = TF_SYN | TF_ECE | TF_CWR), SYNACK_OK },
	{ "syn4_ece_without_cwr", S_FRAME, SYN4(.flags = TF_SYN | TF_ECE), SYNACK_OK },
	{ "syn4_mss_1400", S_FRAME, SYN4(.mss = 1400), SYNACK_OK },
	{ "syn4_mss_1459", S_FRAME, SYN4(.mss = 1459), SYNACK_OK },
	{ "syn4_mss_9000", S_FRAME, SYN4(.mss = 9000), SYNACK_OK },
	{ "syn4_mss_1220", S_FRAME, SYN4(.mss = 1220), SYNACK_OK },
	{ "syn4_mss_536", S_FRAME, SYN4(.mss = 536), SYNACK_OK },
	{ "syn4_mss_500_below_table", S_FRAME, SYN4(.mss = 500), SYNACK_OK },
	{ "syn4_ws_0", S_FRAME, SYN4(.ws = 0), SYNACK_OK },
	{ "syn4_ws_14", S_FRAME, SYN4(.ws = 14), SYNACK_OK },
	{ "syn4_isn_wraps", S_FRAME, SYN4(.seq = 0xffffffff), SYNACK_OK },
	{ "syn4_ws_15_clamped_to_14", S_FRAME, SYN4(.ws = 15), SYNACK_OK },
	{ "syn4_ws_255_clamped_to_14", S_FRAME, SYN4(.ws = 255), SYNACK_OK },
	{ "syn4_mss_0", S_FRAME, SYN4(.mss = 0), SYNACK_OK },
	{ "syn4_with_payload", S_FRAME, SYN4(.paylen = 100), SYNACK_OK },
	{ "syn4_large_frame_shrinks", S_FRAME, SYN4(.paylen = 1400), SYNACK_OK },
	{ "syn4_psh_urg_flags", S_FRAME, SYN4(.flags = TF_SYN | TF_PSH | TF_URG), SYNACK_OK },
	{ "syn4_epoch_1", S_FRAME, SYN4(), SYNACK_OK, .epoch = 1 },
	{ "syn4_epoch_large", S_FRAME, SYN4(), SYNACK_OK, .epoch = 0xfffffff2u },
	{ "syn4_unknown_option", S_FRAME, SYN4(.opts = "MSTNWU"), SYNACK_OK },
	{ "syn4_options_after_eol_ignored", S_FRAME,
	  SYN4(.rawopt = opt_after_eol, .rawoptlen = sizeof(opt_after_eol)), SYNACK_OK },
	{ "syn4_port_8000", S_FRAME, SYN4(.dport = 8000), SYNACK_OK },
	{ "syn4_port_8050", S_FRAME, SYN4(.dport = 8050), SYNACK_OK },
	{ "syn4_port_8100", S_FRAME, SYN4(.dport = 8100), SYNACK_OK },
	{ "syn4_padded_to_60", S_FRAME, SYN4(.opts = NULL, .pad_to = 60), SYNACK_OK },
	{ "syn4_ip_options_ihl6", S_FRAME, SYN4(.ipoptlen = 4), SYNACK_OK },
	{ "syn4_ip_options_ihl8", S_FRAME, SYN4(.ipoptlen = 12), SYNACK_OK },
	{ "syn4_ip_options_ihl15", S_FRAME, SYN4(.ipoptlen = 40), SYNACK_OK },
	{ "syn4_vlan", S_FRAME, SYN4(VLAN1), SYNACK_OK },
	{ "syn4_qinq", S_FRAME, SYN4(QINQ), SYNACK_OK },
	{ "syn4_qinq_ip_options", S_FRAME, SYN4(QINQ, .ipoptlen = 8), SYNACK_OK },
	{ "syn4_to_listener", S_FRAME, LSYN4(), SYNACK_OK },

	/* --- SYN -> SYN-ACK, IPv6 --- */
	{ "syn6_linux", S_FRAME, SYN6(), SYNACK_OK },
	{ "syn6_no_options", S_FRAME, SYN6(.opts = NULL), SYNACK_OK },
	{ "syn6_mss_536_raised_to_1220", S_FRAME, SYN6(.mss = 536), SYNACK_OK },
	{ "syn6_mss_1300", S_FRAME, SYN6(.mss = 1300), SYNACK_OK },
	{ "syn6_with_payload", S_FRAME, SYN6(.paylen = 64), SYNACK_OK },
	{ "syn6_windows_order", S_FRAME, SYN6(.opts = "MNWNNS"), SYNACK_OK },
	{ "syn6_ecn_setup", S_FRAME, SYN6(.flags = TF_SYN | TF_ECE | TF_CWR), SYNACK_OK },
	{ "syn6_ext_hbh_dstopts", S_FRAME, SYN6(.v6ext = V6X_HBH | V6X_DST), SYNACK_OK },
	{ "syn6_vlan", S_FRAME, SYN6(VLAN1), SYNACK_OK },
	{ "syn6_qinq", S_FRAME, SYN6(QINQ), SYNACK_OK },
	{ "syn6_qinq_ext_hbh", S_FRAME, SYN6(QINQ, .v6ext = V6X_HBH), SYNACK_OK },
	{ "syn6_ext_routing_srh", S_FRAME, SYN6(.v6ext = V6X_RH), SYNACK_OK },
	{ "syn6_ext_hbh_dst_srh", S_FRAME, SYN6(.v6ext = V6X_HBH | V6X_DST | V6X_RH), SYNACK_OK },
	/* segments left: a hop on the route, not for us (the kernel forwards or refuses it) */
	{ "syn6_srh_segments_left_passes", S_FRAME, SYN6(.v6ext = V6X_RH, .v6rh_left = 1),
	  PASS_QUIET },
	{ "ack6_srh_segments_left_passes", S_FRAME,
	  SYN6(.v6ext = V6X_RH, .v6rh_left = 2, .flags = TF_ACK), PASS_QUIET },
	{ "syn6_ext_4_dstopts_walked", S_FRAME, SYN6(.v6ext = V6X_DST, .v6ndst = 4), SYNACK_OK },
	{ "syn6_to_listener", S_FRAME, LSYN6(), SYNACK_OK },

	/* --- config switched --- */
	{ "cfg_no_timestamps", S_FRAME, SYN4(), SYNACK_OK, .cfg_clear = SF_CFG_TIMESTAMPS },
	{ "cfg_no_sack", S_FRAME, SYN4(), SYNACK_OK, .cfg_clear = SF_CFG_SACK },
	{ "cfg_no_wscale", S_FRAME, SYN4(), SYNACK_OK, .cfg_clear = SF_CFG_WSCALE },
	{ "cfg_no_ecn", S_FRAME, SYN4(.flags = TF_SYN | TF_ECE | TF_CWR), SYNACK_OK,
	  .cfg_clear = SF_CFG_ECN },
	{ "cfg_all_off_v6", S_FRAME, SYN6(.flags = TF_SYN | TF_ECE | TF_CWR), SYNACK_OK,
	  .cfg_clear = SF_CFG_TIMESTAMPS | SF_CFG_SACK | SF_CFG_WSCALE | SF_CFG_ECN },
	{ "cfg_disabled_passes", S_FRAME, SYN4(), .verdicts = V_PASS, .cfg_clear = SF_CFG_ENABLED,
	  .dontcare = DC(syn_recv) },
	{ "cfg_disabled_syn_fin_passes", S_FRAME, SYN4(.flags = TF_SYN | TF_FIN), .verdicts = V_PASS,
	  .cfg_clear = SF_CFG_ENABLED, .dontcare = DC(syn_recv) },
	{ "cfg_disabled_malformed_passes", S_FRAME, SYN4(.opts = NULL, .doff = 15),
	  .verdicts = V_PASS, .cfg_clear = SF_CFG_ENABLED, .dontcare = DC(syn_recv) },
	{ "cfg_disabled_forged_ack_passes", S_ACK, LSYN4(), .verdicts = V_PASS,
	  .cfg_clear = SF_CFG_ENABLED, .am = { .flip = 1u << 12 } },
	{ "no_secret_syn_passes", S_FRAME, SYN4(), .verdicts = V_PASS, .no_secret = 1,
	  .delta = { D(pass_no_secret) }, .dontcare = DC(syn_recv) },
	{ "no_secret_ack_passes", S_ACK, LSYN4(), .verdicts = V_PASS, .no_secret = 1,
	  .delta = { D(pass_no_secret) } },

	/* --- the final ACK (to a real listener on lo, so the socket lookup finds it) --- */
	{ "ack4_valid", S_ACK, LSYN4(), ACK_OK },
	{ "ack4_valid_no_ts", S_ACK, LSYN4(.opts = "MNNSNW"), ACK_OK },
	{ "ack4_valid_no_options", S_ACK, LSYN4(.opts = NULL), ACK_OK },
	{ "ack4_valid_ecn", S_ACK, LSYN4(.flags = TF_SYN | TF_ECE | TF_CWR), ACK_OK },
	{ "ack4_valid_mss_9000_ws_14", S_ACK, LSYN4(.mss = 9000, .ws = 14), ACK_OK },
	{ "ack4_valid_ws_0", S_ACK, LSYN4(.ws = 0, .mss = 1300), ACK_OK },
	{ "ack4_valid_with_data", S_ACK, LSYN4(), ACK_OK,
	  .am = { .paylen = 100, .flags = TF_ACK | TF_PSH } },
	{ "ack4_valid_vlan", S_ACK, LSYN4(VLAN1), ACK_OK },
	{ "ack4_valid_qinq", S_ACK, LSYN4(QINQ), ACK_OK },
	{ "ack4_valid_ip_options", S_ACK, LSYN4(.ipoptlen = 8), ACK_OK },
	{ "ack4_valid_qinq_ip_options_ihl15", S_ACK, LSYN4(QINQ, .ipoptlen = 40), ACK_OK },
	{ "ack4_valid_prev_epoch", S_ACK, LSYN4(), ACK_OK, .am = { .epoch_delta = -1 } },
	{ "ack4_epoch_minus_2", S_ACK, LSYN4(), ACK_BAD_EPOCH, .am = { .epoch_delta = -2 } },
	{ "ack4_epoch_plus_1", S_ACK, LSYN4(), ACK_BAD_EPOCH, .am = { .epoch_delta = 1 } },
	{ "ack4_hash_bit_11_flipped", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .flip = 1u << 11 } },
	{ "ack4_hash_bit_31_flipped", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .flip = 1u << 31 } },
	{ "ack4_mss_bits_altered", S_ACK, LSYN4(), ACK_BAD_HASH,
	  .am = { .flip = 1u << SF_COOKIE_MSS_SHIFT } },
	{ "ack4_ws_bits_altered", S_ACK, LSYN4(), ACK_BAD_HASH,
	  .am = { .flip = 1u << SF_COOKIE_WS_SHIFT } },
	{ "ack4_sack_bit_altered", S_ACK, LSYN4(), ACK_BAD_HASH,
	  .am = { .flip = 1u << SF_COOKIE_SACK_SHIFT } },
	{ "ack4_tsecr_altered", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .tsecr_delta = 1 } },
	{ "ack4_ts_missing", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .no_ts = 1 } },
	{ "ack4_other_source_port", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .sport_delta = 1 } },
	{ "ack4_other_source_address", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .saddr_delta = 1 } },
	/* the wildcard listener on wport takes ACKs to any address: a valid one to 127.0.0.3 passes,
	 * one whose SYN went to 127.0.0.1 (or to lport) reaches the cookie check and is dropped */
	{ "ack4_valid_wildcard_listener", S_ACK, LSYN4(.dport = WPORT, .daddr = { 127, 0, 0, 3 }),
	  ACK_OK },
	{ "ack4_other_destination_address", S_ACK, LSYN4(.dport = WPORT), ACK_BAD_HASH,
	  .am = { .daddr_delta = 2 } },
	{ "ack4_other_destination_port", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .to_wport = 1 } },
	{ "ack4_wrong_seq", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .seq_delta = 1 } },
	{ "ack4_malformed_options", S_ACK, LSYN4(), ACK_MALFORMED,
	  .am = { .rawopt = opt_len0, .rawoptlen = sizeof(opt_len0) } },
	{ "ack4_option_overruns_header", S_ACK, LSYN4(), ACK_MALFORMED,
	  .am = { .rawopt = opt_ts_overrun, .rawoptlen = sizeof(opt_ts_overrun) } },
	{ "ack4_doff_beyond_frame", S_ACK, LSYN4(), ACK_MALFORMED, .am = { .doff = 15 } },
	{ "ack4_doff_4", S_ACK, LSYN4(), ACK_MALFORMED, .am = { .doff = 4 } },
	{ "ack6_malformed_options", S_ACK, LSYN6(), ACK_MALFORMED,
	  .am = { .rawopt = opt_len1, .rawoptlen = sizeof(opt_len1) } },
	{ "ack4_no_listener_passes", S_ACK, LSYN4(), .verdicts = V_PASS,
	  .delta = { D(ack_no_listener) }, .am = { .to_nowhere = 1 } },
	{ "ack4_forged_no_listener_passes", S_ACK, LSYN4(), .verdicts = V_PASS,
	  .delta = { D(ack_no_listener) }, .am = { .to_nowhere = 1, .flip = 1u << 20 } },
	{ "ack4_epoch_1_valid", S_ACK, LSYN4(), ACK_OK, .epoch = 1 },
	{ "ack4_epoch_1_prev_is_no_secret", S_ACK, LSYN4(), ACK_BAD_EPOCH, .epoch = 1,
	  .am = { .epoch_delta = -1 } },
	{ "ack4_epoch_bits_wrap_prev_valid", S_ACK, LSYN4(), ACK_OK, .epoch = 4,
	  .am = { .epoch_delta = -1 } },
	{ "ack4_epoch_bits_wrap_minus_2", S_ACK, LSYN4(), ACK_BAD_EPOCH, .epoch = 4,
	  .am = { .epoch_delta = -2 } },
	{ "ack6_no_listener_passes", S_ACK, LSYN6(), .verdicts = V_PASS,
	  .delta = { D(ack_no_listener) }, .am = { .to_nowhere = 1 } },
	{ "ack6_valid", S_ACK, LSYN6(), ACK_OK },
	{ "ack6_valid_no_options", S_ACK, LSYN6(.opts = NULL), ACK_OK },
	{ "ack6_valid_ecn", S_ACK, LSYN6(.flags = TF_SYN | TF_ECE | TF_CWR), ACK_OK },
	{ "ack6_valid_no_ts", S_ACK, LSYN6(.opts = "MNNSNW"), ACK_OK },
	{ "ack6_valid_prev_epoch", S_ACK, LSYN6(), ACK_OK, .am = { .epoch_delta = -1 } },
	{ "ack6_epoch_minus_2", S_ACK, LSYN6(), ACK_BAD_EPOCH, .am = { .epoch_delta = -2 } },
	{ "ack6_hash_bit_flipped", S_ACK, LSYN6(), ACK_BAD_HASH, .am = { .flip = 1u << 15 } },
	{ "ack6_tsecr_altered", S_ACK, LSYN6(), ACK_BAD_HASH, .am = { .tsecr_delta = -1 } },
	{ "ack6_other_source_port", S_ACK, LSYN6(), ACK_BAD_HASH, .am = { .sport_delta = 1 } },
	{ "ack6_other_source_address", S_ACK, LSYN6(), ACK_BAD_HASH, .am = { .saddr_delta = 1 } },
	{ "ack6_valid_wildcard_listener", S_ACK, LSYN6(.dport = WPORT), ACK_OK },
	{ "ack6_other_destination_address", S_ACK, LSYN6(.dport = WPORT), ACK_BAD_HASH,
	  .am = { .daddr_delta = 2 } },
	{ "ack6_other_destination_port", S_ACK, LSYN6(), ACK_BAD_HASH, .am = { .to_wport = 1 } },
	{ "ack6_valid_ext_hbh_dstopts", S_ACK, LSYN6(.v6ext = V6X_HBH | V6X_DST), ACK_OK },
	{ "ack6_valid_ext_routing_srh", S_ACK, LSYN6(.v6ext = V6X_RH), ACK_OK },
	{ "ack6_valid_qinq_ext_hbh_dst", S_ACK, LSYN6(QINQ, .v6ext = V6X_HBH | V6X_DST), ACK_OK },
	{ "roundtrip4", S_RT, LSYN4(),
	  .delta = { D(syn_recv), D(synack_sent), D(ack_cookie_ok) } },
	{ "roundtrip4_no_ts_ecn", S_RT, LSYN4(.opts = "MNWNNS", .flags = TF_SYN | TF_ECE | TF_CWR),
	  .delta = { D(syn_recv), D(synack_sent), D(ack_cookie_ok) } },
	{ "roundtrip6", S_RT, LSYN6(),
	  .delta = { D(syn_recv), D(synack_sent), D(ack_cookie_ok) } },
	{ "roundtrip6_ext_routing_srh", S_RT, LSYN6(.v6ext = V6X_RH),
	  .delta = { D(syn_recv), D(synack_sent), D(ack_cookie_ok) } },
	{ "established_ack_passes", S_EST, .verdicts = V_PASS, .delta = { D(est_pass) } },

	/* --- TC alone: it checks every cookie itself, whatever XDP did or did not see --- */
	{ "tc_ack4_valid", S_ACK, LSYN4(), TC_HANDOFF },
	{ "tc_ack4_valid_no_ts", S_ACK, LSYN4(.opts = "MNNSNW"), TC_HANDOFF },
	{ "tc_ack4_valid_ecn_ws_14", S_ACK, LSYN4(.flags = TF_SYN | TF_ECE | TF_CWR, .ws = 14),
	  TC_HANDOFF },
	{ "tc_ack4_valid_no_options", S_ACK, LSYN4(.opts = NULL), TC_HANDOFF },
	{ "tc_ack4_valid_with_data", S_ACK, LSYN4(), TC_HANDOFF,
	  .am = { .paylen = 100, .flags = TF_ACK | TF_PSH } },
	{ "tc_ack4_valid_vlan", S_ACK, LSYN4(VLAN1), TC_HANDOFF },
	{ "tc_ack4_valid_qinq_ip_options", S_ACK, LSYN4(QINQ, .ipoptlen = 8), TC_HANDOFF },
	{ "tc_ack4_valid_prev_epoch", S_ACK, LSYN4(), TC_HANDOFF, .am = { .epoch_delta = -1 } },
	{ "tc_ack4_valid_wildcard_listener", S_ACK, LSYN4(.dport = WPORT, .daddr = { 127, 0, 0, 3 }),
	  TC_HANDOFF },
	{ "tc_ack6_valid", S_ACK, LSYN6(), TC_HANDOFF },
	{ "tc_ack6_valid_ext_hbh_dstopts", S_ACK, LSYN6(.v6ext = V6X_HBH | V6X_DST), TC_HANDOFF },
	{ "tc_ack6_valid_qinq_ext_hbh_dst", S_ACK, LSYN6(QINQ, .v6ext = V6X_HBH | V6X_DST),
	  TC_HANDOFF },
	{ "tc_ack4_forged_hash", S_ACK, LSYN4(), TC_REFUSED, .am = { .flip = 1u << 20 } },
	{ "tc_ack4_forged_tsecr", S_ACK, LSYN4(), TC_REFUSED, .am = { .tsecr_delta = 1 } },
	{ "tc_ack4_forged_mss_bits", S_ACK, LSYN4(), TC_REFUSED,
	  .am = { .flip = 1u << SF_COOKIE_MSS_SHIFT } },
	{ "tc_ack4_expired_epoch", S_ACK, LSYN4(), TC_REFUSED, .am = { .epoch_delta = -2 } },
	{ "tc_ack4_other_source_port", S_ACK, LSYN4(), TC_REFUSED, .am = { .sport_delta = 1 } },
	{ "tc_ack4_malformed_options", S_ACK, LSYN4(), TC_REFUSED,
	  .am = { .rawopt = opt_len0, .rawoptlen = sizeof(opt_len0) } },
	{ "tc_ack4_doff_beyond_frame", S_ACK, LSYN4(), TC_REFUSED, .am = { .doff = 15 } },
	{ "tc_ack6_forged_hash", S_ACK, LSYN6(), TC_REFUSED, .am = { .flip = 1u << 15 } },
	{ "tc_ack6_forged_ext_hbh_dst", S_ACK, LSYN6(.v6ext = V6X_HBH | V6X_DST), TC_REFUSED,
	  .am = { .flip = 1u << 25 } },
	{ "tc_ack4_forged_qinq", S_ACK, LSYN4(QINQ), TC_REFUSED, .am = { .flip = 1u << 30 } },
	{ "tc_ack4_no_secret", S_ACK, LSYN4(), TC_QUIET, .no_secret = 1 },
	{ "tc_ack4_disabled", S_ACK, LSYN4(), TC_QUIET, .cfg_clear = SF_CFG_ENABLED },
	{ "tc_ack4_no_socket", S_ACK, LSYN4(), TC_QUIET, .am = { .to_nowhere = 1 } },
	{ "tc_ack4_rst", S_ACK, LSYN4(), TC_QUIET, .am = { .flags = TF_ACK | TF_RST } },
	{ "tc_established", S_EST, TC_QUIET },
	{ "tc_syn4", S_FRAME, LSYN4(), TC_QUIET },
	{ "tc_synack4", S_FRAME, LSYN4(.flags = TF_SYN | TF_ACK), TC_QUIET },
	{ "tc_ack4_unprotected_port", S_FRAME, SYN4(.dport = 81, .flags = TF_ACK, .opts = "NNT"),
	  TC_QUIET },
	{ "tc_ack6_unprotected_port", S_FRAME, SYN6(.dport = 81, .flags = TF_ACK, .opts = "NNT"),
	  TC_QUIET },
	{ "tc_arp", S_ARP, TC_QUIET },
	/* cut at every length: never a handoff; a listener-bound segment whose options are cut
	 * is refused (handoff_cookie_bad), one cut before its TCP header is left alone */
	{ "tc_trunc_ack4_valid", S_ACK, LSYN4(), .tc_only = 1, .sweep = 1 },
	{ "tc_trunc_ack4_valid_qinq_ip_options", S_ACK, LSYN4(QINQ, .ipoptlen = 8), .tc_only = 1,
	  .sweep = 1 },
	{ "tc_trunc_ack6_valid_ext", S_ACK, LSYN6(.v6ext = V6X_HBH | V6X_DST), .tc_only = 1,
	  .sweep = 1 },
	{ "tc_trunc_ack6_valid_vlan", S_ACK, LSYN6(VLAN1), .tc_only = 1, .sweep = 1 },
	{ "tc_trunc_ack4_forged", S_ACK, LSYN4(), .tc_only = 1, .sweep = 1,
	  .am = { .flip = 1u << 20 } },
	{ "tc_trunc_established", S_EST, .tc_only = 1, .sweep = 1 },
	{ "tc_trunc_ack4_unprotected", S_FRAME, SYN4(.dport = 81, .flags = TF_ACK, .opts = "NNT"),
	  .tc_only = 1, .sweep = 1 },

	/* --- pass-through --- */
	{ "syn4_port_81_unprotected", S_FRAME, SYN4(.dport = 81), PASS_UNPROT },
	{ "syn4_port_7999_unprotected", S_FRAME, SYN4(.dport = 7999), PASS_UNPROT },
	{ "syn4_port_8101_unprotected", S_FRAME, SYN4(.dport = 8101), PASS_UNPROT },
	{ "syn6_port_81_unprotected", S_FRAME, SYN6(.dport = 81), PASS_UNPROT },
	{ "synack4_to_protected_port", S_FRAME, SYN4(.flags = TF_SYN | TF_ACK, .ack = 1),
	  .verdicts = V_PASS, .delta = { D(pass_other) } },
	{ "rst4_to_protected_port", S_FRAME, SYN4(.flags = TF_RST | TF_ACK, .ack = 1, .opts = NULL),
	  .verdicts = V_PASS, .delta = { D(pass_other) } },
	{ "fin_without_ack_to_protected_port", S_FRAME, SYN4(.flags = TF_FIN, .opts = NULL),
	  .verdicts = V_PASS, .delta = { D(pass_other) } },
	{ "cfg_disabled_unprotected_uncounted", S_FRAME, SYN4(.dport = 81), PASS_QUIET,
	  .cfg_clear = SF_CFG_ENABLED },
	{ "cfg_disabled_fragment_uncounted", S_FRAME, SYN4(.frag_set = 1, .frag = 0x2000),
	  PASS_QUIET, .cfg_clear = SF_CFG_ENABLED },
	{ "udp4_port_80", S_FRAME, SYN4(.l4 = L4_UDP, .paylen = 20), PASS_QUIET },
	{ "udp6_port_80", S_FRAME, SYN6(.l4 = L4_UDP, .paylen = 20), PASS_QUIET },
	{ "icmp4_echo", S_FRAME, SYN4(.l4 = L4_ICMP, .paylen = 32), PASS_QUIET },
	{ "icmp6_echo", S_FRAME, SYN6(.l4 = L4_ICMP, .paylen = 32), PASS_QUIET },
	{ "arp_request", S_ARP, PASS_QUIET },
	{ "frag4_mf_syn", S_FRAME, SYN4(.frag_set = 1, .frag = 0x2000), .verdicts = V_PASS,
	  .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },
	{ "frag4_offset_syn", S_FRAME, SYN4(.frag_set = 1, .frag = 0x0003), .verdicts = V_PASS,
	  .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },
	{ "frag4_mf_vlan_syn", S_FRAME, SYN4(VLAN1, .frag_set = 1, .frag = 0x2000),
	  .verdicts = V_PASS, .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },
	{ "frag6_first_fragment_syn", S_FRAME, SYN6(.v6ext = V6X_FRAG, .v6frag = 0x0001),
	  .verdicts = V_PASS, .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },
	{ "frag6_after_hbh_syn", S_FRAME, SYN6(.v6ext = V6X_HBH | V6X_FRAG, .v6frag = 0x0001),
	  .verdicts = V_PASS, .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },
	{ "frag6_later_fragment", S_FRAME, SYN6(.v6ext = V6X_FRAG, .v6frag = 0x0010),
	  .verdicts = V_PASS, .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },

	/* --- malformed --- */
	{ "trunc_syn4", S_FRAME, SYN4(), .sweep = 1 },
	{ "trunc_syn6", S_FRAME, SYN6(), .sweep = 1 },
	{ "trunc_syn4_vlan", S_FRAME, SYN4(VLAN1), .sweep = 1 },
	{ "trunc_syn6_qinq_ext", S_FRAME, SYN6(QINQ, .v6ext = V6X_HBH | V6X_DST), .sweep = 1 },
	{ "trunc_syn6_srh", S_FRAME, SYN6(.v6ext = V6X_RH), .sweep = 1 },
	{ "ipv4_ihl_4", S_FRAME, SYN4(.ihl = 4), PASS_UNPARSED },
	{ "ipv4_version_6", S_FRAME, SYN4(), PASS_UNPARSED, .npoke = 1, .poke = { { 14, 0x65 } } },
	{ "ipv6_version_4", S_FRAME, SYN6(), PASS_UNPARSED, .npoke = 1, .poke = { { 14, 0x40 } } },
	{ "three_vlan_tags", S_FRAME, SYN4(VLAN3), PASS_QUIET },
	{ "ipv4_ihl_0", S_FRAME, SYN4(.ihl = -1), PASS_UNPARSED },
	{ "ipv4_ihl_1", S_FRAME, SYN4(.ihl = 1), PASS_UNPARSED },
	{ "ipv4_ihl_15_beyond_frame", S_FRAME, SYN4(.opts = NULL, .ihl = 15), PASS_UNPARSED },
	{ "ipv6_5_dstopts_unparsed", S_FRAME, SYN6(.v6ext = V6X_DST, .v6ndst = 5), PASS_UNPARSED },
	{ "ipv6_hbh_4_dstopts_unparsed", S_FRAME, SYN6(.v6ext = V6X_HBH | V6X_DST, .v6ndst = 4),
	  PASS_UNPARSED },
	{ "ipv6_4_dstopts_then_frag_unparsed", S_FRAME,
	  SYN6(.v6ext = V6X_DST | V6X_FRAG, .v6ndst = 4, .v6frag = 0x0001), PASS_UNPARSED },
	{ "ipv6_5_dstopts_ack_unparsed", S_FRAME,
	  SYN6(.v6ext = V6X_DST, .v6ndst = 5, .flags = TF_ACK, .ack = 1, .opts = NULL),
	  PASS_UNPARSED },
	{ "udp6_after_4_dstopts_not_unparsed", S_FRAME,
	  SYN6(.l4 = L4_UDP, .paylen = 20, .v6ext = V6X_DST, .v6ndst = 4), PASS_QUIET },
	{ "cfg_disabled_unparsed_uncounted", S_FRAME, SYN4(.ihl = 4), PASS_QUIET,
	  .cfg_clear = SF_CFG_ENABLED },
	{ "tcp_doff_4_protected", S_FRAME, SYN4(.opts = NULL, .doff = 4), MALFORMED },
	{ "tcp_doff_0_protected", S_FRAME, SYN4(.opts = NULL, .doff = -1),
	  MALFORMED },
	{ "tcp_doff_4_unprotected", S_FRAME, SYN4(.opts = NULL, .doff = 4, .dport = 81), PASS_UNPROT },
	{ "tcp_doff_15_beyond_frame", S_FRAME, SYN4(.opts = NULL, .doff = 15), MALFORMED },
	{ "tcp_doff_beyond_frame_v6", S_FRAME, SYN6(.opts = "M", .doff = 12), MALFORMED },
	{ "tcp_opt_len_0", S_FRAME, SYN4(.rawopt = opt_len0, .rawoptlen = sizeof(opt_len0)),
	  MALFORMED },
	{ "tcp_opt_len_1", S_FRAME, SYN4(.rawopt = opt_len1, .rawoptlen = sizeof(opt_len1)),
	  MALFORMED },
	{ "tcp_opt_ts_overruns_header", S_FRAME,
	  SYN4(.rawopt = opt_ts_overrun, .rawoptlen = sizeof(opt_ts_overrun)), MALFORMED },
	{ "tcp_opt_mss_overruns_header", S_FRAME,
	  SYN4(.rawopt = opt_mss_overrun, .rawoptlen = sizeof(opt_mss_overrun)), MALFORMED },
	{ "tcp_opt_unknown_overruns_header", S_FRAME,
	  SYN4(.rawopt = opt_unknown_overrun, .rawoptlen = sizeof(opt_unknown_overrun)), MALFORMED },
	{ "tcp_opt_kind_without_length", S_FRAME,
	  SYN4(.rawopt = opt_kind_at_end, .rawoptlen = sizeof(opt_kind_at_end)), MALFORMED },
	{ "tcp_opt_len_0_v6", S_FRAME, SYN6(.rawopt = opt_len0, .rawoptlen = sizeof(opt_len0)),
	  MALFORMED },
	{ "syn_fin", S_FRAME, SYN4(.flags = TF_SYN | TF_FIN), .verdicts = V_DROP,
	  .delta = { D(drop_syn_flags) }, .dontcare = DC(syn_recv) },
	{ "syn_rst", S_FRAME, SYN4(.flags = TF_SYN | TF_RST), .verdicts = V_DROP,
	  .delta = { D(drop_syn_flags) }, .dontcare = DC(syn_recv) },
	{ "syn_fin_v6", S_FRAME, SYN6(.flags = TF_SYN | TF_FIN | TF_PSH), .verdicts = V_DROP,
	  .delta = { D(drop_syn_flags) }, .dontcare = DC(syn_recv) },
	{ "syn_fin_unprotected", S_FRAME, SYN4(.flags = TF_SYN | TF_FIN, .dport = 81), PASS_UNPROT },
};
#pragma GCC diagnostic pop

/* ---------------------------------------------------------------------------------------------
 * Case runner
 * ------------------------------------------------------------------------------------------- */
static int n_pass, n_fail;

static void report(const char *name, const char *why, const char *note)
{
	if (why[0]) {
		printf("FAIL %s: %s\n", name, why);
		n_fail++;
	} else {
		printf("ok %s%s%s%s\n", name, note && *note ? " (" : "", note ? note : "",
		       note && *note ? ")" : "");
		n_pass++;
	}
	fflush(stdout);
}

static void apply_case_config(const struct tcase *tc)
{
	struct sf_config c = E.cfg_default;
	struct sf_secrets s = E.sec_default;

	c.flags &= ~tc->cfg_clear;
	if (tc->epoch)
		s.epoch = tc->epoch;
	if (tc->no_secret)
		s.epoch = 0;
	if (set_config(&c, &s)) {
		fprintf(stderr, "cannot write the config maps: %s\n", strerror(errno));
		exit(1);
	}
}

static void check_counters(const struct tcase *tc, const int64_t *d, char *why, size_t wl)
{
	int i;

	for (i = 0; i < SF_CNT_MAX; i++) {
		if (tc->dontcare & (1u << i))
			continue;
		if (d[i] != tc->delta[i])
			addf(why, wl, "counter %s: expected +%d, got %+lld", cnt_names[i], tc->delta[i],
			     (long long)d[i]);
	}
}

static void check_verdict(unsigned allowed, const struct run *r, char *why, size_t wl)
{
	char exp[64] = "";
	int v;

	if (r->err) {
		addf(why, wl, "bpf_prog_test_run_opts failed: %s", strerror(-r->err));
		return;
	}
	if (allowed & (1u << r->retval))
		return;
	for (v = 0; v <= XDP_REDIRECT; v++)
		if (allowed & (1u << v))
			snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp), "%s%s",
				 exp[0] ? "|" : "", verdict_name(v));
	addf(why, wl, "verdict: expected %s, got %s", exp, verdict_name((int)r->retval));
}

static void spec_fixup(struct pkt_spec *s)
{
	if (s->dport == 0)
		s->dport = E.lport;
	else if (s->dport == WPORT)
		s->dport = E.wport;
}

/* Build the frame of a case (not S_ACK/S_RT). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static int build_frame(const struct tcase *tc, uint8_t *buf)
{
	struct pkt_spec s = tc->pkt;
	int n, i;

	if (tc->scen == S_ARP)
		return pkt_build_arp(buf, PKT_MAX);
	if (tc->scen == S_EST) {
		struct pkt_spec e = LSYN4(.saddr = LO4, .sport = E.cport, .seq = 12345, .ack = 67890,
					  .flags = TF_ACK, .opts = NULL, .window = 512);

		spec_fixup(&e);
		return pkt_build(&e, buf, PKT_MAX);
	}
	spec_fixup(&s);
	n = pkt_build(&s, buf, PKT_MAX);
	for (i = 0; n > 0 && i < tc->npoke; i++)
		buf[tc->poke[i].off] = tc->poke[i].val;
	return n;
}

#pragma GCC diagnostic pop

/* S_ACK: the final ACK for the SYN tc->pkt, cookie from the oracle, then tc->am applied. */
static int build_ack(const struct tcase *tc, uint8_t *buf, struct sf_handoff_attrs *m, char *why,
		     size_t wl)
{
	struct pkt_spec syn = tc->pkt, ack;
	uint8_t synf[PKT_MAX];
	struct synexp x;
	uint32_t epoch = (E.sec_now.epoch ? E.sec_now.epoch : TEST_EPOCH) +
			 (uint32_t)tc->am.epoch_delta, cookie;
	int n, ts, alen = syn.family == 4 ? 4 : 16;

	spec_fixup(&syn);
	n = pkt_build(&syn, synf, sizeof(synf));
	if (n < 0 || syn_expect(synf, n, epoch, &x, why, wl) < 0)
		return -1;
	cookie = x.cookie ^ tc->am.flip;
	ack = syn;
	ack.sport = (uint16_t)(syn.sport + tc->am.sport_delta);
	ack.saddr[alen - 1] = (uint8_t)(ack.saddr[alen - 1] + tc->am.saddr_delta);
	ack.daddr[alen - 1] = (uint8_t)(ack.daddr[alen - 1] + tc->am.daddr_delta);
	if (tc->am.to_wport)
		ack.dport = E.wport;
	ack.seq = syn.seq + 1 + (uint32_t)tc->am.seq_delta;
	ack.ack = cookie + 1;
	ack.flags = tc->am.flags ? tc->am.flags : TF_ACK;
	ack.window = 502;
	ack.paylen = tc->am.paylen;
	ts = x.cp.ts && !tc->am.no_ts;
	ack.opts = ts ? "NNT" : NULL;
	ack.tsval = syn.tsval + 1000;
	ack.tsecr = x.tsval + (uint32_t)tc->am.tsecr_delta;
	if (tc->am.to_nowhere) {
		uint8_t a4[4] = SRV4, a6[16] = SRV6;

		memcpy(ack.daddr, syn.family == 4 ? a4 : a6, syn.family == 4 ? 4 : 16);
		ack.dport = 80;
	}
	if (tc->am.rawopt) {
		ack.rawopt = tc->am.rawopt;
		ack.rawoptlen = tc->am.rawoptlen;
	}
	if (tc->am.doff)
		ack.doff = tc->am.doff;
	oc_handoff_attrs(&x.cp, ts, ack.tsval, ack.tsecr, E.cfg_now.rcv_wscale, m);
	return pkt_build(&ack, buf, PKT_MAX);
}

static void dump_failure(const uint8_t *in, int len, const struct run *r)
{
	if (!E.verbose)
		return;
	hexdump("input", in, len);
	if (!r->err)
		hexdump("output (metadata + frame)", r->out, (int)r->outlen);
}

/* The checks that depend on the verdict actually returned. */
static void check_output(const struct tcase *tc, const uint8_t *in, int len, const struct run *r,
			 const struct sf_handoff_attrs *m, char *why, size_t wl)
{
	if (r->err || !(tc->verdicts & (1u << r->retval)))
		return;
	if (tc->chk == CHK_NONE)
		return;
	if (r->retval == XDP_PASS) {
		/* XDP passes it up untouched; TC then hands it off (only) if it is a valid cookie ACK */
		check_unchanged(in, len, r, why, wl);
		check_tc(in, len, tc->chk == CHK_HANDOFF ? m : NULL, why, wl);
		return;
	}
	if (r->retval == XDP_TX) {
		struct synexp x;

		if (syn_expect(in, len, E.sec_now.epoch, &x, why, wl) == 0)
			check_synack(&x, r, why, wl);
	}
}

static void run_roundtrip(const struct tcase *tc, char *why, size_t wl)
{
	struct pkt_spec syn = tc->pkt, ack;
	uint8_t synf[PKT_MAX], ackf[PKT_MAX];
	struct run *r1 = calloc(1, sizeof(*r1)), *r2 = calloc(1, sizeof(*r2));
	struct synexp x;
	struct pkt_parsed sa;
	struct sf_handoff_attrs m;
	char err[128];
	int n, an, i;
	int64_t d[SF_CNT_MAX];

	if (!r1 || !r2)
		goto out;
	spec_fixup(&syn);
	n = pkt_build(&syn, synf, sizeof(synf));
	if (xdp_run(synf, n, r1) && r1->err != 0) {
		addf(why, wl, "SYN: test run failed: %s", strerror(-r1->err));
		goto out;
	}
	check_verdict(V_TX, r1, why, wl);
	if (why[0])
		goto out;
	if (syn_expect(synf, n, E.sec_now.epoch, &x, why, wl) < 0)
		goto out;
	check_synack(&x, r1, why, wl);
	if (pkt_parse(r1->frame, r1->framelen, &sa, err, sizeof(err)) < 0) {
		addf(why, wl, "SYN-ACK: %s", err);
		goto out;
	}
	/* the client's ACK, from the SYN-ACK as received */
	ack = syn;
	ack.seq = sa.ack;
	ack.ack = sa.seq + 1;
	ack.flags = TF_ACK;
	ack.opts = sa.has_ts ? "NNT" : NULL;
	ack.tsval = syn.tsval + 77;
	ack.tsecr = sa.tsval;
	an = pkt_build(&ack, ackf, sizeof(ackf));
	xdp_run(ackf, an, r2);
	check_verdict(V_PASS, r2, why, wl);
	if (!why[0]) {
		oc_handoff_attrs(&x.cp, sa.has_ts, ack.tsval, ack.tsecr, E.cfg_now.rcv_wscale, &m);
		check_unchanged(ackf, an, r2, why, wl);
		check_tc(ackf, an, &m, why, wl);
	}
	for (i = 0; i < SF_CNT_MAX; i++)
		d[i] = r1->d[i] + r2->d[i];
	check_counters(tc, d, why, wl);
	if (why[0])
		dump_failure(ackf, an, r2);
out:
	free(r1);
	free(r2);
}

static void run_sweep(const struct tcase *tc)
{
	uint8_t full[PKT_MAX];
	struct run *r = calloc(1, sizeof(*r));
	struct pkt_parsed p;
	char why[1024], name[128], err[128];
	int n = build_frame(tc, full), len;

	if (!r || n < 0 || pkt_parse(full, n, &p, err, sizeof(err)) < 0) {
		report(tc->name, "test bug: cannot build the frame", NULL);
		free(r);
		return;
	}
	for (len = 0; len < n; len++) {
		const char *note = NULL;

		why[0] = 0;
		snprintf(name, sizeof(name), "%s@%d", tc->name, len);
		xdp_run(full, len, r);
		if (len < 14) {
			/* the kernel refuses data_size_in < ETH_HLEN before running anything */
			if (r->err == -EINVAL)
				note = "kernel refuses < 14 bytes: EINVAL";
			else if (r->err)
				addf(why, sizeof(why), "test run: %s", strerror(-r->err));
			else if (r->retval == XDP_TX)
				addf(why, sizeof(why), "XDP_TX on a %d-byte frame", len);
		} else if (len < p.l4off + 20) {
			/* no complete TCP header: pass, untouched; counted as unparsed once the
			 * ethertype says IP (cut inside a VLAN tag: not IP yet, quiet) */
			struct tcase t = { .verdicts = V_PASS };

			if (len >= p.l3off)
				t.delta[SF_CNT_pass_unparsed] = 1;

			check_verdict(V_PASS, r, why, sizeof(why));
			check_counters(&t, r->d, why, sizeof(why));
			check_output(&t, full, len, r, NULL, why, sizeof(why));
		} else {
			/* fixed TCP header complete, options cut (and IP length > frame): pass or
			 * drop, never TX, never a SYN-ACK counted */
			struct tcase t = { .verdicts = V_PASS | V_DROP, .dontcare = ~DC(synack_sent) };

			check_verdict(V_PASS | V_DROP, r, why, sizeof(why));
			check_counters(&t, r->d, why, sizeof(why));
			check_output(&t, full, len, r, NULL, why, sizeof(why));
			if (!why[0] && !r->err)
				note = verdict_name((int)r->retval);
		}
		report(name, why, note);
		if (why[0])
			dump_failure(full, len, r);
	}
	free(r);
}

/* TC alone, the frame cut at every length: never a handoff; a listener-bound segment whose TCP
 * header is there but whose options are cut is refused (handoff_cookie_bad), anything shorter is
 * left alone. The kernel refuses test runs of frames shorter than an Ethernet header, and of some
 * whose IP header is cut: noted, never judged. */
static void run_sweep_tc(const struct tcase *tc)
{
	uint8_t full[PKT_MAX];
	struct run *r = calloc(1, sizeof(*r));
	struct pkt_parsed p;
	struct sf_handoff_attrs m;
	char why[1024] = "", name[128], err[128];
	int n, len;

	n = tc->scen == S_ACK ? build_ack(tc, full, &m, why, sizeof(why)) : build_frame(tc, full);
	if (!r || n < 0 || pkt_parse(full, n, &p, err, sizeof(err)) < 0) {
		report(tc->name, "test bug: cannot build the frame", NULL);
		free(r);
		return;
	}
	for (len = 0; len < n; len++) {
		int64_t want[SF_CNT_MAX] = { 0 };
		const char *note = NULL;

		why[0] = 0;
		snprintf(name, sizeof(name), "%s@%d", tc->name, len);
		tc_run(full, len, r);
		if (r->err == -EINVAL && len < p.l4off) {
			note = "kernel refuses the test run: EINVAL";
		} else {
			if (tc->scen == S_ACK && len >= p.l4off + 20)
				want[SF_CNT_handoff_cookie_bad] = 1;
			check_tc_run(full, len, r, want, &E.skel->bss->sf_last_handoff, NULL, why,
				     sizeof(why));
		}
		report(name, why, note);
		if (why[0])
			dump_failure(full, len, r);
	}
	free(r);
}

static void run_case(const struct tcase *tc)
{
	uint8_t in[PKT_MAX];
	struct run *r;
	struct sf_handoff_attrs m;
	char why[2048] = "";
	int n;

	apply_case_config(tc);
	if (tc->scen == S_ORACLE) {
		oc_selftest(why, sizeof(why));
		report(tc->name, why, NULL);
		return;
	}
	if (tc->sweep) {
		if (tc->tc_only)
			run_sweep_tc(tc);
		else
			run_sweep(tc);
		return;
	}
	if (tc->scen == S_RT) {
		run_roundtrip(tc, why, sizeof(why));
		report(tc->name, why, NULL);
		return;
	}
	if (tc->scen == S_EST && !E.cport) {
		report(tc->name, "no established connection could be set up", NULL);
		return;
	}
	if (((tc->pkt.dport == 0 || tc->pkt.dport == WPORT) && tc->pkt.family == 6 &&
	     tc->scen != S_FRAME) && !E.have6) {
		report(tc->name, "no IPv6 listener on ::1 (IPv6 disabled?)", NULL);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		exit(1);
	memset(&m, 0, sizeof(m));
	n = tc->scen == S_ACK ? build_ack(tc, in, &m, why, sizeof(why)) : build_frame(tc, in);
	if (n < 0) {
		addf(why, sizeof(why), "test bug: frame not built");
		report(tc->name, why, NULL);
		free(r);
		return;
	}
	if (tc->tc_only) {
		int64_t want[SF_CNT_MAX];
		int i;

		for (i = 0; i < SF_CNT_MAX; i++)
			want[i] = tc->delta[i];
		tc_run(in, n, r);
		check_tc_run(in, n, r, want, &E.skel->bss->sf_last_handoff,
			     tc->chk == CHK_HANDOFF ? &m : NULL, why, sizeof(why));
		report(tc->name, why, NULL);
		if (why[0])
			dump_failure(in, n, r);
		free(r);
		return;
	}
	xdp_run(in, n, r);
	check_verdict(tc->verdicts, r, why, sizeof(why));
	check_counters(tc, r->d, why, sizeof(why));
	check_output(tc, in, n, r, &m, why, sizeof(why));
	report(tc->name, why, NULL);
	if (why[0])
		dump_failure(in, n, r);
	free(r);
}

/* ---------------------------------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------------------------------- */
/* An IPv4 listener on a free port and, if IPv6 works, an IPv6 one on the same port, made by mk
 * (listen_on or listen_any). Returns 1 with both, 0 with the IPv4 one only, -1 on error. */
static int listen_pair(int (*mk)(int, uint16_t, int), int *fd4, int *fd6, uint16_t *port)
{
	int tries;

	for (tries = 0; tries < 50; tries++) {
		*fd4 = mk(AF_INET, 0, 16);
		if (*fd4 < 0)
			return -1;
		*port = sock_port(*fd4);
		*fd6 = mk(AF_INET6, *port, 16);
		if (*fd6 >= 0)
			return 1;
		close(*fd4);
	}
	/* no IPv6 at all: keep an IPv4 listener only */
	*fd4 = mk(AF_INET, 0, 16);
	if (*fd4 < 0)
		return -1;
	*port = sock_port(*fd4);
	return 0;
}

static int setup_sockets(void)
{
	E.have6 = listen_pair(listen_on, &E.lfd4, &E.lfd6, &E.lport);
	if (E.have6 < 0 || listen_pair(listen_any, &E.wfd4, &E.wfd6, &E.wport) < 0)
		return -1;
	/* an established connection through the kernel (no XDP is attached to lo) */
	E.cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (E.cfd >= 0) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(E.lport) };

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(E.cfd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			E.afd = accept(E.lfd4, NULL, NULL);
			if (E.afd >= 0)
				E.cport = sock_port(E.cfd);
		}
	}
	return 0;
}

/* The flow cache: an established flow is remembered, so its packets pass even after the kernel
 * socket is gone (proving the lookup was skipped); a SYN for a remembered tuple goes to the kernel
 * while its socket exists, else the tuple is forgotten, so the next ACK on it has its cookie
 * checked again. Uses a connection of its own, closed with RST. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static void run_flowcache(void)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(E.lport) };
	struct run *r = calloc(1, sizeof(*r));
	uint8_t f[PKT_MAX];
	char why[1024] = "";
	int cfd, afd = -1, n;
	uint16_t cport = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (!r || cfd < 0 || connect(cfd, (struct sockaddr *)&a, sizeof(a)) ||
	    (afd = accept(E.lfd4, NULL, NULL)) < 0 || !(cport = sock_port(cfd))) {
		report("flowcache", "test bug: no connection on lo", NULL);
		goto out;
	}
	{
		struct pkt_spec e = LSYN4(.saddr = LO4, .sport = cport, .seq = 4242, .ack = 4343,
					  .flags = TF_ACK, .opts = NULL, .window = 512);
		struct pkt_spec syn = LSYN4(.saddr = LO4, .sport = cport);

		spec_fixup(&e);
		spec_fixup(&syn);
		n = pkt_build(&e, f, sizeof(f));
		xdp_run(f, n, r); /* the lookup finds the socket: remembered */
		if (r->retval != XDP_PASS || r->d[SF_CNT_est_pass] != 1)
			addf(why, sizeof(why), "first ACK: verdict %s, est_pass +%lld",
			     verdict_name((int)r->retval), (long long)r->d[SF_CNT_est_pass]);

		/* a SYN on the tuple of a connection the kernel still has (TIME_WAIT reuse is the
		 * real case): the kernel must answer it, not a cookie */
		n = pkt_build(&syn, f, sizeof(f));
		xdp_run(f, n, r);
		if (r->retval != XDP_PASS || r->d[SF_CNT_syn_pass_existing] != 1 ||
		    r->d[SF_CNT_synack_sent])
			addf(why, sizeof(why), "SYN while the socket exists: verdict %s, "
			     "syn_pass_existing +%lld, synack_sent +%lld (expected PASS to the kernel)",
			     verdict_name((int)r->retval), (long long)r->d[SF_CNT_syn_pass_existing],
			     (long long)r->d[SF_CNT_synack_sent]);
		n = pkt_build(&e, f, sizeof(f));

		/* both ends gone without TIME_WAIT: only the listener is left for this tuple */
		setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		setsockopt(afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(afd);
		close(cfd);
		afd = cfd = -1;

		xdp_run(f, n, r);
		if (r->retval != XDP_PASS || r->d[SF_CNT_est_pass] != 1 ||
		    r->d[SF_CNT_ack_cookie_bad] != 0)
			addf(why, sizeof(why), "cached ACK after close: verdict %s, est_pass +%lld, "
			     "ack_cookie_bad +%lld (expected PASS from the cache)",
			     verdict_name((int)r->retval), (long long)r->d[SF_CNT_est_pass],
			     (long long)r->d[SF_CNT_ack_cookie_bad]);

		n = pkt_build(&syn, f, sizeof(f));
		xdp_run(f, n, r);
		if (r->retval != XDP_TX)
			addf(why, sizeof(why), "SYN: verdict %s", verdict_name((int)r->retval));

		n = pkt_build(&e, f, sizeof(f));
		xdp_run(f, n, r);
		if (r->retval != XDP_DROP || r->d[SF_CNT_ack_cookie_bad] != 1 || r->d[SF_CNT_est_pass])
			addf(why, sizeof(why), "ACK after the SYN: verdict %s, ack_cookie_bad +%lld, "
			     "est_pass +%lld (expected a cookie check and DROP)",
			     verdict_name((int)r->retval), (long long)r->d[SF_CNT_ack_cookie_bad],
			     (long long)r->d[SF_CNT_est_pass]);
	}
	report("flowcache_remembers_and_syn_forgets", why, NULL);
out:
	if (afd >= 0)
		close(afd);
	if (cfd >= 0)
		close(cfd);
	free(r);
}
#pragma GCC diagnostic pop

static int setup(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	__u32 k = 1, slot = TEST_SLOT;
	int p, i;

	setrlimit(RLIMIT_MEMLOCK, &rl);
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return -1;
	}
	E.ncpu = libbpf_num_possible_cpus();
	if (E.ncpu <= 0)
		return -1;
	E.skel = synfence_bpf__open_and_load();
	if (!E.skel) {
		fprintf(stderr, "synfence_bpf__open_and_load failed: %s\n", strerror(errno));
		return -1;
	}
	E.prog = bpf_program__fd(E.skel->progs.synfence_xdp);
	E.tc = bpf_program__fd(E.skel->progs.synfence_tc);
	E.cfg = bpf_map__fd(E.skel->maps.sf_config);
	E.sec = bpf_map__fd(E.skel->maps.sf_secrets);
	E.ports = bpf_map__fd(E.skel->maps.sf_ports);
	E.slot = bpf_map__fd(E.skel->maps.sf_if_slot);
	E.cnt = bpf_map__fd(E.skel->maps.sf_counters);
	if (bpf_map_update_elem(E.slot, &k, &slot, BPF_ANY)) {
		fprintf(stderr, "sf_if_slot[1] = %u: %s\n", slot, strerror(errno));
		return -1;
	}
	if (setup_sockets()) {
		fprintf(stderr, "cannot create the listening sockets: %s\n", strerror(errno));
		return -1;
	}
	if (protect_port(80))
		return -1;
	for (p = 8000; p <= 8100; p++)
		if (protect_port((uint16_t)p))
			return -1;
	if (protect_port(E.lport) || protect_port(E.wport))
		return -1;

	E.cfg_default.flags = SF_CFG_ENABLED | SF_CFG_TIMESTAMPS | SF_CFG_SACK | SF_CFG_WSCALE |
			      SF_CFG_ECN;
	E.cfg_default.mss4 = 1460;
	E.cfg_default.mss6 = 1440;
	E.cfg_default.window = 65535;
	E.cfg_default.rcv_wscale = 7;
	E.cfg_default.ttl = 64;
	E.sec_default.epoch = TEST_EPOCH;
	for (i = 0; i < SF_EPOCH_SLOTS; i++)
		randombytes_buf(E.sec_default.key[i], sizeof(E.sec_default.key[i]));
	return set_config(&E.cfg_default, &E.sec_default);
}

/* ---------------------------------------------------------------------------------------------
 * Micro-benchmark
 * ------------------------------------------------------------------------------------------- */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct bres {
	double kern;      /* ns per packet from the kernel's own timer (duration) */
	double wall;      /* ns per bpf_prog_test_run_opts call, wall clock */
	unsigned bad;     /* runs with an unexpected verdict or output */
};

typedef int (*run_prog_fn)(int prog, const uint8_t *in, int len, struct run *r, int repeat);

/* repeat=1 calls: the frame is fresh every call. Average of the kernel-reported durations. */
static void bench_loop1(run_prog_fn run_prog, int prog, const uint8_t *in, int len, unsigned want,
			int calls, struct bres *b, struct run *r)
{
	double t0, ksum = 0;
	int i;

	b->bad = 0;
	t0 = now_ns();
	for (i = 0; i < calls; i++) {
		run_prog(prog, in, len, r, 1);
		ksum += r->duration;
		if (r->err || r->retval != want)
			b->bad++;
	}
	b->wall = (now_ns() - t0) / calls;
	b->kern = ksum / calls;
}

/* One call with a large repeat: for paths that leave the frame unchanged (same_frame: checked), or
 * through the replay wrapper, which restores or cleans the frame before every iteration. */
static void bench_bulk(run_prog_fn run_prog, int prog, const uint8_t *in, int len, unsigned want,
		       int repeat, int same_frame, struct bres *b, struct run *r)
{
	double t0 = now_ns();

	run_prog(prog, in, len, r, repeat);
	b->wall = (now_ns() - t0) / repeat;
	b->kern = r->duration;
	b->bad = r->err || r->retval != want || r->framelen != len ||
		 (same_frame && memcmp(r->frame, in, (size_t)len));
}

/* The replay wrapper (tests/bpf/sf_replay.bpf.c) and the configuration of its .bss. */
#define SF_REPLAY_LEN 74
struct replay_cfg {
	uint32_t restore;
	uint8_t tmpl[SF_REPLAY_LEN];
};
struct replay {
	struct bpf_object *obj, *floor_obj, *tc_pass_obj;
	int prog, target, bss;
	int floor; /* the bench's minimal SYN -> SYN-ACK program (tests/bpf/sf_synack_floor.bpf.c) */
	int tc_pass; /* the trivial TC program (tests/bpf/sf_tc_pass.bpf.c) */
};

static int replay_open(struct replay *rp, const char *pass_path)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct bpf_program *pg;

	snprintf(dir, sizeof(dir), "%s", pass_path);
	snprintf(path, sizeof(path), "%s/sf_replay.bpf.o", dirname(dir));
	rp->obj = bpf_object__open_file(path, NULL);
	if (!rp->obj || libbpf_get_error(rp->obj) || bpf_object__load(rp->obj)) {
		fprintf(stderr, "cannot load %s (build it: make BUILD=<dir> <dir>/sf_replay.bpf.o)\n",
			path);
		return -1;
	}
	pg = bpf_object__find_program_by_name(rp->obj, "sf_replay");
	rp->prog = pg ? bpf_program__fd(pg) : -1;
	rp->target = bpf_object__find_map_fd_by_name(rp->obj, "target");
	rp->bss = bpf_object__find_map_fd_by_name(rp->obj, ".bss");
	snprintf(dir, sizeof(dir), "%s", pass_path);
	snprintf(path, sizeof(path), "%s/sf_synack_floor.bpf.o", dirname(dir));
	rp->floor_obj = bpf_object__open_file(path, NULL);
	if (!rp->floor_obj || libbpf_get_error(rp->floor_obj) || bpf_object__load(rp->floor_obj)) {
		fprintf(stderr, "cannot load %s (build it: make BUILD=<dir> all)\n", path);
		return -1;
	}
	pg = bpf_object__find_program_by_name(rp->floor_obj, "sf_synack_floor");
	rp->floor = pg ? bpf_program__fd(pg) : -1;
	snprintf(dir, sizeof(dir), "%s", pass_path);
	snprintf(path, sizeof(path), "%s/sf_tc_pass.bpf.o", dirname(dir));
	rp->tc_pass_obj = bpf_object__open_file(path, NULL);
	if (!rp->tc_pass_obj || libbpf_get_error(rp->tc_pass_obj) ||
	    bpf_object__load(rp->tc_pass_obj)) {
		fprintf(stderr, "cannot load %s (build it: make BUILD=<dir> all)\n", path);
		return -1;
	}
	pg = bpf_object__find_program_by_name(rp->tc_pass_obj, "sf_tc_pass");
	rp->tc_pass = pg ? bpf_program__fd(pg) : -1;
	return rp->prog < 0 || rp->target < 0 || rp->bss < 0 || rp->floor < 0 || rp->tc_pass < 0
		       ? -1 : 0;
}

/* Points the wrapper at prog; with a SF_REPLAY_LEN-byte tmpl, restores it every iteration. */
static int replay_set(const struct replay *rp, int prog, const uint8_t *tmpl, int len)
{
	struct replay_cfg c = { .restore = tmpl != NULL };
	uint32_t zero = 0;

	if (tmpl) {
		if (len != SF_REPLAY_LEN)
			return -1;
		memcpy(c.tmpl, tmpl, SF_REPLAY_LEN);
	}
	if (bpf_map_update_elem(rp->bss, &zero, &c, BPF_ANY) ||
	    bpf_map_update_elem(rp->target, &zero, &prog, BPF_ANY))
		return -1;
	return 0;
}

#define NPATHS 14
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static int bench(const char *pass_path, const char *argv0)
{
	char path[PATH_MAX], exe[PATH_MAX];
	struct bpf_object *obj;
	struct bpf_program *pp;
	int pass_fd, i, k, rounds = 7, calls = 100000, repeat = 1000000;
	uint8_t syn[PKT_MAX], vack[PKT_MAX], fack[PKT_MAX], est[PKT_MAX], unp[PKT_MAX], fsyn[PKT_MAX];
	int nsyn, nvack, nfack, nest, nunp, nfsyn;
	struct run *r = calloc(1, sizeof(*r));
	struct sf_handoff_attrs m;
	char why[1024] = "";
	struct replay rp = { 0 };
	cpu_set_t cs;
	struct {
		const char *name, *method;
		const uint8_t *f;
		int n;
		unsigned want;
		int bulk; /* 0: repeat=1 loop; 1: repeat=1M; 2: repeat=1M through the replay
			   * wrapper; 3: the same with the floor program in synfence's place */
		int tc;   /* the TC program (baseline: the trivial TC program) */
	} paths[NPATHS];
	double res[NPATHS][2][16], walls[NPATHS][2][16];
	unsigned bad[NPATHS][2] = { { 0 } };
	ssize_t el;

	if (!r)
		return 1;
	/* the trivial program: next to this executable, else build/ */
	if (!pass_path) {
		el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (el > 0) {
			exe[el] = 0;
			snprintf(path, sizeof(path), "%s/xdp_pass.bpf.o", dirname(exe));
		} else {
			snprintf(path, sizeof(path), "%s", argv0);
		}
		if (access(path, R_OK))
			snprintf(path, sizeof(path), "build/xdp_pass.bpf.o");
		pass_path = path;
	}
	obj = bpf_object__open_file(pass_path, NULL);
	if (!obj || libbpf_get_error(obj) || bpf_object__load(obj)) {
		fprintf(stderr, "cannot load %s (build it: make BUILD=<dir> <dir>/xdp_pass.bpf.o, or "
			"pass --pass-obj PATH)\n", pass_path);
		return 1;
	}
	pp = bpf_object__next_program(obj, NULL);
	pass_fd = pp ? bpf_program__fd(pp) : -1;
	if (pass_fd < 0 || replay_open(&rp, pass_path))
		return 1;
	if (!E.cport) {
		fprintf(stderr, "no established connection on lo for the established path\n");
		return 1;
	}
	CPU_ZERO(&cs);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &cs);
	sched_setaffinity(0, sizeof(cs), &cs);

	{
		struct pkt_spec s = LSYN4();
		struct tcase va = { .scen = S_ACK, .pkt = LSYN4() };
		struct tcase fa = { .scen = S_ACK, .pkt = LSYN4(), .am = { .flip = 1u << 13 } };
		struct tcase es = { .scen = S_EST };
		/* a data segment of an established connection to a port synfence does not protect */
		struct pkt_spec u = LSYN4(.dport = 81, .seq = 12345, .ack = 67890, .flags = TF_ACK,
					  .opts = NULL, .paylen = 100);
		/* the same SYN to the port the floor program answers */
		struct pkt_spec fs = LSYN4(.dport = 80);

		apply_case_config(&va);
		spec_fixup(&s);
		nsyn = pkt_build(&s, syn, PKT_MAX);
		nvack = build_ack(&va, vack, &m, why, sizeof(why));
		nfack = build_ack(&fa, fack, &m, why, sizeof(why));
		nest = build_frame(&es, est);
		nunp = pkt_build(&u, unp, PKT_MAX);
		spec_fixup(&fs);
		nfsyn = pkt_build(&fs, fsyn, PKT_MAX);
	}
	paths[0] = (typeof(paths[0])){ "SYN -> SYN-ACK", "repeat=1 loop", syn, nsyn, XDP_TX, 0 };
	paths[1] = (typeof(paths[0])){ "valid ACK", "repeat=1 loop", vack, nvack, XDP_PASS, 0 };
	paths[2] = (typeof(paths[0])){ "forged ACK", "repeat=1 loop", fack, nfack, XDP_DROP, 0 };
	paths[3] = (typeof(paths[0])){ "established", "repeat=1 loop", est, nest, XDP_PASS, 0 };
	paths[4] = (typeof(paths[0])){ "forged ACK", "repeat=1M", fack, nfack, XDP_DROP, 1 };
	paths[5] = (typeof(paths[0])){ "established", "repeat=1M", est, nest, XDP_PASS, 1 };
	paths[6] = (typeof(paths[0])){ "unprotected", "repeat=1 loop", unp, nunp, XDP_PASS, 0 };
	paths[7] = (typeof(paths[0])){ "unprotected", "repeat=1M", unp, nunp, XDP_PASS, 1 };
	paths[8] = (typeof(paths[0])){ "SYN -> SYN-ACK", "replay 1M", syn, nsyn, XDP_TX, 2 };
	paths[9] = (typeof(paths[0])){ "valid ACK", "repeat=1M", vack, nvack, XDP_PASS, 1 };
	/* not synfence: the floor program in synfence's place, for the SYN row above */
	paths[10] = (typeof(paths[0])){ "SYN-ACK floor", "replay 1M", fsyn, nfsyn, XDP_TX, 3 };
	/* TC ingress after XDP: the same frames (established: cached by the XDP runs before) */
	paths[11] = (typeof(paths[0])){ "TC established", "repeat=1M", est, nest, SF_TC_ACT_NEXT_, 1, 1 };
	paths[12] = (typeof(paths[0])){ "TC unprotected", "repeat=1M", unp, nunp, SF_TC_ACT_NEXT_, 1, 1 };
	paths[13] = (typeof(paths[0])){ "TC valid ACK", "repeat=1M", vack, nvack, SF_TC_ACT_NEXT_, 1, 1 };

	/* sanity: each path does what it should, once */
	for (i = 0; i < NPATHS; i++) {
		if (paths[i].tc)
			tc_run_prog(E.tc, paths[i].f, paths[i].n, r, 1);
		else
			xdp_run_prog(paths[i].bulk == 3 ? rp.floor : E.prog, paths[i].f, paths[i].n,
				     r, 1);
		if (r->err || r->retval != paths[i].want) {
			fprintf(stderr, "bench: path '%s' returned %u (err %d), expected %u\n",
				paths[i].name, r->retval, r->err, paths[i].want);
			return 1;
		}
	}
	/* what repeat > 1 does on the paths that need care */
	{
		uint64_t b4[SF_CNT_MAX], af[SF_CNT_MAX];

		read_counters(b4);
		tc_run_prog(E.tc, vack, nvack, r, 2);
		read_counters(af);
		printf("note: TC valid ACK with repeat=2: handoff attempts %+lld (the kfunc refuses them "
		       "with EINVAL outside TC ingress: %+lld), frame %s\n",
		       (long long)(af[SF_CNT_handoff_err] - b4[SF_CNT_handoff_err]),
		       (long long)(af[SF_CNT_handoff_err_einval] - b4[SF_CNT_handoff_err_einval]),
		       r->framelen == nvack && !memcmp(r->frame, vack, (size_t)nvack) ? "unchanged"
										 : "changed");
		xdp_run_prog(E.prog, syn, nsyn, r, 2);
		printf("note: SYN with repeat=2: %s (iteration 2 ran on the SYN-ACK of iteration 1)\n",
		       verdict_name((int)r->retval));
	}

	for (k = 0; k < rounds; k++) {
		for (i = 0; i < NPATHS; i++) {
			int j;

			for (j = 0; j < 2; j++) {
				struct bres b;
				int tc = paths[i].tc;
				int prog = j ? (tc ? rp.tc_pass : pass_fd) :
					   tc ? E.tc : paths[i].bulk == 3 ? rp.floor : E.prog;
				unsigned want = j ? (tc ? SF_TC_ACT_NEXT_ : XDP_PASS) : paths[i].want;
				run_prog_fn run_prog = tc ? tc_run_prog : xdp_run_prog;
				int syn_like = paths[i].want == XDP_TX;

				if (paths[i].bulk >= 2) {
					if (replay_set(&rp, prog, syn_like ? paths[i].f : NULL,
						       paths[i].n)) {
						fprintf(stderr, "bench: cannot set up the replay "
							"wrapper for '%s'\n", paths[i].name);
						return 1;
					}
					bench_bulk(run_prog, rp.prog, paths[i].f, paths[i].n, want,
						   repeat, 0, &b, r);
				} else if (paths[i].bulk)
					bench_bulk(run_prog, prog, paths[i].f, paths[i].n, want, repeat,
						   1, &b, r);
				else
					bench_loop1(run_prog, prog, paths[i].f, paths[i].n, want, calls,
						    &b, r);
				res[i][j][k] = b.kern;
				walls[i][j][k] = b.wall;
				bad[i][j] += b.bad;
			}
		}
	}
	printf("\nmicro-benchmark: bpf_prog_test_run_opts on CPU %d, median of %d rounds; ns/pkt from "
	       "the kernel's test-run timer\n", sched_getcpu(), rounds);
	printf("(repeat=1 loop: %d calls per round, averaged kernel duration of each call; repeat=1M: "
	       "one call of %d iterations per round)\n\n", calls, repeat);
	printf("%-16s %-14s %9s %15s %9s %7s %14s\n", "path", "method", "ns/pkt", "trivial ns/pkt",
	       "net ns", "ratio", "wall ns/call");
	for (i = 0; i < NPATHS; i++) {
		double a, p, w;

		qsort(res[i][0], (size_t)rounds, sizeof(double), cmp_dbl);
		qsort(res[i][1], (size_t)rounds, sizeof(double), cmp_dbl);
		qsort(walls[i][0], (size_t)rounds, sizeof(double), cmp_dbl);
		a = res[i][0][rounds / 2];
		p = res[i][1][rounds / 2];
		w = walls[i][0][rounds / 2];
		printf("%-16s %-14s %9.1f %15.1f %9.1f %7.2f %14.1f%s\n", paths[i].name,
		       paths[i].method, a, p, a - p, p > 0 ? a / p : 0.0, w,
		       bad[i][0] || bad[i][1] ? "  (unexpected verdicts!)" : "");
	}
	printf("\nnet ns = ns/pkt - trivial ns/pkt: the same frames through a trivial program measured "
	       "the same way\n(XDP_PASS for XDP rows, TC_ACT_OK for TC rows: subtracts the test-run "
	       "loop's own cost).\n"
	       "The SYN path rewrites the frame, so a plain repeat>1 run would not replay the same "
	       "packet: it is\nmeasured with repeat=1 calls (fresh frame each call, the kernel's "
	       "per-call timer averaged) and through\na replay wrapper (tests/bpf/sf_replay.bpf.c: "
	       "restores the SYN, then tail-calls synfence or XDP_PASS;\nits own cost is in both "
	       "columns, so net ns is synfence's alone); the other paths leave the frame\nunchanged. "
	       "SYN-ACK floor: tests/bpf/sf_synack_floor.bpf.c (the bench's minimal SYN -> SYN-ACK, no "
	       "cookie)\nin synfence's place, the same way as the SYN row above it. TC valid ACK: "
	       "socket lookup, cookie check\nand the kfunc call, which refuses outside TC ingress "
	       "before it allocates the request socket.\n");
	bpf_object__close(rp.tc_pass_obj);
	bpf_object__close(rp.floor_obj);
	bpf_object__close(rp.obj);
	bpf_object__close(obj);
	free(r);
	return 0;
}

#pragma GCC diagnostic pop

/* ---------------------------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------------------------- */
static int selected(const char *name, int nfilt, char **filt)
{
	int i;

	if (!nfilt)
		return 1;
	for (i = 0; i < nfilt; i++)
		if (strstr(name, filt[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *pass_obj = NULL;
	char **filt = calloc((size_t)argc, sizeof(char *));
	int nfilt = 0, do_bench = 0, i;
	size_t c;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bench"))
			do_bench = 1;
		else if (!strcmp(argv[i], "-v"))
			E.verbose = 1;
		else if (!strcmp(argv[i], "--pcap") && i + 1 < argc)
			pcap_open(argv[++i]);
		else if (!strcmp(argv[i], "--pass-obj") && i + 1 < argc)
			pass_obj = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: %s [-v] [--pcap FILE] [--bench [--pass-obj PATH]] "
			       "[CASE-SUBSTRING...]\n",
			       argv[0]);
			return 0;
		} else if (filt)
			filt[nfilt++] = argv[i];
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s: must run as root (loads BPF programs and runs "
			"BPF_PROG_TEST_RUN)\n", argv[0]);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (setup()) {
		fprintf(stderr, "setup failed\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	if (do_bench)
		return bench(pass_obj, argv[0]);

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		if (selected(cases[c].name, nfilt, filt))
			run_case(&cases[c]);
	if (selected("flowcache_remembers_and_syn_forgets", nfilt, filt))
		run_flowcache();
	printf("%d passed, %d failed\n", n_pass, n_fail);
	synfence_bpf__destroy(E.skel);
	if (E.pcap)
		fclose(E.pcap);
	free(filt);
	return n_fail ? 1 : 0;
}
