/* lib/mapio.h - the one place where userspace writes BPF map elements, so that a test build can make
 * any of those writes fail (fault injection); and reads of elements a pin of another synfence
 * version may have laid out longer or shorter. */
#ifndef SF_MAPIO_H
#define SF_MAPIO_H

#include <stddef.h>

#include <linux/types.h>

/* bpf_map_update_elem(fd, key, val, flags): 0 or -errno.
 *
 * Only in a build with -DSF_FAULT_INJECTION (build/synfence-faults, for the tests; the release
 * binary has no hook): with SF_FAULT_MAP_UPDATE=N in the environment, the Nth call fails with
 * SF_FAULT_ERRNO (a number, default ENOMEM) and a warning naming the call and the map. With
 * SF_FAULT_MAP=NAME only updates of the map NAME are counted. SF_FAULT_TRACE=1 logs every counted
 * call ("map update #N: NAME"), to find the N of a given write. */
int sf_map_update(int fd, const void *key, const void *val, unsigned long long flags);

/* bpf_map_lookup_elem(fd, key) into val (size bytes) through a buffer of the map's own value size
 * (not for per-CPU maps): a pinned map of another version may hold a longer struct (what we do not
 * know is left out) or a shorter one (what it lacks stays zero); fields are append-only. 0 or
 * -errno (val all zero). */
int sf_map_read(int fd, const void *key, void *val, size_t size);

/* Bytes between two CPUs' values in a per-CPU map's lookup buffer: the kernel aligns each to 8. */
static inline size_t sf_percpu_stride(size_t value_size)
{
	return (value_size + 7) / 8 * 8;
}

/* Add the first n __u64 words of key's value in a per-CPU map (value_size bytes per CPU), summed
 * over the CPUs, to sum. 0 or -errno. */
int sf_percpu_sum(int fd, const void *key, size_t value_size, __u64 *sum, int n);

#endif
