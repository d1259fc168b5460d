/* bench.c - see bench.h. */
#include <errno.h>
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

#define ROUNDS 7
#define CALLS 100000
#define REPEAT 1000000

double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int bench_cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct bres {
	double kern;      /* ns per packet from the kernel's own timer (duration) */
	double wall;      /* ns per bpf_prog_test_run_opts call, wall clock */
	unsigned bad;     /* runs with an unexpected verdict or output */
};

typedef int (*run_prog_fn)(int prog, const uint8_t *in, int len, struct xrun *r, int repeat);

/* repeat=1 calls: the frame is fresh every call. Average of the kernel-reported durations. */
static void bench_loop1(run_prog_fn run_prog, int prog, const uint8_t *in, int len, unsigned want,
			int calls, struct bres *b, struct xrun *r)
{
	double t0, ksum = 0;
	int i;

	b->bad = 0;
	t0 = bench_now_ns();
	for (i = 0; i < calls; i++) {
		run_prog(prog, in, len, r, 1);
		ksum += r->duration;
		if (r->err || r->ret != want)
			b->bad++;
	}
	b->wall = (bench_now_ns() - t0) / calls;
	b->kern = ksum / calls;
}

/* One call with a large repeat: for paths that leave the frame unchanged (same_frame: checked), or
 * through the replay wrapper, which restores or cleans the frame before every iteration. */
static void bench_bulk(run_prog_fn run_prog, int prog, const uint8_t *in, int len, unsigned want,
		       int repeat, int same_frame, struct bres *b, struct xrun *r)
{
	double t0 = bench_now_ns();

	run_prog(prog, in, len, r, repeat);
	b->wall = (bench_now_ns() - t0) / repeat;
	b->kern = r->duration;
	b->bad = r->err || r->ret != want || r->framelen != len ||
		 (same_frame && memcmp(r->frame, in, (size_t)len));
}


/* The programs besides synfence's. */
struct progs {
	struct bpf_object *pass_obj, *obj, *floor_obj, *tc_pass_obj;
	int pass;    /* the trivial XDP program (xdp_pass.bpf.o) */
	int replay, target, bss; /* the replay wrapper, its tail-call map and its .bss */
	int floor;   /* the bench's minimal SYN -> SYN-ACK program (tests/bpf/sf_synack_floor.bpf.c) */
	int tc_pass; /* the trivial TC program (tests/bpf/sf_tc_pass.bpf.c) */
};

/* see bench.h */
int bench_load_prog(const char *dir, const char *file, const char *prog, const char *hint,
		    struct bpf_object **obj)
{
	char path[PATH_MAX];
	struct bpf_program *pg;

	snprintf(path, sizeof(path), "%s%s%s", dir ? dir : "", dir ? "/" : "", file);
	*obj = bpf_object__open_file(path, NULL);
	if (!*obj || libbpf_get_error(*obj) || bpf_object__load(*obj)) {
		if (*obj && libbpf_get_error(*obj))
			*obj = NULL;
		fprintf(stderr, "cannot load %s (build it: %s)\n", path, hint);
		return -1;
	}
	pg = prog ? bpf_object__find_program_by_name(*obj, prog) : bpf_object__next_program(*obj, NULL);
	return pg ? bpf_program__fd(pg) : -1;
}

