/* daemon/limit_config.h - the per-source SYN limits' part of sf_config (bpf/limit.h). */
#ifndef SF_LIMIT_CONFIG_H
#define SF_LIMIT_CONFIG_H

#include <stddef.h>
#include <linux/types.h>

#include "conf/settings.h"
#include "synfence.h"

/* Fill c's limit_* fields from s (source_syn_rate 0: all of them 0, the limiter off). The row
 * multipliers come from seed (made odd), random once per run (sf_limit_seed). */
void sf_limit_config(struct sf_config *c, const struct sf_settings *s, const __u64 seed[2]);

/* This run's random seeds for the sketch rows (getrandom on the first call). */
const __u64 *sf_limit_seed(void);

/* "off" or "N/s burst B per /P4 (IPv4), /P6 (IPv6)" into buf. */
const char *sf_limit_describe(const struct sf_settings *s, char *buf, size_t len);

#endif
