/* bench.h - `test_xdp --bench`: ns/packet of synfence's paths through BPF_PROG_TEST_RUN, next to a
 * trivial program measured the same way. */
#ifndef SF_TEST_BENCH_H
#define SF_TEST_BENCH_H

/* pass_path: the trivial XDP program (NULL: xdp_pass.bpf.o next to this executable, else build/);
 * the replay wrapper, the SYN-ACK floor and the trivial TC program are looked for next to it.
 * Prints the table; returns the exit status. */
int bench(const char *pass_path, const char *argv0);

#endif
