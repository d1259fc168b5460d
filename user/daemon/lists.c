/* daemon/lists.c - the allow and deny lists of `synfence run`: the files (allow_file, deny_file)
 * loaded at start and on SIGHUP, replacing the file entries only (live ones stay); expired live
 * entries swept on every tick, and the emptiness flags BPF reads kept true. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/internal.h"
#include "lib/lists.h"
#include "lib/log.h"

static const char *list_file(const struct sf_settings *s, enum sf_list_kind kind)
{
	return kind == SF_LIST_ALLOW_KIND ? s->allow_file : s->deny_file;
}

static int list_fd(struct daemon *d, enum sf_list_kind kind)
{
	return d->map[kind == SF_LIST_ALLOW_KIND ? SF_M_ALLOW : SF_M_DENY];
}

/* The files of s in place of the file entries (no file: none). */
int lists_apply_files(struct daemon *d, const struct sf_settings *s)
{
	int ret = 0;

	for (int kind = 0; kind < SF_LIST_KINDS && !ret; kind++) {
		const char *path = list_file(s, kind);
		struct sf_list_key *keys = NULL;
		size_t n = 0, added, removed;
		__u64 t0 = sf_list_now_ns();

		if (path[0] && (ret = sf_list_file_read(path, &keys, &n, d->err, sizeof(d->err))))
			break;
		ret = sf_list_replace_file(list_fd(d, kind), keys, n, &added, &removed);
		free(keys);
		if (ret) {
			snprintf(d->err, sizeof(d->err), "cannot load the %s list: %s",
				 sf_list_kind_name(kind), strerror(-ret));
			break;
		}
		if (path[0] || removed)
			sf_info("%s list: %zu prefixes from %s (%zu new, %zu gone) in %llu ms",
				sf_list_kind_name(kind), n, path[0] ? path : "no file", added, removed,
				(unsigned long long)((sf_list_now_ns() - t0) / 1000000));
	}
	sf_lists_sync_flags(d->map[SF_M_LISTS], d->map[SF_M_ALLOW], d->map[SF_M_DENY]);
	return ret;
}

/* Every tick: expired live entries out, the flags right (also after a racing CLI). */
void lists_tick(struct daemon *d)
{
	for (int kind = 0; kind < SF_LIST_KINDS; kind++) {
		size_t n = sf_list_sweep(list_fd(d, kind));

		if (n)
			sf_info("%s list: %zu live entr%s expired", sf_list_kind_name(kind), n, n == 1 ? "y" : "ies");
	}
	sf_lists_sync_flags(d->map[SF_M_LISTS], d->map[SF_M_ALLOW], d->map[SF_M_DENY]);
}
