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
 * This file is the runner; the cases are in cases.c, what their runs must do in expect.c, the
 * micro-benchmark in bench.c. The environment (env.c, shared with the BPF fuzzer; how test runs
 * behave is described in env.h): the ACK cases need a real listener on 127.0.0.1/::1 (a free port,
 * marked protected) so that the socket lookup finds it, and another on the wildcard addresses.
 * Every frame XDP passes also goes through the TC program; a TC test run is not at TC ingress, so
 * the handoff kfunc refuses there with EINVAL after TC decided to call it: the attempt (counters,
 * sf_last_handoff) is what is judged, the real handoff is the integration tests'. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "lists.h"
#include "sample.h"
#include "limit.h"
#include "cases.h"
#include "env.h"
#include "expect.h"
#include "oracle.h"
#include "pkt.h"
#include "sock.h"

struct env E;

static const struct env_opts unit_env = {
	.any_netns = 1,
	.backlog = 16,
	.wildcard = 1,
	.protect = { { 80, 80 }, { 8000, 8100 } },
};

static int verbose;
static FILE *pcap;  /* --pcap FILE: every input and output frame */
static int n_pass, n_fail;

static void hexdump(const char *title, const uint8_t *b, int len)
{
	int i;

	fprintf(stderr, "  %s (%d bytes):", title, len);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n    ", b[i]);
	fprintf(stderr, "\n");
}

static void pcap_frame(const uint8_t *f, int len)
{
	struct timespec ts;
	uint32_t rec[4];

	if (!pcap || len <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	rec[0] = (uint32_t)ts.tv_sec;
	rec[1] = (uint32_t)(ts.tv_nsec / 1000);
	rec[2] = rec[3] = (uint32_t)len;
	fwrite(rec, sizeof(rec), 1, pcap);
	fwrite(f, (size_t)len, 1, pcap);
}

static void pcap_open(const char *path)
{
	/* classic pcap, microseconds, LINKTYPE_ETHERNET */
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };

	pcap = fopen(path, "wb");
	if (pcap)
		fwrite(gh, sizeof(gh), 1, pcap);
}

/* One run of the XDP program with the counter deltas, its frames written to the pcap file. */
static int xdp_run(const uint8_t *in, int len, struct xrun *r)
{
	int rc = env_xdp(&E, in, len, r);

	pcap_frame(in, len);
	if (!r->err && r->ret != XDP_DROP)
		pcap_frame(r->frame, r->framelen);
	return rc;
}

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

static void dump_failure(const uint8_t *in, int len, const struct xrun *r)
{
	if (!verbose)
		return;
	hexdump("input", in, len);
	if (!r->err)
		hexdump("output (metadata + frame)", r->out, r->outlen);
}

/* S_RT, the first half: the SYN sent, its SYN-ACK judged and parsed into sa. 0 or -1. */
static int roundtrip_synack(const struct pkt_spec *syn, struct xrun *r1, struct synack_expect *x,
			    struct pkt_parsed *sa, char *why, size_t wl)
{
	uint8_t synf[PKT_MAX];
	char err[128];
	int n = pkt_build(syn, synf, sizeof(synf));

	if (xdp_run(synf, n, r1) && r1->err != 0) {
		addf(why, wl, "SYN: test run failed: %s", strerror(-r1->err));
		return -1;
	}
	check_verdict(V_TX, r1, why, wl);
	if (why[0] || syn_expect(synf, n, E.sec_now.epoch, x, why, wl) < 0)
		return -1;
	check_synack(x, r1, why, wl);
	if (pkt_parse(r1->frame, r1->framelen, sa, err, sizeof(err)) < 0) {
		addf(why, wl, "SYN-ACK: %s", err);
		return -1;
	}
	return 0;
}

