/* lib/log.c - see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "lib/json.h"
#include "lib/log.h"

struct sf_opts sf_opts;

static bool err_printed;
static bool to_journal(void);
static bool err_defer;
static char err_deferred[8192];

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (sf_opts.verbose < 1 || (level == LIBBPF_DEBUG && sf_opts.verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_log(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (sf_opts.verbose < 1 || (level == LIBXDP_DEBUG && sf_opts.verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void sf_log_init(void)
{
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
}

void sf_err(const char *fmt, ...)
{
	char msg[8192]; /* room for a PATH_MAX path and its reason */
	va_list ap;

	if (err_printed)
		return;
	err_printed = true;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (err_defer) {
		snprintf(err_deferred, sizeof(err_deferred), "%s", msg);
		return;
	}
	if (sf_opts.json) {
		struct json_writer jw;

		jw_init(&jw, stdout, sf_opts.pretty);
		jw_start_object(&jw);
		jw_string_field(&jw, "error", msg);
		jw_end_object(&jw);
		jw_finish(&jw);
	} else if (to_journal()) {
		fprintf(stderr, "<3>%s\n", msg);
	} else {
		fprintf(stderr, "synfence: %s\n", msg);
	}
}

/* Log level of sf_log_error/sf_warn/sf_info/sf_dbg: 0 error, 1 warning, 2 info, 3 debug. */
static int log_level = 2;
/* stderr is journald's stream (JOURNAL_STREAM names it): "<N>" priority prefixes instead of ours. */
static int journal = -1;

void sf_log_set_level(int level)
{
	log_level = level;
}

static bool to_journal(void)
{
	if (journal < 0) {
		const char *js = getenv("JOURNAL_STREAM");
		unsigned long dev, ino;
		struct stat st;

		journal = js && sscanf(js, "%lu:%lu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
			  st.st_dev == dev && st.st_ino == ino;
	}
	return journal;
}

/* prio: syslog priority (3 error, 4 warning, 6 info, 7 debug) */
static void vlog(int prio, const char *prefix, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (to_journal())
		fprintf(stderr, "<%d>%s%s\n", prio, prefix, msg);
	else
		fprintf(stderr, "synfence: %s%s\n", prefix, msg);
}

void sf_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(3, "error: ", fmt, ap);
	va_end(ap);
}

void sf_warn(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	vlog(4, "warning: ", fmt, ap);
	va_end(ap);
}

void sf_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 2)
		return;
	va_start(ap, fmt);
	vlog(6, "", fmt, ap);
	va_end(ap);
}

void sf_dbg(const char *fmt, ...)
{
	va_list ap;

	if (sf_opts.verbose < 1 && log_level < 3)
		return;
	va_start(ap, fmt);
	vlog(7, "", fmt, ap);
	va_end(ap);
}

void sf_err_defer(bool on)
{
	err_defer = on;
	if (!on && err_deferred[0]) {
		err_printed = false;
		sf_err("%s", err_deferred);
		err_deferred[0] = '\0';
	}
}
