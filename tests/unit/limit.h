/* limit.h - test_xdp's cases of the per-source SYN limits (bpf/limit.h): sequences of SYNs, which
 * the one-frame case table cannot express. */
#ifndef SF_TEST_LIMIT_H
#define SF_TEST_LIMIT_H

/* Run the limiter cases whose name selected() accepts; report(name, why) for each (why NULL:
 * passed). */
void run_limit_cases(int (*selected)(const char *name), void (*report)(const char *name, const char *why));

#endif