static void run_roundtrip(const struct tcase *tc, char *why, size_t wl)
{
	struct pkt_spec syn = tc->pkt, ack;
	uint8_t ackf[PKT_MAX];
	struct xrun *r1 = calloc(1, sizeof(*r1)), *r2 = calloc(1, sizeof(*r2));
	struct synack_expect x;
	struct pkt_parsed sa;
	struct sf_handoff_attrs m;
	int an, i;
	int64_t d[SF_CNT_MAX];

	spec_fixup(&syn);
	if (!r1 || !r2 || roundtrip_synack(&syn, r1, &x, &sa, why, wl))
		goto out;
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

/* The XDP run of a frame cut to len bytes (p: the whole frame parsed), judged; *note: what to
 * say on an ok line. The frame passes or is dropped, untouched; never a SYN-ACK. */
static void judge_cut(const uint8_t *full, int len, const struct pkt_parsed *p,
		      const struct xrun *r, const char **note, char *why, size_t wl)
{
	if (len < 14) {
		/* the kernel refuses data_size_in < ETH_HLEN before running anything */
		if (r->err == -EINVAL)
			*note = "kernel refuses < 14 bytes: EINVAL";
		else if (r->err)
			addf(why, wl, "test run: %s", strerror(-r->err));
		else if (r->ret == XDP_TX)
			addf(why, wl, "XDP_TX on a %d-byte frame", len);
	} else if (len < p->l4off + 20) {
		/* no complete TCP header: pass, untouched; counted as unparsed once the ethertype
		 * says IP (cut inside a VLAN tag: not IP yet, quiet) */
		struct tcase t = { .verdicts = V_PASS };

		if (len >= p->l3off)
			t.delta[SF_CNT_pass_unparsed] = 1;
		check_verdict(V_PASS, r, why, wl);
		check_counters(&t, r->d, why, wl);
		check_output(&t, full, len, r, NULL, why, wl);
	} else {
		/* fixed TCP header complete, options cut (and IP length > frame): pass or drop,
		 * never TX, never a SYN-ACK counted */
		struct tcase t = { .verdicts = V_PASS | V_DROP, .dontcare = ~DC(synack_sent) };

		check_verdict(V_PASS | V_DROP, r, why, wl);
		check_counters(&t, r->d, why, wl);
		check_output(&t, full, len, r, NULL, why, wl);
		if (!why[0] && !r->err)
			*note = env_verdict_name(r->ret);
	}
}

/* The TC run of a frame cut to len bytes, judged: never a handoff; a listener-bound segment whose
 * TCP header is there but whose options are cut is refused (handoff_cookie_bad), anything shorter
 * is left alone. The kernel refuses test runs of frames shorter than an Ethernet header, and of
 * some whose IP header is cut: noted, never judged. */
static void judge_cut_tc(const struct tcase *tc, const uint8_t *full, int len,
			 const struct pkt_parsed *p, const struct xrun *r, const char **note,
			 char *why, size_t wl)
{
	int64_t want[SF_CNT_MAX] = { 0 };

	if (r->err == -EINVAL && len < p->l4off) {
		*note = "kernel refuses the test run: EINVAL";
		return;
	}
	if (tc->scen == S_ACK && len >= p->l4off + 20)
		want[SF_CNT_handoff_cookie_bad] = 1;
	check_tc_run(full, len, r, want, NULL, why, wl);
}

/* The case's frame cut at every length (one result line each), through XDP, or TC alone. */
static void run_sweep(const struct tcase *tc)
{
	uint8_t full[PKT_MAX];
	struct xrun *r = calloc(1, sizeof(*r));
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
		const char *note = NULL;

		why[0] = 0;
		snprintf(name, sizeof(name), "%s@%d", tc->name, len);
		if (tc->tc_only) {
			env_tc(&E, full, len, r);
			judge_cut_tc(tc, full, len, &p, r, &note, why, sizeof(why));
		} else {
			xdp_run(full, len, r);
			judge_cut(full, len, &p, r, &note, why, sizeof(why));
		}
		report(name, why, note);
		if (why[0])
			dump_failure(full, len, r);
	}
	free(r);
}

/* A case of one frame (S_FRAME, S_ACK, S_EST, S_ARP): through XDP (and TC what it passes), or
 * through TC alone; reported. */
static void run_frame_case(const struct tcase *tc)
{
	uint8_t in[PKT_MAX];
	struct xrun *r = calloc(1, sizeof(*r));
	struct sf_handoff_attrs m;
	int64_t want[SF_CNT_MAX];
	char why[2048] = "";
	int n, i;

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
		for (i = 0; i < SF_CNT_MAX; i++)
			want[i] = (int64_t)tc->delta[i];
		env_tc(&E, in, n, r);
		check_tc_run(in, n, r, want, tc->chk == CHK_HANDOFF ? &m : NULL, why, sizeof(why));
	} else {
		xdp_run(in, n, r);
		check_verdict(tc->verdicts, r, why, sizeof(why));
		check_counters(tc, r->d, why, sizeof(why));
		check_output(tc, in, n, r, &m, why, sizeof(why));
	}
	report(tc->name, why, NULL);
	if (why[0])
		dump_failure(in, n, r);
	free(r);
}

