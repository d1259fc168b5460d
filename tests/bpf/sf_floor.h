/* sf_floor.h - the minimal parser the bench's XDP floor programs share: Ethernet, IPv4 (no options
 * needed, any IHL accepted) or IPv6 (no extension headers), TCP. */
#ifndef SF_FLOOR_H
#define SF_FLOOR_H
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define FLOOR_PORT 80 /* the port the bench floods */
#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#endif
#ifndef ETH_ALEN
#define ETH_ALEN 6
#endif

/* Returns 4 or 6 for a TCP segment to FLOOR_PORT whose fixed TCP header is inside the frame (l3 and
 * tcp set), else 0. */
static __always_inline int floor_parse(void *data, void *data_end, void **l3, struct tcphdr **tcp)
{
	struct ethhdr *eth = data;
	struct tcphdr *t;
	int v;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP)
			return 0;
		t = (void *)ip + ip->ihl * 4;
		v = 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_TCP)
			return 0;
		t = (void *)(ip6 + 1);
		v = 6;
	} else {
		return 0;
	}
	if ((void *)(t + 1) > data_end || t->dest != bpf_htons(FLOOR_PORT))
		return 0;
	*l3 = eth + 1;
	*tcp = t;
	return v;
}
#endif
