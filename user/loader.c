/* loader.c - see loader.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "synfence.skel.h"

/* libbpf 1.1's headers predate tcx (Linux 6.6). */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#endif

const char *sf_mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_SKB:    return "generic";
	case XDP_MODE_HW:     return "offload";
	default:              return "unknown";
	}
}

static const char *xdp_strerror(int err, char *buf, size_t len)
{
	if (libxdp_strerror(err, buf, len))
		snprintf(buf, len, "%s", strerror(-err));
	return buf;
}

int sf_loader_open(struct sf_loader *ld)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts);
	char buf[256];
	int err = 0;

	for (size_t i = 0; i < SF_MAX_IFACES - 1; i++)
		ld->ifs[i].tc_link_fd = -1;

	ld->skel = synfence_bpf__open();
	if (!ld->skel) {
		err = errno ? -errno : -EINVAL;
		sf_err("cannot open the BPF object: %s", strerror(-err));
		goto out;
	}
	opts.obj = ld->skel->obj;
	opts.prog_name = "synfence_xdp";
	ld->xdp = xdp_program__create(&opts);
	err = libxdp_get_error(ld->xdp);
	if (err) {
		ld->xdp = NULL;
		sf_err("cannot create the XDP program: %s", xdp_strerror(err, buf, sizeof(buf)));
		goto out;
	}
out:
	return err;
}

static int attach_mode(struct sf_loader *ld, struct sf_ifstate *st, enum xdp_attach_mode mode)
{
	int err = xdp_program__attach(ld->xdp, st->ifindex, mode, 0);

	if (!err) {
		st->xdp_attached = true;
		st->mode = mode;
	}
	return err;
}

int sf_loader_attach_xdp(struct sf_loader *ld, int i, enum sf_mode_req req)
{
	struct sf_ifstate *st = &ld->ifs[i];
	char buf[256];
	int err;

	if (req == SF_MODE_GENERIC) {
		err = attach_mode(ld, st, XDP_MODE_SKB);
		goto out;
	}
	err = attach_mode(ld, st, XDP_MODE_NATIVE);
	/* busy: another program holds the interface, and generic mode would not get past it */
	if (err && req == SF_MODE_AUTO && err != -EBUSY && err != -EEXIST) {
		sf_warn("native XDP failed on %s (%s): falling back to generic mode", st->name,
			xdp_strerror(err, buf, sizeof(buf)));
		err = attach_mode(ld, st, XDP_MODE_SKB);
	}
out:
	if (err)
		sf_err("cannot attach XDP to %s: %s%s", st->name, xdp_strerror(err, buf, sizeof(buf)),
		       err == -EBUSY || err == -EEXIST ? " (another XDP program is attached?)" : "");
	return err;
}

/* Remove the clsact qdisc we created. libbpf only deletes the qdisc for INGRESS|EGRESS; with
 * INGRESS alone it would just flush the filters. */
static void destroy_clsact(unsigned int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	bpf_tc_hook_destroy(&hook);
}

static int attach_clsact(struct sf_ifstate *st, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = st->ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		goto out;
	st->tc_hook_created = !err;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		if (st->tc_hook_created)
			destroy_clsact(st->ifindex);
		st->tc_hook_created = false;
		goto out;
	}
	st->tc_clsact = true;
	st->tc_handle = opts.handle;
	st->tc_priority = opts.priority;
out:
	return err;
}

int sf_loader_attach_tc(struct sf_loader *ld, int i)
{
	struct sf_ifstate *st = &ld->ifs[i];
	int prog_fd = bpf_program__fd(ld->skel->progs.synfence_tc);
	int fd, err = 0;

	if (prog_fd < 0) {
		err = -EBADF;
		sf_err("cannot attach TC to %s: the TC program is not loaded", st->name);
		goto out;
	}
	fd = bpf_link_create(prog_fd, st->ifindex, BPF_TCX_INGRESS, NULL);
	if (fd >= 0) {
		st->tc_link_fd = fd;
		goto out;
	}
	/* Kernels before 6.6 have no tcx: fall back to a clsact qdisc filter. */
	sf_dbg("tcx attach on %s failed (%s), trying clsact", st->name, strerror(errno));
	err = attach_clsact(st, prog_fd);
	if (err)
		sf_err("cannot attach TC ingress to %s: %s", st->name, strerror(-err));
out:
	return err;
}

void sf_loader_detach(struct sf_loader *ld, int i)
{
	struct sf_ifstate *st = &ld->ifs[i];
	char buf[256];
	int err;

	if (st->xdp_attached) {
		err = xdp_program__detach(ld->xdp, st->ifindex, st->mode, 0);
		if (err)
			sf_warn("cannot detach XDP from %s: %s", st->name,
				xdp_strerror(err, buf, sizeof(buf)));
		st->xdp_attached = false;
	}
	if (st->tc_link_fd >= 0) {
		/* an unpinned tcx link goes away with its last fd */
		close(st->tc_link_fd);
		st->tc_link_fd = -1;
	}
	if (st->tc_clsact) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = st->ifindex,
				    .attach_point = BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = st->tc_handle,
				    .priority = st->tc_priority);

		err = bpf_tc_detach(&hook, &opts);
		if (err)
			sf_warn("cannot detach TC from %s: %s", st->name, strerror(-err));
		if (st->tc_hook_created)
			destroy_clsact(st->ifindex);
		st->tc_clsact = false;
		st->tc_hook_created = false;
	}
}

void sf_loader_close(struct sf_loader *ld)
{
	for (int i = 0; i < ld->n_ifs; i++)
		sf_loader_detach(ld, i);
	/* the program was created from the skeleton's object: closing it leaves the object alone */
	if (ld->xdp)
		xdp_program__close(ld->xdp);
	ld->xdp = NULL;
	synfence_bpf__destroy(ld->skel);
	ld->skel = NULL;
}
