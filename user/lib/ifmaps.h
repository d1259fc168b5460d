/* lib/ifmaps.h - lookups in the pinned interface map (sf_ifaces) that the daemon and detach share. */
#ifndef SF_IFMAPS_H
#define SF_IFMAPS_H

#include <linux/types.h>

#include "synfence.h"

/* The first slot >= from (and >= 1) of the sf_ifaces map fd in use by the interface name, 0 when
 * none; fi (may be NULL) gets its entry. Entries of a pinned map of another synfence version are
 * read through sf_map_read (longer or shorter layouts). */
__u32 sf_ifaces_find(int fd, const char *name, __u32 from, struct sf_iface *fi);

#endif
