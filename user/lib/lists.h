/* lib/lists.h - the allow and deny lists in userspace: CIDR parsing, list files, and the pinned LPM
 * tries (include/synfence.h) as the CLI (`synfence allow|deny`) and the daemon change them. */
#ifndef SF_LISTS_H
#define SF_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "conf/listfile.h"
#include "synfence.h"

enum sf_list_kind { SF_LIST_ALLOW_KIND, SF_LIST_DENY_KIND, SF_LIST_KINDS };

struct sf_list_entry {
	struct sf_list_key key;
	struct sf_list_val val;
};

/* "allow", "deny" */
const char *sf_list_kind_name(enum sf_list_kind kind);

/* Every entry of a trie (malloc'ed, sorted by key). 0 or -errno. */
int sf_list_dump(int fd, struct sf_list_entry **out, size_t *n);

/* Make the file entries of the trie the given sorted keys: new ones added (batched), the others'
 * file origin removed (deleted unless live too). Live entries are kept. Entries are added before
 * any is removed: no moment sees fewer than the old or the new list. */
int sf_list_replace_file(int fd, const struct sf_list_key *keys, size_t n, size_t *added,
			 size_t *removed);

/* Live: add (ttl_s 0: no expiry) or remove the live origin of one prefix. del: -ENOENT when the
 * prefix has no live entry (-EPERM: it is a file entry only). */
int sf_list_add_live(int fd, const struct sf_list_key *k, unsigned long ttl_s);
int sf_list_del_live(int fd, const struct sf_list_key *k);

/* Delete the live entries past their expiry (a file entry loses its live origin). Returns how many. */
size_t sf_list_sweep(int fd);

/* sf_lists.flags from whether each trie has an entry (what lets BPF skip an empty list). */
int sf_lists_sync_flags(int lists_fd, int allow_fd, int deny_fd);

/* CLOCK_MONOTONIC ns (the clock of bpf_ktime_get_ns). */
__u64 sf_list_now_ns(void);

#endif
