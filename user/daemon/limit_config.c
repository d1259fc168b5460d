/* daemon/limit_config.c - see limit_config.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "daemon/limit_config.h"

/* A prefix mask of bits (0..32) as on the wire. */
static __u32 mask32(unsigned long bits)
{
	if (bits == 0)
		return 0;
	if (bits >= 32)
		return 0xffffffffu;
	return htonl(~((1u << (32 - bits)) - 1));
}

void sf_limit_config(struct sf_config *c, const struct sf_settings *s, const __u64 seed[2])
{
	unsigned long p6 = s->source_prefix6;

	c->limit_mask4 = 0;
	memset(c->limit_mask6, 0, sizeof(c->limit_mask6));
	c->limit_pad = 0;
	c->limit_t_ns = c->limit_tau_ns = 0;
	c->limit_seed[0] = c->limit_seed[1] = 0;
	if (!s->source_syn_rate)
		return;
	c->limit_mask4 = mask32(s->source_prefix4);
	for (int i = 0; i < 4; i++)
		c->limit_mask6[i] = mask32(p6 > 32u * (unsigned long)i ? p6 - 32u * (unsigned long)i : 0);
	c->limit_t_ns = 1000000000ull / s->source_syn_rate;
	if (!c->limit_t_ns)
		c->limit_t_ns = 1;
	c->limit_tau_ns = (__u64)(s->source_syn_burst ? s->source_syn_burst - 1 : 0) * c->limit_t_ns;
	c->limit_seed[0] = seed[0] | 1;
	c->limit_seed[1] = seed[1] | 1;
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
