/* xdp_pass.bpf.c - test helper: an XDP program that passes everything. Attached to the client-side
 * veth, because XDP_TX on a veth only delivers when the peer has an XDP program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
