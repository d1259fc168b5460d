/* view/metrics.c - see metrics.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lib/log.h"
#include "view/metrics.h"
#include "conf/listen_addr.h"
#include "view/render.h"
#include "lib/util.h"

#define CONTENT_TYPE_PROM "text/plain; version=0.0.4; charset=utf-8"

struct sf_metrics {
	char spec[64];
	int fd;                 /* the listening socket (handed to libmicrohttpd) */
	struct MHD_Daemon *mhd;
	struct sf_maps maps;    /* borrowed fds */
};

int sf_metrics_bind(struct sf_metrics **out, const char *spec)
{
	struct sockaddr_storage sa;
	struct sf_metrics *mx;
	socklen_t salen;
	char why[128];
	int one = 1, err = 0;

	*out = NULL;
	mx = calloc(1, sizeof(*mx));
	if (!mx) {
		err = -ENOMEM;
		sf_err("out of memory");
		goto out;
	}
	mx->fd = -1;
	sf_maps_init(&mx->maps);
	snprintf(mx->spec, sizeof(mx->spec), "%s", spec);
	err = sf_metrics_parse(spec, &sa, &salen, why, sizeof(why));
	if (err) {
		sf_err("bad --metrics '%s': %s", spec, why);
		goto out;
	}
	mx->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (mx->fd < 0) {
		err = -errno;
		sf_err("metrics: cannot create a socket: %s", strerror(-err));
		goto out;
	}
	setsockopt(mx->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa.ss_family == AF_INET6) /* [::] means IPv6 only, as written */
		setsockopt(mx->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(mx->fd, (struct sockaddr *)&sa, salen) || listen(mx->fd, 16)) {
		err = -errno;
		sf_err("metrics: cannot listen on %s: %s", spec, strerror(-err));
		goto out;
	}
	*out = mx;
out:
	if (err)
		sf_metrics_stop(mx);
	return err;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static char *text(const char *s) { return (char *)s; }

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	struct sf_metrics *mx = cls;
	struct sf_snap *snap;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		static const char msg[] = "only GET and HEAD\n";

		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", text(msg), sizeof(msg) - 1,
			     MHD_RESPMEM_PERSISTENT);
	}
	if (!strcmp(url, "/")) {
		static const char msg[] = "synfence: the metrics are at /metrics\n";

		return reply(c, MHD_HTTP_OK, "text/plain", text(msg), sizeof(msg) - 1,
			     MHD_RESPMEM_PERSISTENT);
	}
	if (strcmp(url, "/metrics")) {
		static const char msg[] = "not found: the metrics are at /metrics\n";

		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", text(msg), sizeof(msg) - 1,
			     MHD_RESPMEM_PERSISTENT);
	}
	snap = malloc(sizeof(*snap));
	if (!snap || sf_snap_read(&mx->maps, snap, true)) {
		static const char msg[] = "synfence: cannot read the counters\n";

		free(snap);
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", text(msg),
			     sizeof(msg) - 1, MHD_RESPMEM_PERSISTENT);
	}
	mem = open_memstream(&buf, &len);
	if (!mem) {
		free(snap);
		return MHD_NO;
	}
	sf_render_prom(mem, snap);
	fclose(mem);
	free(snap);
	return reply(c, MHD_HTTP_OK, CONTENT_TYPE_PROM, buf, len, MHD_RESPMEM_MUST_FREE);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	sf_dbg("metrics: %s", msg);
}

int sf_metrics_start(struct sf_metrics *mx, const struct sf_maps *m)
{
	int err = 0;

	mx->maps = *m;
	mx->maps.owned = false;
	mx->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				   handle, mx, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				   MHD_OPTION_LISTEN_SOCKET, mx->fd,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
	if (!mx->mhd) {
		err = -EIO;
		sf_err("metrics: cannot start the HTTP server on %s", mx->spec);
		goto out;
	}
	mx->fd = -1; /* libmicrohttpd closes the listening socket when it stops */
out:
	return err;
}

void sf_metrics_stop(struct sf_metrics *mx)
{
	if (!mx)
		return;
	if (mx->mhd)
		MHD_stop_daemon(mx->mhd); /* joins its thread, closes the listening socket */
	if (mx->fd >= 0)
		close(mx->fd);
	free(mx);
}
