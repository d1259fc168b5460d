/* view/snapshot.c - see snapshot.h. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/loader.h"
#include "lib/log.h"
#include "lib/mapio.h"
#include "lib/proc.h"
#include "lib/sample.h"
#include "view/snapshot.h"
#include "lib/util.h"

void sf_maps_init(struct sf_maps *m)
{
	m->counters = m->ifaces = m->state = m->ports = m->config = m->sample_ctl = -1;
	m->owned = false;
}

void sf_maps_close(struct sf_maps *m)
{
	if (m->owned) {
		const int map_fds[] = { m->counters, m->ifaces, m->state, m->ports, m->config,
					m->sample_ctl };

		for (size_t i = 0; i < SF_ARRAY_SIZE(map_fds); i++)
			if (map_fds[i] >= 0)
				close(map_fds[i]);
	}
	sf_maps_init(m);
}

static const char not_running[] = "synfence is not running: no synfence maps in %s "
				  "(start `synfence run`, or give the --pin-dir it uses)";

/* Open DIR/name and check it is a map of the expected type. Prints its errors. Returns the fd. */
static int open_map(const char *dir, const char *name, __u32 type, __u32 min_value,
		    struct bpf_map_info *info)
{
	char path[PATH_MAX];
	__u32 len = sizeof(*info);
	int fd, err;

	err = sf_path_join(path, sizeof(path), dir, name);
	if (err) {
		sf_err("pin dir %s: %s", dir, strerror(-err));
		return err;
	}
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT || err == -ENOTDIR)
			sf_err(not_running, dir);
		else
			sf_err("cannot open %s: %s", path, strerror(-err));
		return err;
	}
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len) || info->type != type || info->key_size != 4) {
		sf_err("%s is not a synfence %s map", path, name);
		close(fd);
		return -EINVAL;
	}
	if (info->value_size < min_value) {
		sf_err("%s has %u-byte values, expected %u: made by another synfence version?", path,
		       info->value_size, min_value);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* The sampling switch, when this run has one (-1: none, quietly). */
static int open_sample_ctl(const char *dir)
{
	char path[PATH_MAX];

	if (sf_path_join(path, sizeof(path), dir, SF_MAP_SAMPLE_CTL))
		return -1;
	return bpf_obj_get(path);
}

int sf_maps_open_pinned(struct sf_maps *m, const char *dir)
{
	const struct {
		int *fd;
		const char *name;
		__u32 type, min_value;
	} maps[] = {
		{ &m->counters, SF_MAP_COUNTERS, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u64) },
		{ &m->ifaces, SF_MAP_IFACES, BPF_MAP_TYPE_ARRAY, sizeof(struct sf_iface) },
		{ &m->ports, SF_MAP_PORTS, BPF_MAP_TYPE_ARRAY, sizeof(__u64) },
		/* a run of the version before sf_state.version (version "": unknown) is still read */
		{ &m->state, SF_MAP_STATE, BPF_MAP_TYPE_ARRAY, offsetof(struct sf_state, version) },
		{ &m->config, SF_MAP_CONFIG, BPF_MAP_TYPE_ARRAY, sizeof(struct sf_config) },
	};
	struct bpf_map_info info;
	int err = 0;

	sf_maps_init(m);
	m->owned = true;
	/* e.g. the bpffs of `run` was mounted in another mount namespace (ip netns exec) */
	if (sf_is_bpffs(dir) != 1) {
		err = -ENOENT;
		sf_err(not_running, dir);
		goto out;
	}
	for (size_t i = 0; i < SF_ARRAY_SIZE(maps); i++) {
		*maps[i].fd = open_map(dir, maps[i].name, maps[i].type, maps[i].min_value, &info);
		if (*maps[i].fd < 0) {
			err = *maps[i].fd;
			goto out;
		}
	}
	m->sample_ctl = open_sample_ctl(dir);
out:
	if (err)
		sf_maps_close(m);
	return err;
}

__u64 sf_boot_ns(void) { return sf_clock_ns(CLOCK_BOOTTIME); }
__u64 sf_real_ns(void) { return sf_clock_ns(CLOCK_REALTIME); }

/* pid is alive (not a zombie: a `run` killed a moment ago that nobody has reaped yet is gone too)
 * and is a synfence */
