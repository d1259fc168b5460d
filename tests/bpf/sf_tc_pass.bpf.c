/* sf_tc_pass.bpf.c - test helper: a TC program that lets everything through, the baseline of the TC
 * rows of `test_xdp --bench` (the test-run loop's own cost, subtracted from synfence_tc's). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tc")
int sf_tc_pass(struct __sk_buff *skb __attribute__((unused)))
{
	return -1; /* TC_ACT_UNSPEC, as synfence_tc */
}

char LICENSE[] SEC("license") = "GPL";
