/* sample.h - packet sampling (bpf/sample.h) in test runs: what a ring record holds, the filters,
 * the per-CPU cap, a full ring; run by test_xdp. */
#ifndef SF_TEST_SAMPLE_H
#define SF_TEST_SAMPLE_H

/* The checks: each reported through report (name, why: "" when it passed). */
void sample_unit(void (*report)(const char *name, const char *why, const char *note));

#endif
