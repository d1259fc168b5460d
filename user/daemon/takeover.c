/* daemon/takeover.c - an earlier run's maps (reuse, migrate) and links (take over, drop stale). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon/internal.h"
#include "lib/ifmaps.h"
#include "lib/log.h"
#include "lib/mapio.h"

static bool map_compatible(int fd, const struct bpf_map *m)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.type == bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
	       info.value_size == bpf_map__value_size(m) &&
	       info.max_entries == bpf_map__max_entries(m) && info.map_flags == bpf_map__map_flags(m);
}

/* The pinned map i of an earlier run, if any: reused by m (before the object is loaded) when its
 * layout is the same, else kept in d->old_map[i] for its contents to move to the new map. */
int reuse_pinned_map(struct daemon *d, enum sf_pinned_map i, struct bpf_map *m)
{
	int fd = sf_pins_get(&d->pins, sf_map_names[i]), ret;

	if (fd < 0)
		return 0;
	if (!map_compatible(fd, m)) {
		sf_warn("pinned map %s has another layout (another synfence version): its "
			"contents move to a new map", sf_map_names[i]);
		d->old_map[i] = fd;
		return 0;
	}
	ret = bpf_map__reuse_fd(m, fd);
	close(fd);
	if (ret)
		snprintf(d->err, sizeof(d->err), "cannot reuse pinned map %s: %s", sf_map_names[i],
			 strerror(-ret));
	return ret;
}

static int map_geometry(int fd, __u32 *type, __u32 *value_size, __u32 *max_entries)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return errno ? -errno : -EINVAL;
	*type = info.type;
	*value_size = info.value_size;
	*max_entries = info.max_entries;
	return 0;
}

/* Copy an array map's entries into a new map of another value size: the common prefix (fields are
 * only ever appended). percpu: add old counters to the new ones, per CPU. */
void migrate_map(int from, int to)
{
	__u32 t1 = 0, t2 = 0, vs1 = 0, vs2 = 0, n1 = 0, n2 = 0;
	int ncpu = libbpf_num_possible_cpus();
	char *a = NULL, *b = NULL;
	size_t s1, s2;
	bool percpu;

	if (map_geometry(from, &t1, &vs1, &n1) || map_geometry(to, &t2, &vs2, &n2) || t1 != t2 ||
	    ncpu <= 0 || !vs1 || !vs2 || (t1 != BPF_MAP_TYPE_ARRAY && t1 != BPF_MAP_TYPE_PERCPU_ARRAY))
		return;
	percpu = t1 == BPF_MAP_TYPE_PERCPU_ARRAY;
	s1 = percpu ? sf_percpu_stride(vs1) * ncpu : vs1;
	s2 = percpu ? sf_percpu_stride(vs2) * ncpu : vs2;
	a = calloc(1, s1);
	b = calloc(1, s2);
	if (!a || !b)
		goto out;
	for (__u32 k = 0; k < n1 && k < n2; k++) {
		if (bpf_map_lookup_elem(from, &k, a))
			continue;
		if (percpu) {
			size_t st1 = sf_percpu_stride(vs1), st2 = sf_percpu_stride(vs2), common = (vs1 < vs2 ? vs1 : vs2) / 8;

			if (bpf_map_lookup_elem(to, &k, b))
				continue;
			for (int c = 0; c < ncpu; c++)
				for (size_t w = 0; w < common; w++)
					((__u64 *)(b + c * st2))[w] += ((__u64 *)(a + c * st1))[w];
		} else {
			memset(b, 0, s2);
			memcpy(b, a, vs1 < vs2 ? vs1 : vs2);
		}
		sf_map_update(to, &k, b, BPF_ANY);
	}
out:
	free(a);
	free(b);
}

/* What an earlier run left in sf_state (zero if nothing readable). */
void old_state(struct daemon *d, struct sf_state *st)
{
	int fd = d->old_map[SF_M_STATE] >= 0 ? d->old_map[SF_M_STATE] : d->map[SF_M_STATE];
	__u32 zero = 0;

	memset(st, 0, sizeof(*st));
	if (d->takeover)
		sf_map_read(fd, &zero, st, sizeof(*st));
	st->version[sizeof(st->version) - 1] = '\0';
}

