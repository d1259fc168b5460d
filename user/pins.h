/* pins.h - bpffs handling: /sys/fs/bpf for libxdp, the pin directory, and the six pinned maps. */
#ifndef SF_PINS_H
#define SF_PINS_H

#include <limits.h>
#include <stdbool.h>

#include "synfence.h"

#define SF_N_MAPS 6
/* The pinned maps, in a fixed order (pin files are named after the maps). */
extern const char *const sf_map_names[SF_N_MAPS];

struct bpf_object;

struct sf_pins {
	char dir[PATH_MAX];
	bool dir_created;          /* we created the pin directory */
	bool mounted;              /* we mounted a bpffs on it */
	bool pinned[SF_N_MAPS];
};

/* Mount a bpffs on /sys/fs/bpf unless one is there (libxdp keeps its dispatcher state there).
 * Failure is only a warning: libxdp then attaches without its dispatcher. */
void sf_bpffs_ensure_sys(void);

/* Create the pin directory (mode 0700), mount a bpffs on it if it is not on one, and refuse
 * (-EEXIST) if it already holds synfence maps. Prints its errors. */
int sf_pins_prepare(struct sf_pins *p, const char *dir);

/* Pin the six maps of the loaded object under the pin directory. Prints its errors. */
int sf_pins_pin(struct sf_pins *p, struct bpf_object *obj);

/* Undo sf_pins_pin and sf_pins_prepare: remove the pins, unmount the bpffs we mounted, remove the
 * directory if we created it. */
void sf_pins_cleanup(struct sf_pins *p);

#endif
