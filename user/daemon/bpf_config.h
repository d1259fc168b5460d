/* daemon/bpf_config.h - build the sf_config map value from this network namespace's TCP sysctls. */
#ifndef SF_CONFIG_H
#define SF_CONFIG_H

#include <stddef.h>
#include <linux/types.h>

#include "synfence.h"

/* min_mtu: smallest MTU of the attached interfaces. sysctl gets the values of SF_SYSCTLS as read
 * (-1 for those not read). Returns 0, or -errno with a message in err. The result has
 * SF_CFG_ENABLED set; the caller decides when to write it. */
int sf_config_build(struct sf_config *cfg, unsigned int min_mtu, __s32 sysctl[SF_SYSCTL_MAX],
		    char *err, size_t errlen);

/* The window scale the kernel would advertise (tcp_select_initial_window): ilog2 of the largest
 * receive buffer, minus 15, clamped to 0..14. */
__u8 sf_rcv_wscale(unsigned long space);

#endif