static int progs_open(struct progs *p, const char *pass_path)
{
	char dir[PATH_MAX];
	const char *d;

	p->pass = bench_load_prog(NULL, pass_path, NULL, "make BUILD=<dir> <dir>/xdp_pass.bpf.o, or pass "
			    "--pass-obj PATH", &p->pass_obj);
	if (p->pass < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s", pass_path);
	d = dirname(dir);
	p->replay = bench_load_prog(d, "sf_replay.bpf.o", "sf_replay", "make BUILD=<dir> <dir>/sf_replay.bpf.o",
			      &p->obj);
	if (p->replay < 0)
		return -1;
	p->target = bpf_object__find_map_fd_by_name(p->obj, "target");
	p->bss = bpf_object__find_map_fd_by_name(p->obj, ".bss");
	p->floor = bench_load_prog(d, "sf_synack_floor.bpf.o", "sf_synack_floor", "make BUILD=<dir> all",
			     &p->floor_obj);
	if (p->floor < 0)
		return -1;
	p->tc_pass = bench_load_prog(d, "sf_tc_pass.bpf.o", "sf_tc_pass", "make BUILD=<dir> all",
			       &p->tc_pass_obj);
	return p->target < 0 || p->bss < 0 || p->tc_pass < 0 ? -1 : 0;
}

static void progs_close(struct progs *p)
{
	bpf_object__close(p->tc_pass_obj);
	bpf_object__close(p->floor_obj);
	bpf_object__close(p->obj);
	bpf_object__close(p->pass_obj);
}

/* Points the wrapper at prog; with a SF_REPLAY_LEN-byte tmpl, restores it every iteration. */
static int replay_set(const struct progs *p, int prog, const uint8_t *tmpl, int len)
{
	struct replay_cfg c = { .restore = tmpl != NULL };
	uint32_t zero = 0;

	if (tmpl) {
		if (len != SF_REPLAY_LEN)
			return -1;
		memcpy(c.tmpl, tmpl, SF_REPLAY_LEN);
	}
	if (bpf_map_update_elem(p->bss, &zero, &c, BPF_ANY) ||
	    bpf_map_update_elem(p->target, &zero, &prog, BPF_ANY))
		return -1;
	return 0;
}

/* The limiter (bpf/limit.h) during a path: off (the default config), on with a rate no replay
 * reaches (every SYN counted and answered), on with 1/s burst 1 (every SYN limited, dropped). */
enum { LIM_OFF, LIM_PASS, LIM_DROP };

/* How a path is measured. */
enum { M_LOOP,   /* repeat=1 loop */
       M_BULK,   /* repeat=1M */
       M_REPLAY, /* repeat=1M through the replay wrapper */
       M_FLOOR,  /* the same with the floor program in synfence's place */
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers" /* calm: 0 unless given */
static const struct bpath {
	const char *name, *method;
	int frame;
	unsigned want;
	int how;  /* M_* */
	int tc;   /* the TC program (baseline: the trivial TC program) */
	int lim;  /* the per-source SYN limiter: LIM_OFF, LIM_PASS (on, under the rate), LIM_DROP */
	int calm; /* engage = auto, the interface calm (sf_config.calm_slots) while measured */
} paths[] = {
	{ "SYN -> SYN-ACK", "repeat=1 loop", BF_SYN, XDP_TX, M_LOOP, 0, LIM_OFF },
	{ "valid ACK", "repeat=1 loop", BF_VACK, XDP_PASS, M_LOOP, 0, LIM_OFF },
	{ "forged ACK", "repeat=1 loop", BF_FACK, XDP_DROP, M_LOOP, 0, LIM_OFF },
	{ "established", "repeat=1 loop", BF_EST, XDP_PASS, M_LOOP, 0, LIM_OFF },
	{ "forged ACK", "repeat=1M", BF_FACK, XDP_DROP, M_BULK, 0, LIM_OFF },
	{ "established", "repeat=1M", BF_EST, XDP_PASS, M_BULK, 0, LIM_OFF },
	{ "unprotected", "repeat=1 loop", BF_UNP, XDP_PASS, M_LOOP, 0, LIM_OFF },
	{ "unprotected", "repeat=1M", BF_UNP, XDP_PASS, M_BULK, 0, LIM_OFF },
	{ "SYN -> SYN-ACK", "replay 1M", BF_SYN, XDP_TX, M_REPLAY, 0, LIM_OFF },
	{ "valid ACK", "repeat=1M", BF_VACK, XDP_PASS, M_BULK, 0, LIM_OFF },
	/* not synfence: the floor program in synfence's place, for the SYN row above */
	{ "SYN-ACK floor", "replay 1M", BF_FSYN, XDP_TX, M_FLOOR, 0, LIM_OFF },
	/* TC ingress after XDP: the same frames (established: cached by the XDP runs before) */
	{ "TC established", "repeat=1M", BF_EST, ENV_TC_VERDICT, M_BULK, 1, LIM_OFF },
	{ "TC unprotected", "repeat=1M", BF_UNP, ENV_TC_VERDICT, M_BULK, 1, LIM_OFF },
	{ "TC valid ACK", "repeat=1M", BF_VACK, ENV_TC_VERDICT, M_BULK, 1, LIM_OFF },
	/* per-source SYN limits on: the same SYN (one source, cells in cache), for the rows
	 * SYN -> SYN-ACK above (off) */
	{ "SYN limit on", "repeat=1 loop", BF_SYN, XDP_TX, M_LOOP, 0, LIM_PASS },
	{ "SYN limit on", "replay 1M", BF_SYN, XDP_TX, M_REPLAY, 0, LIM_PASS },
	{ "SYN limited", "repeat=1M", BF_SYN, XDP_DROP, M_BULK, 0, LIM_DROP },
	/* engage = auto, calm: the SYN passes to the kernel (syn_pass_calm) */
	{ "SYN calm", "repeat=1M", BF_SYN, XDP_PASS, M_BULK, 0, LIM_OFF, 1 },
};
#pragma GCC diagnostic pop
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

struct bench {
	struct progs p;
	uint8_t f[BF_N][PKT_MAX];
	int n[BF_N];
	double res[NPATHS][2][ROUNDS], walls[NPATHS][2][ROUNDS];
	unsigned bad[NPATHS][2];
	struct xrun r;
	struct sf_config cfg_off; /* the default config (limiter off) */
};

/* The config of a path's limiter. */
static void lim_set(const struct bench *b, int lim)
{
	static const __u64 seed[2] = { 0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full };
	struct sf_config c = b->cfg_off;

	if (lim == LIM_PASS)
		sf_limit_fill(&c, 10000000, 1000000, 32, 64, seed);
	else if (lim == LIM_DROP)
		sf_limit_fill(&c, 1, 1, 32, 64, seed);
	if (env_set(&E, &c, &E.sec_now))
		exit(1);
}

/* lim_set, and for LIM_DROP one SYN that takes the burst of 1, so that every SYN after it is
 * limited (uses b->r). */
static void lim_prime(struct bench *b, int lim)
{
	lim_set(b, lim);
	if (lim == LIM_DROP)
		env_run_xdp(E.xdp, b->f[BF_SYN], b->n[BF_SYN], &b->r, 1);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
int bench_build_frames(uint8_t f[BF_N][PKT_MAX], int n[BF_N])
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
	struct sf_handoff_attrs m;
	char why[1024] = "";

	apply_case_config(&va);
	spec_fixup(&s);
	n[BF_SYN] = pkt_build(&s, f[BF_SYN], PKT_MAX);
	n[BF_VACK] = build_ack(&va, f[BF_VACK], &m, why, sizeof(why));
	n[BF_FACK] = build_ack(&fa, f[BF_FACK], &m, why, sizeof(why));
	n[BF_EST] = build_frame(&es, f[BF_EST]);
	n[BF_UNP] = pkt_build(&u, f[BF_UNP], PKT_MAX);
	spec_fixup(&fs);
	n[BF_FSYN] = pkt_build(&fs, f[BF_FSYN], PKT_MAX);
	for (int i = 0; i < BF_N; i++)
		if (n[i] <= 0)
			return -1;
	return 0;
}
#pragma GCC diagnostic pop

/* The program of a path: synfence's (or the floor) in column 0, the trivial one in column 1. */
static int path_prog(const struct bench *b, const struct bpath *p, int trivial)
{
	if (trivial)
		return p->tc ? b->p.tc_pass : b->p.pass;
	return p->tc ? E.tc : p->how == M_FLOOR ? b->p.floor : E.xdp;
}

/* The config of path p: the default (the valid ACK's), with the test interface calm for p->calm. */
static void path_config(const struct bpath *p)
{
	struct tcase c;

	memset(&c, 0, sizeof(c));
	c.scen = S_ACK;
	c.calm_slots = p->calm ? 1ull << ENV_SLOT : 0;
	apply_case_config(&c);
}

/* Sanity: each path does what it should, once. */
static int check_paths(struct bench *b)
{
	size_t i;

	for (i = 0; i < NPATHS; i++) {
		const struct bpath *p = &paths[i];

		lim_prime(b, p->lim);
		if (p->calm)
			path_config(p);
		(p->tc ? env_run_tc : env_run_xdp)(path_prog(b, p, 0), b->f[p->frame], b->n[p->frame],
						   &b->r, 1);
		if (p->calm)
			path_config(&paths[0]);
		if (b->r.err || b->r.ret != p->want) {
			fprintf(stderr, "bench: path '%s' returned %u (err %d), expected %u\n", p->name,
				b->r.ret, b->r.err, p->want);
			return -1;
		}
	}
	return 0;
}

/* What repeat > 1 does on the paths that need care. */
static void print_repeat_notes(struct bench *b)
{
	const uint8_t *vack = b->f[BF_VACK];
	int nvack = b->n[BF_VACK];
	uint64_t b4[SF_CNT_MAX], af[SF_CNT_MAX];

	env_counters(&E, b4);
	env_run_tc(E.tc, vack, nvack, &b->r, 2);
	env_counters(&E, af);
	printf("note: TC valid ACK with repeat=2: handoff attempts %+lld (the kfunc refuses them "
	       "with EINVAL outside TC ingress: %+lld), frame %s\n",
	       (long long)(af[SF_CNT_handoff_err] - b4[SF_CNT_handoff_err]),
	       (long long)(af[SF_CNT_handoff_err_einval] - b4[SF_CNT_handoff_err_einval]),
	       b->r.framelen == nvack && !memcmp(b->r.frame, vack, (size_t)nvack) ? "unchanged"
										 : "changed");
	env_run_xdp(E.xdp, b->f[BF_SYN], b->n[BF_SYN], &b->r, 2);
	printf("note: SYN with repeat=2: %s (iteration 2 ran on the SYN-ACK of iteration 1)\n",
	       env_verdict_name(b->r.ret));
}

/* One measurement of path i, column j (0: synfence, 1: the trivial program), round k. */
static int measure(struct bench *b, size_t i, int j, int k)
{
	const struct bpath *p = &paths[i];
	const uint8_t *f = b->f[p->frame];
	int n = b->n[p->frame], prog = path_prog(b, p, j);
	unsigned want = j ? (p->tc ? ENV_TC_VERDICT : XDP_PASS) : p->want;
	run_prog_fn run_prog = p->tc ? env_run_tc : env_run_xdp;
	struct bres r;

	lim_prime(b, j ? LIM_OFF : p->lim);
	if (p->calm)
		path_config(p);
	if (p->how >= M_REPLAY) {
		if (replay_set(&b->p, prog, p->want == XDP_TX ? f : NULL, n)) {
			fprintf(stderr, "bench: cannot set up the replay wrapper for '%s'\n", p->name);
			return -1;
		}
		bench_bulk(run_prog, b->p.replay, f, n, want, REPEAT, 0, &r, &b->r);
	} else if (p->how == M_BULK) {
		bench_bulk(run_prog, prog, f, n, want, REPEAT, 1, &r, &b->r);
	} else {
		bench_loop1(run_prog, prog, f, n, want, CALLS, &r, &b->r);
	}
	if (p->calm)
		path_config(&paths[0]);
	b->res[i][j][k] = r.kern;
	b->walls[i][j][k] = r.wall;
	b->bad[i][j] += r.bad;
	return 0;
}

static void print_table(struct bench *b)
{
	size_t i;

	printf("\nmicro-benchmark: bpf_prog_test_run_opts on CPU %d, median of %d rounds; ns/pkt from "
	       "the kernel's test-run timer\n", sched_getcpu(), ROUNDS);
	printf("(repeat=1 loop: %d calls per round, averaged kernel duration of each call; repeat=1M: "
	       "one call of %d iterations per round)\n\n", CALLS, REPEAT);
	printf("%-16s %-14s %9s %15s %9s %7s %14s\n", "path", "method", "ns/pkt", "trivial ns/pkt",
	       "net ns", "ratio", "wall ns/call");
	for (i = 0; i < NPATHS; i++) {
		double a, p, w;

		qsort(b->res[i][0], ROUNDS, sizeof(double), bench_cmp_dbl);
		qsort(b->res[i][1], ROUNDS, sizeof(double), bench_cmp_dbl);
		qsort(b->walls[i][0], ROUNDS, sizeof(double), bench_cmp_dbl);
		a = b->res[i][0][ROUNDS / 2];
		p = b->res[i][1][ROUNDS / 2];
		w = b->walls[i][0][ROUNDS / 2];
		printf("%-16s %-14s %9.1f %15.1f %9.1f %7.2f %14.1f%s\n", paths[i].name,
		       paths[i].method, a, p, a - p, p > 0 ? a / p : 0.0, w,
		       b->bad[i][0] || b->bad[i][1] ? "  (unexpected verdicts!)" : "");
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
}

/* see bench.h */
const char *bench_pass_obj_path(const char *pass_path, const char *argv0, char *path, size_t n)
{
	char exe[PATH_MAX];
	ssize_t el;

	if (pass_path)
		return pass_path;
	el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (el > 0) {
		exe[el] = 0;
		snprintf(path, n, "%s/xdp_pass.bpf.o", dirname(exe));
	} else {
		snprintf(path, n, "%s", argv0);
	}
	if (access(path, R_OK))
		snprintf(path, n, "build/xdp_pass.bpf.o");
	return path;
}

static int bench_run(struct bench *b)
{
	cpu_set_t cs;
	size_t i;
	int j, k;

	if (!E.cport) {
		fprintf(stderr, "no established connection on lo for the established path\n");
		return 1;
	}
	CPU_ZERO(&cs);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &cs);
	sched_setaffinity(0, sizeof(cs), &cs);
	bench_build_frames(b->f, b->n); /* (a frame that failed shows in check_paths) */
	b->cfg_off = E.cfg_now;
	if (check_paths(b))
		return 1;
	print_repeat_notes(b);
	for (k = 0; k < ROUNDS; k++)
		for (i = 0; i < NPATHS; i++)
			for (j = 0; j < 2; j++)
				if (measure(b, i, j, k))
					return 1;
	print_table(b);
	return 0;
}

int bench(const char *pass_path, const char *argv0)
{
	char path[PATH_MAX];
	struct bench *b = calloc(1, sizeof(*b));
	int rc = 1;

	if (!b)
		return 1;
	pass_path = bench_pass_obj_path(pass_path, argv0, path, sizeof(path));
	if (progs_open(&b->p, pass_path) == 0)
		rc = bench_run(b);
	progs_close(&b->p);
	free(b);
	return rc;
}
