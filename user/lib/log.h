/* lib/log.h - messages to the user: errors (text or JSON), warnings, info, and the libbpf/libxdp hooks. */
#ifndef SF_LOG_H
#define SF_LOG_H

#include <stdbool.h>

/* Global output options, set by main.c and the per-command option parsers. */
struct sf_opts {
	bool json;   /* -j: machine-readable output, errors as {"error":...} on stdout */
	bool pretty; /* -p: indented JSON (implies json) */
	int verbose; /* -v: show libbpf/libxdp messages; -vv: their debug messages too */
};
extern struct sf_opts sf_opts;

/* Route libbpf and libxdp logging through us; hidden unless -v. */
void sf_log_init(void);

/* One error line "synfence: <message>" on stderr, or {"error":"<message>"} on stdout in JSON mode.
 * Only the first error of a run is printed, so stdout stays a single JSON document. */
void sf_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* While on, sf_err keeps its message instead of printing it (e.g. while a full-screen display owns
 * the terminal); switching it off prints the kept message, if any. */
void sf_err_defer(bool on);
/* "synfence: error: <message>" on stderr, every time (a daemon's runtime errors; sf_err is for the
 * one error that ends a command). */
void sf_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Which of sf_warn/sf_info/sf_dbg print: 0 errors only, 1 warnings, 2 info (default), 3 debug.
 * Under journald (JOURNAL_STREAM) every line gets a "<N>" syslog priority prefix instead. */
void sf_log_set_level(int level);
/* "synfence: warning: <message>" on stderr. */
void sf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "synfence: <message>" on stderr (progress of `run`). */
void sf_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like sf_info, only with -v. */
void sf_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
