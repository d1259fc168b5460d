/* daemon/daemon.c - see daemon.h.
 *
 * Attachments: XDP and TC ingress are bpf_links pinned in the pin directory ("link_xdp_IFACE",
 * "link_tc_IFACE") next to the pinned maps. They outlive the process (kill -9, crash, or a stop that
 * keeps protection for an upgrade); the next run finds them, reuses the maps (same secrets, same
 * counters) and swaps the programs atomically with bpf_link_update, so no packet meets an
 * interface without synfence. On an interface, TC is attached before XDP and detached after it: TC
 * alone passes everything, XDP alone would validate ACKs that nobody hands to the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include "cmd/cmd.h"
#include "daemon/bpf_config.h"
#include "daemon/daemon.h"
#include "daemon/flowseed.h"
#include "lib/loader.h"
#include "lib/log.h"
#include "lib/mapio.h"
#include "view/metrics.h"
#include "lib/pins.h"
#include "conf/ports.h"
#include "lib/preflight.h"
#include "lib/proc.h"
#include "daemon/secret.h"
#include "synfence.skel.h"
#include "lib/sysctl.h"
#include "lib/util.h"

struct rt_if {
	char name[IF_NAMESIZE];
	unsigned int ifindex;      /* of the attached interface (kept while it is gone) */
	unsigned int mtu;
	__u32 slot;                /* counter slot, 1..SF_MAX_IFACES-1 */
	enum sf_xdp_mode mode;
	int xdp_link, tc_link;     /* link fds, -1 */
	struct sf_clsact clsact;   /* TC on kernels without tcx */
	bool attached;             /* XDP and TC in place */
	bool gone;                 /* disappeared; re-attached when it comes back (reattach) */
	/* while attaching: what to undo */
	int old_xdp_prog, old_tc_prog; /* program a taken-over link ran before, -1 */
	bool xdp_created, tc_created;
	char last_err[256];        /* last re-attach error (logged when it changes) */
};

struct daemon {
	struct sf_run_opts *o;
	struct sf_settings set;        /* in force */
	struct synfence_bpf *skel;
	int xdp_prog, tc_prog;
	int map[SF_N_MAPS];            /* the maps in use */
	int old_map[SF_N_MAPS];        /* pinned maps of an earlier run that could not be reused */
	bool map_pinned_new[SF_N_MAPS];/* pinned by this run at start (removed if start fails) */
	struct sf_pins pins;
	bool takeover;                 /* the pin dir held an earlier run's state */
	struct rt_if ifs[SF_MAX_RUN_IFACES];
	int n_ifs;
	struct sf_config cfg;          /* as last written (flags 0 while suspended) */
	struct sf_config want;         /* from the sysctls */
	bool cfg_written;
	bool suspended;                /* tcp_syncookies is off and we may not change it */
	long syncookies_found;         /* tcp_syncookies before start set it to 1, else -1 */
	bool shared;                   /* keys derived from set.secret_file */
	struct sf_master master;
	struct sf_state st;
	__u32 features;                /* enum sf_feature_flags, probed at start */
	struct sf_metrics *metrics;    /* --metrics: its thread reads the maps */
	int sig_fd, rot_fd, tick_fd, wd_fd, nl_fd;
	__u64 rotated_mono_ns;         /* random keys: CLOCK_MONOTONIC of the last rotation */
	bool publish_failed;           /* the last write of sf_state failed (logged once) */
	bool pins_lost;                /* the pin dir or a pin vanished (logged once, re-pinned) */
	char pins_err[256];            /* last re-pin error (logged when it changes) */
	char err[1024];
};

/* ---- small helpers ---------------------------------------------------------------------------- */

static int publish(struct daemon *d)
{
	__u32 zero = 0;
	int ret;

	if (d->map[SF_M_STATE] < 0)
		return 0;
	ret = sf_map_update(d->map[SF_M_STATE], &zero, &d->st, BPF_ANY);
	/* once per failure streak: this runs on every tick */
	if (ret && !d->publish_failed)
		sf_log_error("cannot write the daemon state (map %s): %s: 'synfence status' shows stale "
			     "data until the next write succeeds", SF_MAP_STATE, strerror(-ret));
	d->publish_failed = ret != 0;
	return ret;
}

/* A runtime problem: logged, and kept as the state's last error for `synfence status`. */
static void fault(struct daemon *d, bool warning, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fault(struct daemon *d, bool warning, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (warning)
		sf_warn("%s", msg);
	else
		sf_log_error("%s", msg);
	/* the state keeps the start of it */
	memcpy(d->st.last_error, msg, sizeof(d->st.last_error) - 1);
	d->st.last_error[sizeof(d->st.last_error) - 1] = '\0';
	d->st.error_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	publish(d);
}

static int map_put(int fd, __u32 key, const void *val)
{
	return sf_map_update(fd, &key, val, BPF_ANY);
}

static int apply_log_level(const struct sf_settings *s)
{
	sf_log_set_level(s->log_level);
	if (s->log_level >= SF_LOG_DEBUG && !sf_opts.verbose)
		sf_opts.verbose = 1;
	return 0;
}

static struct rt_if *find_if(struct daemon *d, const char *name)
{
	for (int i = 0; i < d->n_ifs; i++)
		if (!strcmp(d->ifs[i].name, name))
			return &d->ifs[i];
	return NULL;
}

static void init_if(struct rt_if *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->xdp_link = r->tc_link = r->old_xdp_prog = r->old_tc_prog = -1;
}

/* ---- interface slots and info ----------------------------------------------------------------- */

static bool slot_taken(struct daemon *d, __u32 slot)
{
	for (int i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].slot == slot)
			return true;
	return false;
}

static __u32 free_slot(struct daemon *d)
{
	for (__u32 s = 1; s < SF_MAX_IFACES; s++)
		if (!slot_taken(d, s))
			return s;
	return 0;
}

static int zero_counters(struct daemon *d, __u32 slot)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t sz = sf_percpu_stride(sizeof(struct sf_counters));
	void *zero = NULL;
	int ret;

	if (ncpu <= 0 || !(zero = calloc(ncpu, sz))) {
		ret = ncpu <= 0 ? ncpu : -ENOMEM;
		goto out;
	}
	ret = map_put(d->map[SF_M_COUNTERS], slot, zero);
out:
	if (ret)
		snprintf(d->err, sizeof(d->err), "cannot zero the counters of slot %u (map %s): %s", slot,
			 SF_MAP_COUNTERS, strerror(-ret));
	free(zero);
	return ret;
}

static int write_if_info(struct daemon *d, const struct rt_if *r)
{
	struct sf_iface info = { .ifindex = r->ifindex, .xdp_mode = r->mode };
	int ret = 0;

	snprintf(info.name, sizeof(info.name), "%s", r->name);
	if (r->gone)
		info.flags |= SF_IF_GONE;
	if (r->ifindex && r->ifindex < SF_MAX_IFINDEX && !r->gone)
		ret = map_put(d->map[SF_M_IF_SLOT], r->ifindex, &r->slot);
	if (!ret)
		ret = map_put(d->map[SF_M_IFACES], r->slot, &info);
	if (ret)
		snprintf(d->err, sizeof(d->err), "cannot write the interface maps (%s, %s) for %s: %s",
			 SF_MAP_IF_SLOT, SF_MAP_IFACES, r->name, strerror(-ret));
	return ret;
}

static void clear_if_slot(struct daemon *d, unsigned int ifindex)
{
	__u32 zero = 0;

	if (ifindex && ifindex < SF_MAX_IFINDEX)
		map_put(d->map[SF_M_IF_SLOT], ifindex, &zero);
}

static int clear_if_info(struct daemon *d, __u32 slot)
{
	struct sf_iface none = { 0 };

	return map_put(d->map[SF_M_IFACES], slot, &none);
}

/* ---- attaching one interface -------------------------------------------------------------------- */

static int link_id_of(int fd, const struct sf_link_info *li, void *arg)
{
	(void)fd;
	*(__u32 *)arg = li->id;
	return 1;
}

/* What holds XDP on the interface, when it is not our pinned link: refuse (another program, another
 * synfence), or clear an orphaned synfence program nobody owns (left by a synfence that was not
 * stopped cleanly and whose pins are gone). */
