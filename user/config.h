/* config.h - build the sf_config map value from this network namespace's TCP sysctls. */
#ifndef SF_CONFIG_H
#define SF_CONFIG_H

#include <linux/types.h>

#include "synfence.h"

/* min_mtu: smallest MTU of the attached interfaces. Prints the error itself. Returns 0 or -errno.
 * The result has SF_CFG_ENABLED set; the caller decides when to write it. */
int sf_config_build(struct sf_config *cfg, unsigned int min_mtu);

/* The window scale the kernel would advertise (tcp_select_initial_window): ilog2 of the largest
 * receive buffer, minus 15, clamped to 0..14. */
__u8 sf_rcv_wscale(unsigned long space);

#endif
