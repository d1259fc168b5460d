/* sf_drop_floor.bpf.c - bench floor: the least an XDP program can do to drop a forged ACK. It
 * parses Ethernet, IP and TCP like any port filter and drops every segment to port 80 that carries
 * ACK without SYN; everything else passes. No socket lookup, no cookie check. */
#include "sf_floor.h"

SEC("xdp")
int sf_drop_floor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct tcphdr *t;
	void *l3;

	if (!floor_parse(data, data_end, &l3, &t))
		return XDP_PASS;
	if (t->ack && !t->syn)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
