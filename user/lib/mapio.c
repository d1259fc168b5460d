/* lib/mapio.c - see mapio.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/mapio.h"

int sf_percpu_sum(int fd, const void *key, size_t value_size, __u64 *sum, int n)
{
	size_t stride = sf_percpu_stride(value_size);
	int ncpu = libbpf_num_possible_cpus(), ret = 0;
	char *vals;

	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, stride);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, vals)) {
		ret = -errno;
		goto out;
	}
	for (int cpu = 0; cpu < ncpu; cpu++) {
		const __u64 *v = (const __u64 *)(vals + (size_t)cpu * stride);

		for (int i = 0; i < n; i++)
			sum[i] += v[i];
	}
out:
	free(vals);
	return ret;
}

int sf_map_read(int fd, const void *key, void *val, size_t size)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	void *buf = NULL;
	int err;

	memset(val, 0, size);
	memset(&info, 0, sizeof(info));
	if (fd < 0) {
		err = -EBADF;
		goto out;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	if (!(buf = calloc(1, info.value_size ? info.value_size : 1))) {
		err = -ENOMEM;
		goto out;
	}
	err = bpf_map_lookup_elem(fd, key, buf) ? -errno : 0;
	if (!err)
		memcpy(val, buf, info.value_size < size ? info.value_size : size);
out:
	free(buf);
	return err;
}

#ifdef SF_FAULT_INJECTION
#include <stdio.h>

#include "lib/log.h"

/* Name of the map behind fd ("?" if unknown). */
static void map_name(int fd, char *buf, size_t len)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);

	memset(&info, 0, sizeof(info));
	snprintf(buf, len, "%s", bpf_obj_get_info_by_fd(fd, &info, &ilen) ? "?" : info.name);
}

/* The hook: 0 to go on, -errno to fail this call. Single-threaded callers except the metrics
 * server, which only reads maps. */
static int fault_hook(int fd)
{
	static unsigned long calls, fail_at;
	static int inited, err = ENOMEM, trace;
	static char only[BPF_OBJ_NAME_LEN];
	char name[BPF_OBJ_NAME_LEN];

	if (!inited) {
		const char *v;

		inited = 1;
		if ((v = getenv("SF_FAULT_MAP_UPDATE")))
			fail_at = strtoul(v, NULL, 10);
		if ((v = getenv("SF_FAULT_ERRNO")) && atoi(v) > 0)
			err = atoi(v);
		if ((v = getenv("SF_FAULT_MAP")))
			snprintf(only, sizeof(only), "%s", v);
		trace = getenv("SF_FAULT_TRACE") != NULL;
	}
	if (!fail_at && !trace)
		return 0;
	map_name(fd, name, sizeof(name));
	if (*only && strcmp(only, name))
		return 0;
	calls++;
	if (trace)
		sf_info("fault injection: map update #%lu: %s", calls, name);
	if (calls != fail_at)
		return 0;
	sf_warn("fault injection: map update #%lu (map %s) fails with %s", calls, name, strerror(err));
	return -err;
}
#endif

int sf_map_update(int fd, const void *key, const void *val, unsigned long long flags)
{
#ifdef SF_FAULT_INJECTION
	int ret = fault_hook(fd);

	if (ret)
		return ret;
#endif
	return bpf_map_update_elem(fd, key, val, flags) ? -errno : 0;
}
