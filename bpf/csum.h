/* csum.h - Internet checksums computed in full over values we hold (no helper calls). */
#ifndef SF_CSUM_H
#define SF_CSUM_H

/* Values are summed in their in-memory (network) representation, so the folded result can be
 * stored as is: the one's complement sum does not depend on byte order. */
static __always_inline __u16 sf_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Pseudo-header sum; addresses as raw 32-bit words in network representation. */
static __always_inline __u64 sf_pseudo_sum_v4(__u32 saddr, __u32 daddr, __u16 tcp_len)
{
	return (__u64)saddr + daddr + bpf_htons(IPPROTO_TCP) + bpf_htons(tcp_len);
}

static __always_inline __u64 sf_pseudo_sum_v6(const __u32 saddr[4], const __u32 daddr[4],
					      __u16 tcp_len)
{
	return (__u64)saddr[0] + saddr[1] + saddr[2] + saddr[3] + daddr[0] + daddr[1] + daddr[2] +
	       daddr[3] + bpf_htons(IPPROTO_TCP) + bpf_htons(tcp_len);
}

#endif