static int check_xdp_slot(struct daemon *d, struct rt_if *r)
{
	char pname[32], cmd[256], lname[64];
	enum sf_xdp_mode mode;
	struct sf_link_info li;
	__u32 id, lid = 0;
	pid_t holder;
	int fd, ret;

	if (sf_xdp_query(r->ifindex, &id, &mode) || !id)
		return 0;
	sf_pins_link_name(SF_LINK_XDP, r->name, lname, sizeof(lname));
	fd = sf_pins_get(&d->pins, lname);
	if (fd >= 0) {
		ret = sf_link_info(fd, &li);
		close(fd);
		if (!ret && li.prog_id == id && li.ifindex == r->ifindex)
			return 0; /* ours: taken over below */
	}
	sf_prog_name(id, pname, sizeof(pname));
	if (strcmp(pname, SF_PROG_XDP)) {
		snprintf(d->err, sizeof(d->err), "%s already has an XDP program (id %u%s%s%s): synfence "
			 "does not share the XDP hook", r->name, id, *pname ? " \"" : "", pname,
			 *pname ? "\"" : "");
		return -EBUSY;
	}
	/* the XDP link of this interface, if the program is attached through one */
	sf_for_links_on(r->ifindex, SF_LINK_TYPE_XDP, link_id_of, &lid);
	holder = sf_find_holder(lid, id, cmd, sizeof(cmd));
	if (holder) {
		snprintf(d->err, sizeof(d->err), "%s is already protected by synfence pid %d (%s)", r->name,
			 (int)holder, cmd);
		return -EBUSY;
	}
	if (lid) {
		snprintf(d->err, sizeof(d->err), "%s is already protected by a synfence whose XDP link "
			 "(id %u) is pinned elsewhere: another --pin-dir? ('synfence detach %s --pin-dir "
			 "DIR' removes it)", r->name, lid, r->name);
		return -EBUSY;
	}
	/* attached without a link (an older synfence through libxdp, or a plain attach) */
	sf_warn("%s: replacing an orphaned synfence XDP program (id %u, no process, no pins): a few "
		"packets may reach the kernel unfiltered", r->name, id);
	{
		DECLARE_LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
		int pfd = bpf_prog_get_fd_by_id(id);

		opts.old_prog_fd = pfd;
		ret = bpf_xdp_detach(r->ifindex, (mode == SF_XDP_MODE_GENERIC ? XDP_FLAGS_SKB_MODE :
						 XDP_FLAGS_DRV_MODE) | XDP_FLAGS_REPLACE, &opts);
		if (pfd >= 0)
			close(pfd);
	}
	if (ret) {
		snprintf(d->err, sizeof(d->err), "cannot remove the orphaned synfence XDP program from "
			 "%s: %s", r->name, strerror(-ret));
		return ret;
	}
	return 0;
}

/* Undo one link of attach_if: a link we created goes (with its pin); a link we took over gets its
 * old program back (when known) and is closed. */
static void undo_link(struct daemon *d, struct rt_if *r, enum sf_link_kind kind)
{
	bool created = kind == SF_LINK_XDP ? r->xdp_created : r->tc_created;
	int *link = kind == SF_LINK_XDP ? &r->xdp_link : &r->tc_link;
	int old = kind == SF_LINK_XDP ? r->old_xdp_prog : r->old_tc_prog;
	int prog = kind == SF_LINK_XDP ? d->xdp_prog : d->tc_prog;
	char name[64];

	sf_pins_link_name(kind, r->name, name, sizeof(name));
	if (created) {
		sf_link_destroy(link);
		sf_pins_remove(&d->pins, name);
	} else if (*link >= 0) {
		if (old >= 0)
			sf_link_update(*link, old, prog);
		close(*link);
		*link = -1;
	}
}

/* The attachment is final: forget how to undo it. */
static void commit_attach(struct rt_if *r)
{
	if (r->old_xdp_prog >= 0)
		close(r->old_xdp_prog);
	if (r->old_tc_prog >= 0)
		close(r->old_tc_prog);
	r->old_xdp_prog = r->old_tc_prog = -1;
	r->xdp_created = r->tc_created = false;
}

/* Undo what attach_if did so far (a link we created goes; a link we took over gets its old
 * program back). */
static void undo_attach(struct daemon *d, struct rt_if *r)
{
	undo_link(d, r, SF_LINK_XDP);
	undo_link(d, r, SF_LINK_TC);
	sf_clsact_detach(r->ifindex, &r->clsact);
	commit_attach(r); /* undone: nothing is left to undo */
	r->attached = false;
}

/* A pinned link of kind for r: taken over (program swapped) when it is alive on r's interface,
 * removed when it is stale. Returns 0 (r->*_link set or not) or -errno. */
static int take_over_link(struct daemon *d, struct rt_if *r, enum sf_link_kind kind)
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
		sf_link_destroy(&fd);
		sf_pins_remove(&d->pins, name);
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

/* TC, then XDP, as links held by our fds only: pin_links pins them. */
static int attach_if(struct daemon *d, struct rt_if *r)
{
	bool fell_back;
	int fd, ret;

	r->xdp_link = r->tc_link = r->old_xdp_prog = r->old_tc_prog = -1;
	r->xdp_created = r->tc_created = false;
	memset(&r->clsact, 0, sizeof(r->clsact));
	ret = check_xdp_slot(d, r);
	if (ret)
		goto fail;

	/* TC first: alone it passes everything */
	ret = take_over_link(d, r, SF_LINK_TC);
	if (ret)
		goto fail;
	if (r->tc_link < 0) {
		fd = d->features & SF_FEAT_TCX ?
			     sf_tcx_link_create(d->tc_prog, r->ifindex, r->name, d->err, sizeof(d->err)) :
			     -EOPNOTSUPP;
		if (fd >= 0) {
			r->tc_link = fd;
			r->tc_created = true;
		} else {
			/* kernels before 6.6 have no tcx: a clsact filter, which does not outlive us */
			ret = sf_clsact_attach(d->tc_prog, r->ifindex, &r->clsact);
			if (ret && !(d->features & SF_FEAT_TCX))
				snprintf(d->err, sizeof(d->err), "cannot attach TC ingress (clsact "
					 "filter, no tcx on this kernel) to %s: %s", r->name,
					 strerror(-ret));
			if (ret)
				goto fail; /* d->err has the tcx error, or the clsact one */
			sf_warn("%s: no tcx on this kernel: TC attached as a clsact filter, which a restart "
				"cannot take over", r->name);
		}
	}

	ret = take_over_link(d, r, SF_LINK_XDP);
	if (ret)
		goto fail;
	if (r->xdp_link >= 0) {
		__u32 id;

		if (sf_xdp_query(r->ifindex, &id, &r->mode))
			r->mode = SF_XDP_MODE_NATIVE;
		if ((d->set.mode == SF_MODE_NATIVE && r->mode != SF_XDP_MODE_NATIVE) ||
		    (d->set.mode == SF_MODE_GENERIC && r->mode != SF_XDP_MODE_GENERIC))
			sf_warn("%s: XDP stays in %s mode (taken over without a gap); to change the mode, "
				"stop synfence and start it again", r->name, sf_mode_name(r->mode));
	} else {
		fd = sf_xdp_link_create(d->xdp_prog, r->ifindex, r->name, d->set.mode, &r->mode,
					&fell_back, d->err, sizeof(d->err));
		if (fd < 0) {
			ret = fd;
			goto fail;
		}
		if (fell_back)
			sf_warn("native XDP failed on %s: attached in generic mode", r->name);
		r->xdp_link = fd;
		r->xdp_created = true;
	}
	r->attached = true;
	r->gone = false;
	return 0;
fail:
	undo_attach(d, r);
	return ret;
}

/* Pin the links attach_if created, TC then XDP, with nothing in between. Until the first pin a kill
 * -9 takes both links away with our fds (the interface is left clean); the only state a kill can
 * leave half done is between these two calls (TC alone, which passes everything). */
