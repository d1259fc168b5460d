/* daemon/iface.c - one interface: counter slot, attach (TC then XDP), pin, undo, detach, leave.
 *
 * Attachments: XDP and TC ingress are bpf_links pinned in the pin directory ("link_xdp_IFACE",
 * "link_tc_IFACE") next to the pinned maps. They outlive the process (kill -9, crash, or a stop that
 * keeps protection for an upgrade); the next run finds them, reuses the maps (same secrets, same
 * counters) and swaps the programs atomically with bpf_link_update, so no packet meets an
 * interface without synfence. On an interface, TC is attached before XDP and detached after it: TC
 * alone passes everything, XDP alone would validate ACKs that nobody hands to the kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon/internal.h"
#include "lib/log.h"
#include "lib/mapio.h"
#include "lib/util.h"

struct daemon_if *find_if(struct daemon *d, const char *name)
{
	for (int i = 0; i < d->n_ifs; i++)
		if (!strcmp(d->ifs[i].name, name))
			return &d->ifs[i];
	return NULL;
}

void init_if(struct daemon_if *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->xdp_link = r->tc_link = r->old_xdp_prog = r->old_tc_prog = -1;
}

static bool slot_used(const struct daemon_if *ifs, int n, __u32 slot)
{
	for (int i = 0; i < n; i++)
		if (ifs[i].slot == slot)
			return true;
	return false;
}

bool slot_taken(struct daemon *d, __u32 slot)
{
	return slot_used(d->ifs, d->n_ifs, slot);
}

int zero_counters(struct daemon *d, __u32 slot)
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

/* r for the interface name, which must exist now: its ifindex and MTU (start and reload). */
int open_if(struct daemon *d, struct daemon_if *r, const char *name)
{
	int ret;

	init_if(r, name);
	r->ifindex = if_nametoindex(r->name);
	if (!r->ifindex) {
		snprintf(d->err, sizeof(d->err), "no such interface: %s", r->name);
		return -ENODEV;
	}
	ret = sf_if_mtu(r->name, &r->mtu);
	if (ret) {
		snprintf(d->err, sizeof(d->err), "cannot read the MTU of %s: %s", r->name, strerror(-ret));
		return ret;
	}
	if (r->ifindex >= SF_MAX_IFINDEX)
		sf_warn("%s has ifindex %u >= %d: its packets are counted under \"other\"", r->name,
			r->ifindex, SF_MAX_IFINDEX);
	return 0;
}

/* A free counter slot for r, zeroed so that its first packets are counted as its own. extra: the
 * interfaces a reload is adding, not in d->ifs yet. */
int new_slot(struct daemon *d, struct daemon_if *r, const struct daemon_if *extra, int n_extra)
{
	for (__u32 s = 1; s < SF_MAX_IFACES && !r->slot; s++)
		if (!slot_taken(d, s) && !slot_used(extra, n_extra, s))
			r->slot = s;
	return zero_counters(d, r->slot);
}

int write_if_info(struct daemon *d, const struct daemon_if *r)
{
	struct sf_iface info = { .ifindex = r->ifindex, .xdp_mode = r->mode };
	int ret = 0;

	snprintf(info.name, sizeof(info.name), "%s", r->name);
	if (r->gone)
		info.flags |= SF_IF_GONE;
	engage_if_info(d, r, &info);
	if (r->ifindex && r->ifindex < SF_MAX_IFINDEX && !r->gone)
		ret = map_put(d->map[SF_M_IF_SLOT], r->ifindex, &r->slot);
	if (!ret)
		ret = map_put(d->map[SF_M_IFACES], r->slot, &info);
	if (ret)
		snprintf(d->err, sizeof(d->err), "cannot write the interface maps (%s, %s) for %s: %s",
			 SF_MAP_IF_SLOT, SF_MAP_IFACES, r->name, strerror(-ret));
	return ret;
}

void clear_if_slot(struct daemon *d, unsigned int ifindex)
{
	__u32 zero = 0;

	if (ifindex && ifindex < SF_MAX_IFINDEX)
		map_put(d->map[SF_M_IF_SLOT], ifindex, &zero);
}

int clear_if_info(struct daemon *d, __u32 slot)
{
	struct sf_iface none = { 0 };

	return map_put(d->map[SF_M_IFACES], slot, &none);
}

