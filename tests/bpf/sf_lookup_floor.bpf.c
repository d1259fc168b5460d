/* sf_lookup_floor.bpf.c - bench floor for forged ACKs with a socket lookup: what any stateless ACK
 * filter that must let existing connections through pays at least. It parses Ethernet, IP and TCP,
 * and for an ACK (without SYN) to port 80 looks the 4-tuple up with bpf_skc_lookup_tcp(), as
 * synfence does: no socket, or only the listener -> XDP_DROP; a connection -> XDP_PASS. No cookie
 * check, no counters. Everything else passes. */
#include "sf_floor.h"

SEC("xdp")
int sf_lookup_floor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;
	struct tcphdr *t;
	__u32 len, state;
	void *l3;
	int v;

	v = floor_parse(data, data_end, &l3, &t);
	if (!v || !t->ack || t->syn)
		return XDP_PASS;
	if (v == 4) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		tuple.ipv4.saddr = ip->saddr;
		tuple.ipv4.daddr = ip->daddr;
		tuple.ipv4.sport = t->source;
		tuple.ipv4.dport = t->dest;
		len = sizeof(tuple.ipv4);
	} else {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		__builtin_memcpy(tuple.ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(tuple.ipv6.daddr, &ip6->daddr, 16);
		tuple.ipv6.sport = t->source;
		tuple.ipv6.dport = t->dest;
		len = sizeof(tuple.ipv6);
	}
	sk = bpf_skc_lookup_tcp(ctx, &tuple, len, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return XDP_DROP;
	state = sk->state;
	bpf_sk_release(sk);
	return state == BPF_TCP_LISTEN ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
