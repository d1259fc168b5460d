/* bench_sample.c - `test_xdp --bench-sampling`: what packet sampling costs XDP's paths, side by side
 * in one run: the program built without the sampling code (the baseline), the real one with
 * sampling off, on at 1 in 1 and on at 1 in 64 (a thread on the other CPU drains the ring), and
 * the trivial program; ns/packet from the kernel's test-run timer, median of ROUNDS rounds.
 * --check (37-sampling): shorter rounds, and each path's "off" must stay within OFF_RATIO x "no code"
 * + OFF_SLACK_NS: sampling off costs nothing measurable. A ratio of two programs run side by side,
 * not a timing; the layout of two builds differs by a few ns either way. One retry of the whole run
 * before a failure counts: a noisy neighbour must not fail it. */
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "cases.h"
#include "env.h"
#include "synfence.skel.h"

#define ROUNDS 7
#define CALLS 100000
#define REPEAT 1000000
#define CHECK_DIV 5         /* --check: CALLS and REPEAT divided by this */
#define OFF_RATIO 1.15
#define OFF_SLACK_NS 5.0
#define VARIANT_OBJ "synfence_nosample.bpf.o"

/* The columns: what runs a path. */
enum { C_TRIVIAL, C_NOCODE, C_OFF, C_ON1, C_ON64, C_N };
static const char *const col_names[C_N] = { "trivial", "no code", "off", "on 1/1", "on 1/64" };

static const struct spath {
	const char *name;
	int frame;
	unsigned want;
	int loop; /* repeat=1 calls (the SYN becomes a SYN-ACK), else one repeat=1M call */
} spaths[] = {
	{ "SYN -> SYN-ACK", BF_SYN, XDP_TX, 1 },
	{ "valid ACK", BF_VACK, XDP_PASS, 0 },
	{ "forged ACK", BF_FACK, XDP_DROP, 0 },
	{ "established", BF_EST, XDP_PASS, 0 },
	{ "unprotected", BF_UNP, XDP_PASS, 0 },
};
#define NSPATHS (sizeof(spaths) / sizeof(spaths[0]))

struct sbench {
	struct bpf_object *pass_obj, *variant_obj;
	int prog[C_N];
	uint8_t f[BF_N][PKT_MAX];
	int n[BF_N];
	double res[NSPATHS][C_N][ROUNDS];
	uint64_t lost[NSPATHS], taken[NSPATHS];
	struct xrun r;
	atomic_int stop;
	int calls, repeat; /* CALLS, REPEAT (smaller with --check) */
};

/* The variant without the sampling code, on the unit tests' maps (the same config, secrets, ports,
 * flows), its internal maps its own. The fd of its XDP program, or -1. */
static int variant_load(struct sbench *b, const char *dir)
{
	char path[PATH_MAX];
	struct bpf_program *pg;
	struct bpf_map *m;

	snprintf(path, sizeof(path), "%s/%s", dir, VARIANT_OBJ);
	b->variant_obj = bpf_object__open_file(path, NULL);
	if (libbpf_get_error(b->variant_obj)) {
		b->variant_obj = NULL;
		fprintf(stderr, "cannot open %s (build it: make)\n", path);
		return -1;
	}
	bpf_object__for_each_map(m, b->variant_obj) {
		struct bpf_map *em = bpf_object__find_map_by_name(E.skel->obj, bpf_map__name(m));

		if (!bpf_map__is_internal(m) && em && bpf_map__reuse_fd(m, bpf_map__fd(em)))
			return -1;
	}
	if (bpf_object__load(b->variant_obj)) {
		fprintf(stderr, "cannot load %s\n", path);
		return -1;
	}
	pg = bpf_object__find_program_by_name(b->variant_obj, "synfence_xdp");
	return pg ? bpf_program__fd(pg) : -1;
}

static int ctl_write(__u32 on, __u32 every)
{
	struct sf_sample_ctl c = { .on = on, .every = { every, every, every }, .per_cpu_sec = ~0u };
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(E.skel->maps.sf_sample_ctl), &zero, &c, BPF_ANY);
}

static int discard(void *ctx, void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

/* The reader a holder would be: drains the ring on another CPU until stop. */
static void *drain(void *arg)
{
	struct sbench *b = arg;
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(E.skel->maps.sf_samples), discard, NULL, NULL);

	while (rb && !atomic_load(&b->stop))
		ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return NULL;
}

/* ns/packet of path i run by column c (its verdict checked). */
static double measure(struct sbench *b, size_t i, int c)
{
	const struct spath *p = &spaths[i];
	unsigned want = c == C_TRIVIAL ? XDP_PASS : p->want;
	double ksum = 0;

	ctl_write(c >= C_ON1, c == C_ON64 ? 64 : 1);
	if (!p->loop) {
		env_run_xdp(b->prog[c], b->f[p->frame], b->n[p->frame], &b->r, b->repeat);
		ksum = b->r.duration;
	} else {
		for (int k = 0; k < b->calls; k++) {
			env_run_xdp(b->prog[c], b->f[p->frame], b->n[p->frame], &b->r, 1);
			ksum += b->r.duration;
			if (b->r.err || b->r.ret != want)
				break;
		}
		ksum /= b->calls;
	}
	ctl_write(0, 1);
	if (b->r.err || b->r.ret != want) {
		fprintf(stderr, "bench: '%s' (%s) returned %u (err %d), expected %u\n", p->name,
			col_names[c], b->r.ret, b->r.err, want);
		return -1;
	}
	return ksum;
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(double), bench_cmp_dbl);
	return v[ROUNDS / 2];
}

