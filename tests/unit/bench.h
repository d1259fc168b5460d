/* bench.h - `test_xdp --bench`: ns/packet of synfence's paths through BPF_PROG_TEST_RUN, next to a
 * trivial program measured the same way. */
#ifndef SF_TEST_BENCH_H
#define SF_TEST_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h" /* PKT_MAX */

/* pass_path: the trivial XDP program (NULL: xdp_pass.bpf.o next to this executable, else build/);
 * the replay wrapper, the SYN-ACK floor and the trivial TC program are looked for next to it.
 * Prints the table; returns the exit status. */
int bench(const char *pass_path, const char *argv0);

/* The replay wrapper (tests/bpf/sf_replay.bpf.c) and the configuration of its .bss. */
#define SF_REPLAY_LEN 74
struct replay_cfg {
	uint32_t restore;
	uint8_t tmpl[SF_REPLAY_LEN];
};

/* Load the object file (in dir, if given); the fd of its program prog (NULL: the first), or -1
 * with a message naming hint (how to build it). */
struct bpf_object;
int bench_load_prog(const char *dir, const char *file, const char *prog, const char *hint,
		    struct bpf_object **obj);
/* The trivial program's object: pass_path, else next to this executable, else build/. */
const char *bench_pass_obj_path(const char *pass_path, const char *argv0, char *path, size_t n);

/* The frames the benchmarks run: a SYN to the protected port, the valid ACK of its cookie, a forged
 * ACK (a cookie bit flipped), a segment of an established connection, a data segment to a port
 * synfence does not protect, and the SYN to the port the SYN-ACK floor answers. */
enum { BF_SYN, BF_VACK, BF_FACK, BF_EST, BF_UNP, BF_FSYN, BF_N };
/* Builds them into f[i] (n[i]: the length), under the valid ACK's config (applied). 0, or -1 when
 * one could not be built (its n[i] <= 0). */
int bench_build_frames(uint8_t f[BF_N][PKT_MAX], int n[BF_N]);

/* `test_xdp --bench-sampling`: what packet sampling costs (bench_sample.c). check: shorter rounds,
 * and the exit status says whether sampling off costs nothing measurable on every path. */
int bench_sampling(const char *pass_path, const char *argv0, int check);

/* CLOCK_MONOTONIC in ns; qsort order of doubles (shared with lists.c's --bench-lists). */
double bench_now_ns(void);
int bench_cmp_dbl(const void *a, const void *b);

#endif
