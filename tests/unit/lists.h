/* lists.h - the allow and deny lists in test runs: unit checks (run by test_xdp) and
 * `test_xdp --bench-lists` (per-SYN cost by list size, load time of 100k prefixes). */
#ifndef SF_TEST_LISTS_H
#define SF_TEST_LISTS_H

/* The checks: each reported through report (name, why: "" when it passed). */
void lists_unit(void (*report)(const char *name, const char *why, const char *note));
/* The benchmark; the exit status. */
int lists_bench(const char *pass_path, const char *argv0);

#endif
