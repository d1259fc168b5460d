/* daemon/secret.c - see secret.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <sodium.h>

#include "conf/settings.h"
#include "lib/mapio.h"
#include "daemon/secret.h"
#include "synfence.h"

static int random_key(__u64 key[2])
{
	size_t got = 0;

	while (got < 2 * sizeof(__u64)) {
		ssize_t n = getrandom((char *)key + got, 2 * sizeof(__u64) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += n;
	}
	return 0;
}

static int write_secrets(int map_fd, const struct sf_secrets *s)
{
	__u32 key = 0;

	return sf_map_update(map_fd, &key, s, BPF_ANY);
}

int sf_secret_init(int map_fd)
{
	struct sf_secrets s;
	int err;

	memset(&s, 0, sizeof(s));
	s.epoch = 1;
	err = random_key(s.key[1 % SF_EPOCH_SLOTS]);
	if (err)
		goto out;
	err = write_secrets(map_fd, &s);
out:
	explicit_bzero(&s, sizeof(s));
	return err;
}

int sf_secret_rotate(int map_fd, __u32 *epoch)
{
	struct sf_secrets s;
	__u32 key = 0, next;
	int err;

	if (bpf_map_lookup_elem(map_fd, &key, &s)) {
		err = -errno;
		goto out;
	}
	next = s.epoch + 1;
	if (next == 0) /* epoch 0 means "no secret": skip it on wrap-around */
		next = 1;
	err = random_key(s.key[next % SF_EPOCH_SLOTS]);
	if (err)
		goto out;
	err = write_secrets(map_fd, &s);
	if (err)
		goto out;
	s.epoch = next;
	err = write_secrets(map_fd, &s);
	if (!err && epoch)
		*epoch = next;
out:
	explicit_bzero(&s, sizeof(s));
	return err;
}

int sf_secret_epoch(int map_fd, __u32 *epoch)
{
	struct sf_secrets s;
	__u32 key = 0;
	int err = 0;

	if (bpf_map_lookup_elem(map_fd, &key, &s))
		err = -errno;
	else
		*epoch = s.epoch;
	explicit_bzero(&s, sizeof(s));
	return err;
}

/* --- shared secret ---------------------------------------------------------------------------- */

#define KDF_LABEL "synfence-epoch-key-v1"

int sf_master_load(const struct sf_settings *s, const char *config, struct sf_master *m, char *err,
		   size_t errlen)
{
	int line = s->line[SF_KEY_SECRET_FILE];
	char msg[768];
	int ret;

	memset(m, 0, sizeof(*m));
	if (!s->secret_file[0])
		return 0;
	ret = sf_master_read(s->secret_file, m, msg, sizeof(msg));
	if (ret && line)
		snprintf(err, errlen, "%s:%d: %s: %s", config, line, sf_key_name(SF_KEY_SECRET_FILE), msg);
	else if (ret)
		snprintf(err, errlen, "%s", msg);
	return ret;
}

void sf_master_clear(struct sf_master *m)
{
	explicit_bzero(m, sizeof(*m));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The file must be a regular file that only root (or we) can write and read, in a directory that
 * others cannot swap it in: a secret anyone can read or replace forges every cookie. */
static int check_secret_file(int fd, const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	struct stat st;
	int ret;

	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "secret file %s: %s", path, strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "secret file %s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "secret file %s: owned by uid %u: must be owned by root", path,
			 (unsigned int)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "secret file %s: mode %04o gives group or others access: it must "
			 "be 0600 or 0400 (chmod 600 %s)", path, (unsigned int)(st.st_mode & 07777), path);
		return -EPERM;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen, "secret file %s: its directory %s is writable by group or others",
			 path, dir);
		return -EPERM;
	}
	return 0;
}

/* Reads up to buflen bytes; *len == buflen means the file is longer than any valid secret. */
static int read_secret_file(int fd, const char *path, char *buf, size_t buflen, size_t *len,
			    char *err, size_t errlen)
{
	ssize_t n;
	int ret;

	*len = 0;
	while (*len < buflen) {
		n = read(fd, buf + *len, buflen - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "secret file %s: %s", path, strerror(-ret));
			return ret;
		}
		if (n == 0)
			break;
		*len += n;
	}
	return 0;
}

