/* secret.c - see secret.h. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <bpf/bpf.h>

#include "secret.h"
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

	return bpf_map_update_elem(map_fd, &key, s, BPF_ANY) ? -errno : 0;
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
