/* daemon/sysctl_mirror.c - the TCP sysctls mirrored into sf_config; tcp_syncookies kept on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/bpf_config.h"
#include "daemon/limit_config.h"
#include "daemon/internal.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/sysctl.h"
#include "lib/util.h"

static unsigned int min_mtu(struct daemon *d)
{
	unsigned int m = 0;

	for (int i = 0; i < d->n_ifs; i++) {
		struct daemon_if *r = &d->ifs[i];

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

int write_cfg(struct daemon *d)
{
	struct sf_config c = d->want;
	int ret;

	if (d->set.monitor) {
		/* Switched on now: the final ACKs of the SYN-ACKs sent before (cookies of this epoch
		 * or older) are still handed off. A first start with random keys sent none. */
		if (!(d->st.flags & SF_ST_MONITOR))
			d->monitor_epoch = d->cfg_written || d->takeover || d->shared ? d->st.epoch : 0;
		c.flags |= SF_CFG_MONITOR;
		c.monitor_epoch = d->monitor_epoch;
		d->st.flags |= SF_ST_MONITOR;
	} else {
		d->st.flags &= ~SF_ST_MONITOR;
	}
	sf_limit_config(&c, &d->set, sf_limit_seed());
	engage_cfg(d, &c);
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

/* tcp_syncookies must be 1 or 2: set to 1, or (no sysctl changes) refused at start (-EOPNOTSUPP)
 * and protection suspended while running. Returns 0 (also while suspended), or -errno (d->err). */
static int sync_syncookies(struct daemon *d, bool startup)
{
	char msg[512];
	long sc;
	int ret;

	ret = sf_sysctl_read_int("net.ipv4.tcp_syncookies", &sc);
	if (ret) {
		snprintf(d->err, sizeof(d->err), "cannot read sysctl net.ipv4.tcp_syncookies: %s",
			 strerror(-ret));
		return ret;
	}
	if (sc == 1 || sc == 2) {
		if (d->suspended) {
			d->suspended = false;
			d->st.flags &= ~SF_ST_SUSPENDED;
			sf_info("net.ipv4.tcp_syncookies is %ld again: protection resumed", sc);
		}
		return 0;
	}
	if (!d->set.sysctl_changes) {
		snprintf(d->err, sizeof(d->err), "net.ipv4.tcp_syncookies is %ld and sysctl changes "
			 "are off: %s (synfence needs 1 or 2: sysctl -w net.ipv4.tcp_syncookies=1)",
			 sc, startup ? "refusing to start" : "protection suspended until it is set");
		if (startup)
			return -EOPNOTSUPP;
		if (!d->suspended) {
			d->suspended = true;
			d->st.flags |= SF_ST_SUSPENDED;
			report_problem(d, false, "%s", d->err);
		}
		return 0;
	}
	ret = sf_sysctl_write_int("net.ipv4.tcp_syncookies", 1);
	if (ret) {
		snprintf(d->err, sizeof(d->err), "net.ipv4.tcp_syncookies is %ld and cannot "
			 "be set to 1: %s", sc, strerror(-ret));
		return ret;
	}
	snprintf(msg, sizeof(msg), "net.ipv4.tcp_syncookies was %ld: set it to 1 (the "
		 "handoff to the kernel needs it; --no-sysctl-changes refuses instead)", sc);
	if (startup) {
		d->syncookies_found = sc; /* put back if start fails */
		sf_info("%s", msg);
	} else {
		report_problem(d, true, "%s", msg);
	}
	return 0;
}

/* The TCP sysctls (and the smallest MTU) as an sf_config, written when it changed. */
static int mirror_sysctls(struct daemon *d, bool startup)
{
	struct sf_config want;
	__s32 vals[SF_SYSCTL_MAX];
	int ret;

	ret = sf_config_build(&want, min_mtu(d), vals, d->err, sizeof(d->err));
	if (ret)
		return ret;
	if (d->cfg_written || !startup)
		describe_cfg_change(&d->want, &want);
	d->want = want;
	memcpy(d->st.sysctl, vals, sizeof(vals));
	d->st.sysctl_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	return write_cfg(d);
}

/* Read the sysctls (at start, on SIGHUP, every sysctl_interval seconds) and mirror them into
 * sf_config. At start an error ends the run (-errno, d->err); later it is reported. */
int sysctl_sync(struct daemon *d, bool startup)
{
	int ret = sync_syncookies(d, startup);

	if (!ret)
		ret = mirror_sysctls(d, startup);
	if (ret && !startup)
		report_problem(d, false, "%s", d->err);
	return ret;
}