static int link_id_of(int fd, const struct sf_link_info *li, void *arg)
{
	(void)fd;
	*(__u32 *)arg = li->id;
	return 1;
}

/* XDP program id on r's interface runs through our pinned link (taken over by attach_if)? */
static bool xdp_is_ours(struct daemon *d, struct daemon_if *r, __u32 id)
{
	struct sf_link_info li;
	char lname[64];
	int fd, ret;

	sf_pins_link_name(SF_LINK_XDP, r->name, lname, sizeof(lname));
	fd = sf_pins_get(&d->pins, lname);
	if (fd < 0)
		return false;
	ret = sf_link_info(fd, &li);
	close(fd);
	return !ret && li.prog_id == id && li.ifindex == r->ifindex;
}

/* XDP program id is not ours: -EBUSY (d->err) when it is another program or a synfence someone
 * holds (a process, or a link pinned elsewhere); 0 when it is an orphaned synfence program. */
static int refuse_xdp_holder(struct daemon *d, struct daemon_if *r, __u32 id)
{
	char pname[32], cmd[256];
	__u32 lid = 0;
	pid_t holder;

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
	return 0;
}

/* An orphaned synfence XDP program, attached without a link (an older synfence through libxdp, or
 * a plain attach): removed. */
static int remove_orphan_xdp(struct daemon *d, struct daemon_if *r, __u32 id, enum sf_xdp_mode mode)
{
	DECLARE_LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	int pfd, ret;

	sf_warn("%s: replacing an orphaned synfence XDP program (id %u, no process, no pins): a few "
		"packets may reach the kernel unfiltered", r->name, id);
	pfd = bpf_prog_get_fd_by_id(id);
	opts.old_prog_fd = pfd;
	ret = bpf_xdp_detach(r->ifindex, (mode == SF_XDP_MODE_GENERIC ? XDP_FLAGS_SKB_MODE :
					 XDP_FLAGS_DRV_MODE) | XDP_FLAGS_REPLACE, &opts);
	if (pfd >= 0)
		close(pfd);
	if (ret)
		snprintf(d->err, sizeof(d->err), "cannot remove the orphaned synfence XDP program from "
			 "%s: %s", r->name, strerror(-ret));
	return ret;
}

/* What holds XDP on the interface, when it is not our pinned link: refuse (another program, another
 * synfence), or clear an orphaned synfence program nobody owns (left by a synfence that was not
 * stopped cleanly and whose pins are gone). */
static int check_xdp_slot(struct daemon *d, struct daemon_if *r)
{
	enum sf_xdp_mode mode;
	__u32 id;
	int ret;

	if (sf_xdp_query(r->ifindex, &id, &mode) || !id || xdp_is_ours(d, r, id))
		return 0;
	ret = refuse_xdp_holder(d, r, id);
	if (!ret)
		ret = remove_orphan_xdp(d, r, id, mode);
	return ret;
}

/* Undo one link of attach_if: a link we created goes (with its pin); a link we took over gets its
 * old program back (when known) and is closed. */
static void undo_link(struct daemon *d, struct daemon_if *r, enum sf_link_kind kind)
{
	bool created = kind == SF_LINK_XDP ? r->xdp_created : r->tc_created;
	int *link = kind == SF_LINK_XDP ? &r->xdp_link : &r->tc_link;
	int old = kind == SF_LINK_XDP ? r->old_xdp_prog : r->old_tc_prog;
	int prog = kind == SF_LINK_XDP ? d->xdp_prog : d->tc_prog;

	if (created) {
		sf_pins_drop_link(&d->pins, kind, r->name, link);
	} else if (*link >= 0) {
		if (old >= 0)
			sf_link_update(*link, old, prog);
		close(*link);
		*link = -1;
	}
}

/* The attachment is final: forget how to undo it. */
void commit_attach(struct daemon_if *r)
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
void undo_attach(struct daemon *d, struct daemon_if *r)
{
	undo_link(d, r, SF_LINK_XDP);
	undo_link(d, r, SF_LINK_TC);
	sf_clsact_detach(r->ifindex, &r->clsact);
	commit_attach(r); /* undone: nothing is left to undo */
	r->attached = false;
}

/* TC ingress: the pinned link taken over, else a new tcx link, else (kernels before 6.6 have no
 * tcx) a clsact filter, which does not outlive us. */
