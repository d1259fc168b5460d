/* view/watch.h - `stats --watch`, `top --watch`: redraw every period seconds until q, Ctrl-C or a signal.
 * On a terminal: the alternate screen, redrawn in place like top(1), keys read without echo, the
 * terminal restored on the way out. Otherwise (a pipe): one rendering per period, JSON lines with
 * -j. */
#ifndef SF_WATCH_H
#define SF_WATCH_H

#include "view/render.h"
#include "view/snapshot.h"

/* What a watch session draws. */
struct sf_watch_ops {
	int (*frame)(FILE *out, void *arg); /* write one frame (text or JSON); 0 or -errno (printed) */
	int (*idle)(void *arg, int ms);     /* NULL, or work while waiting, up to ms (top reads samples) */
	void *arg;
	bool json;       /* frames are JSON documents (one per line, never full-screen) */
	bool wait_first; /* the first frame after one period, not at once (it needs the period's data) */
};

/* Draw ops' frames every period seconds. Returns 0 when the user quit, or -errno (printed). */
int sf_watch_run(const struct sf_watch_ops *ops, double period);

/* stats --watch: the snapshots of m rendered with o. */
int sf_watch(const struct sf_maps *m, const struct sf_render_opts *o, double period);

#endif