static int pin_links(struct daemon *d, struct rt_if *r)
{
	char tc[64], xdp[64];
	int ret = 0;

	sf_pins_link_name(SF_LINK_TC, r->name, tc, sizeof(tc));
	sf_pins_link_name(SF_LINK_XDP, r->name, xdp, sizeof(xdp));
	if (r->tc_created && (ret = sf_pins_put(&d->pins, tc, r->tc_link))) {
		snprintf(d->err, sizeof(d->err), "cannot pin the TC link of %s in %s: %s", r->name,
			 d->pins.dir, strerror(-ret));
		goto out;
	}
	if (r->xdp_created && (ret = sf_pins_put(&d->pins, xdp, r->xdp_link)))
		snprintf(d->err, sizeof(d->err), "cannot pin the XDP link of %s in %s: %s", r->name,
			 d->pins.dir, strerror(-ret));
out:
	return ret;
}

/* attach_if and pin_links (an interface added by a reload or back again). */
static int attach_pin_if(struct daemon *d, struct rt_if *r)
{
	int ret = attach_if(d, r);

	if (!ret && (ret = pin_links(d, r)))
		undo_attach(d, r);
	return ret;
}

/* XDP first, then TC; links and pins go. */
static void detach_if(struct daemon *d, struct rt_if *r)
{
	char name[64];

	sf_link_destroy(&r->xdp_link);
	sf_pins_link_name(SF_LINK_XDP, r->name, name, sizeof(name));
	sf_pins_remove(&d->pins, name);
	sf_link_destroy(&r->tc_link);
	sf_pins_link_name(SF_LINK_TC, r->name, name, sizeof(name));
	sf_pins_remove(&d->pins, name);
	sf_clsact_detach(r->ifindex, &r->clsact);
	r->attached = false;
}

/* Leave the pinned links in place (upgrade, --keep-attached). */
static void detach_if(struct daemon *d, struct rt_if *r);

static void leave_if(struct daemon *d, struct rt_if *r)
{
	/* a clsact filter cannot outlive us: better no protection than half of it */
	if (r->clsact.attached) {
		sf_warn("%s: detached (TC is a clsact filter here, which cannot be left in place)", r->name);
		detach_if(d, r);
		return;
	}
	if (r->xdp_link >= 0)
		close(r->xdp_link);
	if (r->tc_link >= 0)
		close(r->tc_link);
	r->xdp_link = r->tc_link = -1;
}

/* ---- config map and sysctls --------------------------------------------------------------------- */

static unsigned int min_mtu(struct daemon *d)
{
	unsigned int m = 0;

	for (int i = 0; i < d->n_ifs; i++) {
		struct rt_if *r = &d->ifs[i];

		if (!r->attached && !r->ifindex)
			continue;
		if (r->attached)
			sf_if_mtu(r->name, &r->mtu);
		if (r->mtu && (!m || r->mtu < m))
			m = r->mtu;
	}
	return m ? m : 1500;
}

static void describe_cfg_change(const struct sf_config *a, const struct sf_config *b)
{
	static const struct { __u32 flag; const char *what; } f[] = {
		{ SF_CFG_TIMESTAMPS, "timestamps (net.ipv4.tcp_timestamps)" },
		{ SF_CFG_SACK, "SACK (net.ipv4.tcp_sack)" },
		{ SF_CFG_WSCALE, "window scaling (net.ipv4.tcp_window_scaling)" },
		{ SF_CFG_ECN, "ECN (net.ipv4.tcp_ecn)" },
	};

	for (size_t i = 0; i < SF_ARRAY_SIZE(f); i++)
		if ((a->flags ^ b->flags) & f[i].flag)
			sf_info("sysctl change: SYN-ACKs %s offer %s", b->flags & f[i].flag ? "now" :
				"no longer", f[i].what);
	if (a->rcv_wscale != b->rcv_wscale)
		sf_info("sysctl change: window scale %u -> %u (tcp_rmem/rmem_max)", a->rcv_wscale,
			b->rcv_wscale);
	if (a->mss4 != b->mss4 || a->mss6 != b->mss6)
		sf_info("MTU change: MSS %u/%u -> %u/%u (IPv4/IPv6)", a->mss4, a->mss6, b->mss4, b->mss6);
}

static int write_cfg(struct daemon *d)
{
	struct sf_config c = d->want;
	int ret;

	if (d->suspended)
		memset(&c, 0, sizeof(c));
	if (d->cfg_written && !memcmp(&c, &d->cfg, sizeof(c)))
		return 0;
	ret = map_put(d->map[SF_M_CONFIG], 0, &c);
	if (ret) {
		snprintf(d->err, sizeof(d->err), "cannot write the config map: %s", strerror(-ret));
		return ret;
	}
	d->cfg = c;
	d->cfg_written = true;
	return 0;
}

/* Read the sysctls (at start, on SIGHUP, every sysctl_interval seconds) and mirror them into
 * sf_config. tcp_syncookies must be 1 or 2: set to 1, or (no sysctl changes) refused at start and
 * protection suspended while running. At start an error ends the run (-errno, d->err). */
static int sysctl_sync(struct daemon *d, bool startup)
{
	struct sf_config want;
	__s32 vals[SF_SYSCTL_MAX];
	char msg[512];
	long sc;
	int ret;

	ret = sf_sysctl_read_int("net.ipv4.tcp_syncookies", &sc);
	if (ret) {
		snprintf(d->err, sizeof(d->err), "cannot read sysctl net.ipv4.tcp_syncookies: %s",
			 strerror(-ret));
		goto fail;
	}
	if (sc != 1 && sc != 2) {
		if (!d->set.sysctl_changes) {
			snprintf(d->err, sizeof(d->err), "net.ipv4.tcp_syncookies is %ld and sysctl changes "
				 "are off: %s (synfence needs 1 or 2: sysctl -w net.ipv4.tcp_syncookies=1)",
				 sc, startup ? "refusing to start" : "protection suspended until it is set");
			ret = -EOPNOTSUPP;
			if (startup)
				return ret;
			if (!d->suspended) {
				d->suspended = true;
				d->st.flags |= SF_ST_SUSPENDED;
				fault(d, false, "%s", d->err);
			}
		} else {
			ret = sf_sysctl_write_int("net.ipv4.tcp_syncookies", 1);
			if (ret) {
				snprintf(d->err, sizeof(d->err), "net.ipv4.tcp_syncookies is %ld and cannot "
					 "be set to 1: %s", sc, strerror(-ret));
				goto fail;
			}
			snprintf(msg, sizeof(msg), "net.ipv4.tcp_syncookies was %ld: set it to 1 (the "
				 "handoff to the kernel needs it; --no-sysctl-changes refuses instead)", sc);
			if (startup) {
				d->syncookies_found = sc; /* put back if start fails */
				sf_info("%s", msg);
			} else
				fault(d, true, "%s", msg);
		}
	} else if (d->suspended) {
		d->suspended = false;
		d->st.flags &= ~SF_ST_SUSPENDED;
		sf_info("net.ipv4.tcp_syncookies is %ld again: protection resumed", sc);
	}

	ret = sf_config_build(&want, min_mtu(d), vals, d->err, sizeof(d->err));
	if (ret)
		goto fail;
	if (d->cfg_written || !startup)
		describe_cfg_change(&d->want, &want);
	d->want = want;
	memcpy(d->st.sysctl, vals, sizeof(vals));
	d->st.sysctl_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	ret = write_cfg(d);
	if (ret)
		goto fail;
	return 0;
fail:
	if (!startup)
		fault(d, false, "%s", d->err);
	return ret;
}

/* ---- secrets ------------------------------------------------------------------------------------ */

/* The wall clock in whole seconds, for the shared-secret epochs. Not time(): glibc reads a coarse
 * clock there that lags CLOCK_REALTIME by up to a jiffy, so at a period boundary the timer fired
 * while time() still told the old second; the epoch stayed and the re-arm, reading time() again a
 * moment later, aimed at the next boundary: a whole period skipped, now and then, and servers with
 * the same secret file out of step. */
static __u64 wall_s(void)
{
	return sf_clock_ns(CLOCK_REALTIME) / 1000000000ull;
}

/* The rotation timer: due when the epoch in the map ends, or, after a failed rotation (retry), in
 * 5 s (at most a period). */