static void run_case(const struct tcase *tc)
{
	char why[2048] = "";

	apply_case_config(tc);
	if (tc->sweep) {
		run_sweep(tc);
		return;
	}
	if (tc->scen == S_ORACLE)
		oc_selftest(why, sizeof(why));
	else if (tc->scen == S_RT)
		run_roundtrip(tc, why, sizeof(why));
	else if (tc->scen == S_EST && !E.cport)
		addf(why, sizeof(why), "no established connection could be set up");
	else if ((tc->pkt.dport == 0 || tc->pkt.dport == WPORT) && tc->pkt.family == 6 &&
		 tc->scen != S_FRAME && !E.have6)
		addf(why, sizeof(why), "no IPv6 listener on ::1 (IPv6 disabled?)");
	else {
		run_frame_case(tc);
		return;
	}
	report(tc->name, why, NULL);
}

/* The flow cache, while the connection's sockets exist: its first ACK is remembered; a SYN on its
 * tuple (TIME_WAIT reuse is the real case) goes to the kernel, which must answer it, not a cookie. */
static void flowcache_open(const uint8_t *ack, int nack, const uint8_t *syn, int nsyn,
			   struct xrun *r, char *why, size_t wl)
{
	xdp_run(ack, nack, r); /* the lookup finds the socket: remembered */
	if (r->ret != XDP_PASS || r->d[SF_CNT_est_pass] != 1)
		addf(why, wl, "first ACK: verdict %s, est_pass +%lld", env_verdict_name(r->ret),
		     (long long)r->d[SF_CNT_est_pass]);
	xdp_run(syn, nsyn, r);
	if (r->ret != XDP_PASS || r->d[SF_CNT_syn_pass_existing] != 1 || r->d[SF_CNT_synack_sent])
		addf(why, wl, "SYN while the socket exists: verdict %s, "
		     "syn_pass_existing +%lld, synack_sent +%lld (expected PASS to the kernel)",
		     env_verdict_name(r->ret), (long long)r->d[SF_CNT_syn_pass_existing],
		     (long long)r->d[SF_CNT_synack_sent]);
}

/* ... and once both ends are gone: its ACK passes from the cache (the lookup skipped), a SYN on the
 * tuple forgets it, so that the next ACK has its cookie checked again. */
static void flowcache_closed(const uint8_t *ack, int nack, const uint8_t *syn, int nsyn,
			     struct xrun *r, char *why, size_t wl)
{
	xdp_run(ack, nack, r);
	if (r->ret != XDP_PASS || r->d[SF_CNT_est_pass] != 1 || r->d[SF_CNT_ack_cookie_bad] != 0)
		addf(why, wl, "cached ACK after close: verdict %s, est_pass +%lld, "
		     "ack_cookie_bad +%lld (expected PASS from the cache)", env_verdict_name(r->ret),
		     (long long)r->d[SF_CNT_est_pass], (long long)r->d[SF_CNT_ack_cookie_bad]);
	xdp_run(syn, nsyn, r);
	if (r->ret != XDP_TX)
		addf(why, wl, "SYN: verdict %s", env_verdict_name(r->ret));
	xdp_run(ack, nack, r);
	if (r->ret != XDP_DROP || r->d[SF_CNT_ack_cookie_bad] != 1 || r->d[SF_CNT_est_pass])
		addf(why, wl, "ACK after the SYN: verdict %s, ack_cookie_bad +%lld, "
		     "est_pass +%lld (expected a cookie check and DROP)", env_verdict_name(r->ret),
		     (long long)r->d[SF_CNT_ack_cookie_bad], (long long)r->d[SF_CNT_est_pass]);
}

