/* sock.c - see sock.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"

static int listen_at(int family, uint16_t port, int backlog, int wildcard)
{
	int fd = socket(family, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

		a.sin_addr.s_addr = htonl(wildcard ? INADDR_ANY : INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
			goto fail;
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		a.sin6_addr = wildcard ? in6addr_any : in6addr_loopback;
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
			goto fail;
	}
	if (listen(fd, backlog))
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int listen_on(int family, uint16_t port, int backlog)
{
	return listen_at(family, port, backlog, 0);
}

int listen_any(int family, uint16_t port, int backlog)
{
	return listen_at(family, port, backlog, 1);
}

uint16_t sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}
