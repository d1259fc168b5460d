/* daemon/bpf_config.c - see bpf_config.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/bpf_config.h"
#include "lib/sysctl.h"

#define SF_WINDOW 65535 /* SYN-ACK windows are never scaled (RFC 7323) */
#define SF_TTL    64

__u8 sf_rcv_wscale(unsigned long space)
{
	int log = 0, ws;

	while (space >>= 1)
		log++;
	ws = log - 15;
	return ws < 0 ? 0 : ws > 14 ? 14 : (__u8)ws;
}

static int read_flag(const char *name, long *val, char *err, size_t errlen)
{
	int ret = sf_sysctl_read_int(name, val);

	if (ret)
		snprintf(err, errlen, "cannot read sysctl %s: %s", name, strerror(-ret));
	return ret;
}

static __u16 mss_for(unsigned int mtu, unsigned int overhead)
{
	if (mtu <= overhead)
		return 0;
	mtu -= overhead;
	return mtu > 65535 ? 65535 : (__u16)mtu;
}

int sf_config_build(struct sf_config *cfg, unsigned int min_mtu, __s32 sysctl[SF_SYSCTL_MAX],
		    char *errbuf, size_t errlen)
{
	static const char *const names[SF_SYSCTL_MAX] = {
#define SF_SYSCTL_NAME(name) "net.ipv4." #name,
		SF_SYSCTLS(SF_SYSCTL_NAME)
#undef SF_SYSCTL_NAME
	};
	long v[SF_SYSCTL_MAX], rmem[3], rmem_max;
	unsigned long space;
	int err = 0, n;

	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < SF_SYSCTL_MAX; i++)
		sysctl[i] = -1;
	for (int i = 0; i < SF_SYSCTL_MAX; i++) {
		err = read_flag(names[i], &v[i], errbuf, errlen);
		if (err)
			goto out;
		sysctl[i] = v[i] < 0 ? -1 : v[i] > 0x7fffffff ? 0x7fffffff : (__s32)v[i];
	}

	err = sf_sysctl_read_ints("net.ipv4.tcp_rmem", rmem, 3, &n);
	if (!err && n != 3)
		err = -EINVAL;
	if (err) {
		snprintf(errbuf, errlen, "cannot read sysctl net.ipv4.tcp_rmem: %s", strerror(-err));
		goto out;
	}
	space = rmem[2] > 0 ? (unsigned long)rmem[2] : 0;
	/* net.core.rmem_max is per namespace on recent kernels; older ones only show it in the
	 * initial namespace, and then tcp_rmem is the best we know. */
	if (sf_sysctl_read_int("net.core.rmem_max", &rmem_max) == 0) {
		if (rmem_max > 0 && (unsigned long)rmem_max > space)
			space = rmem_max;
	}

	cfg->flags = SF_CFG_ENABLED;
	if (v[SF_SYSCTL_tcp_timestamps])
		cfg->flags |= SF_CFG_TIMESTAMPS;
	if (v[SF_SYSCTL_tcp_sack])
		cfg->flags |= SF_CFG_SACK;
	if (v[SF_SYSCTL_tcp_window_scaling])
		cfg->flags |= SF_CFG_WSCALE;
	if (v[SF_SYSCTL_tcp_ecn])
		cfg->flags |= SF_CFG_ECN;
	cfg->rcv_wscale = sf_rcv_wscale(space);
	cfg->mss4 = mss_for(min_mtu, 40); /* IPv4 + TCP headers */
	cfg->mss6 = mss_for(min_mtu, 60); /* IPv6 + TCP headers */
	cfg->window = SF_WINDOW;
	cfg->ttl = SF_TTL;
out:
	return err;
}
