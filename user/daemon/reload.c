/* daemon/reload.c - SIGHUP as phases: read, add interfaces, switch, commit; or undo. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "conf/ports.h"
#include "daemon/internal.h"
#include "daemon/limit_config.h"
#include "lib/log.h"
#include "lib/proc.h"

/* One reload: the settings read, and what has been switched so far (what the undo takes back). */
struct reload_run {
	struct sf_settings n;      /* the new settings */
	struct sf_master m;        /* their master secret (moves into d when it is switched) */
	bool used;                 /* the config file was read */
	struct daemon_if added[SF_MAX_RUN_IFACES]; /* new interfaces, attached and pinned */
	int n_added;
	bool ports_changed, ports_failed, secret_changed, was_shared, now_shared;
	unsigned long rotate_before;
	char changes[768];         /* what changed, for the log line: " +eth1 ports=80" */
	size_t off;
};

static void note_change(struct reload_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_change(struct reload_run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->off >= sizeof(r->changes))
		return;
	va_start(ap, fmt);
	r->off += (size_t)vsnprintf(r->changes + r->off, sizeof(r->changes) - r->off, fmt, ap);
	va_end(ap);
}

/* Read: the settings, checked, and their master secret. Settings that only a restart changes are
 * kept (with a warning). */
static int reload_read(struct daemon *d, struct reload_run *r)
{
	struct sf_settings *n = &r->n;
	int ret;

	/* The default config file, when start read one, is required now: without it the reload would
	 * fall back to the built-in defaults (and lose, say, its ports). */
	ret = sf_settings_resolve(d->o->config, d->o->config_given || d->o->config_used, &d->o->cli, n,
				  &r->used, d->err, sizeof(d->err));
	if (!ret)
		ret = sf_settings_check(n, d->err, sizeof(d->err));
	if (!ret)
		ret = load_master(d, n, &r->m);
	if (ret)
		return ret;
	if (strcmp(n->pin_dir, d->set.pin_dir)) {
		sf_warn("reload: pin_dir changes only with a restart; staying with %s", d->set.pin_dir);
		memcpy(n->pin_dir, d->set.pin_dir, sizeof(n->pin_dir));
	}
	if (strcmp(n->metrics, d->set.metrics))
		sf_warn("reload: metrics changes only with a restart; staying with %s",
			d->set.metrics[0] ? d->set.metrics : "no metrics");
	if (n->mode != d->set.mode)
		sf_warn("reload: mode %s applies to interfaces attached from now on", sf_mode_req_name(n->mode));
	return 0;
}

/* One new interface: opened, its counter slot first (so that its first packets are counted as its
 * own), attached in the new mode and pinned. On failure nothing of it is left. */
static int reload_add_if(struct daemon *d, struct reload_run *r, const char *name)
{
	struct daemon_if *a = &r->added[r->n_added];
	enum sf_mode_req keep = d->set.mode;
	int ret;

	if (d->n_ifs + r->n_added >= SF_MAX_RUN_IFACES) {
		snprintf(d->err, sizeof(d->err), "too many interfaces");
		return -E2BIG;
	}
	ret = open_if(d, a, name);
	if (ret)
		return ret;
	ret = new_slot(d, a, r->added, r->n_added);
	if (!ret)
		ret = write_if_info(d, a);
	if (!ret) {
		d->set.mode = r->n.mode;
		ret = attach_pin_if(d, a);
		d->set.mode = keep;
	}
	if (ret) {
		clear_if_slot(d, a->ifindex);
		clear_if_info(d, a->slot);
		return ret;
	}
	r->n_added++;
	return 0;
}

/* Add interfaces: new interfaces first: they must all attach, or the reload is undone. */
static int reload_add_ifs(struct daemon *d, struct reload_run *r)
{
	int ret;

	for (int i = 0; i < r->n.n_ifs; i++)
		if (!find_if(d, r->n.ifs[i]) && (ret = reload_add_if(d, r, r->n.ifs[i])))
			return ret;
	return 0;
}

/* Switch the port set: all of it or none (a failed write puts the old words back itself). */
static int reload_switch_ports(struct daemon *d, struct reload_run *r)
{
	int ret = 0;

	r->ports_changed = memcmp(r->n.ports, d->set.ports, sizeof(r->n.ports)) != 0;
	if (r->ports_changed && (ret = write_ports(d, d->set.ports, r->n.ports)))
		r->ports_failed = true;
	return ret;
}

/* Switch the keys, for a new kind of secret or master key: the last thing that can fail. */
static int reload_switch_secret(struct daemon *d, struct reload_run *r)
{
	struct sf_master old_m;
	unsigned long old_rotate = d->set.rotate;
	int ret;

	r->was_shared = d->shared;
	r->now_shared = r->n.secret_file[0] != '\0';
	if (r->was_shared == r->now_shared &&
	    (!r->now_shared || (r->m.len == d->master.len && !memcmp(r->m.key, d->master.key, r->m.len) &&
				r->n.rotate == d->set.rotate)))
		return 0;
	old_m = d->master;
	d->master = r->m;
	d->shared = r->now_shared;
	d->set.rotate = r->n.rotate; /* shared keys: the epoch depends on it */
	ret = secrets_setup(d, r->was_shared, false);
	if (ret) {
		d->master = old_m;
		d->shared = r->was_shared;
		d->set.rotate = old_rotate;
	} else {
		memset(&r->m, 0, sizeof(r->m));
		r->secret_changed = true;
	}
	sf_master_clear(&old_m);
	return ret;
}