static int rot_arm(struct daemon *d, bool retry)
{
	struct itimerspec its = { 0 };
	int flags = 0;

	if (d->rot_fd >= 0)
		close(d->rot_fd);
	d->rot_fd = timerfd_create(d->shared ? CLOCK_REALTIME : CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->rot_fd < 0)
		return -errno;
	if (retry) {
		its.it_value.tv_sec = (time_t)(d->set.rotate < 5 ? d->set.rotate : 5);
	} else if (d->shared) {
		/* at the end of the map's epoch, not at the next boundary after now: when a boundary
		 * passed since the keys were set (during a slow start), that would leave them a whole
		 * period behind the wall clock and the other servers, and then skip an epoch. An end
		 * already past fires at once. */
		__u64 next = ((__u64)d->st.epoch + 1) * d->set.rotate;

		its.it_value.tv_sec = (time_t)next;
		flags = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET;
	} else {
		__u64 now = sf_clock_ns(CLOCK_MONOTONIC), due = d->rotated_mono_ns + d->set.rotate * 1000000000ull;
		__u64 left = due > now ? due - now : 1000000;

		its.it_value.tv_sec = (time_t)(left / 1000000000ull);
		its.it_value.tv_nsec = (long)(left % 1000000000ull);
	}
	return timerfd_settime(d->rot_fd, flags, &its, NULL) ? -errno : 0;
}

static void note_epoch(struct daemon *d)
{
	__u32 e;

	if (!sf_secret_epoch(d->map[SF_M_SECRETS], &e))
		d->st.epoch = e;
	d->st.rotated_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	d->rotated_mono_ns = sf_clock_ns(CLOCK_MONOTONIC);
	if (d->shared) {
		/* the key changed at the period boundary, on every server */
		__u64 real = sf_clock_ns(CLOCK_REALTIME), edge = (__u64)e * d->set.rotate * 1000000000ull;

		if (real > edge && real - edge < d->st.rotated_boot_ns)
			d->st.rotated_boot_ns -= real - edge;
	}
}

/* Put the keys in place for the current mode. old_shared: the mode the map's keys were made in.
 * keep: random mode may keep the keys in the map (a takeover). */
static int secrets_setup(struct daemon *d, bool old_shared, bool keep)
{
	__u32 e = 0;
	int ret;

	sf_secret_epoch(d->map[SF_M_SECRETS], &e);
	if (d->shared) {
		__u32 now = sf_shared_epoch(wall_s(), d->set.rotate);

		ret = sf_secret_shared_set(d->map[SF_M_SECRETS], &d->master, now);
		if (!ret)
			note_epoch(d);
	} else if (keep && e && !old_shared) {
		return 0; /* the running keys and their schedule stay */
	} else if (e) {
		/* from shared keys (or unknown ones) to random ones: the old epoch stays valid */
		ret = sf_secret_rotate(d->map[SF_M_SECRETS], NULL);
		if (!ret)
			note_epoch(d);
	} else {
		ret = sf_secret_init(d->map[SF_M_SECRETS]);
		if (!ret)
			note_epoch(d);
	}
	if (ret)
		snprintf(d->err, sizeof(d->err), "cannot set the cookie secret: %s", strerror(-ret));
	return ret;
}

static void rotate(struct daemon *d)
{
	__u64 exp;
	int ret;

	if (read(d->rot_fd, &exp, sizeof(exp)) < 0 && errno != ECANCELED)
		return;
	if (d->shared) {
		__u32 e = sf_shared_epoch(wall_s(), d->set.rotate);

		ret = 0;
		if (d->st.epoch != e) {
			ret = sf_secret_shared_set(d->map[SF_M_SECRETS], &d->master, e);
			if (!ret)
				note_epoch(d);
		}
	} else {
		ret = sf_secret_rotate(d->map[SF_M_SECRETS], NULL);
		if (!ret)
			note_epoch(d);
	}
	if (ret)
		fault(d, false, "cannot rotate the cookie secret: %s (will retry)", strerror(-ret));
	sf_dbg("cookie secret: epoch %u", d->st.epoch);
	ret = rot_arm(d, ret != 0);
	if (ret)
		fault(d, false, "cannot re-arm the rotation timer: %s", strerror(-ret));
	publish(d);
}

static int load_master(struct daemon *d, const struct sf_settings *s, struct sf_master *m)
{
	return sf_master_load(s, d->o->config, m, d->err, sizeof(d->err));
}

