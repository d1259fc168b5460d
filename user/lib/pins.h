/* lib/pins.h - the pin directory: a bpffs directory holding the maps and the links of `synfence run`,
 * locked (flock) by the daemon that owns it, so that a restarted daemon can take everything over
 * and a second one is refused. */
#ifndef SF_PINS_H
#define SF_PINS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "synfence.h"

/* The pinned maps (pin files are named after the maps): index, map name. The one list: the index
 * enum and sf_map_names are generated from it, so they cannot drift apart. */
#define SF_PINNED_MAPS(X)                  \
	X(SF_M_CONFIG, SF_MAP_CONFIG)       \
	X(SF_M_SECRETS, SF_MAP_SECRETS)     \
	X(SF_M_PORTS, SF_MAP_PORTS)         \
	X(SF_M_IF_SLOT, SF_MAP_IF_SLOT)     \
	X(SF_M_IFACES, SF_MAP_IFACES)       \
	X(SF_M_COUNTERS, SF_MAP_COUNTERS)   \
	X(SF_M_STATE, SF_MAP_STATE)         \
	X(SF_M_ALLOW, SF_MAP_ALLOW)         \
	X(SF_M_DENY, SF_MAP_DENY)           \
	X(SF_M_LISTS, SF_MAP_LISTS)         \
	X(SF_M_SAMPLES, SF_MAP_SAMPLES)     \
	X(SF_M_SAMPLE_CTL, SF_MAP_SAMPLE_CTL)

/* Index of each pinned map in sf_map_names (and in the daemon's map fd arrays). */
enum sf_pinned_map {
#define SF_X_ENUM(id, name) id,
	SF_PINNED_MAPS(SF_X_ENUM)
#undef SF_X_ENUM
	SF_N_MAPS
};
extern const char *const sf_map_names[SF_N_MAPS];

/* Link pins: "link_xdp_IFNAME" and "link_tc_IFNAME" (a dot of IFNAME written as ':'). */
#define SF_LINK_PIN_PREFIX "link_"
enum sf_link_kind { SF_LINK_XDP, SF_LINK_TC };

struct sf_pins {
	char dir[PATH_MAX];
	int lock_fd;               /* the directory, flock()ed; -1 */
	bool dir_created;          /* we created the pin directory */
	bool mounted;              /* we mounted a bpffs on it */
};

/* Create the pin directory (mode 0700; parents too), mount a bpffs on it if it is not on one (the
 * default /sys/fs/bpf is mounted first if needed), and lock it. -EBUSY: another process holds the
 * lock (a running synfence). Puts a one-line message in err. */
int sf_pins_prepare(struct sf_pins *p, const char *dir, char *err, size_t errlen);

/* Open an existing pin dir read-only (no creation, no mount) and try its lock: -ENOENT when it
 * does not exist or is not a bpffs, -EBUSY when a daemon holds it (the lock is not taken then). */
int sf_pins_open(struct sf_pins *p, const char *dir, bool lock, char *err, size_t errlen);

/* dir/name -> buf */
int sf_pins_path(const struct sf_pins *p, const char *name, char *buf, size_t len);
void sf_pins_link_name(enum sf_link_kind kind, const char *ifname, char *buf, size_t len);

/* fd of the object pinned as name, -ENOENT if none (or -errno). */
int sf_pins_get(const struct sf_pins *p, const char *name);
/* Pin fd as name, replacing what was pinned there. Pins are 0600. */
int sf_pins_put(const struct sf_pins *p, const char *name, int fd);
/* Remove the pin name (no error when it is not there). */
int sf_pins_remove(const struct sf_pins *p, const char *name);

/* Detach a link of ours and remove its pin (kind, ifname): the link *fd (closed, set to -1; none
 * when -1), or with fd NULL the one pinned there. True when the link was still attached to an
 * interface. */
bool sf_pins_drop_link(const struct sf_pins *p, enum sf_link_kind kind, const char *ifname, int *fd);

/* Call fn for every link pin: kind, interface name. Stops at fn's first non-zero return. */
int sf_pins_for_links(const struct sf_pins *p,
		      int (*fn)(enum sf_link_kind kind, const char *ifname, void *arg), void *arg);

/* Any link pinned? */
bool sf_pins_any_link(const struct sf_pins *p);
/* Any map or link pinned? */
bool sf_pins_any(const struct sf_pins *p);

/* Remove every synfence pin (maps, links) in the directory. */
void sf_pins_remove_all(const struct sf_pins *p);

/* Release: drop the lock; when remove_dir, remove the directory if empty (unmount the bpffs we
 * mounted first). */
void sf_pins_close(struct sf_pins *p, bool remove_dir);

/* Mount a bpffs on /sys/fs/bpf unless one is there (quietly; failure shows up at mkdir). */
void sf_bpffs_ensure_sys(void);

#endif
