/* sf_gen.h - the flood generator's frame writer, shared by its XDP programs (sf_gen.bpf.c) and by
 * the socket engines of tests/tools/sf_flood.c, so that every engine sends the same frames.
 *
 * Every frame is written whole: a template prepared by userspace, then the random fields and the
 * checksums. Random fields (splitmix64 of seed + frame number, so a run is reproducible from its
 * seed): the source address (host bits of a prefix), source port (1024..65535), sequence number,
 * IPv4 id, TSval, and for ACKs the ack number (optionally with some bits of ack - 1 fixed, e.g. a
 * cookie's epoch bits, as an attacker who has seen one SYN-ACK would send) and TSecr.
 *
 * The includer provides __u8.. __u64 and bpf_htonl (vmlinux.h or linux/types.h, and
 * bpf/bpf_endian.h). */
#ifndef SF_GEN_H
#define SF_GEN_H

#define SF_GEN_MAX_LEN 96
/* frame length: Ethernet, IPv4 or IPv6, TCP with 20 bytes of SYN options or 12 of ACK options */
#define SF_GEN_LEN(v6, ack) (14 + ((v6) ? 40 : 20) + ((ack) ? 32 : 40))

#ifdef __clang__
#define SF_UNROLL _Pragma("unroll")
#else
#define SF_UNROLL
#endif

struct sf_gen_cfg {
	__u8 tmpl[SF_GEN_MAX_LEN]; /* the frame with all random fields and checksums zero */
	__u32 len;                 /* frame length */
	__u32 ipv6;                /* 0: IPv4, 1: IPv6 */
	__u32 ack;                 /* 0: SYN (Linux options), 1: ACK (NOP NOP timestamps) */
	__u32 ip_sum;              /* IPv4 header: one's complement sum of the template (native words) */
	__u32 tcp_sum;             /* TCP pseudo header + template TCP header, likewise */
	__u32 src_mask[4];         /* host bits of the source prefix (network order words) */
	__u32 ack_mask;            /* ACKs: these bits of (ack number - 1) are ack_value's, not random */
	__u32 ack_value;
	__u64 seed;
};

static __always_inline __u64 sf_mix64(__u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __always_inline __u32 sf_sum32(__u32 v)
{
	return (v & 0xffff) + (v >> 16);
}

static __always_inline __u16 sf_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* Writes frame number i (SF_GEN_LEN bytes, 8-byte aligned) at data. v6 and ack must equal c->ipv6 and
 * c->ack; as constants they let the compiler drop the other layouts. The checksums are one's
 * complement sums of native-order words stored natively, which is right on either byte order. */
static __always_inline void sf_gen_write(void *data, const volatile struct sf_gen_cfg *c, __u64 i,
					 const int v6, const int ack)
{
	const int l4 = 14 + (v6 ? 40 : 20);
	const int len = SF_GEN_LEN(v6, ack);
	__u32 tsum = c->tcp_sum, saddr_sum = 0, v;
	__u64 r0, r1, r2;
	__u16 sport;
	int k;

	/* the template, 8 bytes at a time, then the tail */
SF_UNROLL
	for (k = 0; k + 8 <= len; k += 8)
		*(__u64 *)(data + k) = *(const volatile __u64 *)&c->tmpl[k];
	if (len % 8 >= 4)
		*(__u32 *)(data + (len & ~7)) = *(const volatile __u32 *)&c->tmpl[len & ~7];
	if (len % 4 >= 2)
		*(__u16 *)(data + (len & ~3)) = *(const volatile __u16 *)&c->tmpl[len & ~3];

	r0 = sf_mix64(c->seed + i * 0x9e3779b97f4a7c15ULL);
	r1 = sf_mix64(r0 ^ 0x5851f42d4c957f2dULL);
	r2 = sf_mix64(r1 ^ 0x14057b7ef767814fULL);

	if (v6) {
		/* source: template (the prefix) | random host bits in the low 64 bits */
		__u32 *s = data + 14 + 8;

SF_UNROLL
		for (k = 0; k < 4; k++) {
			v = s[k] | ((k < 2 ? (__u32)r2 : k == 2 ? (__u32)(r2 >> 32) : (__u32)r0) &
				    c->src_mask[k]);
			s[k] = v;
			saddr_sum += sf_sum32(v);
		}
	} else {
		__u32 *s = data + 14 + 12;
		__u16 id = (__u16)(r0 >> 48);

		v = *s | ((__u32)r2 & c->src_mask[0]);
		*s = v;
		saddr_sum = sf_sum32(v);
		*(__u16 *)(data + 14 + 4) = id;
		*(__u16 *)(data + 14 + 10) = sf_fold(c->ip_sum + saddr_sum + id);
	}
	sport = (__u16)(1024 + (((r1 & 0xffff) * 64512) >> 16));
	sport = (__u16)((sport >> 8) | (sport << 8));
	*(__u16 *)(data + l4) = sport;
	v = (__u32)(r1 >> 32);
	*(__u32 *)(data + l4 + 4) = v; /* seq */
	tsum += saddr_sum + sport + sf_sum32(v);
	if (ack) {
		v = (__u32)r0;
		if (c->ack_mask) {
			v = ((v & ~c->ack_mask) | c->ack_value) + 1;
			v = bpf_htonl(v);
		}
		*(__u32 *)(data + l4 + 8) = v; /* ack_seq */
		tsum += sf_sum32(v);
		v = (__u32)(r2 >> 32) ^ (__u32)(r1 << 16);
		*(__u32 *)(data + l4 + 24) = v; /* TSval (options: NOP NOP TS) */
		tsum += sf_sum32(v);
		v = (__u32)(r0 >> 16);
		*(__u32 *)(data + l4 + 28) = v; /* TSecr */
		tsum += sf_sum32(v);
	} else {
		v = (__u32)(r2 >> 16) ^ (__u32)r1;
		*(__u32 *)(data + l4 + 28) = v; /* TSval (options: MSS SACK-perm TS NOP WS) */
		tsum += sf_sum32(v);
	}
	*(__u16 *)(data + l4 + 16) = sf_fold(tsum);
}

#endif
