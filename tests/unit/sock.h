/* sock.h - loopback TCP listeners for the test-run environment (env.c) of the unit tests and the
 * fuzzers. */
#ifndef SF_TEST_SOCK_H
#define SF_TEST_SOCK_H

#include <stdint.h>

/* A TCP socket of family (AF_INET or AF_INET6, the latter IPv6-only) bound to the loopback
 * address and port (0: any) with SO_REUSEADDR, listening with the given backlog; -1 on error. */
int listen_on(int family, uint16_t port, int backlog);
/* The same, bound to the wildcard address (0.0.0.0 or ::). */
int listen_any(int family, uint16_t port, int backlog);

/* The local port of a socket (host order), 0 on error. */
uint16_t sock_port(int fd);

#endif
