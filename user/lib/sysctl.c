/* lib/sysctl.c - see sysctl.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/sysctl.h"

int sf_sysctl_read_ints(const char *name, long *vals, int max, int *n)
{
	char path[256], buf[256], *p, *end;
	int fd = -1, count = 0, err = 0;
	ssize_t len;

	if (n)
		*n = 0;
	if (snprintf(path, sizeof(path), "/proc/sys/%s", name) >= (int)sizeof(path)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	for (p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	len = read(fd, buf, sizeof(buf) - 1);
	if (len < 0) {
		err = -errno;
		goto out;
	}
	buf[len] = '\0';

	for (p = buf; count < max;) {
		long v;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno) {
			err = -EINVAL;
			goto out;
		}
		vals[count++] = v;
		p = end;
	}
	if (!count)
		err = -EINVAL;
	if (n)
		*n = count;
out:
	if (fd >= 0)
		close(fd);
	return err;
}

int sf_sysctl_read_int(const char *name, long *val)
{
	return sf_sysctl_read_ints(name, val, 1, NULL);
}

int sf_sysctl_write_int(const char *name, long val)
{
	char path[256], buf[32], *p;
	int fd = -1, err = 0, len;

	if (snprintf(path, sizeof(path), "/proc/sys/%s", name) >= (int)sizeof(path)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	for (p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", val);
	if (write(fd, buf, len) != len)
		err = errno ? -errno : -EIO;
out:
	if (fd >= 0)
		close(fd);
	return err;
}
