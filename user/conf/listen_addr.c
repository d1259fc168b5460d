/* conf/listen_addr.c - see listen_addr.h; apart from view/metrics.c so that the config parser (and
 * its fuzzer) need no HTTP library. The messages never
 * quote the input: callers quote it themselves, made printable. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "conf/listen_addr.h"
#include "lib/util.h"

int sf_metrics_parse(const char *spec, struct sockaddr_storage *sa, socklen_t *salen, char *err,
		     size_t errlen)
{
	char host[64];
	const char *colon, *port_s;
	unsigned long port;

	memset(sa, 0, sizeof(*sa));
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':' || (size_t)(end - spec - 1) >= sizeof(host)) {
			snprintf(err, errlen, "expected [IPV6]:PORT");
			return -EINVAL;
		}
		memcpy(host, spec + 1, end - spec - 1);
		host[end - spec - 1] = '\0';
		port_s = end + 2;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof(host) || strchr(spec, ':') != colon) {
			snprintf(err, errlen, "expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464");
			return -EINVAL;
		}
		memcpy(host, spec, colon - spec);
		host[colon - spec] = '\0';
		port_s = colon + 1;
	}
	if (sf_parse_uint(port_s, 1, 65535, &port)) {
		snprintf(err, errlen, "bad port: expected 1-65535");
		return -EINVAL;
	}
	if (spec[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
			snprintf(err, errlen, "not an IPv6 address in the brackets");
			return -EINVAL;
		}
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*salen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
			snprintf(err, errlen, "not an IPv4 address (IPv6: [ADDR]:PORT; no host names)");
			return -EINVAL;
		}
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*salen = sizeof(*s4);
	}
	return 0;
}
