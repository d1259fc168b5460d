/* view/metrics.h - `synfence run --metrics ADDR:PORT`: the counters and a few gauges in the Prometheus
 * text exposition format at http://ADDR:PORT/metrics, served by libmicrohttpd from its own thread
 * (the main loop of run never waits for it). Every scrape reads a fresh snapshot (snapshot.h) and
 * renders it with sf_render_prom (render.h). */
#ifndef SF_METRICS_H
#define SF_METRICS_H

#include <stddef.h>
#include <sys/socket.h>

#include "view/snapshot.h"

struct sf_metrics;

/* Bind and listen on the address now, so that a taken port fails before anything is attached.
 * Prints its errors (e.g. "address in use"). Returns 0 or -errno. */
int sf_metrics_bind(struct sf_metrics **out, const char *spec);

/* Start serving snapshots of m (the fds stay owned by the caller and must outlive
 * sf_metrics_stop). Prints its errors. */
int sf_metrics_start(struct sf_metrics *mx, const struct sf_maps *m);

/* Stop the server thread, close the socket, free. NULL is fine. */
void sf_metrics_stop(struct sf_metrics *mx);

#endif