/* Slot of name in the earlier run's sf_ifaces (0: none). */
__u32 old_slot(struct daemon *d, const char *name)
{
	int fd = d->old_map[SF_M_IFACES] >= 0 ? d->old_map[SF_M_IFACES] : d->map[SF_M_IFACES];

	return d->takeover ? sf_ifaces_find(fd, name, 1, NULL) : 0;
}

/* A pinned link of kind for r: taken over (program swapped) when it is alive on r's interface,
 * removed when it is stale. Returns 0 (r->*_link set or not) or -errno. */
int take_over_link(struct daemon *d, struct daemon_if *r, enum sf_link_kind kind)
{
	int prog = kind == SF_LINK_XDP ? d->xdp_prog : d->tc_prog;
	__u32 type = kind == SF_LINK_XDP ? SF_LINK_TYPE_XDP : SF_LINK_TYPE_TCX;
	const char *what = kind == SF_LINK_XDP ? "XDP" : "TC";
	struct sf_link_info li;
	char name[64];
	int fd, old, ret;

	sf_pins_link_name(kind, r->name, name, sizeof(name));
	fd = sf_pins_get(&d->pins, name);
	if (fd < 0)
		return 0;
	if (sf_link_info(fd, &li) || li.type != type || li.ifindex != r->ifindex) {
		/* defunct (its interface went away) or not ours any more */
		sf_pins_drop_link(&d->pins, kind, r->name, &fd);
		sf_dbg("%s: removed a stale pinned %s link", r->name, what);
		return 0;
	}
	old = bpf_prog_get_fd_by_id(li.prog_id);
	ret = sf_link_update(fd, prog, old);
	if (ret) {
		snprintf(d->err, sizeof(d->err), "cannot take over the %s link of %s (link %u): %s", what,
			 r->name, li.id, strerror(-ret));
		if (old >= 0)
			close(old);
		close(fd);
		return ret;
	}
	if (kind == SF_LINK_XDP) {
		r->xdp_link = fd;
		r->old_xdp_prog = old;
	} else {
		r->tc_link = fd;
		r->old_tc_prog = old;
	}
	sf_dbg("%s: took over the pinned %s link %u (program %u replaced)", r->name, what, li.id,
	       li.prog_id);
	return 0;
}

/* A link pin of an interface we do not protect (any more): detach it. */
int drop_stale_link(enum sf_link_kind kind, const char *ifname, void *arg)
{
	struct daemon *d = arg;

	if (find_if(d, ifname))
		return 0;
	sf_pins_drop_link(&d->pins, kind, ifname, NULL);
	sf_info("%s: no longer configured: %s detached", ifname, kind == SF_LINK_XDP ? "XDP" : "TC");
	return 0;
}

void save_maps(struct daemon *d, struct saved *s)
{
	__u32 zero = 0;

	memset(s, 0, sizeof(*s));
	if (!d->takeover || d->old_map[SF_M_CONFIG] >= 0 || d->old_map[SF_M_SECRETS] >= 0 ||
	    d->old_map[SF_M_PORTS] >= 0)
		return; /* new maps: the old ones are untouched anyway */
	s->have = !bpf_map_lookup_elem(d->map[SF_M_CONFIG], &zero, &s->cfg) &&
		  !bpf_map_lookup_elem(d->map[SF_M_SECRETS], &zero, &s->sec) &&
		  (d->old_map[SF_M_STATE] >= 0 || !bpf_map_lookup_elem(d->map[SF_M_STATE], &zero, &s->st));
	for (__u32 w = 0; s->have && w < SF_PORT_WORDS; w++)
		s->have = !bpf_map_lookup_elem(d->map[SF_M_PORTS], &w, &s->ports[w]);
}

void restore_maps(struct daemon *d, struct saved *s)
{
	if (!s->have)
		return;
	map_put(d->map[SF_M_SECRETS], 0, &s->sec);
	for (__u32 w = 0; w < SF_PORT_WORDS; w++)
		map_put(d->map[SF_M_PORTS], w, &s->ports[w]);
	map_put(d->map[SF_M_CONFIG], 0, &s->cfg);
	if (d->old_map[SF_M_STATE] < 0)
		map_put(d->map[SF_M_STATE], 0, &s->st);
}