static bool pid_is_synfence(__u32 pid)
{
	static const char comm[] = "synfence";
	char path[64], buf[256] = "";
	const char *lp, *rp;
	FILE *f;

	if (!pid || (kill((pid_t)pid, 0) && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	/* "PID (COMM) STATE ...": COMM may hold blanks and parentheses */
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp || rp[1] != ' ' || !rp[2])
		return false;
	return rp - lp - 1 == (ptrdiff_t)(sizeof(comm) - 1) &&
	       !memcmp(lp + 1, comm, sizeof(comm) - 1) && rp[2] != 'Z' && rp[2] != 'X';
}

static bool named(__u32 prog_id, const char *name)
{
	char n[32];

	sf_prog_name(prog_id, n, sizeof(n));
	return !strcmp(n, name);
}

enum sf_attach sf_xdp_attached(__u32 ifindex, __u32 prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 id = 0, ids[3];

	if (!prog_id)
		return SF_ATTACH_UNKNOWN;
	if (bpf_xdp_query((int)ifindex, 0, &q))
		return errno == ENODEV ? SF_ATTACH_NO : SF_ATTACH_UNKNOWN;
	ids[0] = q.drv_prog_id;
	ids[1] = q.skb_prog_id;
	ids[2] = q.hw_prog_id;
	for (int i = 0; i < 3; i++) {
		if (ids[i] == prog_id) /* attached directly (libxdp without its dispatcher) */
			return SF_ATTACH_YES;
	}
	/* A synfence program the state does not name: a takeover killed after swapping the programs
	 * of the pinned links and before writing the state (the new programs protect just as well). */
	for (int i = 0; i < 3; i++)
		if (ids[i] && named(ids[i], SF_PROG_XDP))
			return SF_ATTACH_YES;
	/* Behind libxdp's dispatcher: an freplace link from our program to the dispatcher. */
	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.prog_id == prog_id &&
		    info.type == BPF_LINK_TYPE_TRACING) {
			for (int i = 0; i < 3; i++) {
				if (ids[i] && info.tracing.target_obj_id == ids[i]) {
					close(fd);
					return SF_ATTACH_YES;
				}
			}
		}
		close(fd);
	}
	return SF_ATTACH_NO;
}

enum sf_attach sf_tc_attached(__u32 ifindex, __u32 prog_id)
{
	__u32 ids[64], cnt = SF_ARRAY_SIZE(ids), flags = 0;

	if (!prog_id)
		return SF_ATTACH_UNKNOWN;
	long clsact;

	/* for tcx, target_fd is the ifindex */
	if (bpf_prog_query((int)ifindex, BPF_TCX_INGRESS, 0, &flags, ids, &cnt) == 0) {
		for (__u32 i = 0; i < cnt && i < SF_ARRAY_SIZE(ids); i++)
			if (ids[i] == prog_id || named(ids[i], SF_PROG_TC)) /* (see sf_xdp_attached) */
				return SF_ATTACH_YES;
	} else if (errno == ENODEV) {
		return SF_ATTACH_NO;
	}
	/* not at tcx (or no tcx): our clsact filter, on kernels without tcx */
	clsact = sf_clsact_prog_id(ifindex);
	if (clsact < 0)
		return SF_ATTACH_UNKNOWN;
	return clsact && ((__u32)clsact == prog_id || named((__u32)clsact, SF_PROG_TC)) ?
		       SF_ATTACH_YES : SF_ATTACH_NO;
}

/* What read_counters needs to know of the maps (a newer BPF object may have appended counters:
 * read what both sides know, or have more slots) and its buffers for one slot. */
struct counter_reader {
	int n_cnt;          /* counters per slot that both sides know */
	size_t value_size;  /* of the counters map: bytes per CPU */
	__u32 n_slots;
	void *ibuf;         /* one value of the interface map */
};

static int reader_open(const struct sf_maps *m, struct counter_reader *r)
{
	struct bpf_map_info cinfo, iinfo;
	__u32 clen = sizeof(cinfo), ilen = sizeof(iinfo);
	int err = 0;

	memset(r, 0, sizeof(*r));
	memset(&cinfo, 0, sizeof(cinfo));
	memset(&iinfo, 0, sizeof(iinfo));
	if (bpf_obj_get_info_by_fd(m->counters, &cinfo, &clen) ||
	    bpf_obj_get_info_by_fd(m->ifaces, &iinfo, &ilen)) {
		err = -errno;
		sf_err("cannot inspect the synfence maps: %s", strerror(-err));
		goto out;
	}
	r->value_size = cinfo.value_size;
	r->n_cnt = cinfo.value_size / sizeof(__u64);
	if (r->n_cnt > SF_CNT_MAX)
		r->n_cnt = SF_CNT_MAX;
	r->n_slots = cinfo.max_entries < SF_MAX_IFACES ? cinfo.max_entries : SF_MAX_IFACES;
	r->ibuf = calloc(1, iinfo.value_size);
	if (!r->ibuf) {
		err = -ENOMEM;
		sf_err("out of memory");
	}
out:
	return err;
}

static void reader_close(struct counter_reader *r)
{
	free(r->ibuf);
}