/* ---- maps of an earlier run ----------------------------------------------------------------------- */

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
static void migrate_map(int from, int to)
{
	__u32 t1 = 0, t2 = 0, vs1 = 0, vs2 = 0, n1 = 0, n2 = 0;
	int ncpu = libbpf_num_possible_cpus();
	char *a = NULL, *b = NULL;
	size_t s1, s2;
	bool percpu;

	if (map_geometry(from, &t1, &vs1, &n1) || map_geometry(to, &t2, &vs2, &n2) || t1 != t2 ||
	    ncpu <= 0 || !vs1 || !vs2)
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
static void old_state(struct daemon *d, struct sf_state *st)
{
	int fd = d->old_map[SF_M_STATE] >= 0 ? d->old_map[SF_M_STATE] : d->map[SF_M_STATE];
	__u32 zero = 0;

	memset(st, 0, sizeof(*st));
	if (d->takeover)
		sf_map_read(fd, &zero, st, sizeof(*st));
	st->version[sizeof(st->version) - 1] = '\0';
}

/* Slot of name in the earlier run's sf_ifaces (0: none). */
static __u32 old_slot(struct daemon *d, const char *name)
{
	int fd = d->old_map[SF_M_IFACES] >= 0 ? d->old_map[SF_M_IFACES] : d->map[SF_M_IFACES];
	__u32 t = 0, vs = 0, n = 0, found = 0;
	char *buf;

	if (!d->takeover || fd < 0 || map_geometry(fd, &t, &vs, &n) || vs < sizeof(struct sf_iface) - 4 ||
	    !(buf = calloc(1, vs)))
		return 0;
	for (__u32 s = 1; s < n && s < SF_MAX_IFACES && !found; s++) {
		const struct sf_iface *fi = (const void *)buf;

		if (!bpf_map_lookup_elem(fd, &s, buf) && fi->ifindex &&
		    !strncmp(fi->name, name, sizeof(fi->name)))
			found = s;
	}
	free(buf);
	return found;
}

/* ---- start --------------------------------------------------------------------------------------- */

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
static int load(struct daemon *d)
{
	struct bpf_map *maps[SF_N_MAPS];
	int ret;

	ret = sf_obj_open(&d->skel, d->err, sizeof(d->err));
	if (ret)
		return ret;
	for (int i = 0; i < SF_N_MAPS; i++) {
		int fd;

		maps[i] = bpf_object__find_map_by_name(d->skel->obj, sf_map_names[i]);
		if (!maps[i]) {
			snprintf(d->err, sizeof(d->err), "the BPF object has no map %s", sf_map_names[i]);
			return -ENOENT;
		}
		fd = sf_pins_get(&d->pins, sf_map_names[i]);
		if (fd < 0)
			continue;
		if (map_compatible(fd, maps[i])) {
			ret = bpf_map__reuse_fd(maps[i], fd);
			close(fd);
			if (ret) {
				snprintf(d->err, sizeof(d->err), "cannot reuse pinned map %s: %s",
					 sf_map_names[i], strerror(-ret));
				return ret;
			}
		} else {
			sf_warn("pinned map %s has another layout (another synfence version): its "
				"contents move to a new map", sf_map_names[i]);
			d->old_map[i] = fd;
		}
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

/* A link pin of an interface we do not protect (any more): detach it. */
static int drop_stale_link(enum sf_link_kind kind, const char *ifname, void *arg)
{
	struct daemon *d = arg;
	char name[64];
	int fd;

	if (find_if(d, ifname))
		return 0;
	sf_pins_link_name(kind, ifname, name, sizeof(name));
	fd = sf_pins_get(&d->pins, name);
	sf_link_destroy(&fd);
	sf_pins_remove(&d->pins, name);
	sf_info("%s: no longer configured: %s detached", ifname, kind == SF_LINK_XDP ? "XDP" : "TC");
	return 0;
}

/* Write the port set `to`: every word (from NULL: at start, when the map's contents are not known)
 * or only the words that differ from `from`. On failure the words already written get from's value
 * back, so the set in force stays the old one. */
static int write_ports(struct daemon *d, const __u64 *from, const __u64 *to)
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

/* The earlier run's values that start overwrites, to put back if the takeover fails. */
struct saved {
	bool have;
	struct sf_config cfg;
	struct sf_secrets sec;
	struct sf_state st;
	__u64 ports[SF_PORT_WORDS];
};

static void save_maps(struct daemon *d, struct saved *s)
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

static void restore_maps(struct daemon *d, struct saved *s)
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

/* The paths the probed kernel features chose; logged once attached (a failed start prints its one
 * error line and nothing else). */
static void log_features(struct daemon *d)
{
	char feat[256];

	sf_features_text(d->features, feat, sizeof(feat));
	sf_info("kernel: %s", feat);
}

static void log_protecting(struct daemon *d)
{
	char ports[512];

	if (sf_format_ports(d->set.ports, ports, sizeof(ports)) >= sizeof(ports))
		strcpy(ports + sizeof(ports) - 4, "...");
	for (int i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].attached)
			sf_info("protecting %s (%s) ports %s", d->ifs[i].name,
				sf_mode_name(d->ifs[i].mode), ports);
}

/* Returns an exit code; on success the daemon is attached and d->st published. */
static int start(struct daemon *d)
{
	struct sf_state prev;
	struct saved saved;
	bool old_shared;
	int ret, n_attached = 0;

	ret = sf_pins_prepare(&d->pins, d->set.pin_dir, d->err, sizeof(d->err));
	if (ret == -EBUSY)
		return pin_dir_busy(d), SF_EXIT_FAIL;
	if (ret) {
		sf_err("%s", d->err);
		return SF_EXIT_FAIL;
	}
	d->takeover = sf_pins_any(&d->pins);

	ret = load(d);
	if (ret)
		goto fail;
	old_state(d, &prev);
	if (d->takeover && prev.netns_ino && prev.netns_ino != sf_netns_ino()) {
		ret = -EXDEV;
		snprintf(d->err, sizeof(d->err), "pin dir %s holds the state of a synfence in another "
			 "network namespace (inode %u): use another --pin-dir here", d->pins.dir,
			 prev.netns_ino);
		goto fail;
	}
	old_shared = prev.flags & SF_ST_SHARED_SECRET;

	/* Counters are added up, so they move once, after the swap, when the old programs have
	 * stopped counting into the old map (moving them here too counted them twice). */
	for (int i = 0; i < SF_N_MAPS; i++)
		if (d->old_map[i] >= 0 && i != SF_M_SECRETS && i != SF_M_COUNTERS)
			migrate_map(d->old_map[i], d->map[i]);

	/* the interfaces: they must exist now */
	for (int i = 0; i < d->set.n_ifs; i++) {
		struct rt_if *r = &d->ifs[d->n_ifs];

		init_if(r, d->set.ifs[i]);
		d->n_ifs++;
		r->ifindex = if_nametoindex(r->name);
		if (!r->ifindex) {
			ret = -ENODEV;
			snprintf(d->err, sizeof(d->err), "no such interface: %s", r->name);
			goto fail;
		}
		ret = sf_if_mtu(r->name, &r->mtu);
		if (ret) {
			snprintf(d->err, sizeof(d->err), "cannot read the MTU of %s: %s", r->name,
				 strerror(-ret));
			goto fail;
		}
		if (r->ifindex >= SF_MAX_IFINDEX)
			sf_warn("%s has ifindex %u >= %d: its packets are counted under \"other\"", r->name,
				r->ifindex, SF_MAX_IFINDEX);
	}
	/* counter slots: an interface keeps its slot (and counters) across restarts */
	for (int i = 0; i < d->n_ifs; i++) {
		__u32 s = old_slot(d, d->ifs[i].name);

		if (s && !slot_taken(d, s))
			d->ifs[i].slot = s;
	}
	for (int i = 0; i < d->n_ifs; i++) {
		if (d->ifs[i].slot)
			continue;
		d->ifs[i].slot = free_slot(d);
		if ((ret = zero_counters(d, d->ifs[i].slot)))
			goto fail;
	}

	save_maps(d, &saved);
	if ((ret = write_ports(d, NULL, d->set.ports)))
		goto fail_restore;
	for (int i = 0; i < d->n_ifs; i++)
		if ((ret = write_if_info(d, &d->ifs[i])))
			goto fail_restore;
	if ((ret = secrets_setup(d, old_shared, d->old_map[SF_M_SECRETS] < 0)))
		goto fail_restore;
	if (d->takeover && !d->shared && !old_shared && prev.rotated_boot_ns) {
		/* keep the earlier run's rotation schedule */
		__u64 age = sf_clock_ns(CLOCK_BOOTTIME) - prev.rotated_boot_ns;

		d->rotated_mono_ns = sf_clock_ns(CLOCK_MONOTONIC) - age;
		d->st.rotated_boot_ns = prev.rotated_boot_ns;
		sf_secret_epoch(d->map[SF_M_SECRETS], &d->st.epoch);
	} else if (!d->st.rotated_boot_ns) {
		note_epoch(d);
	}
	if ((ret = sysctl_sync(d, true)))
		goto fail_restore;
	seed_flows(d);

	/* Attached through our fds only: a kill -9 up to here leaves nothing behind (a takeover: the
	 * earlier run's links, with its or our programs, and its maps). */
	for (int i = 0; i < d->n_ifs; i++) {
		ret = attach_if(d, &d->ifs[i]);
		if (ret)
			goto fail_detach;
		n_attached++;
	}
	for (int i = 0; i < d->n_ifs; i++)
		if ((ret = write_if_info(d, &d->ifs[i]))) /* its XDP mode, known now */
			goto fail_detach;
	d->st.start_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	d->st.start_real_ns = sf_clock_ns(CLOCK_REALTIME);
	d->st.pid = (__u32)getpid();
	snprintf(d->st.version, sizeof(d->st.version), "%s", SYNFENCE_VERSION);
	d->st.rotate_s = (__u32)d->set.rotate;
	d->st.xdp_prog_id = prog_id(d->xdp_prog);
	d->st.tc_prog_id = prog_id(d->tc_prog);
	d->st.netns_ino = sf_netns_ino();
	d->st.features = d->features;
	d->st.takeovers = prev.takeovers + (d->takeover ? 1 : 0);
	d->st.flags = (d->st.flags & SF_ST_SUSPENDED) | (d->shared ? SF_ST_SHARED_SECRET : 0) |
		      (d->set.keep_attached ? SF_ST_KEEP_ATTACHED : 0);
	if ((ret = map_put(d->map[SF_M_STATE], 0, &d->st))) {
		snprintf(d->err, sizeof(d->err), "cannot write the daemon state (map %s): %s",
			 SF_MAP_STATE, strerror(-ret));
		goto fail_detach;
	}
	/* Now pin: the maps that are new (the ones replacing incompatible pins only once all went
	 * well), then the links, TC before XDP, back to back. */
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
			goto fail_detach;
		}
	}
	for (int i = 0; i < d->n_ifs; i++)
		if ((ret = pin_links(d, &d->ifs[i])))
			goto fail_detach;
	/* all in place: the point of no return */
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
	for (__u32 s = 1; d->takeover && s < SF_MAX_IFACES; s++)
		if (!slot_taken(d, s) && (ret = clear_if_info(d, s)))
			sf_warn("cannot clear the stale interface slot %u (map %s): %s", s, SF_MAP_IFACES,
				strerror(-ret));
	if (d->takeover)
		sf_info("took over the pinned state in %s (earlier run pid %u, version %s; this run "
			"version %s): programs replaced, secrets and counters kept", d->pins.dir, prev.pid,
			prev.version[0] ? prev.version : "unknown", SYNFENCE_VERSION);
	log_features(d);
	log_protecting(d);
	sf_dbg("maps and links pinned in %s; mss4 %u mss6 %u wscale %u flags 0x%x; secret %s, "
	       "rotates every %lus", d->pins.dir, d->want.mss4, d->want.mss6, d->want.rcv_wscale,
	       d->want.flags, d->shared ? "from the secret file" : "random", d->set.rotate);
	return SF_EXIT_OK;

fail_detach:
	for (int i = 0; i < n_attached; i++) {
		if (d->takeover)
			undo_attach(d, &d->ifs[i]);
		else
			detach_if(d, &d->ifs[i]);
	}
fail_restore:
	restore_maps(d, &saved);
fail:
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
	return SF_EXIT_FAIL;
}

/* ---- interface events ----------------------------------------------------------------------------- */

/* r lost its device, or (lost: "XDP", "TC") one of its links: both go, so that the interface is
 * never half protected (XDP validating ACKs that no TC program hands over); re-attached by
 * if_try_reattach. */
