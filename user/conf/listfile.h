/* conf/listfile.h - allow/deny list prefixes as text: CIDR parsing and formatting, list files. No
 * BPF here (the config checks and the fuzzers use it); the maps are lib/lists.h's. */
#ifndef SF_LISTFILE_H
#define SF_LISTFILE_H

#include <stddef.h>
#include <linux/types.h>

#include "synfence.h"

/* "10.0.0.0/8", "2001:db8::/32", a bare address (a host): the key (host bits cleared). 0, or
 * -EINVAL with a one-line message in err. */
int sf_cidr_parse(const char *s, struct sf_list_key *k, char *err, size_t errlen);
/* The key as CIDR text (IPv4 for ::ffff:0:0/96 and below). */
void sf_cidr_format(const struct sf_list_key *k, char *buf, size_t len);

/* Clear the address bits of k beyond its prefix length. */
void sf_list_key_mask(struct sf_list_key *k);

/* A list file: one prefix per line, '#' starts a comment, blank lines skipped. Sorted, duplicates
 * merged, into *keys (malloc'ed; free it). 0, or -errno with "FILE:LINE: problem" in err. */
int sf_list_file_read(const char *path, struct sf_list_key **keys, size_t *n, char *err, size_t errlen);

/* memcmp order of two keys (for qsort/bsearch). */
int sf_list_key_cmp(const void *a, const void *b);

#endif
