/* sf_sink.bpf.c - the bench's client-side XDP program. Drops the answers to spoofed sources (frames
 * to 198.19.0.0/16 or fd00:19::/64, the default source prefixes of sf_flood) before they reach the
 * client kernel, so the generator's CPU is not spent on them; passes everything else (the real
 * clients' traffic). Being an XDP program, it also makes XDP_TX towards this veth deliver. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

SEC("xdp")
int sf_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		if ((ip->daddr & bpf_htonl(0xffff0000)) == bpf_htonl(0xc6130000)) /* 198.19/16 */
			return XDP_DROP;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		if (ip6->daddr.in6_u.u6_addr32[0] == bpf_htonl(0xfd000019) &&
		    ip6->daddr.in6_u.u6_addr32[1] == 0)
			return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
