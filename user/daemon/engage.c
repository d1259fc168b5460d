/* daemon/engage.c - attack mode (engage = auto): every ENGAGE_SAMPLE_MS the daemon reads each
 * interface's syn_recv counter (SYNs to protected ports, counted by XDP whether it answers them or
 * not), and switches the interface to engaged (synfence answers its SYNs with cookies) as soon as
 * one sample's rate exceeds engage_rate, back to calm (the kernel answers) once the rate has stayed
 * below 3/4 of it for engage_hold seconds. XDP reads the calm interfaces in sf_config.calm_slots.
 * Why here and not in BPF: the rate needs a clock and per-interface state that every CPU would
 * have to share (an atomic per SYN in the flood); the daemon reads per-CPU counters it already
 * has, 5 times a second, and the programs' SYN path pays one test of a config word. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon/internal.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/mapio.h"
#include "lib/util.h"

#define ENGAGE_SAMPLE_MS 200

int engage_open(struct daemon *d)
{
	d->engage_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return d->engage_fd < 0 ? -errno : 0;
}

int engage_arm(struct daemon *d)
{
	struct itimerspec its = { .it_interval = { .tv_nsec = ENGAGE_SAMPLE_MS * 1000000L },
				  .it_value = { .tv_nsec = ENGAGE_SAMPLE_MS * 1000000L } };

	return timerfd_settime(d->engage_fd, 0, &its, NULL) ? -errno : 0;
}

void engage_close(struct daemon *d)
{
	if (d->engage_fd >= 0)
		close(d->engage_fd);
	d->engage_fd = -1;
}

/* syn_recv of slot, summed over the CPUs; 0 on error. */
static __u64 syn_recv_total(struct daemon *d, __u32 slot)
{
	__u64 sum[SF_CNT_syn_recv + 1] = { 0 };

	if (sf_percpu_sum(d->map[SF_M_COUNTERS], &slot, sizeof(struct sf_counters), sum,
			  SF_CNT_syn_recv + 1))
		return 0;
	return sum[SF_CNT_syn_recv];
}

/* What sf_config gets from attack mode: the calm interfaces and the epoch of the last cookies sent
 * while engaged. An interface newly calm (a disengage, a switch to auto, a new interface, the
 * start) moves engaged_epoch to the current epoch: the final ACKs of the SYN-ACKs sent until now
 * are still handed off (a first start with random keys sent none). */
void engage_cfg(struct daemon *d, struct sf_config *c)
{
	c->calm_slots = 0;
	if (d->set.engage == SF_ENGAGE_AUTO)
		for (int i = 0; i < d->n_ifs; i++)
			if (!d->ifs[i].engaged && d->ifs[i].slot < 64)
				c->calm_slots |= 1ull << d->ifs[i].slot;
	if (c->calm_slots & ~d->cfg.calm_slots)
		d->engaged_epoch = d->cfg_written || d->takeover || d->shared ? d->st.epoch : 0;
	c->engaged_epoch = c->calm_slots ? d->engaged_epoch : 0;
	if (d->set.engage == SF_ENGAGE_AUTO)
		d->st.flags |= SF_ST_ENGAGE_AUTO;
	else
		d->st.flags &= ~SF_ST_ENGAGE_AUTO;
}

/* The attack-mode fields of the interface's sf_iface. */
void engage_if_info(const struct daemon *d, const struct daemon_if *r, struct sf_iface *info)
{
	if (d->set.engage != SF_ENGAGE_AUTO || r->engaged)
		info->flags |= SF_IF_ENGAGED;
	info->engaged_since_boot_ns = r->engaged_since_boot_ns;
	info->engage_switches = r->engage_switches;
	info->engage_rate = (__u32)(r->syn_rate > UINT32_MAX ? UINT32_MAX : r->syn_rate);
}

static void engage_switch(struct daemon *d, struct daemon_if *r, bool on, __u64 rate)
{
	r->engaged = on;
	r->engaged_since_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
	r->engage_switches++;
	if (on)
		sf_info("engaged on %s: %llu SYNs/s to protected ports, above engage_rate %lu",
			r->name, (unsigned long long)rate, d->set.engage_rate);
	else
		sf_info("disengaged on %s: %llu SYNs/s to protected ports, below %lu (3/4 of "
			"engage_rate %lu) for %lus; the kernel answers SYNs again", r->name, (unsigned long long)rate,
			d->set.engage_rate * 3 / 4, d->set.engage_rate, d->set.engage_hold);
	r->calm_since_mono_ns = 0;
	write_cfg(d);
}

/* engage = auto: the switch one sample's rate calls for, if any. */
static void engage_decide(struct daemon *d, struct daemon_if *r, __u64 rate, __u64 now)
{
	if (!r->engaged) {
		if (rate > d->set.engage_rate)
			engage_switch(d, r, true, rate);
		return;
	}
	if (rate * 4 >= (__u64)d->set.engage_rate * 3) {
		r->calm_since_mono_ns = 0;
		return;
	}
	if (!r->calm_since_mono_ns)
		r->calm_since_mono_ns = now;
	else if (now - r->calm_since_mono_ns >= d->set.engage_hold * 1000000000ull)
		engage_switch(d, r, false, rate);
}

/* One sample of one interface: its rate since the last, and the switch it calls for. */
static void engage_sample_if(struct daemon *d, struct daemon_if *r, __u64 now)
{
	__u64 total = syn_recv_total(d, r->slot), dt = now - r->sample_mono_ns, n, rate;
	bool auto_mode = d->set.engage == SF_ENGAGE_AUTO;

	n = total >= r->syn_total ? total - r->syn_total : 0; /* counters zeroed: a slot reused */
	r->syn_total = total;
	if (!r->sample_mono_ns || !dt) {
		r->sample_mono_ns = now;
		return;
	}
	r->sample_mono_ns = now;
	rate = n * 1000000000ull / dt;
	r->syn_rate = rate;
	if (!r->attached || r->gone)
		return;
	if (auto_mode)
		engage_decide(d, r, rate, now);
	/* status shows the rate (and the state, also after a SIGHUP that changed engage) */
	write_if_info(d, r);
}

void engage_tick(struct daemon *d)
{
	__u64 exp, now = sf_clock_ns(CLOCK_MONOTONIC);

	if (read(d->engage_fd, &exp, sizeof(exp)) <= 0)
		return;
	for (int i = 0; i < d->n_ifs; i++)
		engage_sample_if(d, &d->ifs[i], now);
}

/* SIGHUP, before the new keys apply: their changes for the reload's log line (in buf, "" if none).
 * A switch to always engages every interface; one to auto leaves them engaged, and each
 * disengages once calm for engage_hold seconds (an attack in progress stays answered). */
void engage_reload(struct daemon *d, const struct sf_settings *n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (n->engage != d->set.engage) {
		off += (size_t)snprintf(buf + off, len - off, " engage=%s", sf_engage_name(n->engage));
		for (int i = 0; i < d->n_ifs; i++) {
			d->ifs[i].engaged = true;
			d->ifs[i].calm_since_mono_ns = 0;
			d->ifs[i].engaged_since_boot_ns = sf_clock_ns(CLOCK_BOOTTIME);
		}
	}
	if (n->engage_rate != d->set.engage_rate && off < len)
		off += (size_t)snprintf(buf + off, len - off, " engage_rate=%lu", n->engage_rate);
	if (n->engage_hold != d->set.engage_hold && off < len)
		snprintf(buf + off, len - off, " engage_hold=%lus", n->engage_hold);
}
