/* lib/sample.h - holding XDP's packet sampling (capture, top): claim the switch, read samples, let go. */
#ifndef SF_SAMPLE_H
#define SF_SAMPLE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>

#include "synfence.h"

/* What a holder asks for (struct sf_sample_ctl without the owner). */
struct sf_sample_req {
	__u32 every[SF_VC_MAX]; /* 1 in every[c] packets of class c (1: each; 0: none of that class) */
	__u32 ifindex;          /* 0: any interface */
	__u32 per_cpu_sec;      /* the per-CPU per-second cap, >= 1 */
	__u64 reasons;          /* bit 1 << r: only verdicts with reason counter r (0: any) */
};

struct sf_sampler;

/* Claim sampling in the pin dir of a running synfence and switch it on with req: samples a
 * previous holder left in the ring are discarded first. -ENOENT: no synfence there (its maps are not
 * pinned); -EBUSY: another live process holds sampling (err names it: "sampling is in use by
 * pid N (synfence capture)"); -EPERM: not root. err gets a one-line message. */
int sf_sampler_open(const char *pin_dir, const struct sf_sample_req *req, struct sf_sampler **out,
		    char *err, size_t errlen);

/* Wait up to timeout_ms for samples and call fn for each (fn returns non-zero to stop early).
 * Returns how many were handed to fn, or -errno (-EINTR when a signal arrived). */
int sf_sampler_poll(struct sf_sampler *s, int timeout_ms,
		    int (*fn)(const struct sf_sample *smp, void *arg), void *arg);

/* Change the 1-in-N of each class while sampling is on and ours (top --watch re-picks it): the
 * samples carry the every they were taken with. 0 or -errno (-EBUSY: no longer ours). */
int sf_sampler_set_every(struct sf_sampler *s, const __u32 every[SF_VC_MAX]);

/* Switch sampling off (when it is still ours) and free everything. NULL: nothing. */
void sf_sampler_close(struct sf_sampler *s);

/* SIGINT, SIGTERM, SIGHUP and SIGPIPE set *flag (no SA_RESTART, so that a poll returns -EINTR)
 * instead of killing the process, so that a holder always switches sampling off on its way out. */
void sf_sampler_catch_signals(volatile sig_atomic_t *flag);

/* The holder of sampling in pin_dir, for status: 0 and *pid = 0 when off; *pid and its command
 * name ("synfence capture") in who. -errno when the pins cannot be read. */
int sf_sampler_holder(const char *pin_dir, __u32 *pid, char *who, size_t wholen, struct sf_sample_ctl *ctl);

/* --- For the daemon and status (additions to the capture/top contract) --- */

/* Is ctl on and its owner alive (owner_pid running, with the same start time)? */
bool sf_sample_holder_alive(const struct sf_sample_ctl *ctl);
/* "synfence capture": the program name and first argument of pid's command line ("" if gone). */
void sf_sample_holder_name(__u32 pid, char *who, size_t len);
/* The daemon's tick: switch sampling off (sf_sample_ctl's fd) when its holder is gone. 1 and
 * *gone_pid when it did, 0 when nothing was to do (or a claim was under way), -errno. */
int sf_sample_reap(int ctl_fd, __u32 *gone_pid);
/* The lock that serializes claims of the switch (a file in /run/synfence; not the pin dir, which
 * the daemon holds locked): its fd or -errno (-EWOULDBLOCK when !wait and taken). */
int sf_sample_lock(bool wait);
void sf_sample_unlock(int fd);

#endif
