/* daemon/state.c - the published state (sf_state), runtime errors kept for status, log-once. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/internal.h"
#include "lib/log.h"
#include "lib/mapio.h"
#include "lib/proc.h"

int publish_state(struct daemon *d)
{
	__u32 zero = 0;
	int ret;

	if (d->map[SF_M_STATE] < 0)
		return 0;
	ret = sf_map_update(d->map[SF_M_STATE], &zero, &d->st, BPF_ANY);
	/* once per failure streak: this runs on every tick */
	if (ret && !d->publish_failed)
		sf_log_error("cannot write the daemon state (map %s): %s: 'synfence status' shows stale "
			     "data until the next write succeeds", SF_MAP_STATE, strerror(-ret));
	d->publish_failed = ret != 0;
	return ret;
}

void report_problem(struct daemon *d, bool warning, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (warning)
		sf_warn("%s", msg);
	else
		sf_log_error("%s", msg);
	/* the state keeps the start of it */
	memcpy(d->st.last_error, msg, sizeof(d->st.last_error) - 1);
	d->st.last_error[sizeof(d->st.last_error) - 1] = '\0';
	d->st.error_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	publish_state(d);
}

void set_err(struct daemon *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
}

int map_put(int fd, __u32 key, const void *val)
{
	return sf_map_update(fd, &key, val, BPF_ANY);
}

int apply_log_level(const struct sf_settings *s)
{
	sf_log_set_level(s->log_level);
	if (s->log_level >= SF_LOG_DEBUG && !sf_opts.verbose)
		sf_opts.verbose = 1;
	return 0;
}

bool note_new_error(char *last, size_t len, const char *err)
{
	if (!strncmp(last, err, len - 1))
		return false;
	snprintf(last, len, "%s", err);
	return true;
}
