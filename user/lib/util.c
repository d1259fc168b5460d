/* lib/util.c - see util.h. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "lib/util.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

int sf_mkdir_p(const char *path, mode_t mode, bool *created)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	int err = 0;

	if (created)
		*created = false;
	if (len == 0 || len >= sizeof(buf)) {
		err = len ? -ENAMETOOLONG : -EINVAL;
		goto out;
	}
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';

	for (char *p = buf + 1;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(buf, mode) == 0) {
			if (last && created)
				*created = true;
		} else if (errno != EEXIST) {
			err = -errno;
			goto out;
		}
		if (last)
			break;
		*p = '/';
	}
	/* EEXIST on the last component may be a file: make sure it is a directory */
	{
		struct stat st;

		if (stat(buf, &st)) {
			err = -errno;
			goto out;
		}
		if (!S_ISDIR(st.st_mode))
			err = -ENOTDIR;
	}
out:
	return err;
}

int sf_is_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return -errno;
	return (unsigned long)st.f_type == (unsigned long)BPF_FS_MAGIC;
}

int sf_path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int sf_if_mtu(const char *ifname, unsigned int *mtu)
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		err = -errno;
	else
		*mtu = ifr.ifr_mtu;
	close(fd);
	return err;
}

int sf_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *val)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*val = v;
	return 0;
}

int sf_parse_seconds(const char *s, double min, double max, double *val)
{
	double v;
	char *end;

	if (!s || ((*s < '0' || *s > '9') && *s != '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= min && v <= max))
		return -EINVAL;
	*val = v;
	return 0;
}

int sf_visible(char *out, size_t outlen, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return (int)o;
}

int sf_einval(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}
