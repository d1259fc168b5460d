/* daemon/health.c - protection kept in place: an interface gone or back, lost links, lost pins. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "daemon/internal.h"
#include "lib/log.h"
#include "lib/util.h"

/* r lost its device, or (lost: "XDP", "TC") one of its links: both go, so that the interface is
 * never half protected (XDP validating ACKs that no TC program hands over); re-attached by
 * if_try_reattach. */
static void if_gone(struct daemon *d, struct daemon_if *r, const char *lost)
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
		report_problem(d, true, "interface %s (ifindex %u) lost its %s link (detached by someone else?)%s",
		      r->name, r->ifindex, lost ? lost : "XDP",
		      d->set.reattach ? "; synfence attaches it again" : ": no longer protected");
	else
		report_problem(d, true, "interface %s (ifindex %u) disappeared: no longer protected%s", r->name,
		      r->ifindex, d->set.reattach ? "; synfence re-attaches when it comes back" : "");
}

static void if_try_reattach(struct daemon *d, struct daemon_if *r)
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
		if (note_new_error(r->last_err, sizeof(r->last_err), d->err)) {
			report_problem(d, false, "%s %s but cannot be re-attached: %s", r->name,
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
	publish_state(d);
}

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
		const struct daemon_if *r = &d->ifs[i];

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

/* Pin every map and link again into p. */
static int repin_all(struct daemon *d, const struct sf_pins *p)
{
	char name[64];
	int ret = 0;

	for (int i = 0; i < SF_N_MAPS && !ret; i++)
		if ((ret = sf_pins_put(p, sf_map_names[i], d->map[i])))
			set_err(d, "cannot pin map %s in %s: %s", sf_map_names[i], p->dir, strerror(-ret));
	for (int i = 0; i < d->n_ifs && !ret; i++) {
		const struct daemon_if *r = &d->ifs[i];

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

/* The pin dir itself is gone: make it again, on a bpffs that is there (the pin dir's or its
 * parent's), pin everything into it and move our lock there. */
static int repin_new_dir(struct daemon *d)
{
	char parent[PATH_MAX], *slash;
	struct sf_pins np;
	int ret;

	snprintf(parent, sizeof(parent), "%s", d->pins.dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (sf_is_bpffs(d->pins.dir) != 1 && sf_is_bpffs(parent) != 1) {
		set_err(d, "neither %s nor %s is on a bpffs", d->pins.dir, parent);
		return -ENOENT;
	}
	ret = sf_pins_prepare(&np, d->pins.dir, d->err, sizeof(d->err));
	if (ret == -EBUSY)
		set_err(d, "pin dir %s is locked by another synfence", d->pins.dir);
	if (ret)
		return ret;
	ret = repin_all(d, &np);
	if (ret) {
		sf_pins_remove_all(&np);
		sf_pins_close(&np, true);
		return ret;
	}
	sf_pins_close(&d->pins, false); /* the old lock, on the lost directory */
	d->pins = np;
	return 0;
}

/* Every tick: are the pins still there? The programs keep running on our fds without them, but a
 * restart after a crash could not take over, and stats could not find the maps. So: log it, and pin
 * everything again as soon as the pin dir's place is on a bpffs again (never mount one behind the
 * admin's back while running: the pin dir or its parent must be on a bpffs). */
void check_pins(struct daemon *d)
{
	int what = pins_missing(d), ret;

	if (!what) {
		d->pins_lost = false;
		return;
	}
	if (!d->pins_lost) {
		d->pins_lost = true;
		d->pins_err[0] = '\0';
		report_problem(d, false, "pin dir %s: %s: protection goes on, but a restart could not take it over; "
		      "pinning again once %s is on a bpffs", d->pins.dir, what == 2 ?
		      "gone (its bpffs unmounted?)" : "pins removed", d->pins.dir);
	}
	ret = what == 1 ? repin_all(d, &d->pins) : repin_new_dir(d);
	if (!ret) {
		d->pins_lost = false;
		sf_info("pin dir %s: maps and links pinned again", d->pins.dir);
	} else if (note_new_error(d->pins_err, sizeof(d->pins_err), d->err)) {
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
void check_links(struct daemon *d)
{
	for (int i = 0; i < d->n_ifs; i++) {
		struct daemon_if *r = &d->ifs[i];
		const char *lost = link_lost(r->xdp_link) ? "XDP" : link_lost(r->tc_link) ? "TC" : NULL;

		if (r->attached && lost)
			if_gone(d, r, lost);
		if (r->gone)
			if_try_reattach(d, r);
	}
}

void netlink_event(struct daemon *d)
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
				struct daemon_if *r = &d->ifs[i];

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

int netlink_open(void)
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