static void if_gone(struct daemon *d, struct rt_if *r, const char *lost)
{
	if (!r->attached)
		return;
	bool still_there = if_nametoindex(r->name) == r->ifindex;

	/* the kernel detached the links with the device: they are defunct, pins and fds go */
	detach_if(d, r);
	clear_if_slot(d, r->ifindex);
	r->gone = true;
	write_if_info(d, r);
	if (still_there)
		fault(d, true, "interface %s (ifindex %u) lost its %s link (detached by someone else?)%s",
		      r->name, r->ifindex, lost ? lost : "XDP",
		      d->set.reattach ? "; synfence attaches it again" : ": no longer protected");
	else
		fault(d, true, "interface %s (ifindex %u) disappeared: no longer protected%s", r->name,
		      r->ifindex, d->set.reattach ? "; synfence re-attaches when it comes back" : "");
}

static void if_try_reattach(struct daemon *d, struct rt_if *r)
{
	unsigned int ifindex = if_nametoindex(r->name);
	bool new_dev = ifindex != r->ifindex; /* else it only lost a link */
	int ret;

	if (!r->gone || !d->set.reattach || !ifindex)
		return;
	/* its counters (a new device starts from zero) and slot first, so that its first packets are
	 * counted as its own */
	ret = new_dev ? zero_counters(d, r->slot) : 0;
	if (!ret) {
		r->ifindex = ifindex;
		sf_if_mtu(r->name, &r->mtu);
		ret = write_if_info(d, r);
	}
	if (!ret)
		ret = attach_pin_if(d, r);
	if (ret) {
		if (strncmp(r->last_err, d->err, sizeof(r->last_err) - 1)) {
			memcpy(r->last_err, d->err, sizeof(r->last_err) - 1);
			r->last_err[sizeof(r->last_err) - 1] = '\0';
			fault(d, false, "%s %s but cannot be re-attached: %s", r->name,
			      new_dev ? "is back" : "is still there", d->err);
		}
		return;
	}
	commit_attach(r);
	r->last_err[0] = '\0';
	if (write_if_info(d, r)) /* its XDP mode */
		sf_warn("%s", d->err);
	sf_info("interface %s %s (ifindex %u): protected again (%s)", r->name,
		new_dev ? "is back" : "re-attached", r->ifindex, sf_mode_name(r->mode));
	sysctl_sync(d, false); /* its MTU */
	publish(d);
}

/* ---- the pin dir ---------------------------------------------------------------------------------- */

/* What is missing of our pins: 2 the pin dir itself (e.g. its bpffs unmounted under us), 1 a pin in
 * it, 0 nothing. */
static int pins_missing(struct daemon *d)
{
	char path[PATH_MAX], name[64];
	struct stat a, b;

	if (d->pins.lock_fd < 0 || fstat(d->pins.lock_fd, &a) || stat(d->pins.dir, &b) ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return 2;
	for (int i = 0; i < SF_N_MAPS; i++)
		if (sf_pins_path(&d->pins, sf_map_names[i], path, sizeof(path)) || access(path, F_OK))
			return 1;
	for (int i = 0; i < d->n_ifs; i++) {
		const struct rt_if *r = &d->ifs[i];

		for (int k = SF_LINK_XDP; r->attached && k <= SF_LINK_TC; k++) {
			if ((k == SF_LINK_XDP ? r->xdp_link : r->tc_link) < 0)
				continue;
			sf_pins_link_name(k, r->name, name, sizeof(name));
			if (sf_pins_path(&d->pins, name, path, sizeof(path)) || access(path, F_OK))
				return 1;
		}
	}
	return 0;
}

/* d->err = the message (may be cut). */
static void set_err(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct daemon *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
}

/* Pin every map and link again into p. */
static int repin_all(struct daemon *d, const struct sf_pins *p)
{
	char name[64];
	int ret = 0;

	for (int i = 0; i < SF_N_MAPS && !ret; i++)
		if ((ret = sf_pins_put(p, sf_map_names[i], d->map[i])))
			set_err(d, "cannot pin map %s in %s: %s", sf_map_names[i], p->dir, strerror(-ret));
	for (int i = 0; i < d->n_ifs && !ret; i++) {
		const struct rt_if *r = &d->ifs[i];

		/* TC before XDP, as at start */
		for (int k = SF_LINK_TC; r->attached && k >= SF_LINK_XDP && !ret; k--) {
			int fd = k == SF_LINK_XDP ? r->xdp_link : r->tc_link;

			if (fd < 0)
				continue;
			sf_pins_link_name(k, r->name, name, sizeof(name));
			if ((ret = sf_pins_put(p, name, fd)))
				set_err(d, "cannot pin the %s link of %s in %s: %s", k == SF_LINK_XDP ?
					"XDP" : "TC", r->name, p->dir, strerror(-ret));
		}
	}
	return ret;
}

/* Every tick: are the pins still there? The programs keep running on our fds without them, but a
 * restart after a crash could not take over, and stats could not find the maps. So: log it, and pin
 * everything again as soon as the pin dir's place is on a bpffs again (never mount one behind the
 * admin's back while running: the pin dir or its parent must be on a bpffs). */
static void check_pins(struct daemon *d)
{
	int what = pins_missing(d), ret = 0;
	char parent[PATH_MAX], *slash;
	struct sf_pins np;

	if (!what) {
		d->pins_lost = false;
		return;
	}
	if (!d->pins_lost) {
		d->pins_lost = true;
		d->pins_err[0] = '\0';
		fault(d, false, "pin dir %s: %s: protection goes on, but a restart could not take it over; "
		      "pinning again once %s is on a bpffs", d->pins.dir, what == 2 ?
		      "gone (its bpffs unmounted?)" : "pins removed", d->pins.dir);
	}
	if (what == 1) {
		ret = repin_all(d, &d->pins);
		goto out;
	}
	snprintf(parent, sizeof(parent), "%s", d->pins.dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (sf_is_bpffs(d->pins.dir) != 1 && sf_is_bpffs(parent) != 1) {
		set_err(d, "neither %s nor %s is on a bpffs", d->pins.dir, parent);
		ret = -ENOENT;
		goto out;
	}
	ret = sf_pins_prepare(&np, d->pins.dir, d->err, sizeof(d->err));
	if (ret == -EBUSY)
		set_err(d, "pin dir %s is locked by another synfence", d->pins.dir);
	if (ret)
		goto out;
	ret = repin_all(d, &np);
	if (ret) {
		sf_pins_remove_all(&np);
		sf_pins_close(&np, true);
		goto out;
	}
	sf_pins_close(&d->pins, false); /* the old lock, on the lost directory */
	d->pins = np;
out:
	if (!ret) {
		d->pins_lost = false;
		sf_info("pin dir %s: maps and links pinned again", d->pins.dir);
	} else if (strncmp(d->pins_err, d->err, sizeof(d->pins_err) - 1)) {
		memcpy(d->pins_err, d->err, sizeof(d->pins_err) - 1);
		d->pins_err[sizeof(d->pins_err) - 1] = '\0';
		sf_warn("pin dir %s: cannot pin again yet: %s (retrying every %lus)", d->pins.dir,
			d->err, d->set.sysctl_interval);
	}
}

/* A link of ours that is detached (its device gone, or bpftool link detach). */
static bool link_lost(int fd)
{
	struct sf_link_info li;

	return fd >= 0 && (sf_link_info(fd, &li) || li.ifindex == 0);
}

/* Every tick: links still attached? (covers lost netlink messages, and links detached by someone
 * else, which no netlink message announces). A lost link is attached again at once. */
static void check_links(struct daemon *d)
{
	for (int i = 0; i < d->n_ifs; i++) {
		struct rt_if *r = &d->ifs[i];
		const char *lost = link_lost(r->xdp_link) ? "XDP" : link_lost(r->tc_link) ? "TC" : NULL;

		if (r->attached && lost)
			if_gone(d, r, lost);
		if (r->gone)
			if_try_reattach(d, r);
	}
}

static void netlink_event(struct daemon *d)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;

	for (;;) {
		n = recv(d->nl_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS) { /* lost events: look at everything */
				check_links(d);
				continue;
			}
			return;
		}
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			const char *name = NULL;
			struct rtattr *a;
			int len;

			if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
				continue;
			len = (int)IFLA_PAYLOAD(h);
			for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == IFLA_IFNAME)
					name = RTA_DATA(a);
			for (int i = 0; i < d->n_ifs; i++) {
				struct rt_if *r = &d->ifs[i];

				if (h->nlmsg_type == RTM_DELLINK && r->attached &&
				    (unsigned int)ifi->ifi_index == r->ifindex)
					if_gone(d, r, NULL);
				else if (h->nlmsg_type == RTM_NEWLINK && r->gone && name &&
					 !strcmp(name, r->name))
					if_try_reattach(d, r);
			}
		}
	}
}

