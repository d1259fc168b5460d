/* daemon/reload.c - SIGHUP: re-read the settings and switch to them, all or nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "conf/ports.h"
#include "daemon/internal.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/util.h"

void daemon_reload(struct daemon *d)
{
	struct sf_settings *n = malloc(sizeof(*n));
	struct sf_master m = { 0 };
	struct daemon_if added[SF_MAX_RUN_IFACES];
	unsigned long rotate_before = d->set.rotate;
	int n_added = 0, ret;
	bool used, ports_changed = false, ports_failed = false, secret_changed = false;
	bool was_shared, now_shared;
	char ch[768] = "";
	size_t off = 0;

#define CHANGE(...) (off += off < sizeof(ch) ? (size_t)snprintf(ch + off, sizeof(ch) - off, __VA_ARGS__) : 0)
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(sf_clock_ns(CLOCK_MONOTONIC) / 1000));
	if (!n) {
		report_problem(d, false, "reload failed: %s; keeping the running config", strerror(ENOMEM));
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
		report_problem(d, false, "reload failed: %s; keeping the running config", d->err);
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
		struct daemon_if *r;

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
		struct daemon_if *r = &d->ifs[d->n_ifs++];

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
		struct daemon_if *r = &d->ifs[i];
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
				report_problem(d, false, "reload: cannot re-arm the rotation timer: %s", strerror(-ret));
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
	publish_state(d);
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
	report_problem(d, false, "reload failed: %s; keeping the running config", d->err);
out:
	sf_master_clear(&m);
	free(n);
	sd_notify(0, "READY=1");
#undef CHANGE
}
