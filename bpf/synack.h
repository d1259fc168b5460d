/* synack.h - turns the client's SYN into our SYN-ACK in place: L2 kept, L3/L4 rebuilt, checksums. */
#ifndef SF_SYNACK_H
#define SF_SYNACK_H

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

/* Swaps the Ethernet addresses with four loads and four stores instead of a byte-wise copy
 * (dest = bytes 0-5, source = bytes 6-11; unaligned accesses are fine for XDP on the JITs). */
static __always_inline void sf_swap_macs(void *eth)
{
	__u32 d_head = *(__u32 *)eth, s_tail = *(__u32 *)(eth + 8);
	__u16 d_tail = *(__u16 *)(eth + 4), s_head = *(__u16 *)(eth + 6);

	*(__u16 *)eth = s_head;
	*(__u32 *)(eth + 2) = s_tail;
	*(__u32 *)(eth + 6) = d_head;
	*(__u16 *)(eth + 10) = d_tail;
}

/* Rewrites the frame; the SYN's fields were already copied into p. 0, or -1 if the frame could not
 * be resized. IPv4 options, IPv6 extension headers and any SYN payload are dropped. */
static __always_inline int sf_build_synack(struct xdp_md *ctx, const struct sf_pkt *p,
					   const struct sf_config *cfg, const struct sf_hs *hs,
					   __u32 isn, __u32 tsval, __u32 client_tsval)
{
	__u32 opt[5] = {};
	__u32 nopt = sf_synack_options(opt, hs, p->ipv6 ? cfg->mss6 : cfg->mss4, cfg->rcv_wscale,
				       tsval, client_tsval);
	__u32 nwords = 5 + nopt, tcp_len = nwords * 4;
	__u32 l3 = p->l3_off, ip_len = p->ipv6 ? SF_IPV6_HDR_LEN : SF_IPV4_HDR_LEN;
	__u32 want = l3 + ip_len + tcp_len;
	__u8 flags = SF_TCPF_SYN | SF_TCPF_ACK | (hs->ecn ? SF_TCPF_ECE : 0);
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 *tcp, w0, w1, w2, w3;
	__u64 sum;
	int delta, resize;

	if (l3 > SF_MAX_L3_OFF)
		return -1;
	/* Resize only when the frame does not already end where the SYN-ACK will: a Linux SYN and
	 * our answer to it have the same length, so the common case makes no helper call. (Pointer
	 * comparisons only: a branch on the length itself would make the verifier track every
	 * option combination apart.) */
	resize = data + want > data_end;
	barrier_var(resize); /* two ordered tests: "!=" on packet pointers needs CAP_PERFMON */
	resize |= data + want < data_end;
	if (resize) {
		delta = (int)want - (int)bpf_xdp_get_buff_len(ctx);
		if (bpf_xdp_adjust_tail(ctx, delta))
			return -1;
	}
	barrier_var(ctx); /* keeps clang from addressing ctx->data_end as (ctx + 4) + 0 */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;

	if (data + sizeof(struct ethhdr) > data_end)
		return -1;
	sf_swap_macs(data);

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
		/* version/IHL 5, TOS 0, total length; ID 0, DF; TTL, TCP, checksum; addresses */
		iw[0] = bpf_htonl(SF_IPV4_VERSION_IHL5 << 24 | (SF_IPV4_HDR_LEN + tcp_len));
		iw[1] = bpf_htonl(SF_IP_DF);
		iw[2] = bpf_htonl((__u32)cfg->ttl << 24 | IPPROTO_TCP << 16);
		iw[3] = p->daddr[0];
		iw[4] = p->saddr[0];
		iph->check = sf_csum_fold((__u64)iw[0] + iw[1] + iw[2] + iw[3] + iw[4]);
		sum = sf_pseudo_sum_v4(p->daddr[0], p->saddr[0], tcp_len);
	}

	w0 = (__u32)p->dport | (__u32)p->sport << 16; /* ports swapped */
	w1 = bpf_htonl(isn);
	w2 = bpf_htonl(bpf_ntohl(p->seq) + 1);
	w3 = (__u32)bpf_htons((__u16)(nwords << 12 | flags)) | (__u32)bpf_htons(cfg->window) << 16;
	/* unused option words are zero */
	sum += (__u64)w0 + w1 + w2 + w3 + opt[0] + opt[1] + opt[2] + opt[3] + opt[4];

	tcp = data + l3 + ip_len;
	if ((void *)(tcp + 5) > data_end)
		return -1;
	tcp[0] = w0;
	tcp[1] = w1;
	tcp[2] = w2;
	tcp[3] = w3;
	tcp[4] = sf_csum_fold(sum); /* checksum, urgent pointer 0 */
	/* The frame was sized to hold exactly nopt option words; the common layout (all options)
	 * is written without a check per word. */
	if (nopt == 5 && (void *)(tcp + 10) <= data_end) {
		tcp[5] = opt[0];
		tcp[6] = opt[1];
		tcp[7] = opt[2];
		tcp[8] = opt[3];
		tcp[9] = opt[4];
	} else {
		__u32 *o = tcp + 5;
		int i;

#pragma unroll
		for (i = 0; i < 5; i++)
			if ((__u32)i < nopt && (void *)(o + i + 1) <= data_end)
				o[i] = opt[i];
	}
	return 0;
}

#endif
