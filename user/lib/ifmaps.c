/* lib/ifmaps.c - see ifmaps.h. */
#include <string.h>

#include "lib/ifmaps.h"
#include "lib/mapio.h"

__u32 sf_ifaces_find(int fd, const char *name, __u32 from, struct sf_iface *fi)
{
	struct sf_iface e;

	for (__u32 s = from ? from : 1; fd >= 0 && s < SF_MAX_IFACES; s++) {
		if (sf_map_read(fd, &s, &e, sizeof(e)) || !e.ifindex || strncmp(e.name, name, sizeof(e.name)))
			continue;
		if (fi)
			*fi = e;
		return s;
	}
	return 0;
}