/* buf holds the whole file (len < buflen) or more (len == buflen): hex digits, blanks around. */
static int parse_secret_hex(const char *path, const char *buf, size_t len, size_t buflen,
			    struct sf_master *m, char *err, size_t errlen)
{
	size_t start, end, digits;

	for (start = 0; start < len && strchr(" \t\r\n", buf[start]); start++)
		;
	for (end = len; end > start && strchr(" \t\r\n", buf[end - 1]); end--)
		;
	digits = end - start;
	if (len == buflen || digits < 32 || digits > 128 || digits % 2) {
		snprintf(err, errlen, "secret file %s: expected 32 to 128 hex digits (a 128- to 512-bit "
			 "secret, e.g. from 'od -An -tx1 -N32 /dev/urandom | tr -d \" \\n\"'), found %s",
			 path, len == buflen ? "more" : digits % 2 ? "an odd number of digits" :
			 digits < 32 ? "fewer" : "more");
		return -EINVAL;
	}
	for (size_t i = 0; i < digits; i += 2) {
		int hi = hexval(buf[start + i]), lo = hexval(buf[start + i + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "secret file %s: not a hex string (a character other than "
				 "0-9, a-f at offset %zu)", path, start + i + (hi >= 0));
			return -EINVAL;
		}
		m->key[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	m->len = digits / 2;
	return 0;
}

int sf_master_read(const char *path, struct sf_master *m, char *err, size_t errlen)
{
	char buf[512];
	size_t len = 0;
	int fd, ret;

	memset(m, 0, sizeof(*m));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "secret file %s: %s", path, strerror(-ret));
		goto out;
	}
	ret = check_secret_file(fd, path, err, errlen);
	if (!ret)
		ret = read_secret_file(fd, path, buf, sizeof(buf), &len, err, errlen);
	if (!ret)
		ret = parse_secret_hex(path, buf, len, sizeof(buf), m, err, errlen);
out:
	explicit_bzero(buf, sizeof(buf));
	if (ret)
		sf_master_clear(m);
	if (fd >= 0)
		close(fd);
	return ret;
}

__u32 sf_shared_epoch(__u64 unix_s, unsigned long period)
{
	__u32 e = (__u32)(unix_s / (period ? period : 1));

	return e ? e : 1;
}

static int derive(const struct sf_master *m, __u32 epoch, __u64 key[2])
{
	unsigned char msg[sizeof(KDF_LABEL) - 1 + 8], out[16];
	__u64 e = epoch;

	if (sodium_init() < 0)
		return -EIO;
	memcpy(msg, KDF_LABEL, sizeof(KDF_LABEL) - 1);
	for (int i = 0; i < 8; i++)
		msg[sizeof(KDF_LABEL) - 1 + i] = (unsigned char)(e >> (8 * i));
	if (crypto_generichash(out, sizeof(out), msg, sizeof(msg), m->key, m->len))
		return -EINVAL;
	key[0] = key[1] = 0;
	for (int i = 0; i < 8; i++) {
		key[0] |= (__u64)out[i] << (8 * i);
		key[1] |= (__u64)out[8 + i] << (8 * i);
	}
	explicit_bzero(out, sizeof(out));
	return 0;
}

int sf_secret_shared_set(int map_fd, const struct sf_master *m, __u32 epoch)
{
	struct sf_secrets s;
	__u32 key = 0;
	int err;

	if (bpf_map_lookup_elem(map_fd, &key, &s)) {
		err = -errno;
		goto out;
	}
	if (epoch - 1 != 0) {
		err = derive(m, epoch - 1, s.key[(epoch - 1) % SF_EPOCH_SLOTS]);
		if (err)
			goto out;
	}
	err = derive(m, epoch, s.key[epoch % SF_EPOCH_SLOTS]);
	if (err)
		goto out;
	/* keys first, under the epoch the programs use now; then the epoch */
	err = write_secrets(map_fd, &s);
	if (err || s.epoch == epoch)
		goto out;
	s.epoch = epoch;
	err = write_secrets(map_fd, &s);
out:
	explicit_bzero(&s, sizeof(s));
	return err;
}
