/* bench.h - `test_xdp --bench`: ns/packet of synfence's paths through BPF_PROG_TEST_RUN, next to a
 * trivial program measured the same way. */
#ifndef SF_TEST_BENCH_H
#define SF_TEST_BENCH_H

#include <stdint.h>

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

/* CLOCK_MONOTONIC in ns; qsort order of doubles (shared with lists.c's --bench-lists). */
double bench_now_ns(void);
int bench_cmp_dbl(const void *a, const void *b);

#endif
