/* conf/listen_addr.h - the ADDR:PORT of `--metrics` / `metrics =`, parsed without an HTTP library. */
#ifndef SF_LISTEN_ADDR_H
#define SF_LISTEN_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Parse "IPV4:PORT" or "[IPV6]:PORT" (literal addresses; port 1-65535). Returns 0, or -EINVAL with
 * a reason in err. */
int sf_metrics_parse(const char *spec, struct sockaddr_storage *sa, socklen_t *salen, char *err,
		     size_t errlen);

#endif