/* The flow cache: an established flow is remembered, so its packets pass even after the kernel
 * socket is gone (proving the lookup was skipped); a SYN for a remembered tuple goes to the kernel
 * while its socket exists, else the tuple is forgotten, so the next ACK on it has its cookie
 * checked again. Uses a connection of its own, closed with RST (no TIME_WAIT: only the listener is
 * left for the tuple). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static void run_flowcache(void)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(E.lport) };
	struct xrun *r = calloc(1, sizeof(*r));
	uint8_t ack[PKT_MAX], syn[PKT_MAX];
	char why[1024] = "";
	int cfd, afd = -1, nack, nsyn;
	uint16_t cport = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (!r || cfd < 0 || connect(cfd, (struct sockaddr *)&a, sizeof(a)) ||
	    (afd = accept(E.lfd4, NULL, NULL)) < 0 || !(cport = sock_port(cfd))) {
		report("flowcache", "test bug: no connection on lo", NULL);
	} else {
		struct pkt_spec e = LSYN4(.saddr = LO4, .sport = cport, .seq = 4242, .ack = 4343,
					  .flags = TF_ACK, .opts = NULL, .window = 512);
		struct pkt_spec s = LSYN4(.saddr = LO4, .sport = cport);

		spec_fixup(&e);
		spec_fixup(&s);
		nack = pkt_build(&e, ack, sizeof(ack));
		nsyn = pkt_build(&s, syn, sizeof(syn));
		flowcache_open(ack, nack, syn, nsyn, r, why, sizeof(why));
		setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		setsockopt(afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(afd);
		close(cfd);
		afd = cfd = -1;
		flowcache_closed(ack, nack, syn, nsyn, r, why, sizeof(why));
		report("flowcache_remembers_and_syn_forgets", why, NULL);
	}
	if (afd >= 0)
		close(afd);
	if (cfd >= 0)
		close(cfd);
	free(r);
}
#pragma GCC diagnostic pop

static int setup(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return -1;
	}
	if (env_setup(&E, &unit_env))
		return -1;
	return cases_config_init();
}

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

struct args {
	int bench, bench_lists, bench_sampling, check, nfilt;
	const char *pass_obj;
	char **filt;          /* the case name substrings */
};

/* 1: go on, 0: exit 0 (help printed). */
static int parse_args(int argc, char **argv, struct args *a)
{
	int i;

	a->filt = calloc((size_t)argc, sizeof(char *));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bench"))
			a->bench = 1;
		else if (!strcmp(argv[i], "--bench-lists"))
			a->bench_lists = 1;
		else if (!strcmp(argv[i], "--bench-sampling"))
			a->bench_sampling = 1;
		else if (!strcmp(argv[i], "--check"))
			a->check = 1;
		else if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "--pcap") && i + 1 < argc)
			pcap_open(argv[++i]);
		else if (!strcmp(argv[i], "--pass-obj") && i + 1 < argc)
			a->pass_obj = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: %s [-v] [--pcap FILE] [--bench|--bench-lists|--bench-sampling [--check] [--pass-obj PATH]] "
			       "[CASE-SUBSTRING...]\n",
			       argv[0]);
			return 0;
		} else if (a->filt)
			a->filt[a->nfilt++] = argv[i];
	}
	return 1;
}

static const struct args *cur_args; /* for the limiter cases' callbacks */

static int lim_selected(const char *name)
{
	return selected(name, cur_args->nfilt, cur_args->filt);
}

static void lim_report(const char *name, const char *why)
{
	report(name, why ? why : "", NULL);
}

/* Everything after the command line; the exit status. */
static int run(const struct args *a, const char *argv0)
{
	size_t c;

	if (geteuid() != 0) {
		fprintf(stderr, "%s: must run as root (loads BPF programs and runs "
			"BPF_PROG_TEST_RUN)\n", argv0);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (setup()) {
		fprintf(stderr, "setup failed\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	if (a->bench)
		return bench(a->pass_obj, argv0);
	if (a->bench_lists)
		return lists_bench(a->pass_obj, argv0);
	if (a->bench_sampling)
		return bench_sampling(a->pass_obj, argv0, a->check);
	for (c = 0; c < ncases; c++)
		if (selected(cases[c].name, a->nfilt, a->filt))
			run_case(&cases[c]);
	for (c = 0; c < ncases; c++) {
		struct tcase t;
		char name[128];

		if (monitor_twin(&cases[c], &t, name) && selected(name, a->nfilt, a->filt))
			run_case(&t);
	}
	if (selected("flowcache_remembers_and_syn_forgets", a->nfilt, a->filt)) {
		struct tcase dflt = { 0 };

		apply_case_config(&dflt); /* the default config (the twins left monitor mode on) */
		run_flowcache();
	}
	if (selected("lists_", a->nfilt, a->filt))
		lists_unit(report);
	if (selected("sample_", a->nfilt, a->filt)) {
		struct tcase dflt = { 0 };

		sample_unit(report);
		apply_case_config(&dflt);
	}
	cur_args = a;
	run_limit_cases(lim_selected, lim_report);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	env_close(&E);
	return n_fail ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	int rc = parse_args(argc, argv, &a) ? run(&a, argv[0]) : 0;

	if (pcap)
		fclose(pcap);
	free(a.filt);
	return rc;
}
