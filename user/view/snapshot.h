/* view/snapshot.h - one reading of what a running synfence exposes: the counters (summed over CPUs) per
 * interface slot, the interfaces, the daemon's published state (sf_state), the port set, and
 * whether the programs are attached. Shared by `stats`, `status` and the metrics server: they all
 * render a struct sf_snap (see render.h). */
#ifndef SF_SNAPSHOT_H
#define SF_SNAPSHOT_H

#include <stdbool.h>
#include <time.h>
#include <linux/types.h>

#include "synfence.h"

/* The maps a snapshot is read from (fds; -1 when not open). */
struct sf_maps {
	int counters, ifaces, state, ports, config;
	int sample_ctl; /* optional (a run older than sampling has none) */
	bool owned; /* opened by sf_maps_open_pinned: closed by sf_maps_close */
};

/* Attachment of one program to one interface, as seen from the kernel. */
enum sf_attach {
	SF_ATTACH_UNKNOWN = -1, /* cannot be checked (other network namespace, old kernel) */
	SF_ATTACH_NO = 0,
	SF_ATTACH_YES = 1,
};

struct sf_snap_if {
	char name[sizeof(((struct sf_iface *)0)->name) + 1];
	__u32 slot;
	__u32 ifindex;
	__u32 xdp_mode; /* enum sf_xdp_mode (include/synfence.h) */
	enum sf_attach xdp, tc;
	__u64 c[SF_CNT_MAX];
	/* attack mode (sf_iface): engaged (always so with engage = always), since when (BOOTTIME,
	 * 0: since start), switches since start, SYNs/s at the daemon's last sample */
	bool engaged;
	__u64 engaged_since_boot_ns;
	__u32 engage_switches, syn_rate;
};

struct sf_snap {
	struct timespec mono;  /* when the counters were read (CLOCK_MONOTONIC) */
	__u64 boot_ns;         /* the same moment in CLOCK_BOOTTIME (compare with sf_state) */
	__u64 real_ns;         /* ... and in CLOCK_REALTIME */
	bool have_state;       /* sf_state was written by run (start_boot_ns != 0) */
	struct sf_state state;
	bool have_config;      /* config was read from the config map */
	struct sf_config config; /* what the programs use: the sysctl mirror (flags 0: disabled) */
	bool running;          /* state.pid is a live synfence process */
	bool same_netns;       /* we are in run's network namespace: ifindexes and attachments mean
				* something here */
	bool have_ports;
	__u64 ports[SF_PORT_WORDS];
	bool have_sampling;    /* sf_sample_ctl was read */
	struct sf_sample_ctl sampling;
	bool sampling_alive;   /* on, and its holder is alive */
	char sampling_holder[64]; /* "synfence capture" */
	__u64 total[SF_CNT_MAX];
	__u64 other[SF_CNT_MAX]; /* slot 0: traffic of an interface without a slot */
	bool other_nonzero;
	int n_ifs;
	struct sf_snap_if ifs[SF_MAX_IFACES];
};

void sf_maps_init(struct sf_maps *m);

/* Open the maps pinned by `synfence run` in dir. Prints its errors ("synfence is not running"
 * when there is nothing there). Returns 0 or -errno (-ENOENT: nothing pinned). */
int sf_maps_open_pinned(struct sf_maps *m, const char *dir);
void sf_maps_close(struct sf_maps *m);

/* Read everything into s. check_attach: ask the kernel whether the programs named in sf_state are
 * attached to each interface (a few syscalls per interface). Prints its errors; returns 0 or
 * -errno. */
int sf_snap_read(const struct sf_maps *m, struct sf_snap *s, bool check_attach);

/* What is attached to the interfaces of s, asked from the kernel with check_attach: what still
 * protects them when no `run` is alive (its pinned links outlive it: kill -9, SIGUSR2). */
enum sf_left {
	SF_LEFT_NOTHING, /* no program on any interface (or no interface): only the maps are left */
	SF_LEFT_PARTLY,  /* programs on some interfaces or hooks, not on all */
	SF_LEFT_ALL,     /* XDP and TC on every interface */
	SF_LEFT_UNKNOWN, /* cannot be checked from here (another network namespace) */
};
enum sf_left sf_snap_left(const struct sf_snap *s);

/* Protection suspended by run (tcp_syncookies off and no sysctl changes allowed). */
bool sf_snap_suspended(const struct sf_snap *s);
/* Monitor mode (--monitor): the programs count what they would do and pass every packet. */
bool sf_snap_monitor(const struct sf_snap *s);
/* engage = auto (the daemon switches interfaces between calm and engaged by their SYN rate). */
bool sf_snap_engage_auto(const struct sf_snap *s);
/* Engaged: synfence answers SYNs on some interface (always, with engage = always). *since_boot_ns:
 * since when (CLOCK_BOOTTIME): engaged, the earliest engaged interface's switch; calm, the latest
 * switch; the start when none switched. Its sum of switches in *switches. */
bool sf_snap_engaged(const struct sf_snap *s, __u64 *since_boot_ns, __u64 *switches);

/* The per-source SYN limits in force (from the config map), as configured. */
struct sf_snap_limit {
	unsigned long rate, burst, prefix4, prefix6; /* rate 0: off */
};
/* false when the config map could not be read (l zeroed) */
bool sf_snap_limit(const struct sf_snap *s, struct sf_snap_limit *l);

/* Seconds from a CLOCK_BOOTTIME moment of s->state to the snapshot; sf_snap_age_s: NaN when then is
 * 0 (never). */
double sf_snap_since_s(const struct sf_snap *s, __u64 then);
double sf_snap_age_s(const struct sf_snap *s, __u64 then);
/* Seconds since run started; since the cookie secret was last replaced. */
double sf_snap_uptime_s(const struct sf_snap *s);
double sf_snap_secret_age_s(const struct sf_snap *s);
/* The value of sysctl i (enum sf_sysctl) as run last read it, -1 when unknown. */
int sf_snap_sysctl(const struct sf_snap *s, int i);

/* Seconds between two snapshots (b later than a). */
double sf_snap_interval(const struct sf_snap *a, const struct sf_snap *b);

/* The interface of prev with the same slot and ifindex as cur's interface i, or NULL. */
const struct sf_snap_if *sf_snap_match_if(const struct sf_snap *prev, const struct sf_snap_if *cur);

/* Whether the XDP program prog_id is attached to ifindex (directly or behind libxdp's dispatcher),
 * and whether the TC program prog_id is attached at tcx ingress. Only meaningful in the network
 * namespace of the interface. */
enum sf_attach sf_xdp_attached(__u32 ifindex, __u32 prog_id);
enum sf_attach sf_tc_attached(__u32 ifindex, __u32 prog_id);

/* CLOCK_BOOTTIME / CLOCK_REALTIME now, in ns. */
__u64 sf_boot_ns(void);
__u64 sf_real_ns(void);

#endif
