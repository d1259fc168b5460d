/* sf_connect.c - test tool: N real TCP clients (the kernel's own stack) against an HTTP server,
 * started at a fixed interval, each with a deadline; reports the success rate and connect times.
 *
 *   sf_connect -D DSTADDR -p PORT -n N [-i INTERVAL_MS] [-t TIMEOUT_S] [-j]
 *
 * Connection k starts at k * INTERVAL_MS (default 20) with a non-blocking connect(); its connect
 * time is from connect() to the socket becoming writable with SO_ERROR 0 (it includes any SYN
 * retransmissions of the client kernel: 1 s, 3 s, 7 s ...). It then sends "GET / HTTP/1.0" and
 * reads to EOF. A connection succeeds when the answer starts with "HTTP/1.x 200" within
 * TIMEOUT_S seconds (default 10) of its start; anything else (refused, reset, timeout) fails.
 * Output (-j): one JSON object: n, ok, failed, errors by kind, connect_ms percentiles of the
 * successful connections, and "connect_ms_all": every connection's connect time in ms (-1: never
 * connected), so that several runs can be pooled. Without -j: one summary line.
 * Test tool only: run it inside a network namespace you own. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum st { ST_WAIT, ST_CONNECTING, ST_SENT, ST_DONE };
enum fail { F_NONE, F_CONNECT_TIMEOUT, F_REFUSED_RESET, F_HTTP, F_TIMEOUT, F_OTHER, F_NFAIL };
static const char *fail_names[F_NFAIL] = { "none", "connect_timeout", "refused_or_reset",
					   "bad_http", "response_timeout", "other" };

struct conn {
	int fd;
	enum st st;
	enum fail fail;
	double t_start, t_conn;
	char buf[32];
	size_t got;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p)
{
	int i;

	if (n <= 0)
		return -1;
	i = (int)(p / 100.0 * n + 0.999999) - 1; /* nearest rank */
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return v[i];
}