static int netlink_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* ---- reload (SIGHUP) ------------------------------------------------------------------------------ */

static int tick_arm(struct daemon *d)
{
	struct itimerspec its = { .it_interval = { .tv_sec = (time_t)d->set.sysctl_interval },
				  .it_value = { .tv_sec = (time_t)d->set.sysctl_interval } };

	return timerfd_settime(d->tick_fd, 0, &its, NULL) ? -errno : 0;
}

static void reload(struct daemon *d)
{
	struct sf_settings *n = malloc(sizeof(*n));
	struct sf_master m = { 0 };
	struct rt_if added[SF_MAX_RUN_IFACES];
	unsigned long rotate_before = d->set.rotate;
	int n_added = 0, ret;
	bool used, ports_changed = false, ports_failed = false, secret_changed = false;
	bool was_shared, now_shared;
	char ch[768] = "";
	size_t off = 0;

#define CHANGE(...) (off += off < sizeof(ch) ? (size_t)snprintf(ch + off, sizeof(ch) - off, __VA_ARGS__) : 0)
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(sf_clock_ns(CLOCK_MONOTONIC) / 1000));
	if (!n) {
		fault(d, false, "reload failed: %s; keeping the running config", strerror(ENOMEM));
		goto out;
	}
	/* The default config file, when start read one, is required now: without it the reload would
	 * fall back to the built-in defaults (and lose, say, its ports). */
	ret = sf_settings_resolve(d->o->config, d->o->config_given || d->o->config_used, &d->o->cli, n,
				  &used, d->err, sizeof(d->err));
	if (!ret)
		ret = sf_settings_check(n, d->err, sizeof(d->err));
	if (!ret)
		ret = load_master(d, n, &m);
	if (ret) {
		fault(d, false, "reload failed: %s; keeping the running config", d->err);
		goto out;
	}
	if (strcmp(n->pin_dir, d->set.pin_dir)) {
		sf_warn("reload: pin_dir changes only with a restart; staying with %s", d->set.pin_dir);
		memcpy(n->pin_dir, d->set.pin_dir, sizeof(n->pin_dir));
	}
	if (strcmp(n->metrics, d->set.metrics))
		sf_warn("reload: metrics changes only with a restart; staying with %s",
			d->set.metrics[0] ? d->set.metrics : "no metrics");
	if (n->mode != d->set.mode)
		sf_warn("reload: mode %s applies to interfaces attached from now on", sf_mode_req_name(n->mode));

	/* new interfaces first: they must all attach, or the reload is undone */
	for (int i = 0; i < n->n_ifs; i++) {
		struct rt_if *r;

		if (find_if(d, n->ifs[i]))
			continue;
		if (d->n_ifs + n_added >= SF_MAX_RUN_IFACES) {
			snprintf(d->err, sizeof(d->err), "too many interfaces");
			ret = -E2BIG;
			goto undo;
		}
		r = &added[n_added];
		init_if(r, n->ifs[i]);
		r->ifindex = if_nametoindex(r->name);
		if (!r->ifindex) {
			snprintf(d->err, sizeof(d->err), "no such interface: %s", r->name);
			ret = -ENODEV;
			goto undo;
		}
		sf_if_mtu(r->name, &r->mtu);
		/* its counter slot first, so that its first packets are counted as its own */
		for (__u32 sl = 1; sl < SF_MAX_IFACES && !r->slot; sl++) {
			bool taken = slot_taken(d, sl);

			for (int j = 0; j < n_added; j++)
				taken |= added[j].slot == sl;
			if (!taken)
				r->slot = sl;
		}
		ret = zero_counters(d, r->slot);
		if (!ret)
			ret = write_if_info(d, r);
		if (!ret) {
			enum sf_mode_req keep = d->set.mode;

			d->set.mode = n->mode;
			ret = attach_pin_if(d, r);
			d->set.mode = keep;
		}
		if (ret) {
			clear_if_slot(d, r->ifindex);
			clear_if_info(d, r->slot);
			goto undo;
		}
		n_added++;
	}
	/* the port set: all of it or none (a failed write puts the old words back) */
	ports_changed = memcmp(n->ports, d->set.ports, sizeof(n->ports)) != 0;
	if (ports_changed && (ret = write_ports(d, d->set.ports, n->ports))) {
		ports_failed = true; /* it put the old words back itself */
		goto undo;
	}
	/* a new kind of secret or master key: the keys are the last thing that can fail */
	was_shared = d->shared;
	now_shared = n->secret_file[0] != '\0';
	if (was_shared != now_shared ||
	    (now_shared && (m.len != d->master.len || memcmp(m.key, d->master.key, m.len) ||
			    n->rotate != d->set.rotate))) {
		struct sf_master old_m = d->master;
		unsigned long old_rotate = d->set.rotate;

		d->master = m;
		d->shared = now_shared;
		d->set.rotate = n->rotate; /* shared keys: the epoch depends on it */
		ret = secrets_setup(d, was_shared, false);
		if (ret) {
			d->master = old_m;
			d->shared = was_shared;
			d->set.rotate = old_rotate;
		} else {
			memset(&m, 0, sizeof(m));
			secret_changed = true;
		}
		sf_master_clear(&old_m);
		if (ret)
			goto undo;
	}
	/* from here on nothing fails that cannot be lived with */
	for (int i = 0; i < n_added; i++) {
		struct rt_if *r = &d->ifs[d->n_ifs++];

		*r = added[i];
		commit_attach(r);
		if (write_if_info(d, r)) /* its XDP mode */
			sf_warn("reload: %s", d->err);
		CHANGE(" +%s", r->name);
	}
	if (ports_changed) {
		char p[256];

		sf_format_ports(n->ports, p, sizeof(p));
		CHANGE(" ports=%s", p);
	}
	/* interfaces no longer configured */
	for (int i = 0; i < d->n_ifs;) {
		struct rt_if *r = &d->ifs[i];
		bool keep = false;

		for (int j = 0; j < n->n_ifs; j++)
			keep |= !strcmp(n->ifs[j], r->name);
		if (keep) {
			i++;
			continue;
		}
		if (r->attached)
			detach_if(d, r);
		if (!r->gone)
			clear_if_slot(d, r->ifindex);
		clear_if_info(d, r->slot);
		CHANGE(" -%s", r->name);
		memmove(r, r + 1, (d->n_ifs - i - 1) * sizeof(*r));
		d->n_ifs--;
	}
	/* rotation */
	{
		bool period_changed = n->rotate != rotate_before;

		d->set.rotate = n->rotate;
		d->st.rotate_s = (__u32)n->rotate;
		if (period_changed)
			CHANGE(" rotate=%lus", n->rotate);
		if (secret_changed)
			CHANGE(" secret=%s", now_shared ? "shared" : "random");
		if (period_changed || was_shared != now_shared)
			if ((ret = rot_arm(d, false)))
				fault(d, false, "reload: cannot re-arm the rotation timer: %s", strerror(-ret));
	}
	if (n->sysctl_interval != d->set.sysctl_interval)
		CHANGE(" sysctl_interval=%lus", n->sysctl_interval);
	if (n->log_level != d->set.log_level)
		CHANGE(" log_level=%s", sf_log_level_name(n->log_level));
	{
		struct sf_settings *old = &d->set;

		old->mode = n->mode;
		old->log_level = n->log_level;
		old->sysctl_changes = n->sysctl_changes;
		old->sysctl_interval = n->sysctl_interval;
		old->reattach = n->reattach;
		old->keep_attached = n->keep_attached;
		memcpy(old->ports, n->ports, sizeof(old->ports));
		memcpy(old->secret_file, n->secret_file, sizeof(old->secret_file));
		old->n_ifs = n->n_ifs;
		memcpy(old->ifs, n->ifs, sizeof(old->ifs));
	}
	apply_log_level(&d->set);
	tick_arm(d);
	d->st.flags = (d->st.flags & ~(SF_ST_SHARED_SECRET | SF_ST_KEEP_ATTACHED)) |
		      (d->shared ? SF_ST_SHARED_SECRET : 0) | (d->set.keep_attached ? SF_ST_KEEP_ATTACHED : 0);
	sysctl_sync(d, false);
	d->st.reload_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	publish(d);
	sf_info("reloaded %s:%s", used ? d->o->config : "(no config file)", off ? ch : " no change");
	if (n_added)
		log_protecting(d);
	goto out;