/* Commit the interfaces: the new ones join, the ones no longer configured go. */
static void reload_commit_ifs(struct daemon *d, struct reload_run *r)
{
	for (int i = 0; i < r->n_added; i++) {
		struct daemon_if *a = &d->ifs[d->n_ifs++];

		*a = r->added[i];
		commit_attach(a);
		if (write_if_info(d, a)) /* its XDP mode */
			sf_warn("reload: %s", d->err);
		note_change(r, " +%s", a->name);
	}
	if (r->ports_changed) {
		char p[256];

		sf_format_ports(r->n.ports, p, sizeof(p));
		note_change(r, " ports=%s", p);
	}
	for (int i = 0; i < d->n_ifs;) {
		struct daemon_if *o = &d->ifs[i];
		bool keep = false;

		for (int j = 0; j < r->n.n_ifs; j++)
			keep |= !strcmp(r->n.ifs[j], o->name);
		if (keep) {
			i++;
			continue;
		}
		if (o->attached)
			detach_if(d, o);
		if (!o->gone)
			clear_if_slot(d, o->ifindex);
		clear_if_info(d, o->slot);
		note_change(r, " -%s", o->name);
		memmove(o, o + 1, (d->n_ifs - i - 1) * sizeof(*o));
		d->n_ifs--;
	}
}

/* Commit the rotation: its period, and the timer for a new period or kind of keys. */
static void reload_commit_rotation(struct daemon *d, struct reload_run *r)
{
	bool period_changed = r->n.rotate != r->rotate_before;
	int ret;

	d->set.rotate = r->n.rotate;
	d->st.rotate_s = (__u32)r->n.rotate;
	if (period_changed)
		note_change(r, " rotate=%lus", r->n.rotate);
	if (r->secret_changed)
		note_change(r, " secret=%s", r->now_shared ? "shared" : "random");
	if ((period_changed || r->was_shared != r->now_shared) && (ret = rot_arm(d, false)))
		report_problem(d, false, "reload: cannot re-arm the rotation timer: %s", strerror(-ret));
}

/* Commit: from here on nothing fails that cannot be lived with. */
static void reload_commit(struct daemon *d, struct reload_run *r)
{
	const struct sf_settings *n = &r->n;
	char eng[128];

	reload_commit_ifs(d, r);
	reload_commit_rotation(d, r);
	if (n->sysctl_interval != d->set.sysctl_interval)
		note_change(r, " sysctl_interval=%lus", n->sysctl_interval);
	if (n->log_level != d->set.log_level)
		note_change(r, " log_level=%s", sf_log_level_name(n->log_level));
	if (n->monitor != d->set.monitor)
		note_change(r, " monitor=%s", n->monitor ? "yes (counting only, every packet passes)" :
			    "no (protecting)");
	if (n->source_syn_rate != d->set.source_syn_rate || n->source_syn_burst != d->set.source_syn_burst ||
	    n->source_prefix4 != d->set.source_prefix4 || n->source_prefix6 != d->set.source_prefix6) {
		char lim[128];

		note_change(r, " source_syn_limit=%s", sf_limit_describe(n, lim, sizeof(lim)));
	}
	engage_reload(d, n, eng, sizeof(eng));
	if (eng[0])
		note_change(r, "%s", eng);
	/* every key the table (conf/settings.c) marks reloadable; pin_dir and metrics stay */
	sf_settings_apply_reloadable(&d->set, n);
	apply_log_level(&d->set);
	tick_arm(d);
	d->st.flags = (d->st.flags & ~(SF_ST_SHARED_SECRET | SF_ST_KEEP_ATTACHED)) |
		      (d->shared ? SF_ST_SHARED_SECRET : 0) | (d->set.keep_attached ? SF_ST_KEEP_ATTACHED : 0);
	sysctl_sync(d, false);
	d->st.reload_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	publish_state(d);
	sf_info("reloaded %s:%s", r->used ? d->o->config : "(no config file)",
		r->off ? r->changes : " no change");
	if (r->n_added)
		log_protecting(d);
}

/* Undo: the port set and the new interfaces go back to how they were (the keys were not switched:
 * they are the last phase). */
static void reload_undo(struct daemon *d, struct reload_run *r, int ret)
{
	sf_dbg("reload failed: %s", strerror(-ret));
	if (r->ports_changed && !r->ports_failed)
		write_ports(d, r->n.ports, d->set.ports);
	for (int i = 0; i < r->n_added; i++) {
		detach_if(d, &r->added[i]);
		clear_if_slot(d, r->added[i].ifindex);
		clear_if_info(d, r->added[i].slot);
	}
	report_problem(d, false, "reload failed: %s; keeping the running config", d->err);
}

void daemon_reload(struct daemon *d)
{
	struct reload_run *r = calloc(1, sizeof(*r));
	int ret;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(sf_clock_ns(CLOCK_MONOTONIC) / 1000));
	if (!r) {
		report_problem(d, false, "reload failed: %s; keeping the running config", strerror(ENOMEM));
		goto out;
	}
	r->rotate_before = d->set.rotate;
	if (reload_read(d, r)) {
		report_problem(d, false, "reload failed: %s; keeping the running config", d->err);
		goto out;
	}
	if ((ret = reload_add_ifs(d, r)) || (ret = reload_switch_ports(d, r)) ||
	    (ret = reload_switch_secret(d, r)))
		reload_undo(d, r, ret);
	else
		reload_commit(d, r);
	if (!ret && lists_apply_files(d, &d->set))
		report_problem(d, false, "reload: %s; the lists stay as they were", d->err);
out:
	if (r)
		sf_master_clear(&r->m);
	free(r);
	sd_notify(0, "READY=1");
}
