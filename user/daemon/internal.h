/* daemon/internal.h - struct daemon, struct daemon_if and the functions the daemon's files share. */
#ifndef SF_DAEMON_INTERNAL_H
#define SF_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "conf/settings.h"
#include "daemon/daemon.h"
#include "daemon/secret.h"
#include "lib/loader.h"
#include "lib/pins.h"
#include "synfence.h"

struct bpf_map;
struct sf_metrics;
struct synfence_bpf;

/* One interface the daemon protects (or is adding, in a reload). */
struct daemon_if {
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
	/* engage = auto (engage.c) */
	bool engaged;              /* synfence answers this interface's SYNs (else calm) */
	__u64 engaged_since_boot_ns; /* CLOCK_BOOTTIME of the last switch */
	__u32 engage_switches;
	__u64 syn_total;           /* syn_recv at the last sample */
	__u64 syn_rate;            /* SYNs/s between the last two samples */
	__u64 sample_mono_ns;      /* CLOCK_MONOTONIC of the last sample (0: none yet) */
	__u64 calm_since_mono_ns;  /* engaged, below 3/4 of engage_rate since (0: not below) */
};

/* The running daemon: settings in force, the BPF object and maps, pins, interfaces, event fds. */
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
	struct daemon_if ifs[SF_MAX_RUN_IFACES];
	int n_ifs;
	struct sf_config cfg;          /* as last written (flags 0 while suspended) */
	struct sf_config want;         /* from the sysctls */
	bool cfg_written;
	bool suspended;                /* tcp_syncookies is off and we may not change it */
	__u32 monitor_epoch;           /* sf_config.monitor_epoch: the epoch when monitor mode began */
	long syncookies_found;         /* tcp_syncookies before start set it to 1, else -1 */
	bool shared;                   /* keys derived from set.secret_file */
	struct sf_master master;
	struct sf_state st;
	__u32 features;                /* enum sf_feature_flags, probed at start */
	struct sf_metrics *metrics;    /* --metrics: its thread reads the maps */
	int sig_fd, rot_fd, tick_fd, wd_fd, nl_fd;
	int engage_fd;                 /* engage.c: the rate sampler's timer */
	__u32 engaged_epoch;           /* sf_config.engaged_epoch: the epoch an interface last went calm */
	__u64 rotated_mono_ns;         /* random keys: CLOCK_MONOTONIC of the last rotation */
	bool publish_failed;           /* the last write of sf_state failed (logged once) */
	bool pins_lost;                /* the pin dir or a pin vanished (logged once, re-pinned) */
	char pins_err[256];            /* last re-pin error (logged when it changes) */
	char err[1024];
};

/* The earlier run's values that start overwrites, to put back if the takeover fails. */
struct saved {
	bool have;
	struct sf_config cfg;
	struct sf_secrets sec;
	struct sf_state st;
	__u64 ports[SF_PORT_WORDS];
};

/* state.c */
int publish_state(struct daemon *d);
void report_problem(struct daemon *d, bool warning, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void set_err(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int map_put(int fd, __u32 key, const void *val);
int apply_log_level(const struct sf_settings *s);
/* Log once per streak: err is not the last error logged (last, len bytes)? Then it becomes the
 * last one, and true (log it). */
bool note_new_error(char *last, size_t len, const char *err);

/* iface.c */
struct daemon_if *find_if(struct daemon *d, const char *name);
void init_if(struct daemon_if *r, const char *name);
bool slot_taken(struct daemon *d, __u32 slot);
int zero_counters(struct daemon *d, __u32 slot);
int open_if(struct daemon *d, struct daemon_if *r, const char *name);
int new_slot(struct daemon *d, struct daemon_if *r, const struct daemon_if *extra, int n_extra);
int write_if_info(struct daemon *d, const struct daemon_if *r);
void clear_if_slot(struct daemon *d, unsigned int ifindex);
int clear_if_info(struct daemon *d, __u32 slot);
void commit_attach(struct daemon_if *r);
void undo_attach(struct daemon *d, struct daemon_if *r);
int attach_if(struct daemon *d, struct daemon_if *r);
int pin_links(struct daemon *d, struct daemon_if *r);
int attach_pin_if(struct daemon *d, struct daemon_if *r);
void detach_if(struct daemon *d, struct daemon_if *r);
void leave_if(struct daemon *d, struct daemon_if *r);

/* sysctl_mirror.c */
int write_cfg(struct daemon *d);
int sysctl_sync(struct daemon *d, bool startup);

/* rotate.c */
int rot_arm(struct daemon *d, bool retry);
void note_epoch(struct daemon *d);
int secrets_setup(struct daemon *d, bool old_shared, bool keep);
void rotate_secret(struct daemon *d);
int load_master(struct daemon *d, const struct sf_settings *s, struct sf_master *m);

/* engage.c */
int engage_open(struct daemon *d);
int engage_arm(struct daemon *d);
void engage_close(struct daemon *d);
void engage_tick(struct daemon *d);
void engage_cfg(struct daemon *d, struct sf_config *c);
void engage_if_info(const struct daemon *d, const struct daemon_if *r, struct sf_iface *info);
void engage_reload(struct daemon *d, const struct sf_settings *n, char *buf, size_t len);

/* takeover.c */
int reuse_pinned_map(struct daemon *d, enum sf_pinned_map i, struct bpf_map *m);
void migrate_map(int from, int to);
void old_state(struct daemon *d, struct sf_state *st);
__u32 old_slot(struct daemon *d, const char *name);
int take_over_link(struct daemon *d, struct daemon_if *r, enum sf_link_kind kind);
int drop_stale_link(enum sf_link_kind kind, const char *ifname, void *arg);
void save_maps(struct daemon *d, struct saved *s);
void restore_maps(struct daemon *d, struct saved *s);

/* start.c */
int write_ports(struct daemon *d, const __u64 *from, const __u64 *to);
void log_protecting(struct daemon *d);
int daemon_start(struct daemon *d);

/* health.c */
void check_pins(struct daemon *d);
void check_links(struct daemon *d);
void netlink_event(struct daemon *d);
int netlink_open(void);

/* reload.c */
void daemon_reload(struct daemon *d);

/* lists.c */
int lists_apply_files(struct daemon *d, const struct sf_settings *s);
void lists_tick(struct daemon *d);

/* sampling.c */
void sampling_tick(struct daemon *d);

/* lifecycle.c */
int tick_arm(struct daemon *d);

#endif
