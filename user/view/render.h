/* view/render.h - what `stats`, `status` and the metrics server print, from struct sf_snap: one call
 * writes text or JSON (sf_render), or the Prometheus text exposition format (sf_render_prom).
 * render.c holds what they share; render_text.c, render_json.c and prom.c one format each. */
#ifndef SF_RENDER_H
#define SF_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "view/snapshot.h"

/* "Attack": over the rate interval, SYNs (or bad cookie ACKs) arrive at >= SF_ATTACK_MIN_RATE per
 * second and at >= SF_ATTACK_RATIO times the rate of completed handshakes (ack_cookie_ok). */
#define SF_ATTACK_MIN_RATE 100.0
#define SF_ATTACK_RATIO    10.0

/* Version of the JSON document of stats and status ("schema"); bumped only on incompatible
 * changes (fields are only ever added). */
#define SF_JSON_SCHEMA 1

enum sf_view {
	SF_VIEW_STATS,  /* verdict and every counter, per interface and total */
	SF_VIEW_STATUS, /* the daemon, its interfaces and attachments, the verdict, a few totals */
};

struct sf_render_opts {
	enum sf_view view;
	bool json, pretty;
	bool all;          /* text: also the counters that are zero everywhere */
	bool exact;        /* text: full numbers instead of 1.2M */
	bool descriptions; /* text: a description column */
	const char *pin_dir;
};

/* Write cur (with rates against prev, which may be NULL: no rates) as text or JSON. */
void sf_render(FILE *out, const struct sf_snap *cur, const struct sf_snap *prev,
	       const struct sf_render_opts *o);

/* The Prometheus text exposition format (version 0.0.4) of cur. */
void sf_render_prom(FILE *out, const struct sf_snap *cur);

/* No daemon: "run (pid N) is gone", or that it exited leaving protection in place (SIGUSR2). */
void sf_daemon_gone_text(const struct sf_snap *s, char *buf, size_t len);
/* "protection left attached", ... */
const char *sf_left_text(enum sf_left l);

/* Human-readable numbers: 9999, 12.3k, 1.2M; rates: 0.5, 345, 34.5k; durations: 25s, 3m05s. */
void sf_fmt_count(char *buf, size_t len, unsigned long long v);
void sf_fmt_rate(char *buf, size_t len, double r);
void sf_fmt_duration(char *buf, size_t len, double seconds);

/* Counter names and descriptions, indexed by enum sf_counter; sysctl names by enum sf_sysctl. */
extern const char *const sf_counter_names[];
extern const char *const sf_counter_help[];
extern const char *const sf_sysctl_names[];

/* The two halves of sf_render: cur with rates against prev over dt seconds (prev NULL: none), its
 * verdict v, the protected ports as text (NULL: unknown). */
struct sf_verdict;
void sf_render_text(FILE *out, const struct sf_snap *cur, const struct sf_snap *prev, double dt,
		    const struct sf_verdict *v, const char *ports, const struct sf_render_opts *o);
void sf_render_json(FILE *out, const struct sf_snap *cur, const struct sf_snap *prev, double dt,
		    const struct sf_verdict *v, const char *ports, const struct sf_render_opts *o);

#endif
