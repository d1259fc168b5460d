/* daemon/start.c - start as named phases (pin dir, load, maps, attach, pin) with one rollback. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd/cmd.h"
#include "conf/ports.h"
#include "daemon/flowseed.h"
#include "daemon/internal.h"
#include "lib/log.h"
#include "lib/mapio.h"
#include "lib/preflight.h"
#include "lib/proc.h"
#include "lib/sysctl.h"
#include "synfence.skel.h"

static int pin_dir_busy(struct daemon *d)
{
	struct sf_state st = { 0 };
	__u32 zero = 0;
	char cmd[256] = "";
	int fd = sf_pins_get(&d->pins, SF_MAP_STATE);

	if (fd >= 0) {
		sf_map_read(fd, &zero, &st, sizeof(st));
		close(fd);
	}
	if (st.pid) {
		sf_proc_cmdline((pid_t)st.pid, cmd, sizeof(cmd));
		sf_err("pin dir %s is in use by synfence pid %u%s%s%s: one synfence per pin dir "
		       "(stop it, or use another --pin-dir)", d->pins.dir, st.pid, *cmd ? " (" : "",
		       cmd, *cmd ? ")" : "");
	} else {
		sf_err("pin dir %s is locked by another synfence (starting or stopping?)", d->pins.dir);
	}
	return -EBUSY;
}

/* Open the object and point it at the pinned maps that fit; load. */
static int load_bpf(struct daemon *d)
{
	struct bpf_map *maps[SF_N_MAPS];
	int ret;

	ret = sf_obj_open(&d->skel, d->err, sizeof(d->err));
	if (ret)
		return ret;
	for (int i = 0; i < SF_N_MAPS; i++) {
		maps[i] = bpf_object__find_map_by_name(d->skel->obj, sf_map_names[i]);
		if (!maps[i]) {
			snprintf(d->err, sizeof(d->err), "the BPF object has no map %s", sf_map_names[i]);
			return -ENOENT;
		}
		if ((ret = reuse_pinned_map(d, i, maps[i])))
			return ret;
	}
	ret = sf_obj_load(d->skel, d->err, sizeof(d->err));
	if (ret)
		return ret;
	for (int i = 0; i < SF_N_MAPS; i++)
		d->map[i] = bpf_map__fd(maps[i]);
	d->xdp_prog = bpf_program__fd(d->skel->progs.synfence_xdp);
	d->tc_prog = bpf_program__fd(d->skel->progs.synfence_tc);
	return 0;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Write the port set `to`: every word (from NULL: at start, when the map's contents are not known)
 * or only the words that differ from `from`. On failure the words already written get from's value
 * back, so the set in force stays the old one. */
int write_ports(struct daemon *d, const __u64 *from, const __u64 *to)
{
	__u32 w;
	int ret = 0;

	for (w = 0; w < SF_PORT_WORDS; w++)
		if ((!from || from[w] != to[w]) && (ret = map_put(d->map[SF_M_PORTS], w, &to[w])))
			break;
	if (!ret)
		return 0;
	snprintf(d->err, sizeof(d->err), "cannot write the port set (map %s, word %u): %s",
		 SF_MAP_PORTS, w, strerror(-ret));
	while (from && w-- > 0)
		if (from[w] != to[w])
			map_put(d->map[SF_M_PORTS], w, &from[w]);
	return ret;
}

/* The flow cache starts with the connections the kernel has already, so that a client reusing the
 * tuple of one in TIME_WAIT (made before this run) is recognised on its SYN. Before the programs
 * run: the tags are written as a whole. Not fatal: without it such a client needs a retry. */
static void seed_flows(struct daemon *d)
{
	unsigned int n;

	if (sf_flow_seed(bpf_map__fd(d->skel->maps.sf_flows), bpf_map__fd(d->skel->maps.sf_flow_tags),
			 d->set.ports, &n, d->err, sizeof(d->err)))
		sf_warn("%s: clients reusing the tuple of a connection made before this run may need "
			"a second try", d->err);
	else
		sf_dbg("flow cache: %u existing connection(s) on the protected ports", n);
}

/* The paths the probed kernel features chose; logged once attached (a failed start prints its one
 * error line and nothing else). */
static void log_features(struct daemon *d)
{
	char feat[256];

	sf_features_text(d->features, feat, sizeof(feat));
	sf_info("kernel: %s", feat);
}

void log_protecting(struct daemon *d)
{
	char ports[512];

	if (sf_format_ports(d->set.ports, ports, sizeof(ports)) >= sizeof(ports))
		strcpy(ports + sizeof(ports) - 4, "...");
	for (int i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].attached)
			sf_info("protecting %s (%s) ports %s", d->ifs[i].name,
				sf_mode_name(d->ifs[i].mode), ports);
	if (d->set.monitor)
		sf_info("MONITOR mode: counting only, every packet passes to the kernel untouched");
}

/* What start did so far, for its one rollback. */
struct start_run {
	struct sf_state prev;  /* what the earlier run left in sf_state */
	bool old_shared;       /* its keys came from a secret file */
	struct saved saved;    /* its map values that start overwrites (put back on failure) */
	int n_attached;        /* interfaces attached so far (through our fds) */
};

/* Phase 1: the pin dir, created and locked; is there an earlier run's state in it? */
static int start_pin_dir(struct daemon *d)
{
	int ret = sf_pins_prepare(&d->pins, d->set.pin_dir, d->err, sizeof(d->err));

	if (ret == -EBUSY)
		return pin_dir_busy(d);
	if (ret) {
		sf_err("%s", d->err);
		return ret;
	}
	d->takeover = sf_pins_any(&d->pins);
	return 0;
}

/* Phase 2 (after load_bpf): the earlier run's state must be of this network namespace; its maps that
 * could not be reused move to the new ones. */
static int start_check_prev(struct daemon *d, struct start_run *s)
{
	old_state(d, &s->prev);
	if (d->takeover && s->prev.netns_ino && s->prev.netns_ino != sf_netns_ino()) {
		snprintf(d->err, sizeof(d->err), "pin dir %s holds the state of a synfence in another "
			 "network namespace (inode %u): use another --pin-dir here", d->pins.dir,
			 s->prev.netns_ino);
		return -EXDEV;
	}
	s->old_shared = s->prev.flags & SF_ST_SHARED_SECRET;

	/* Counters are added up, so they move once, after the swap, when the old programs have
	 * stopped counting into the old map (moving them here too counted them twice). */
	for (int i = 0; i < SF_N_MAPS; i++)
		if (d->old_map[i] >= 0 && i != SF_M_SECRETS && i != SF_M_COUNTERS)
			migrate_map(d->old_map[i], d->map[i]);
	return 0;
}

/* Phase 3: the interfaces (they must exist now) and their counter slots: an interface keeps its slot
 * (and counters) across restarts. */
static int start_open_ifs(struct daemon *d)
{
	int ret;

	for (int i = 0; i < d->set.n_ifs; i++) {
		ret = open_if(d, &d->ifs[d->n_ifs++], d->set.ifs[i]);
		if (ret)
			return ret;
	}
	for (int i = 0; i < d->n_ifs; i++) {
		__u32 s = old_slot(d, d->ifs[i].name);

		if (s && !slot_taken(d, s))
			d->ifs[i].slot = s;
	}
	for (int i = 0; i < d->n_ifs; i++)
		if (!d->ifs[i].slot && (ret = new_slot(d, &d->ifs[i], NULL, 0)))
			return ret;
	return 0;
}

/* Phase 4: the maps' contents (what the earlier run had there is saved first): ports, interfaces,
 * keys, the sysctl mirror, the flow cache. */
static int start_fill_maps(struct daemon *d, struct start_run *s)
{
	int ret;

	save_maps(d, &s->saved);
	if ((ret = write_ports(d, NULL, d->set.ports)))
		return ret;
	for (int i = 0; i < d->n_ifs; i++)
		if ((ret = write_if_info(d, &d->ifs[i])))
			return ret;
	if ((ret = secrets_setup(d, s->old_shared, d->old_map[SF_M_SECRETS] < 0)))
		return ret;
	if (d->takeover && !d->shared && !s->old_shared && s->prev.rotated_boot_ns) {
		/* keep the earlier run's rotation schedule */
		__u64 age = sf_clock_ns(CLOCK_BOOTTIME) - s->prev.rotated_boot_ns;

		d->rotated_mono_ns = sf_clock_ns(CLOCK_MONOTONIC) - age;
		d->st.rotated_boot_ns = s->prev.rotated_boot_ns;
		sf_secret_epoch(d->map[SF_M_SECRETS], &d->st.epoch);
	} else if (!d->st.rotated_boot_ns) {
		note_epoch(d);
	}
	if ((ret = sysctl_sync(d, true)) || (ret = lists_apply_files(d, &d->set)))
		return ret;
	seed_flows(d);
	return 0;
}

/* Phase 5: attached through our fds only: a kill -9 up to here leaves nothing behind (a takeover:
 * the earlier run's links, with its or our programs, and its maps). */
static int start_attach(struct daemon *d, struct start_run *s)
{
	int ret;

	for (int i = 0; i < d->n_ifs; i++) {
		ret = attach_if(d, &d->ifs[i]);
		if (ret)
			return ret;
		s->n_attached++;
	}
	for (int i = 0; i < d->n_ifs; i++)
		if ((ret = write_if_info(d, &d->ifs[i]))) /* its XDP mode, known now */
			return ret;
	return 0;
}

/* Phase 6: the daemon state, for status and the next run. */
static int start_write_state(struct daemon *d, struct start_run *s)
{
	int ret;

	d->st.start_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	d->st.start_real_ns = sf_clock_ns(CLOCK_REALTIME);
	d->st.pid = (__u32)getpid();
	snprintf(d->st.version, sizeof(d->st.version), "%s", SYNFENCE_VERSION);
	d->st.rotate_s = (__u32)d->set.rotate;
	d->st.xdp_prog_id = prog_id(d->xdp_prog);
	d->st.tc_prog_id = prog_id(d->tc_prog);
	d->st.netns_ino = sf_netns_ino();
	d->st.features = d->features;
	d->st.takeovers = s->prev.takeovers + (d->takeover ? 1 : 0);
	d->st.flags = (d->st.flags & (SF_ST_SUSPENDED | SF_ST_MONITOR | SF_ST_ENGAGE_AUTO)) | (d->shared ? SF_ST_SHARED_SECRET : 0) |
		      (d->set.keep_attached ? SF_ST_KEEP_ATTACHED : 0);
	if ((ret = map_put(d->map[SF_M_STATE], 0, &d->st)))
		snprintf(d->err, sizeof(d->err), "cannot write the daemon state (map %s): %s",
			 SF_MAP_STATE, strerror(-ret));
	return ret;
}

/* Phase 7: pin the maps that are new (the ones replacing incompatible pins only once all went
 * well), then the links, TC before XDP, back to back. */
static int start_pin(struct daemon *d)
{
	int ret;

	for (int i = 0; i < SF_N_MAPS; i++) {
		char path[PATH_MAX];

		if (d->old_map[i] >= 0 || (!sf_pins_path(&d->pins, sf_map_names[i], path, sizeof(path)) &&
					   access(path, F_OK) == 0))
			continue;
		ret = sf_pins_put(&d->pins, sf_map_names[i], d->map[i]);
		d->map_pinned_new[i] = true; /* (removed on failure, also when half made) */
		if (ret) {
			snprintf(d->err, sizeof(d->err), "cannot pin map %s in %s: %s", sf_map_names[i],
				 d->pins.dir, strerror(-ret));
			return ret;
		}
	}
	for (int i = 0; i < d->n_ifs; i++)
		if ((ret = pin_links(d, &d->ifs[i])))
			return ret;
	return 0;
}

/* Phase 8, all in place: the point of no return. What the earlier run left and this one does not
 * use goes; nothing here fails the start. */
static void start_commit(struct daemon *d, const struct start_run *s)
{
	int ret;

	for (int i = 0; i < d->n_ifs; i++)
		commit_attach(&d->ifs[i]);
	if (d->takeover)
		sf_pins_for_links(&d->pins, drop_stale_link, d);
	for (int i = 0; i < SF_N_MAPS; i++) {
		if (d->old_map[i] < 0)
			continue;
		if (i == SF_M_COUNTERS)
			migrate_map(d->old_map[i], d->map[i]);
		ret = sf_pins_put(&d->pins, sf_map_names[i], d->map[i]);
		if (ret)
			sf_warn("cannot re-pin map %s: %s", sf_map_names[i], strerror(-ret));
		close(d->old_map[i]);
		d->old_map[i] = -1;
	}
	/* stale slots of the earlier run (a new map has none): only what stats shows */
	for (__u32 sl = 1; d->takeover && sl < SF_MAX_IFACES; sl++)
		if (!slot_taken(d, sl) && (ret = clear_if_info(d, sl)))
			sf_warn("cannot clear the stale interface slot %u (map %s): %s", sl, SF_MAP_IFACES,
				strerror(-ret));
	if (d->takeover)
		sf_info("took over the pinned state in %s (earlier run pid %u, version %s; this run "
			"version %s): programs replaced, secrets and counters kept", d->pins.dir,
			s->prev.pid, s->prev.version[0] ? s->prev.version : "unknown", SYNFENCE_VERSION);
	log_features(d);
	log_protecting(d);
	sf_dbg("maps and links pinned in %s; mss4 %u mss6 %u wscale %u flags 0x%x; secret %s, "
	       "rotates every %lus", d->pins.dir, d->want.mss4, d->want.mss6, d->want.rcv_wscale,
	       d->want.flags, d->shared ? "from the secret file" : "random", d->set.rotate);
}

/* The one rollback of a failed start (after the pin dir is ours): the interfaces attached so far
 * are detached (a takeover: given back to the earlier run's programs), the maps get the earlier
 * run's values back, and what this run pinned goes. */
static void start_rollback(struct daemon *d, struct start_run *s, int ret)
{
	for (int i = 0; i < s->n_attached; i++) {
		if (d->takeover)
			undo_attach(d, &d->ifs[i]);
		else
			detach_if(d, &d->ifs[i]);
	}
	restore_maps(d, &s->saved); /* (nothing when start_fill_maps did not save them) */
	sf_dbg("start failed: %s", strerror(-ret));
	if (!d->takeover) {
		sf_err("%s", d->err);
		if (d->syncookies_found >= 0 &&
		    !sf_sysctl_write_int("net.ipv4.tcp_syncookies", d->syncookies_found))
			sf_info("net.ipv4.tcp_syncookies put back to %ld", d->syncookies_found);
		sf_pins_remove_all(&d->pins);
		sf_pins_close(&d->pins, true);
	} else {
		sf_err("%s (the protection left by the earlier run in %s stays as it was)", d->err,
		       d->pins.dir);
		for (int i = 0; i < SF_N_MAPS; i++)
			if (d->map_pinned_new[i])
				sf_pins_remove(&d->pins, sf_map_names[i]);
		sf_pins_close(&d->pins, false);
	}
}

/* Returns an exit code; on success the daemon is attached and d->st published. */
int daemon_start(struct daemon *d)
{
	struct start_run s;
	int ret;

	memset(&s, 0, sizeof(s));
	if (start_pin_dir(d))
		return SF_EXIT_FAIL;
	if ((ret = load_bpf(d)) || (ret = start_check_prev(d, &s)) || (ret = start_open_ifs(d)) ||
	    (ret = start_fill_maps(d, &s)) || (ret = start_attach(d, &s)) ||
	    (ret = start_write_state(d, &s)) || (ret = start_pin(d))) {
		start_rollback(d, &s, ret);
		return SF_EXIT_FAIL;
	}
	start_commit(d, &s);
	return SF_EXIT_OK;
}
