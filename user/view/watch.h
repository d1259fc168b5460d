/* view/watch.h - `stats --watch`: redraw every period seconds until q, Ctrl-C or a signal.
 * On a terminal: the alternate screen, redrawn in place like top(1), keys read without echo, the
 * terminal restored on the way out. Otherwise (a pipe): one rendering per period, JSON lines with
 * -j. */
#ifndef SF_WATCH_H
#define SF_WATCH_H

#include "view/render.h"
#include "view/snapshot.h"

/* Returns 0 when the user quit, or -errno (printed). */
int sf_watch(const struct sf_maps *m, const struct sf_render_opts *o, double period);

#endif
