/* parse.h - packet parsing shared by XDP and TC: Ethernet/VLAN, IPv4/IPv6 (+ext headers), TCP. */
#ifndef SF_PARSE_H
#define SF_PARSE_H

enum sf_parse_result {
	SF_PARSE_TCP,      /* a TCP segment with a complete fixed header */
	SF_PARSE_PASS,     /* not IPv4/IPv6, or not TCP: never ours to touch */
	SF_PARSE_FRAG,     /* TCP inside an IP fragment: never answered */
	SF_PARSE_UNPARSED, /* IPv4/IPv6 whose IP or TCP header we cannot read: passed, counted */
};

struct sf_pkt {
	__u32 l3_off;     /* Ethernet + VLAN tags */
	__u32 l4_off;
	__u32 ipv6;
	/* The tuple and sequence numbers exactly as on the wire (network order). */
	__u32 saddr[4];   /* IPv4 uses [0] */
	__u32 daddr[4];
	__u32 ports;      /* source port, then destination port, as the first 4 bytes of TCP */
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 ack_seq;
	__u8 flags;       /* TCP flag byte */
	__u8 doff;        /* TCP header length in bytes */
};

/* The IPv6 extension headers sf_parse knows: it walks through these, and stops at a fragment. */
static __always_inline int sf_ipv6_ext(__u8 nexthdr)
{
	return nexthdr == SF_NEXTHDR_HOP || nexthdr == SF_NEXTHDR_ROUTING ||
	       nexthdr == SF_NEXTHDR_DEST || nexthdr == SF_NEXTHDR_FRAGMENT;
}

/* Walks Ethernet, up to two VLAN tags, IPv4 or IPv6 with extension headers, and the fixed TCP header. */
static __always_inline int sf_parse(void *data, void *data_end, struct sf_pkt *p)
{
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	__u32 off = sizeof(*eth);
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return SF_PARSE_PASS;
	proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < SF_MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vh = data + off;

		if (proto != bpf_htons(SF_ETH_P_8021Q) && proto != bpf_htons(SF_ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end)
			return SF_PARSE_PASS;
		proto = vh->h_vlan_encapsulated_proto;
		off += sizeof(*vh);
	}
	p->l3_off = off;

	if (proto == bpf_htons(SF_ETH_P_IP)) {
		struct iphdr *iph = data + off;
		__u32 ihl;

		if ((void *)(iph + 1) > data_end)
			return SF_PARSE_UNPARSED;
		ihl = iph->ihl;
		if (iph->version != 4 || ihl < 5)
			return SF_PARSE_UNPARSED;
		if (iph->protocol != IPPROTO_TCP)
			return SF_PARSE_PASS;
		if (iph->frag_off & bpf_htons(SF_IP_FRAGMASK))
			return SF_PARSE_FRAG;
		p->ipv6 = 0;
		p->saddr[0] = iph->saddr;
		p->daddr[0] = iph->daddr;
		off += ihl * 4;
	} else if (proto == bpf_htons(SF_ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = data + off;
		__u8 nexthdr;

		if ((void *)(ip6h + 1) > data_end || ip6h->version != 6)
			return SF_PARSE_UNPARSED;
		nexthdr = ip6h->nexthdr;
		p->ipv6 = 1;
		__builtin_memcpy(p->saddr, &ip6h->saddr, sizeof(p->saddr));
		__builtin_memcpy(p->daddr, &ip6h->daddr, sizeof(p->daddr));
		off += sizeof(*ip6h);

#pragma unroll
		for (i = 0; i < SF_MAX_EXT_HDRS; i++) {
			struct ipv6_opt_hdr *ext = data + off;

			if (nexthdr == IPPROTO_TCP)
				break;
			if (!sf_ipv6_ext(nexthdr))
				return SF_PARSE_PASS;
			if ((void *)(ext + 1) > data_end)
				return SF_PARSE_UNPARSED;
			if (nexthdr == SF_NEXTHDR_FRAGMENT)
				return ext->nexthdr == IPPROTO_TCP ? SF_PARSE_FRAG : SF_PARSE_PASS;
			if (nexthdr == SF_NEXTHDR_ROUTING) {
				struct ipv6_rt_hdr *rt = (void *)ext;

				if ((void *)(rt + 1) > data_end)
					return SF_PARSE_UNPARSED;
				/* Segments left: this host is a hop on the route, not the
				 * destination; the kernel routes it on (or refuses it). */
				if (rt->segments_left)
					return SF_PARSE_PASS;
			}
			nexthdr = ext->nexthdr;
			off += (ext->hdrlen + 1) * 8;
		}
		/* still an extension header after SF_MAX_EXT_HDRS of them: too many, unparsed */
		if (nexthdr != IPPROTO_TCP)
			return sf_ipv6_ext(nexthdr) ? SF_PARSE_UNPARSED : SF_PARSE_PASS;
	} else {
		return SF_PARSE_PASS;
	}

	tcp = data + off;
	if ((void *)(tcp + 1) > data_end)
		return SF_PARSE_UNPARSED;
	p->l4_off = off;
	p->ports = *(__u32 *)tcp;
	p->sport = tcp->source;
	p->dport = tcp->dest;
	p->seq = tcp->seq;
	p->ack_seq = tcp->ack_seq;
	p->flags = ((__u8 *)tcp)[SF_TCP_FLAGS_OFF];
	p->doff = tcp->doff * 4;
	return SF_PARSE_TCP;
}

_Static_assert(SF_MAX_L4_OFF <= SF_L4_OFF_MASK, "the mask keeps every TCP header offset");

/* p->l4_off for packet pointer arithmetic. The mask changes nothing (the offset is never larger)
 * but restates its bound: where p is read through a pointer (TC's handoff is a call of its own)
 * the verifier no longer knows it and would refuse the reads of the TCP header. */
static __always_inline __u32 sf_l4_off(const struct sf_pkt *p)
{
	return p->l4_off & SF_L4_OFF_MASK;
}

/* Fills a socket lookup tuple (from the packet's point of view); returns its size. */
static __always_inline __u32 sf_fill_tuple(const struct sf_pkt *p, struct bpf_sock_tuple *t)
{
	if (p->ipv6) {
		__builtin_memcpy(t->ipv6.saddr, p->saddr, sizeof(t->ipv6.saddr));
		__builtin_memcpy(t->ipv6.daddr, p->daddr, sizeof(t->ipv6.daddr));
		t->ipv6.sport = p->sport;
		t->ipv6.dport = p->dport;
		return sizeof(t->ipv6);
	}
	t->ipv4.saddr = p->saddr[0];
	t->ipv4.daddr = p->daddr[0];
	t->ipv4.sport = p->sport;
	t->ipv4.dport = p->dport;
	return sizeof(t->ipv4);
}

#endif
