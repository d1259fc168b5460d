/* expect.h - test_xdp's expectations: what a run of a case must have done (verdict, counter deltas,
 * the frame passed up untouched, the SYN-ACK the oracle predicts, TC's handoff decision), each
 * appending its reasons to why. */
#ifndef SF_TEST_EXPECT_H
#define SF_TEST_EXPECT_H

#include <stddef.h>
#include <stdint.h>

#include "cases.h"
#include "env.h"
#include "synack.h"

/* Parse our own SYN frame and derive the SYN-ACK it must get under the config in force, cookie
 * made in epoch. 0, or -1 with a reason. */
int syn_expect(const uint8_t *syn, int len, uint32_t epoch, struct synack_expect *x, char *why,
	       size_t wl);
/* Judge a SYN-ACK (r->frame) against the SYN and the oracle. */
void check_synack(const struct synack_expect *x, const struct xrun *r, char *why, size_t wl);
/* The frame passed up must be the input, byte for byte, with nothing in front of it. */
void check_unchanged(const uint8_t *in, int len, const struct xrun *r, char *why, size_t wl);
/* A TC run: TC_ACT_UNSPEC, the frame untouched, and exactly the TC counters in want[] (NULL: none);
 * a handoff attempted with m's attributes (m != NULL), or none. */
void check_tc_run(const uint8_t *in, int len, const struct xrun *t, const int64_t *want,
		  const struct sf_handoff_attrs *m, char *why, size_t wl);
/* Runs a frame through TC and checks it: handed off with m's attributes (m != NULL), or left
 * alone, nothing counted. */
void check_tc(const uint8_t *in, int len, const struct sf_handoff_attrs *m, char *why, size_t wl);
/* The counter deltas d are the case's (but for its dontcare ones). */
void check_counters(const struct tcase *tc, const int64_t *d, char *why, size_t wl);
/* The run succeeded with one of the verdicts in allowed (a mask of 1 << XDP_*). */
void check_verdict(unsigned allowed, const struct xrun *r, char *why, size_t wl);
/* The checks that depend on the verdict actually returned: a passed frame is untouched and then
 * judged by TC (m: the handoff a valid cookie ACK gets), a SYN-ACK is the oracle's. */
void check_output(const struct tcase *tc, const uint8_t *in, int len, const struct xrun *r,
		  const struct sf_handoff_attrs *m, char *why, size_t wl);

#endif