/* The counters of one slot summed over the CPUs. */
static int read_slot(const struct sf_maps *m, const struct counter_reader *r, __u32 slot,
		     __u64 sum[SF_CNT_MAX])
{
	int err = sf_percpu_sum(m->counters, &slot, r->value_size, sum, r->n_cnt);

	if (err)
		sf_err("cannot read the counters (%s): %s", SF_MAP_COUNTERS, strerror(-err));
	return err;
}

/* The interface of slot (ibuf: a buffer for its value) into s, with its counters; nothing when
 * the slot is free or beyond the interface map. */
static int add_interface(const struct sf_maps *m, __u32 slot, void *ibuf, const __u64 *sum,
			 struct sf_snap *s)
{
	struct sf_iface info;
	struct sf_snap_if *si;
	int err;

	err = bpf_map_lookup_elem(m->ifaces, &slot, ibuf) ? -errno : 0;
	if (err == -ENOENT) /* fewer slots in the interface map: nothing more to show */
		return 0;
	if (err) {
		sf_err("cannot read the interfaces (%s): %s", SF_MAP_IFACES, strerror(-err));
		return err;
	}
	memcpy(&info, ibuf, sizeof(info));
	if (!info.ifindex)
		return 0;
	si = &s->ifs[s->n_ifs++];
	/* the map's name need not be NUL-terminated */
	snprintf(si->name, sizeof(si->name), "%.*s", (int)sizeof(info.name), info.name);
	si->slot = slot;
	si->ifindex = info.ifindex;
	si->xdp_mode = info.xdp_mode;
	si->xdp = si->tc = SF_ATTACH_UNKNOWN;
	memcpy(si->c, sum, sizeof(si->c));
	si->engaged = info.flags & SF_IF_ENGAGED;
	si->engaged_since_boot_ns = info.engaged_since_boot_ns;
	si->engage_switches = info.engage_switches;
	si->syn_rate = info.engage_rate;
	return 0;
}

/* Every slot: into the total, slot 0 as "other", the others as their interface. */
static int read_counters(const struct sf_maps *m, struct sf_snap *s)
{
	struct counter_reader r;
	int err;

	err = reader_open(m, &r);
	for (__u32 slot = 0; !err && slot < r.n_slots; slot++) {
		__u64 sum[SF_CNT_MAX] = { 0 };
		bool nonzero = false;

		err = read_slot(m, &r, slot, sum);
		if (err)
			break;
		for (int i = 0; i < r.n_cnt; i++) {
			s->total[i] += sum[i];
			nonzero |= sum[i] != 0;
		}
		if (slot == 0) {
			memcpy(s->other, sum, sizeof(sum));
			s->other_nonzero = nonzero;
			continue;
		}
		err = add_interface(m, slot, r.ibuf, sum, s);
	}
	reader_close(&r);
	return err;
}

/* The sampling switch and who holds it. */
static void read_sampling(const struct sf_maps *m, struct sf_snap *s)
{
	__u32 zero = 0;

	if (m->sample_ctl < 0 || sf_map_read(m->sample_ctl, &zero, &s->sampling, sizeof(s->sampling)))
		return;
	s->have_sampling = true;
	s->sampling_alive = sf_sample_holder_alive(&s->sampling);
	if (s->sampling_alive)
		sf_sample_holder_name(s->sampling.owner_pid, s->sampling_holder,
				      sizeof(s->sampling_holder));
}

int sf_snap_read(const struct sf_maps *m, struct sf_snap *s, bool check_attach)
{
	__u32 zero = 0;
	int err;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_MONOTONIC, &s->mono);
	s->boot_ns = sf_boot_ns();
	s->real_ns = sf_real_ns();
	err = read_counters(m, s);
	if (err)
		goto out;
	if (!sf_map_read(m->state, &zero, &s->state, sizeof(s->state)))
		s->have_state = s->state.start_boot_ns != 0;
	s->state.metrics[sizeof(s->state.metrics) - 1] = '\0';
	s->state.last_error[sizeof(s->state.last_error) - 1] = '\0';
	s->state.version[sizeof(s->state.version) - 1] = '\0';
	s->have_config = !sf_map_read(m->config, &zero, &s->config, sizeof(s->config));
	if (m->ports >= 0) {
		s->have_ports = true;
		for (__u32 w = 0; w < SF_PORT_WORDS; w++) {
			if (bpf_map_lookup_elem(m->ports, &w, &s->ports[w])) {
				s->have_ports = false;
				break;
			}
		}
	}
	read_sampling(m, s);
	s->running = s->have_state && pid_is_synfence(s->state.pid);
	s->same_netns = s->have_state && s->state.netns_ino && s->state.netns_ino == sf_netns_ino();
	if (check_attach && s->same_netns) {
		for (int i = 0; i < s->n_ifs; i++) {
			s->ifs[i].xdp = sf_xdp_attached(s->ifs[i].ifindex, s->state.xdp_prog_id);
			s->ifs[i].tc = sf_tc_attached(s->ifs[i].ifindex, s->state.tc_prog_id);
		}
	}
