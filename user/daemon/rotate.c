/* daemon/rotate.c - the cookie secret: set up (random or shared keys), rotated on its timer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "lib/log.h"
#include "lib/proc.h"

/* The wall clock in whole seconds, for the shared-secret epochs. Not time(): glibc reads a coarse
 * clock there that lags CLOCK_REALTIME by up to a jiffy, so at a period boundary the timer fired
 * while time() still told the old second; the epoch stayed and the re-arm, reading time() again a
 * moment later, aimed at the next boundary: a whole period skipped, now and then, and servers with
 * the same secret file out of step. */
static __u64 wall_s(void)
{
	return sf_clock_ns(CLOCK_REALTIME) / 1000000000ull;
}

/* The rotation timer: due when the epoch in the map ends, or, after a failed rotation (retry), in
 * 5 s (at most a period). */
int rot_arm(struct daemon *d, bool retry)
{
	struct itimerspec its = { 0 };
	int flags = 0;

	if (d->rot_fd >= 0)
		close(d->rot_fd);
	d->rot_fd = timerfd_create(d->shared ? CLOCK_REALTIME : CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->rot_fd < 0)
		return -errno;
	if (retry) {
		its.it_value.tv_sec = (time_t)(d->set.rotate < 5 ? d->set.rotate : 5);
	} else if (d->shared) {
		/* at the end of the map's epoch, not at the next boundary after now: when a boundary
		 * passed since the keys were set (during a slow start), that would leave them a whole
		 * period behind the wall clock and the other servers, and then skip an epoch. An end
		 * already past fires at once. */
		__u64 next = ((__u64)d->st.epoch + 1) * d->set.rotate;

		its.it_value.tv_sec = (time_t)next;
		flags = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET;
	} else {
		__u64 now = sf_clock_ns(CLOCK_MONOTONIC), due = d->rotated_mono_ns + d->set.rotate * 1000000000ull;
		__u64 left = due > now ? due - now : 1000000;

		its.it_value.tv_sec = (time_t)(left / 1000000000ull);
		its.it_value.tv_nsec = (long)(left % 1000000000ull);
	}
	return timerfd_settime(d->rot_fd, flags, &its, NULL) ? -errno : 0;
}

void note_epoch(struct daemon *d)
{
	__u32 e;

	if (!sf_secret_epoch(d->map[SF_M_SECRETS], &e))
		d->st.epoch = e;
	d->st.rotated_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	d->rotated_mono_ns = sf_clock_ns(CLOCK_MONOTONIC);
	if (d->shared) {
		/* the key changed at the period boundary, on every server */
		__u64 real = sf_clock_ns(CLOCK_REALTIME), edge = (__u64)e * d->set.rotate * 1000000000ull;

		if (real > edge && real - edge < d->st.rotated_boot_ns)
			d->st.rotated_boot_ns -= real - edge;
	}
}

/* Put the keys in place for the current mode. old_shared: the mode the map's keys were made in.
 * keep: random mode may keep the keys in the map (a takeover). */
int secrets_setup(struct daemon *d, bool old_shared, bool keep)
{
	__u32 e = 0;
	int ret;

	sf_secret_epoch(d->map[SF_M_SECRETS], &e);
	if (d->shared) {
		__u32 now = sf_shared_epoch(wall_s(), d->set.rotate);

		ret = sf_secret_shared_set(d->map[SF_M_SECRETS], &d->master, now);
		if (!ret)
			note_epoch(d);
	} else if (keep && e && !old_shared) {
		return 0; /* the running keys and their schedule stay */
	} else if (e) {
		/* from shared keys (or unknown ones) to random ones: the old epoch stays valid */
		ret = sf_secret_rotate(d->map[SF_M_SECRETS], NULL);
		if (!ret)
			note_epoch(d);
	} else {
		ret = sf_secret_init(d->map[SF_M_SECRETS]);
		if (!ret)
			note_epoch(d);
	}
	if (ret)
		snprintf(d->err, sizeof(d->err), "cannot set the cookie secret: %s", strerror(-ret));
	return ret;
}

void rotate_secret(struct daemon *d)
{
	__u64 exp;
	int ret;

	if (read(d->rot_fd, &exp, sizeof(exp)) < 0 && errno != ECANCELED)
		return;
	if (d->shared) {
		__u32 e = sf_shared_epoch(wall_s(), d->set.rotate);

		ret = 0;
		if (d->st.epoch != e) {
			ret = sf_secret_shared_set(d->map[SF_M_SECRETS], &d->master, e);
			if (!ret)
				note_epoch(d);
		}
	} else {
		ret = sf_secret_rotate(d->map[SF_M_SECRETS], NULL);
		if (!ret)
			note_epoch(d);
	}
	if (ret)
		report_problem(d, false, "cannot rotate the cookie secret: %s (will retry)", strerror(-ret));
	sf_dbg("cookie secret: epoch %u", d->st.epoch);
	ret = rot_arm(d, ret != 0);
	if (ret)
		report_problem(d, false, "cannot re-arm the rotation timer: %s", strerror(-ret));
	publish_state(d);
}

int load_master(struct daemon *d, const struct sf_settings *s, struct sf_master *m)
{
	return sf_master_load(s, d->o->config, m, d->err, sizeof(d->err));
}
