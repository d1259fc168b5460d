/* daemon/flowseed.h - seeds the programs' flow cache with the connections the kernel already has. */
#ifndef SF_FLOWSEED_H
#define SF_FLOWSEED_H

#include <linux/types.h>

/* Every TCP socket of this network namespace that is not a listener and whose local port is in
 * ports (the protected set: a bitmap of SF_PORT_WORDS words) goes into the flow cache maps
 * (flows_fd: sf_flows, tags_fd: sf_flow_tags), so that a client reusing the tuple of a connection
 * that is in TIME_WAIT since before this run is recognised on its SYN. Call it before the
 * programs run: the tag map is written as a whole. *n = flows written. 0 or -errno (err set). */
int sf_flow_seed(int flows_fd, int tags_fd, const __u64 *ports, unsigned int *n, char *err,
		 size_t errlen);

#endif
