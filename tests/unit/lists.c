/* lists.c - see lists.h. The frames are the unit cases' (LSYN4 from 127.0.0.2, LSYN6 from fd00::2,
 * a forged cookie ACK, an ACK of the established connection); the lists are written straight into
 * the object's maps (sf_allow, sf_deny, sf_lists), as `synfence allow|deny` does in the pins. */
#include <arpa/inet.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "cases.h"
#include "env.h"
#include "lists.h"
#include "synfence.skel.h"

static int allow_fd(void) { return bpf_map__fd(E.skel->maps.sf_allow); }
static int deny_fd(void) { return bpf_map__fd(E.skel->maps.sf_deny); }
static int flags_fd(void) { return bpf_map__fd(E.skel->maps.sf_lists); }

static void set_flags(__u32 flags)
{
	struct sf_lists l = { .flags = flags };
	__u32 zero = 0;

	bpf_map_update_elem(flags_fd(), &zero, &l, BPF_ANY);
}

static void clear_trie(int fd)
{
	struct sf_list_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

static void clear_lists(void)
{
	clear_trie(allow_fd());
	clear_trie(deny_fd());
	set_flags(0);
}

/* a.b.c.d/len (IPv4) */
static struct sf_list_key key4(__u8 a, __u8 b, __u8 c, __u8 d, __u32 len)
{
	struct sf_list_key k = { .prefixlen = 96 + len };
	__u8 *p = (__u8 *)&k.addr[3];

	k.addr[2] = htonl(0xffff);
	p[0] = a, p[1] = b, p[2] = c, p[3] = d;
	return k;
}

static void put(int fd, struct sf_list_key k, __u32 origin, __u64 expires)
{
	struct sf_list_val v = { .expires_ns = expires, .origin = origin };

	bpf_map_update_elem(fd, &k, &v, BPF_ANY);
}

enum { LF_SYN4, LF_SYN6, LF_FACK, LF_EST, LF_N };

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static int build(uint8_t f[LF_N][PKT_MAX], int n[LF_N])
{
	struct pkt_spec s4 = LSYN4(), s6 = LSYN6();
	struct tcase fa = { .scen = S_ACK, .pkt = LSYN4(), .am = { .flip = 1u << 13 } };
	struct tcase es = { .scen = S_EST };
	struct sf_handoff_attrs m;
	char why[1024] = "";

	spec_fixup(&s4);
	spec_fixup(&s6);
	n[LF_SYN4] = pkt_build(&s4, f[LF_SYN4], PKT_MAX);
	n[LF_SYN6] = pkt_build(&s6, f[LF_SYN6], PKT_MAX);
	n[LF_FACK] = build_ack(&fa, f[LF_FACK], &m, why, sizeof(why));
	n[LF_EST] = build_frame(&es, f[LF_EST]);
	return n[LF_SYN4] > 0 && n[LF_SYN6] > 0 && n[LF_FACK] > 0 && n[LF_EST] > 0 ? 0 : -1;
}
#pragma GCC diagnostic pop

struct lcheck {
	const char *name;
	int frame;
	__u32 cfg_set;     /* e.g. SF_CFG_MONITOR */
	void (*setup)(void);
	__u32 verdict;
	int cnt[3];        /* counters expected +1 (besides syn_recv on SYNs), -1 ends */
};

static void deny_lo8(void) { put(deny_fd(), key4(127, 0, 0, 0, 8), SF_LIST_FILE, 0); set_flags(SF_LISTS_DENY); }
static void allow_host_deny_lo8(void)
{
	deny_lo8();
	put(allow_fd(), key4(127, 0, 0, 2, 32), SF_LIST_LIVE, 0);
	set_flags(SF_LISTS_ALLOW | SF_LISTS_DENY);
}
static void deny_other(void) { put(deny_fd(), key4(10, 0, 0, 0, 8), SF_LIST_FILE, 0); set_flags(SF_LISTS_DENY); }
static void deny_expired_live(void) { put(deny_fd(), key4(127, 0, 0, 2, 32), SF_LIST_LIVE, 1); set_flags(SF_LISTS_DENY); }
static void deny_future_live(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	put(deny_fd(), key4(127, 0, 0, 2, 32), SF_LIST_LIVE, (__u64)(ts.tv_sec + 60) * 1000000000ull);
	set_flags(SF_LISTS_DENY);
}
static void deny_expired_file_live(void) { put(deny_fd(), key4(127, 0, 0, 2, 32), SF_LIST_FILE | SF_LIST_LIVE, 1); set_flags(SF_LISTS_DENY); }
static void deny_flags_off(void) { put(deny_fd(), key4(127, 0, 0, 0, 8), SF_LIST_FILE, 0); }
static void deny_v6_64(void)
{
	struct sf_list_key k = { .prefixlen = 64, .addr = { htonl(0xfd000000) } };

	put(deny_fd(), k, SF_LIST_LIVE, 0);
	set_flags(SF_LISTS_DENY);
}
static void allow_v6_host(void)
{
	struct sf_list_key k = { .prefixlen = 128, .addr = { htonl(0xfd000000), 0, 0, htonl(2) } };

	put(allow_fd(), k, SF_LIST_LIVE, 0);
	set_flags(SF_LISTS_ALLOW);
}
static void deny_v4_all(void) { put(deny_fd(), key4(0, 0, 0, 0, 0), SF_LIST_LIVE, 0); set_flags(SF_LISTS_DENY); }

#define C(x) SF_CNT_##x
static const struct lcheck checks[] = {
	{ "lists_syn4_denied", LF_SYN4, 0, deny_lo8, XDP_DROP, { C(drop_denied), -1 } },
	{ "lists_syn4_allow_wins_over_deny", LF_SYN4, 0, allow_host_deny_lo8, XDP_PASS, { C(pass_allowed), -1 } },
	{ "lists_syn4_other_prefix_challenged", LF_SYN4, 0, deny_other, XDP_TX, { C(synack_sent), -1 } },
	{ "lists_syn4_expired_live_ignored", LF_SYN4, 0, deny_expired_live, XDP_TX, { C(synack_sent), -1 } },
	{ "lists_syn4_live_ttl_not_yet", LF_SYN4, 0, deny_future_live, XDP_DROP, { C(drop_denied), -1 } },
	{ "lists_syn4_file_entry_never_expires", LF_SYN4, 0, deny_expired_file_live, XDP_DROP, { C(drop_denied), -1 } },
	{ "lists_syn4_flags_off_no_lookup", LF_SYN4, 0, deny_flags_off, XDP_TX, { C(synack_sent), -1 } },
	{ "lists_syn6_denied_by_prefix", LF_SYN6, 0, deny_v6_64, XDP_DROP, { C(drop_denied), -1 } },
	{ "lists_syn6_allowed_host", LF_SYN6, 0, allow_v6_host, XDP_PASS, { C(pass_allowed), -1 } },
	{ "lists_syn6_not_in_v4_zero_prefix", LF_SYN6, 0, deny_v4_all, XDP_TX, { C(synack_sent), -1 } },
	{ "lists_cookie_ack_denied", LF_FACK, 0, deny_lo8, XDP_DROP, { C(drop_denied), -1 } },
	{ "lists_cookie_ack_allowed", LF_FACK, 0, allow_host_deny_lo8, XDP_PASS, { C(pass_allowed), -1 } },
	{ "lists_established_never_consulted", LF_EST, 0, deny_lo8, XDP_PASS, { C(est_pass), -1 } },
	{ "lists_monitor_denied_passes", LF_SYN4, SF_CFG_MONITOR, deny_lo8, XDP_PASS, { C(drop_denied), C(monitor_pass), -1 } },
	{ "lists_monitor_allowed", LF_SYN4, SF_CFG_MONITOR, allow_host_deny_lo8, XDP_PASS, { C(pass_allowed), -1 } },
};

void lists_unit(void (*report)(const char *name, const char *why, const char *note))
{
	static uint8_t f[LF_N][PKT_MAX];
	int n[LF_N];
	struct xrun *r = calloc(1, sizeof(*r));

	if (!r || build(f, n)) {
		report("lists", "test bug: cannot build the frames", NULL);
		free(r);
		return;
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const struct lcheck *c = &checks[i];
		struct tcase cfg = { .cfg_set = c->cfg_set };
		int64_t want[SF_CNT_MAX] = { 0 };
		char why[512] = "";

		apply_case_config(&cfg);
		clear_lists();
		c->setup();
		env_flows_clear(&E);
		env_syn_checks_refill(&E);
		if (c->frame == LF_SYN4 || c->frame == LF_SYN6)
			want[SF_CNT_syn_recv] = 1;
		for (int j = 0; j < 3 && c->cnt[j] >= 0; j++)
			want[c->cnt[j]]++;
		env_xdp(&E, f[c->frame], n[c->frame], r);
		if (r->err)
			addf(why, sizeof(why), "test run failed: %d", r->err);
		else if (r->ret != c->verdict)
			addf(why, sizeof(why), "verdict %s, expected %s", env_verdict_name(r->ret),
			     env_verdict_name(c->verdict));
		for (int k = 0; k < SF_CNT_MAX && !r->err; k++)
			if (r->d[k] != want[k] && !(c->frame == LF_EST && k != SF_CNT_drop_denied &&
						      k != SF_CNT_pass_allowed))
				addf(why, sizeof(why), " counter %d %+lld (expected %+lld)", k,
				     (long long)r->d[k], (long long)want[k]);
		report(c->name, why, NULL);
	}
	clear_lists();
	free(r);
}

/* ---- --bench-lists -------------------------------------------------------------------------- */

#define BL_REPEAT 1000000
#define BL_ROUNDS 5
/* n prefixes that never match 127/8 (the SYN's source): random /16../32 in 1-126 and 128-223 */
static void fill(int fd, size_t n, double *load_ms, int *batched)
{
	struct sf_list_key *k = calloc(n, sizeof(*k));
	struct sf_list_val *v = calloc(n, sizeof(*v));
	__u32 count = (__u32)n;
	double t0;

	srand(42);
	for (size_t i = 0; i < n; i++) {
		__u8 a = (__u8)(1 + rand() % 222);

		if (a == 127)
			a = 128;
		k[i] = key4(a, (__u8)rand(), (__u8)rand(), (__u8)rand(), (__u32)(16 + rand() % 17));
		v[i].origin = SF_LIST_FILE;
	}
	t0 = bench_now_ns();
	*batched = n ? !bpf_map_update_batch(fd, k, v, &count, NULL) : 0;
	if (n && !*batched)
		for (size_t i = 0; i < n; i++)
			bpf_map_update_elem(fd, &k[i], &v[i], BPF_ANY);
	*load_ms = (bench_now_ns() - t0) / 1e6;
	free(k);
	free(v);
}

/* ns per SYN through the replay wrapper (restores the SYN before each iteration), median. */
static double syn_ns(int replay, int bss, int target, int prog, const uint8_t *syn, int len, __u32 want)
{
	struct replay_cfg c = { .restore = 1 };
	double res[BL_ROUNDS];
	__u32 zero = 0;
	struct xrun *r = calloc(1, sizeof(*r));

	memcpy(c.tmpl, syn, SF_REPLAY_LEN);
	bpf_map_update_elem(bss, &zero, &c, BPF_ANY);
	bpf_map_update_elem(target, &zero, &prog, BPF_ANY);
	for (int k = 0; k < BL_ROUNDS; k++) {
		env_run_xdp(replay, syn, len, r, BL_REPEAT);
		res[k] = r->err || r->ret != want ? -1.0 : (double)r->duration;
	}
	free(r);
	qsort(res, BL_ROUNDS, sizeof(double), bench_cmp_dbl);
	return res[BL_ROUNDS / 2];
}

int lists_bench(const char *pass_path, const char *argv0)
{
	static const size_t sizes[] = { 0, 1, 1000, 100000 };
	static uint8_t f[LF_N][PKT_MAX];
	char dir[PATH_MAX], path[PATH_MAX];
	struct bpf_object *obj, *pobj;
	struct bpf_program *pg;
	int n[LF_N], replay, bss, target, batched, pass;
	double load_ms, base, pass_ns;
	cpu_set_t cs;

	(void)argv0;
	snprintf(dir, sizeof(dir), "%s", pass_path ? pass_path : "build/xdp_pass.bpf.o");
	snprintf(path, sizeof(path), "%s/sf_replay.bpf.o", dirname(dir));
	obj = bpf_object__open_file(path, NULL);
	if (!obj || libbpf_get_error(obj) || bpf_object__load(obj) ||
	    !(pg = bpf_object__find_program_by_name(obj, "sf_replay"))) {
		fprintf(stderr, "cannot load %s (make all)\n", path);
		return 1;
	}
	replay = bpf_program__fd(pg);
	snprintf(path, sizeof(path), "%s", pass_path ? pass_path : "build/xdp_pass.bpf.o");
	pobj = bpf_object__open_file(path, NULL);
	if (!pobj || libbpf_get_error(pobj) || bpf_object__load(pobj)) {
		fprintf(stderr, "cannot load %s (make all)\n", path);
		return 1;
	}
	pass = bpf_program__fd(bpf_object__next_program(pobj, NULL));
	bss = bpf_object__find_map_fd_by_name(obj, ".bss");
	target = bpf_object__find_map_fd_by_name(obj, "target");
	CPU_ZERO(&cs);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &cs);
	sched_setaffinity(0, sizeof(cs), &cs);
	if (build(f, n) || n[LF_SYN4] != SF_REPLAY_LEN) {
		fprintf(stderr, "bench-lists: cannot build the SYN (%d bytes)\n", n[LF_SYN4]);
		return 1;
	}
	{
		struct tcase cfg = { 0 };

		apply_case_config(&cfg);
	}
	clear_lists();
	pass_ns = syn_ns(replay, bss, target, pass, f[LF_SYN4], n[LF_SYN4], XDP_PASS);
	base = syn_ns(replay, bss, target, E.xdp, f[LF_SYN4], n[LF_SYN4], XDP_TX);
	printf("per-SYN cost of the lists (SYN -> SYN-ACK, source in no list), replay wrapper, "
	       "repeat=%d, median of %d rounds, CPU %d\n", BL_REPEAT, BL_ROUNDS, sched_getcpu());
	printf("wrapper + XDP_PASS (no synfence): %.1f ns\n\n", pass_ns);
	printf("%-10s %-9s %12s %12s %10s %12s\n", "list", "prefixes", "ns/SYN", "lists off", "delta ns",
	       "load ms");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int which = 0; which < 2; which++) {
			double ns, off;

			if (!sizes[i] && which)
				continue;
			clear_lists();
			fill(which ? allow_fd() : deny_fd(), sizes[i], &load_ms, &batched);
			/* the same run with the lists switched off (flags 0: no lookup) */
			off = syn_ns(replay, bss, target, E.xdp, f[LF_SYN4], n[LF_SYN4], XDP_TX);
			set_flags(sizes[i] ? (which ? SF_LISTS_ALLOW : SF_LISTS_DENY) : 0);
			ns = syn_ns(replay, bss, target, E.xdp, f[LF_SYN4], n[LF_SYN4], XDP_TX);
			printf("%-10s %-9zu %12.1f %12.1f %10.1f %9.1f%s\n", sizes[i] ? (which ? "allow" : "deny") : "(empty)",
			       sizes[i], ns, off, ns - off, load_ms, sizes[i] ? (batched ? " batch" : " loop") : "");
		}
	}
	/* both lists, 100k each: the SYN pays two lookups */
	clear_lists();
	fill(deny_fd(), 100000, &load_ms, &batched);
	fill(allow_fd(), 100000, &load_ms, &batched);
	set_flags(SF_LISTS_ALLOW | SF_LISTS_DENY);
	printf("%-10s %-9s %12.1f %12s %10.1f\n", "both", "2x100000",
	       syn_ns(replay, bss, target, E.xdp, f[LF_SYN4], n[LF_SYN4], XDP_TX), "-",
	       syn_ns(replay, bss, target, E.xdp, f[LF_SYN4], n[LF_SYN4], XDP_TX) - base);
	printf("\nempty lists baseline (flags 0) %.1f ns/SYN; delta = with the list's flag on minus the "
	       "same maps with it off.\n", base);
	clear_lists();
	bpf_object__close(pobj);
	bpf_object__close(obj);
	return 0;
}