static int attach_tc(struct daemon *d, struct daemon_if *r)
{
	int fd, ret;

	ret = take_over_link(d, r, SF_LINK_TC);
	if (ret || r->tc_link >= 0)
		return ret;
	fd = d->features & SF_FEAT_TCX ?
		     sf_tcx_link_create(d->tc_prog, r->ifindex, r->name, d->err, sizeof(d->err)) :
		     -EOPNOTSUPP;
	if (fd >= 0) {
		r->tc_link = fd;
		r->tc_created = true;
		return 0;
	}
	ret = sf_clsact_attach(d->tc_prog, r->ifindex, &r->clsact);
	if (ret && !(d->features & SF_FEAT_TCX))
		snprintf(d->err, sizeof(d->err), "cannot attach TC ingress (clsact filter, no tcx on "
			 "this kernel) to %s: %s", r->name, strerror(-ret));
	if (ret)
		return ret; /* d->err has the tcx error, or the clsact one */
	sf_warn("%s: no tcx on this kernel: TC attached as a clsact filter, which a restart cannot take "
		"over", r->name);
	return 0;
}

/* XDP: the pinned link taken over (its mode stays), else a new link in the configured mode. */
static int attach_xdp(struct daemon *d, struct daemon_if *r)
{
	bool fell_back;
	__u32 id;
	int fd, ret;

	ret = take_over_link(d, r, SF_LINK_XDP);
	if (ret)
		return ret;
	if (r->xdp_link >= 0) {
		if (sf_xdp_query(r->ifindex, &id, &r->mode))
			r->mode = SF_XDP_MODE_NATIVE;
		if ((d->set.mode == SF_MODE_NATIVE && r->mode != SF_XDP_MODE_NATIVE) ||
		    (d->set.mode == SF_MODE_GENERIC && r->mode != SF_XDP_MODE_GENERIC))
			sf_warn("%s: XDP stays in %s mode (taken over without a gap); to change the mode, "
				"stop synfence and start it again", r->name, sf_mode_name(r->mode));
		return 0;
	}
	fd = sf_xdp_link_create(d->xdp_prog, r->ifindex, r->name, d->set.mode, &r->mode, &fell_back,
				d->err, sizeof(d->err));
	if (fd < 0)
		return fd;
	if (fell_back)
		sf_warn("native XDP failed on %s: attached in generic mode", r->name);
	r->xdp_link = fd;
	r->xdp_created = true;
	return 0;
}

/* TC, then XDP (TC alone passes everything), as links held by our fds only: pin_links pins them.
 * On failure what was done is undone. */
int attach_if(struct daemon *d, struct daemon_if *r)
{
	int ret;

	r->xdp_link = r->tc_link = r->old_xdp_prog = r->old_tc_prog = -1;
	r->xdp_created = r->tc_created = false;
	memset(&r->clsact, 0, sizeof(r->clsact));
	if ((ret = check_xdp_slot(d, r)) || (ret = attach_tc(d, r)) || (ret = attach_xdp(d, r))) {
		undo_attach(d, r);
		return ret;
	}
	r->attached = true;
	r->gone = false;
	return 0;
}

/* Pin the links attach_if created, TC then XDP, with nothing in between. Until the first pin a kill
 * -9 takes both links away with our fds (the interface is left clean); the only state a kill can
 * leave half done is between these two calls (TC alone, which passes everything). */
int pin_links(struct daemon *d, struct daemon_if *r)
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
int attach_pin_if(struct daemon *d, struct daemon_if *r)
{
	int ret = attach_if(d, r);

	if (!ret && (ret = pin_links(d, r)))
		undo_attach(d, r);
	return ret;
}

/* XDP first, then TC; links and pins go. */
void detach_if(struct daemon *d, struct daemon_if *r)
{
	sf_pins_drop_link(&d->pins, SF_LINK_XDP, r->name, &r->xdp_link);
	sf_pins_drop_link(&d->pins, SF_LINK_TC, r->name, &r->tc_link);
	sf_clsact_detach(r->ifindex, &r->clsact);
	r->attached = false;
}

/* Leave the pinned links in place (upgrade, --keep-attached). */
void leave_if(struct daemon *d, struct daemon_if *r)
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