out:
	return err;
}

enum sf_left sf_snap_left(const struct sf_snap *s)
{
	int n_yes = 0, n_no = 0, n_unknown = 0;

	for (int i = 0; i < s->n_ifs; i++) {
		const struct sf_snap_if *si = &s->ifs[i];

		n_yes += si->xdp == SF_ATTACH_YES || si->tc == SF_ATTACH_YES;
		n_no += si->xdp == SF_ATTACH_NO || si->tc == SF_ATTACH_NO;
		n_unknown += si->xdp == SF_ATTACH_UNKNOWN || si->tc == SF_ATTACH_UNKNOWN;
	}
	if (!s->n_ifs || (!n_yes && !n_unknown))
		return SF_LEFT_NOTHING;
	if (!n_no && !n_unknown)
		return SF_LEFT_ALL;
	if (!n_yes)
		return SF_LEFT_UNKNOWN;
	return SF_LEFT_PARTLY;
}

bool sf_snap_monitor(const struct sf_snap *s)
{
	return s->have_state && (s->state.flags & SF_ST_MONITOR);
}

bool sf_snap_engage_auto(const struct sf_snap *s)
{
	return s->have_state && (s->state.flags & SF_ST_ENGAGE_AUTO);
}

bool sf_snap_engaged(const struct sf_snap *s, __u64 *since_boot_ns, __u64 *switches)
{
	__u64 first = 0, last = 0;
	bool any = !sf_snap_engage_auto(s);

	*switches = 0;
	for (int i = 0; i < s->n_ifs; i++) {
		const struct sf_snap_if *si = &s->ifs[i];

		*switches += si->engage_switches;
		if (si->engaged_since_boot_ns > last)
			last = si->engaged_since_boot_ns;
		if (si->engaged && sf_snap_engage_auto(s)) {
			if (!any || (si->engaged_since_boot_ns && si->engaged_since_boot_ns < first))
				first = si->engaged_since_boot_ns;
			any = true;
		}
	}
	*since_boot_ns = any && sf_snap_engage_auto(s) ? first : last;
	if (!*since_boot_ns)
		*since_boot_ns = s->state.start_boot_ns;
	return any;
}

bool sf_snap_suspended(const struct sf_snap *s)
{
	return s->have_state && (s->state.flags & SF_ST_SUSPENDED);
}

bool sf_snap_limit(const struct sf_snap *s, struct sf_snap_limit *l)
{
	const struct sf_config *c = &s->config;

	memset(l, 0, sizeof(*l));
	if (!s->have_config)
		return false;
	if (!c->limit_t_ns)
		return true;
	l->rate = (unsigned long)((1000000000ull + c->limit_t_ns / 2) / c->limit_t_ns);
	l->burst = (unsigned long)(c->limit_tau_ns / c->limit_t_ns + 1);
	l->prefix4 = (unsigned long)__builtin_popcount(c->limit_mask4);
	for (int i = 0; i < 4; i++)
		l->prefix6 += (unsigned long)__builtin_popcount(c->limit_mask6[i]);
	return true;
}

double sf_snap_since_s(const struct sf_snap *s, __u64 then)
{
	return (double)(s->boot_ns - then) / 1e9;
}

double sf_snap_age_s(const struct sf_snap *s, __u64 then)
{
	return then ? sf_snap_since_s(s, then) : NAN;
}

double sf_snap_uptime_s(const struct sf_snap *s) { return sf_snap_since_s(s, s->state.start_boot_ns); }

double sf_snap_secret_age_s(const struct sf_snap *s)
{
	return sf_snap_since_s(s, s->state.rotated_boot_ns);
}

int sf_snap_sysctl(const struct sf_snap *s, int i)
{
	return s->state.sysctl_boot_ns ? s->state.sysctl[i] : -1;
}

double sf_snap_interval(const struct sf_snap *a, const struct sf_snap *b)
{
	return (double)(b->mono.tv_sec - a->mono.tv_sec) + (b->mono.tv_nsec - a->mono.tv_nsec) / 1e9;
}

const struct sf_snap_if *sf_snap_match_if(const struct sf_snap *prev, const struct sf_snap_if *cur)
{
	for (int i = 0; prev && i < prev->n_ifs; i++)
		if (prev->ifs[i].slot == cur->slot && prev->ifs[i].ifindex == cur->ifindex)
			return &prev->ifs[i];
	return NULL;
}