undo:
	sf_dbg("reload failed: %s", strerror(-ret));
	if (ports_changed && !ports_failed)
		write_ports(d, n->ports, d->set.ports);
	for (int i = 0; i < n_added; i++) {
		detach_if(d, &added[i]);
		clear_if_slot(d, added[i].ifindex);
		clear_if_info(d, added[i].slot);
	}
	fault(d, false, "reload failed: %s; keeping the running config", d->err);
out:
	sf_master_clear(&m);
	free(n);
	sd_notify(0, "READY=1");
#undef CHANGE
}

/* ---- main loop and shutdown ---------------------------------------------------------------------- */

static int setup_signals(sigset_t *old)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	/* blocked from the start: a signal during setup is handled once setup is done or undone */
	if (sigprocmask(SIG_BLOCK, &set, old))
		return -errno;
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* Returns true to leave protection in place. */
static bool loop(struct daemon *d)
{
	for (;;) {
		struct pollfd pfd[5] = {
			{ .fd = d->sig_fd, .events = POLLIN }, { .fd = d->rot_fd, .events = POLLIN },
			{ .fd = d->tick_fd, .events = POLLIN }, { .fd = d->wd_fd, .events = POLLIN },
			{ .fd = d->nl_fd, .events = POLLIN },
		};
		struct signalfd_siginfo si;
		__u64 exp;

		if (poll(pfd, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			fault(d, false, "poll: %s: stopping", strerror(errno));
			return d->set.keep_attached;
		}
		if (pfd[0].revents && read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				sf_info("got SIGHUP, reloading");
				reload(d);
			} else if (si.ssi_signo == SIGUSR2) {
				sf_info("got SIGUSR2: stopping, leaving protection in place");
				return true;
			} else {
				sf_info("got SIG%s, %s", sigabbrev_np(si.ssi_signo),
					d->set.keep_attached ? "stopping (keep_attached: protection stays)" :
					"detaching");
				return d->set.keep_attached;
			}
		}
		if (pfd[1].revents)
			rotate(d);
		if (pfd[2].revents && read(d->tick_fd, &exp, sizeof(exp)) > 0) {
			check_links(d);
			check_pins(d);
			sysctl_sync(d, false);
			publish(d);
		}
		if (pfd[3].revents && read(d->wd_fd, &exp, sizeof(exp)) > 0)
			sd_notify(0, "WATCHDOG=1");
		if (pfd[4].revents)
			netlink_event(d);
	}
}

static void stop(struct daemon *d, bool leave)
{
	sd_notify(0, "STOPPING=1");
	if (leave) {
		for (int i = 0; i < d->n_ifs; i++)
			leave_if(d, &d->ifs[i]);
		d->st.pid = 0;
		d->st.flags |= SF_ST_LEFT_ATTACHED;
		publish(d);
		sf_info("protection left in place (maps and links pinned in %s): the next 'synfence "
			"run' takes it over, 'synfence detach IFACE' removes it", d->pins.dir);
		sf_pins_close(&d->pins, false);
		return;
	}
	/* XDP stops answering SYNs before the TC program that completes its handshakes goes */
	memset(&d->want, 0, sizeof(d->want));
	d->suspended = true;
	write_cfg(d);
	for (int i = 0; i < d->n_ifs; i++)
		detach_if(d, &d->ifs[i]);
	sf_pins_remove_all(&d->pins);
	sf_pins_close(&d->pins, true);
}

int sf_daemon_run(struct sf_run_opts *o)
{
	struct daemon *d = calloc(1, sizeof(*d));
	sigset_t oldmask;
	uint64_t wd_usec = 0;
	bool leave;
	int code = SF_EXIT_FAIL, ret;

	if (!d) {
		sf_err("%s", strerror(ENOMEM));
		return SF_EXIT_FAIL;
	}
	d->o = o;
	d->set = o->set;
	d->sig_fd = d->rot_fd = d->tick_fd = d->wd_fd = d->nl_fd = -1;
	d->syncookies_found = -1;
	d->pins.lock_fd = -1;
	for (int i = 0; i < SF_N_MAPS; i++)
		d->map[i] = d->old_map[i] = -1;
	apply_log_level(&d->set);

	if (sf_check_root() || sf_check_kernel())
		goto out;
	d->features = sf_probe_features();
	if (load_master(d, &d->set, &d->master)) {
		sf_err("%s", d->err);
		code = SF_EXIT_USAGE;
		goto out;
	}
	d->shared = d->set.secret_file[0] != '\0';
	d->sig_fd = setup_signals(&oldmask);
	if (d->sig_fd < 0) {
		sf_err("cannot set up signal handling: %s", strerror(-d->sig_fd));
		goto out;
	}
	d->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->wd_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->nl_fd = netlink_open();
	if (d->tick_fd < 0 || d->wd_fd < 0 || d->nl_fd < 0) {
		sf_err("cannot create timers or the netlink socket: %s",
		       strerror(d->nl_fd < 0 ? -d->nl_fd : errno));
		goto out_sig;
	}

	/* a taken metrics port fails here, before anything is attached */
	if (d->set.metrics[0] && sf_metrics_bind(&d->metrics, d->set.metrics))
		goto out_sig;
	code = start(d);
	if (code)
		goto out_sig;
	if (d->metrics) {
		struct sf_maps maps = { .counters = d->map[SF_M_COUNTERS], .ifaces = d->map[SF_M_IFACES],
					.state = d->map[SF_M_STATE], .ports = d->map[SF_M_PORTS],
					.config = d->map[SF_M_CONFIG] };

		snprintf(d->st.metrics, sizeof(d->st.metrics), "%s", d->set.metrics);
		publish(d);
		if (sf_metrics_start(d->metrics, &maps)) {
			stop(d, false);
			code = SF_EXIT_FAIL;
			goto out_sig;
		}
		sf_info("metrics at http://%s/metrics", d->set.metrics);
	}
	if ((ret = rot_arm(d, false)) || (ret = tick_arm(d))) {
		sf_err("cannot arm the timers: %s", strerror(-ret));
		stop(d, false);
		code = SF_EXIT_FAIL;
		goto out_sig;
	}
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec) {
		struct itimerspec its;

		wd_usec /= 2;
		its.it_value.tv_sec = its.it_interval.tv_sec = (time_t)(wd_usec / 1000000);
		its.it_value.tv_nsec = its.it_interval.tv_nsec = (long)(wd_usec % 1000000 * 1000);
		timerfd_settime(d->wd_fd, 0, &its, NULL);
	}
	sd_notifyf(0, "READY=1\nSTATUS=protecting %d interface%s\nMAINPID=%d", d->n_ifs,
		   d->n_ifs == 1 ? "" : "s", (int)getpid());

	leave = loop(d);
	sf_metrics_stop(d->metrics); /* its thread reads the maps: stop it first */
	d->metrics = NULL;
	stop(d, leave);
	sf_info("stopped");
	code = SF_EXIT_OK;
out_sig:
	sf_metrics_stop(d->metrics);
	if (d->sig_fd >= 0) {
		close(d->sig_fd);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	}
out:
	for (int fd_i = 0; fd_i < SF_N_MAPS; fd_i++)
		if (d->old_map[fd_i] >= 0)
			close(d->old_map[fd_i]);
	if (d->rot_fd >= 0)
		close(d->rot_fd);
	if (d->tick_fd >= 0)
		close(d->tick_fd);
	if (d->wd_fd >= 0)
		close(d->wd_fd);
	if (d->nl_fd >= 0)
		close(d->nl_fd);
	synfence_bpf__destroy(d->skel);
	sf_master_clear(&d->master);
	free(d);
	return code;
}
