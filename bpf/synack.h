/* synack.h - turns the client's SYN into our SYN-ACK in place: L2 kept, L3/L4 rebuilt, checksums. */
#ifndef SF_SYNACK_H
#define SF_SYNACK_H

#define SF_SYNACK_MAX_WORDS 10 /* 20-byte TCP header + at most 20 bytes of options */
#define SF_MAX_L3_OFF (sizeof(struct ethhdr) + SF_MAX_VLAN_TAGS * sizeof(struct vlan_hdr))

/* Our options, in Linux's SYN-ACK order: MSS, SACK_PERM + TS, NOP + WS. Returns the word count. */
static __always_inline __u32 sf_synack_options(__u32 opt[5], const struct sf_hs *hs, __u16 mss,
					       __u8 rcv_wscale, __u32 tsval, __u32 tsecr)
{
	__u32 n = 1;

	opt[0] = bpf_htonl(SF_OPTW_MSS | mss);
	if (hs->ts) {
		opt[1] = bpf_htonl(hs->sack ? SF_OPTW_SACKPERM_TS : SF_OPTW_NOP_NOP_TS);
		opt[2] = bpf_htonl(tsval);
		opt[3] = bpf_htonl(tsecr);
		n = 4;
		if (hs->wscale != SF_COOKIE_WS_NONE) {
			opt[4] = bpf_htonl(SF_OPTW_NOP_WSCALE | rcv_wscale);
			n = 5;
		}
	} else if (hs->sack) {
		opt[1] = bpf_htonl(SF_OPTW_NOP_NOP_SACKPERM);
		n = 2;
		if (hs->wscale != SF_COOKIE_WS_NONE) {
			opt[2] = bpf_htonl(SF_OPTW_NOP_WSCALE | rcv_wscale);
			n = 3;
		}
	} else if (hs->wscale != SF_COOKIE_WS_NONE) {
		opt[1] = bpf_htonl(SF_OPTW_NOP_WSCALE | rcv_wscale);
		n = 2;
	}
	return n;
}

/* Rewrites the frame; the SYN's fields were already copied into p. 0, or -1 if the frame could not
 * be resized. IPv4 options, IPv6 extension headers and any SYN payload are dropped. */
static __always_inline int sf_build_synack(struct xdp_md *ctx, const struct sf_pkt *p,
					   const struct sf_config *cfg, const struct sf_hs *hs,
					   __u32 isn, __u32 tsval, __u32 client_tsval)
{
	__u32 w[SF_SYNACK_MAX_WORDS] = {}, opt[5] = {};
	__u32 nopt = sf_synack_options(opt, hs, p->ipv6 ? cfg->mss6 : cfg->mss4, cfg->rcv_wscale,
				       tsval, client_tsval);
	__u32 nwords = 5 + nopt, tcp_len = nwords * 4;
	__u32 l3 = p->l3_off, ip_len = p->ipv6 ? SF_IPV6_HDR_LEN : SF_IPV4_HDR_LEN;
	__u8 flags = SF_TCPF_SYN | SF_TCPF_ACK | (hs->ecn ? SF_TCPF_ECE : 0);
	void *data, *data_end;
	struct ethhdr *eth;
	__u8 mac[SF_ETH_ALEN];
	__u64 sum;
	int delta, i;

	if (l3 > SF_MAX_L3_OFF)
		return -1;
	delta = (int)(l3 + ip_len + tcp_len) - (int)bpf_xdp_get_buff_len(ctx);
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;

	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(mac, eth->h_dest, SF_ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, SF_ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, SF_ETH_ALEN);

	if (p->ipv6) {
		struct ipv6hdr *ip6h = data + l3;

		if ((void *)(ip6h + 1) > data_end)
			return -1;
		*(__u32 *)ip6h = bpf_htonl(SF_IPV6_VERSION_WORD);
		ip6h->payload_len = bpf_htons(tcp_len);
		ip6h->nexthdr = IPPROTO_TCP;
		ip6h->hop_limit = cfg->ttl;
		__builtin_memcpy(&ip6h->saddr, p->daddr, sizeof(p->daddr));
		__builtin_memcpy(&ip6h->daddr, p->saddr, sizeof(p->saddr));
		sum = sf_pseudo_sum_v6(p->daddr, p->saddr, tcp_len);
	} else {
		struct iphdr *iph = data + l3;
		__u32 *iw = (__u32 *)iph;

		if ((void *)(iph + 1) > data_end)
			return -1;
		*(__u8 *)iph = SF_IPV4_VERSION_IHL5;
		iph->tos = 0;
		iph->tot_len = bpf_htons(SF_IPV4_HDR_LEN + tcp_len);
		iph->id = 0;
		iph->frag_off = bpf_htons(SF_IP_DF);
		iph->ttl = cfg->ttl;
		iph->protocol = IPPROTO_TCP;
		iph->check = 0;
		iph->saddr = p->daddr[0];
		iph->daddr = p->saddr[0];
		iph->check = sf_csum_fold((__u64)iw[0] + iw[1] + iw[2] + iw[3] + iw[4]);
		sum = sf_pseudo_sum_v4(p->daddr[0], p->saddr[0], tcp_len);
	}

	w[0] = (__u32)p->dport | (__u32)p->sport << 16; /* ports swapped */
	w[1] = bpf_htonl(isn);
	w[2] = bpf_htonl(bpf_ntohl(p->seq) + 1);
	w[3] = (__u32)bpf_htons((__u16)(nwords << 12 | flags)) | (__u32)bpf_htons(cfg->window) << 16;
	w[4] = 0; /* checksum and urgent pointer */
#pragma unroll
	for (i = 0; i < 5; i++)
		w[5 + i] = opt[i];
#pragma unroll
	for (i = 0; i < SF_SYNACK_MAX_WORDS; i++)
		sum += w[i]; /* unused option words are zero */
	w[4] = sf_csum_fold(sum);

	{
		__u32 *tcp = data + l3 + ip_len, *o = tcp + 5;

		if ((void *)(tcp + 5) > data_end)
			return -1;
#pragma unroll
		for (i = 0; i < 5; i++)
			tcp[i] = w[i];
		/* The frame was sized to hold exactly nopt option words. */
#pragma unroll
		for (i = 0; i < 5; i++)
			if ((__u32)i < nopt && (void *)(o + i + 1) <= data_end)
				o[i] = opt[i];
	}
	return 0;
}

#endif
