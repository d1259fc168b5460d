/* sf_synack_floor.bpf.c - bench floor: the least an XDP program can do to answer a SYN. It turns
 * every SYN to port 80 into a SYN-ACK in place (swap MACs, addresses and ports, ack = seq + 1, a
 * fixed ISN, flags SYN|ACK, incremental checksum; the client's options are echoed unchanged) and
 * returns XDP_TX. No cookie, no option parsing, no maps: the floor for XDP_TX on a box. Everything
 * else passes. Not a usable SYN-ACK for a real client: for the benchmark only. */
#include "sf_floor.h"

static __always_inline __u32 csum_add32(__u32 sum, __u32 v)
{
	return sum + (v & 0xffff) + (v >> 16);
}

SEC("xdp")
int sf_synack_floor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *t;
	void *l3;
	__u8 mac[ETH_ALEN];
	__u32 old_seq, old_ack, new_seq, new_ack, sum;
	__u16 old_fl, new_fl, port;
	int v;

	v = floor_parse(data, data_end, &l3, &t);
	if (!v)
		return XDP_PASS;
	if (!t->syn || t->ack || t->rst || t->fin)
		return XDP_PASS;

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	if (v == 4) {
		struct iphdr *ip = l3;
		__u32 a;

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		a = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = a;
	} else {
		struct ipv6hdr *ip6 = l3;
		struct in6_addr a;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		a = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
	}
	port = t->source;
	t->source = t->dest;
	t->dest = port;
	old_seq = t->seq;
	old_ack = t->ack_seq;
	old_fl = ((__u16 *)t)[6];
	new_seq = bpf_htonl(0x5f5f0001);
	new_ack = bpf_htonl(bpf_ntohl(old_seq) + 1);
	t->seq = new_seq;
	t->ack_seq = new_ack;
	t->ack = 1;
	new_fl = ((__u16 *)t)[6];
	/* RFC 1624: HC' = ~(~HC + ~m + m') */
	sum = (__u16)~t->check;
	sum = csum_add32(sum, ~old_seq);
	sum = csum_add32(sum, ~old_ack);
	sum += (__u16)~old_fl;
	sum = csum_add32(sum, new_seq);
	sum = csum_add32(sum, new_ack);
	sum += new_fl;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	t->check = (__u16)~sum;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