static void print_table(struct sbench *b)
{
	printf("\nsampling micro-benchmark: bpf_prog_test_run_opts on CPU %d, median of %d rounds, "
	       "ns/pkt (kernel timer)\n\n%-15s", sched_getcpu(), ROUNDS, "path");
	for (int c = 0; c < C_N; c++)
		printf(" %9s", col_names[c]);
	printf(" %9s %9s %9s %9s\n", "off-nocode", "off/nocode", "on1/off", "on64/off");
	for (size_t i = 0; i < NSPATHS; i++) {
		double m[C_N];

		for (int c = 0; c < C_N; c++)
			m[c] = median(b->res[i][c]);
		printf("%-15s", spaths[i].name);
		for (int c = 0; c < C_N; c++)
			printf(" %9.1f", m[c]);
		printf(" %10.1f %10.3f %9.2f %9.2f\n", m[C_OFF] - m[C_NOCODE], m[C_OFF] / m[C_NOCODE],
		       m[C_ON1] / m[C_OFF], m[C_ON64] / m[C_OFF]);
	}
	printf("\nno code: the same source built without the sampling code (SF_BENCH_NO_SAMPLING), "
	       "on the same maps;\noff: the real program, sf_sample_ctl.on = 0; on: every = 1 or 64 "
	       "for each class, cap 2^32-1/s,\na thread on another CPU draining the ring. SYN: "
	       "repeat=1 calls (%d a round), the others repeat=%d.\n", b->calls, b->repeat);
	for (size_t i = 0; i < NSPATHS; i++)
		printf("%s: samples taken %llu, lost (ring full) %llu while on\n", spaths[i].name,
		       (unsigned long long)b->taken[i], (unsigned long long)b->lost[i]);
}

/* --check: sampling off within OFF_RATIO x no code + OFF_SLACK_NS on every path? How many paths are
 * not. Printed (ok/FAIL a line, as the test suites print their checks) when all are, or when last. */
static int check_off(struct sbench *b, int last)
{
	double nocode[NSPATHS], off[NSPATHS];
	int bad = 0;

	for (size_t i = 0; i < NSPATHS; i++) {
		nocode[i] = median(b->res[i][C_NOCODE]);
		off[i] = median(b->res[i][C_OFF]);
		bad += off[i] > nocode[i] * OFF_RATIO + OFF_SLACK_NS;
	}
	for (size_t i = 0; i < NSPATHS && (!bad || last); i++)
		printf("%s sampling off, %s: %.1f ns/pkt vs %.1f without the code (at most %.2f x + %.0f ns)\n",
		       off[i] <= nocode[i] * OFF_RATIO + OFF_SLACK_NS ? "ok  " : "FAIL", spaths[i].name,
		       off[i], nocode[i], OFF_RATIO, OFF_SLACK_NS);
	return bad;
}

static int run_rounds(struct sbench *b)
{
	uint64_t b4[SF_CNT_MAX], af[SF_CNT_MAX];

	for (int k = 0; k < ROUNDS; k++) {
		for (size_t i = 0; i < NSPATHS; i++) {
			for (int c = 0; c < C_N; c++) {
				env_counters(&E, b4);
				if ((b->res[i][c][k] = measure(b, i, c)) < 0)
					return -1;
				env_counters(&E, af);
				b->lost[i] += af[SF_CNT_sample_lost] - b4[SF_CNT_sample_lost];
				for (int t = SF_CNT_sample_tx; t <= SF_CNT_sample_pass; t++)
					b->taken[i] += af[t] - b4[t];
			}
		}
	}
	return 0;
}

static int sbench_run(struct sbench *b, const char *dir, int check)
{
	pthread_t th;
	cpu_set_t cs;
	int cpu = sched_getcpu() < 0 ? 0 : sched_getcpu(), rc;

	b->prog[C_OFF] = b->prog[C_ON1] = b->prog[C_ON64] = E.xdp;
	if ((b->prog[C_NOCODE] = variant_load(b, dir)) < 0 || bench_build_frames(b->f, b->n))
		return 1;
	CPU_ZERO(&cs);
	CPU_SET(cpu, &cs);
	sched_setaffinity(0, sizeof(cs), &cs);
	if (pthread_create(&th, NULL, drain, b))
		return 1;
	CPU_ZERO(&cs);
	CPU_SET(cpu ? 0 : 1, &cs);
	pthread_setaffinity_np(th, sizeof(cs), &cs);
	rc = run_rounds(b);
	if (!rc && check && check_off(b, 0)) {
		printf("sampling off: a path over the bound; measuring again\n");
		rc = run_rounds(b) || check_off(b, 1);
	}
	atomic_store(&b->stop, 1);
	pthread_join(th, NULL);
	if (!rc || check)
		print_table(b);
	return rc ? 1 : 0;
}

int bench_sampling(const char *pass_path, const char *argv0, int check)
{
	struct sbench *b = calloc(1, sizeof(*b));
	char path[PATH_MAX], dir[PATH_MAX];
	int rc = 1;

	if (!b)
		return 1;
	b->calls = check ? CALLS / CHECK_DIV : CALLS;
	b->repeat = check ? REPEAT / CHECK_DIV : REPEAT;
	pass_path = bench_pass_obj_path(pass_path, argv0, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s", pass_path);
	b->prog[C_TRIVIAL] = bench_load_prog(NULL, pass_path, NULL, "make, or pass --pass-obj PATH",
					     &b->pass_obj);
	if (b->prog[C_TRIVIAL] >= 0)
		rc = sbench_run(b, dirname(dir), check);
	bpf_object__close(b->variant_obj);
	bpf_object__close(b->pass_obj);
	free(b);
	return rc;
}