static void usage(void)
{
	fprintf(stderr, "usage: sf_connect -D DSTADDR -p PORT -n N [-i INTERVAL_MS] [-t TIMEOUT_S] [-j]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dst = NULL;
	long port = -1, n = -1;
	double interval = 20, timeout = 10;
	int opt, json = 0, i;
	struct sockaddr_storage ss;
	socklen_t sl;

	while ((opt = getopt(argc, argv, "D:p:n:i:t:jh")) != -1) {
		switch (opt) {
		case 'D': dst = optarg; break;
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'i': interval = strtod(optarg, NULL); break;
		case 't': timeout = strtod(optarg, NULL); break;
		case 'j': json = 1; break;
		default: usage();
		}
	}
	if (!dst || port <= 0 || port > 65535 || n <= 0 || n > 100000 || interval < 0 || timeout <= 0)
		usage();
	memset(&ss, 0, sizeof ss);
	{
		struct sockaddr_in *a4 = (void *)&ss;
		struct sockaddr_in6 *a6 = (void *)&ss;

		if (inet_pton(AF_INET, dst, &a4->sin_addr) == 1) {
			a4->sin_family = AF_INET;
			a4->sin_port = htons((uint16_t)port);
			sl = sizeof *a4;
		} else if (inet_pton(AF_INET6, dst, &a6->sin6_addr) == 1) {
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons((uint16_t)port);
			sl = sizeof *a6;
		} else {
			fprintf(stderr, "sf_connect: bad address %s\n", dst);
			return 2;
		}
	}
	char req[128];
	int reqlen = snprintf(req, sizeof req, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", dst);

	struct conn *c = calloc((size_t)n, sizeof *c);
	struct pollfd *pf = calloc((size_t)n, sizeof *pf);
	int *idx = calloc((size_t)n, sizeof *idx);
	if (!c || !pf || !idx)
		return 1;
	double t0 = now();
	int started = 0, done = 0;
	for (i = 0; i < n; i++)
		c[i].fd = -1;

	while (done < n) {
		double t = now();
		/* start the connections that are due */
		while (started < n && t - t0 >= started * interval / 1000.0) {
			struct conn *k = &c[started++];

			k->t_start = now();
			k->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (k->fd < 0) {
				k->fail = F_OTHER;
				k->st = ST_DONE;
				done++;
				continue;
			}
			if (connect(k->fd, (struct sockaddr *)&ss, sl) == 0) {
				k->t_conn = now();
				k->st = ST_SENT;
				if (write(k->fd, req, (size_t)reqlen) != reqlen) {
					k->fail = F_OTHER;
					k->st = ST_DONE;
					close(k->fd);
					done++;
				}
			} else if (errno == EINPROGRESS) {
				k->st = ST_CONNECTING;
			} else {
				k->fail = errno == ECONNREFUSED ? F_REFUSED_RESET : F_OTHER;
				k->st = ST_DONE;
				close(k->fd);
				done++;
			}
		}
		/* deadlines */
		int np = 0;
		for (i = 0; i < started; i++) {
			struct conn *k = &c[i];

			if (k->st == ST_DONE)
				continue;
			if (t - k->t_start >= timeout) {
				k->fail = k->st == ST_CONNECTING ? F_CONNECT_TIMEOUT : F_TIMEOUT;
				k->st = ST_DONE;
				close(k->fd);
				done++;
				continue;
			}
			pf[np].fd = k->fd;
			pf[np].events = k->st == ST_CONNECTING ? POLLOUT : POLLIN;
			pf[np].revents = 0;
			idx[np++] = i;
		}
		if (done >= n)
			break;
		int wait_ms = 50;
		if (started < n) {
			double due = t0 + started * interval / 1000.0 - now();
			int d = due > 0 ? (int)(due * 1000) : 0;
			if (d < wait_ms)
				wait_ms = d;
		}
		if (poll(pf, (nfds_t)np, wait_ms) < 0 && errno != EINTR)
			return 1;
		for (int j = 0; j < np; j++) {
			struct conn *k = &c[idx[j]];

			if (!pf[j].revents)
				continue;
			if (k->st == ST_CONNECTING) {
				int e = 0;
				socklen_t el = sizeof e;

				getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &e, &el);
				if (e) {
					k->fail = e == ECONNREFUSED || e == ECONNRESET ? F_REFUSED_RESET
										     : F_OTHER;
					k->st = ST_DONE;
					close(k->fd);
					done++;
					continue;
				}
				k->t_conn = now();
				if (write(k->fd, req, (size_t)reqlen) != reqlen) {
					k->fail = F_OTHER;
					k->st = ST_DONE;
					close(k->fd);
					done++;
					continue;
				}
				k->st = ST_SENT;
			} else if (k->st == ST_SENT) {
				char b[4096];
				ssize_t r = read(k->fd, b, sizeof b);

				if (r > 0) {
					size_t room = sizeof(k->buf) - 1 - k->got;
					size_t m = (size_t)r < room ? (size_t)r : room;

					memcpy(k->buf + k->got, b, m);
					k->got += m;
					continue;
				}
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				k->buf[k->got] = 0;
				if (r < 0)
					k->fail = errno == ECONNRESET ? F_REFUSED_RESET : F_OTHER;
				else if (strncmp(k->buf, "HTTP/1.", 7) || strncmp(k->buf + 8, " 200", 4))
					k->fail = F_HTTP;
				k->st = ST_DONE;
				close(k->fd);
				done++;
			}
		}
	}

	double *ct = calloc((size_t)n, sizeof *ct);
	int ok = 0, nfail[F_NFAIL] = { 0 };
	for (i = 0; i < n; i++) {
		nfail[c[i].fail]++;
		if (c[i].fail == F_NONE)
			ct[ok++] = (c[i].t_conn - c[i].t_start) * 1000;
	}
	qsort(ct, (size_t)ok, sizeof *ct, cmpd);
	double p50 = pct(ct, ok, 50), p99 = pct(ct, ok, 99), mx = ok ? ct[ok - 1] : -1;
	if (json) {
		printf("{\"n\":%ld,\"ok\":%d,\"failed\":%ld,\"errors\":{", n, ok, n - ok);
		for (i = 1; i < F_NFAIL; i++)
			printf("%s\"%s\":%d", i > 1 ? "," : "", fail_names[i], nfail[i]);
		printf("},\"connect_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"connect_ms_all\":[",
		       p50, p99, mx);
		for (i = 0; i < n; i++)
			printf("%s%.3f", i ? "," : "",
			       c[i].t_conn > 0 ? (c[i].t_conn - c[i].t_start) * 1000 : -1.0);
		printf("],\"seconds\":%.3f}\n", now() - t0);
	} else {
		printf("%d/%ld ok, connect p50 %.2f ms p99 %.2f ms max %.2f ms", ok, n, p50, p99, mx);
		for (i = 1; i < F_NFAIL; i++)
			if (nfail[i])
				printf(", %s %d", fail_names[i], nfail[i]);
		printf("\n");
	}
	return ok == n ? 0 : 1;
}
