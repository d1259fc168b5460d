/* fuzz_bpf.c - packet fuzzer of the synfence XDP and TC programs through BPF_PROG_TEST_RUN.
 *
 * Every frame is run through the XDP program, then through the TC program (the handoff, with a
 * real listener on lo), and both are judged (invariants.c) against invariants and against a
 * reference model of the specification (model.c) written from the protocol rules and
 * README/include/synfence.h, sharing no code with bpf/: verdicts, counters, SYN-ACKs, TC's handoff
 * decision and its attributes, the flow cache. Cookies are checked with libsodium's SipHash
 * (tests/unit/oracle.c), checksums with RFC 1071 sums, SYN-ACKs with the checker the unit tests
 * use (tests/unit/synack.c); the test runs are tests/unit/env.c's, as the unit tests'. The frames
 * come from gen.c.
 *
 * Two entry points, one source:
 *   sf_fuzz_bpf     structure-aware generator + mutator, deterministic for a seed, bounded in time
 *                   and/or frames (CI); replays a corpus first; can save interesting frames.
 *   sf_fuzz_bpf_lf  libFuzzer (clang -fsanitize=fuzzer,address,undefined), with the same
 *                   structure-aware mutator as a custom mutator; a finding aborts.
 * An input (corpus file) is one selector byte (config/secret variant, see gen.h) + the frame.
 *
 * Must run in a network namespace of its own (it opens listeners on lo): tests/fuzz/run-in-netns.sh.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "env.h"
#include "gen.h"
#include "invariants.h"
#include "model.h"
#include "synfence.skel.h"

struct env E;

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
		len, inv_why);
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

/* The model's lists (model.c) into sf_allow and sf_deny, both flagged non-empty. */
static int setup_lists(void)
{
	struct sf_lists l = { .flags = SF_LISTS_ALLOW | SF_LISTS_DENY };
	__u32 zero = 0;

	for (int i = 0; i < n_mlists; i++) {
		const struct mlist *m = &mlists[i];
		struct sf_list_key k = { .prefixlen = (__u32)m->len };
		struct sf_list_val v = { .origin = SF_LIST_LIVE, .expires_ns = m->expired ? 1 : 0 };

		if (m->family == 4) {
			uint8_t *a = (uint8_t *)k.addr;

			k.prefixlen += 96;
			a[10] = a[11] = 0xff;
			memcpy(a + 12, m->addr, 4);
		} else {
			memcpy(k.addr, m->addr, 16);
		}
		if (bpf_map_update_elem(bpf_map__fd(m->deny ? E.skel->maps.sf_deny : E.skel->maps.sf_allow),
					&k, &v, BPF_ANY))
			return -1;
	}
	return bpf_map_update_elem(bpf_map__fd(E.skel->maps.sf_lists), &zero, &l, BPF_ANY);
}

/* The environment, with the default selector in force. 0 or -1. */
static int setup(void)
{
	if (sodium_init() < 0 || env_setup(&E, &env_fuzz_opts) || setup_lists())
		return -1;
	if (!E.cport)
		fprintf(stderr, "warning: no established connection on lo: the established path is not exercised\n");
	return sel_apply(0);
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
	if (setup())
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
		"usage: %s [--seed N] [--seconds S] [--frames N] [--corpus DIR]... [--save-corpus DIR] [--limit BURST]\n"
		"       %s --replay FILE...\n"
		"Runs the synfence XDP and TC programs through BPF_PROG_TEST_RUN on generated and\n"
		"mutated frames and checks invariants on every verdict. Replays each --corpus first.\n"
		"Stops after S seconds (default 10) or N generated frames, whichever comes first.\n"
		"Exit status: 0 no finding, 1 findings (saved under $SF_FUZZ_FINDINGS, default /tmp),\n"
		"2 setup error. Must run in its own network namespace (see tests/fuzz/run-in-netns.sh).\n",
		p, p);
}

struct args {
	uint64_t seed, max_frames;
	double seconds;
	const char *corpora[8];
	int ncorpora;
	int replay;           /* argv index of the first file to replay (0: none) */
};

/* -1: go on; else the exit status. */
static int parse_args(int argc, char **argv, struct args *o)
{
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			o->seed = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--seconds") && a + 1 < argc)
			o->seconds = strtod(argv[++a], NULL);
		else if (!strcmp(argv[a], "--frames") && a + 1 < argc)
			o->max_frames = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--corpus") && a + 1 < argc && o->ncorpora < 8)
			o->corpora[o->ncorpora++] = argv[++a];
		else if (!strcmp(argv[a], "--save-corpus") && a + 1 < argc)
			save_dir = argv[++a];
		else if (!strcmp(argv[a], "--limit") && a + 1 < argc)
			gen_limit_burst = strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--replay"))
			o->replay = a + 1;
		else if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			usage(stdout, argv[0]);
			return 0;
		} else if (!o->replay) {
			fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[a]);
			usage(stderr, argv[0]);
			return 2;
		}
		if (o->replay)
			break;
	}
	return -1;
}

/* Generated and mutated inputs until the time or the frame budget is spent. 0, or 1 on a finding. */
static int run_generated(const struct args *o, double t_end)
{
	uint8_t buf[MAX_FRAME + 2];
	struct rng g = { o->seed };
	uint64_t i;
	int bad = 0;

	if (save_dir)
		mkdir(save_dir, 0755);
	for (i = 0; i < o->max_frames; i++) {
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
	return bad;
}

int main(int argc, char **argv)
{
	struct args o = { .seed = 1, .max_frames = UINT64_MAX, .seconds = 10 };
	uint64_t corpus_n = 0;
	int a, bad = 0, rc;
	double t0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (setup())
		return 2;
	t0 = now_s();
	if (o.replay) {
		for (a = o.replay; a < argc; a++)
			bad |= replay_file(argv[a], &corpus_n);
		print_stats(now_s() - t0, corpus_n, 0);
		env_close(&E);
		return bad ? 1 : 0;
	}
	for (a = 0; a < o.ncorpora; a++)
		bad |= replay_dir(o.corpora[a], &corpus_n);
	bad |= run_generated(&o, t0 + o.seconds);
	print_stats(now_s() - t0, corpus_n, o.seed);
	env_close(&E);
	return bad ? 1 : 0;
}
#endif
