/* sfi_notify.c - test tool: stand in for systemd's notification socket.
 *
 *   sfi_notify PATH TIMEOUT_MS
 *
 * Binds a datagram socket at PATH (give its path to a daemon as NOTIFY_SOCKET) and prints every
 * message it receives on one line ("ms-since-start: READY=1 STATUS=..."; newlines become blanks)
 * until a message contains STOPPING=1 (then it waits 200 ms more for stragglers) or TIMEOUT_MS
 * passes. Exit 0, or 1 on a setup error. Test tool only. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long start = now_ms(), deadline;
	char buf[4096];
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: sfi_notify PATH TIMEOUT_MS\n");
		return 1;
	}
	deadline = start + atol(argv[2]);
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "sfi_notify: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (char *c = buf; *c; c++)
			if (*c == '\n')
				*c = ' ';
		printf("%lld: %s\n", now_ms() - start, buf);
		if (strstr(buf, "STOPPING=1") && deadline > now_ms() + 200)
			deadline = now_ms() + 200;
	}
	unlink(argv[1]);
	return 0;
}
