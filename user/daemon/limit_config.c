/* daemon/limit_config.c - see limit_config.h. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "daemon/limit_config.h"

void sf_limit_config(struct sf_config *c, const struct sf_settings *s, const __u64 seed[2])
{
	sf_limit_fill(c, s->source_syn_rate, s->source_syn_burst, s->source_prefix4, s->source_prefix6,
		      seed);
}

const __u64 *sf_limit_seed(void)
{
	static __u64 seed[2];
	static int have;

	if (!have) {
		if (getrandom(seed, sizeof(seed), 0) != sizeof(seed)) {
			struct timespec ts;

			/* cannot happen on a kernel with BPF; still: distinct rows */
			clock_gettime(CLOCK_MONOTONIC, &ts);
			seed[0] = (__u64)ts.tv_nsec * 0x9e3779b97f4a7c15ull;
			seed[1] = (__u64)ts.tv_sec * 0xc2b2ae3d27d4eb4full ^ seed[0];
		}
		have = 1;
	}
	return seed;
}

const char *sf_limit_describe(const struct sf_settings *s, char *buf, size_t len)
{
	if (!s->source_syn_rate)
		snprintf(buf, len, "off");
	else
		snprintf(buf, len, "%lu/s burst %lu per /%lu (IPv4), /%lu (IPv6)", s->source_syn_rate,
			 s->source_syn_burst, s->source_prefix4, s->source_prefix6);
	return buf;
}
