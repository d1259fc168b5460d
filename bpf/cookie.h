/* cookie.h - the SYN cookie: encoding of negotiated options, the keyed hash, and ACK validation. */
#ifndef SF_COOKIE_H
#define SF_COOKIE_H

/* What a cookie remembers of the handshake (the low SF_COOKIE_HASH_SHIFT bits of our ISN). */
struct sf_hs {
	__u32 mss_idx;
	__u32 wscale; /* client's shift, SF_COOKIE_WS_NONE if not negotiated */
	__u32 sack;
	__u32 ecn;
	__u32 ts;     /* timestamps negotiated (not in the ISN: told by the ACK's TS option) */
};

static __always_inline __u32 sf_mss_to_idx(__u32 mss)
{
	__u32 idx = 0;

#define SF_MSS_PICK(i, v) if (mss >= (v)) idx = (i);
	SF_MSS_VALUES(SF_MSS_PICK)
#undef SF_MSS_PICK
	return idx;
}

static __always_inline __u32 sf_idx_to_mss(__u32 idx)
{
	switch (idx) {
#define SF_MSS_CASE(i, v) case (i): return (v);
	SF_MSS_VALUES(SF_MSS_CASE)
#undef SF_MSS_CASE
	}
	return 536;
}

static __always_inline __u32 sf_hs_info(const struct sf_hs *hs, __u32 epoch)
{
	return (epoch & 3) << SF_COOKIE_EPOCH_SHIFT | hs->mss_idx << SF_COOKIE_MSS_SHIFT |
	       hs->wscale << SF_COOKIE_WS_SHIFT | hs->sack << SF_COOKIE_SACK_SHIFT |
	       hs->ecn << SF_COOKIE_ECN_SHIFT;
}

/* SipHash-2-4 over the message laid out in synfence.h (little-endian words on this host). The
 * epoch and the options ride in the final block beside the length: one compression less than a
 * message of whole words would take. */
static __always_inline __u64 sf_cookie_hash(const struct sf_pkt *p, __u32 client_isn, __u32 epoch,
					    __u32 info, const __u64 key[2])
{
	__u64 ports_isn = (__u64)p->ports | (__u64)bpf_htonl(client_isn) << 32;
	__u64 tail = (__u64)info | (__u64)epoch << SF_COOKIE_MSG_EPOCH_SHIFT;
	struct sf_sip s;

	sf_sip_init(&s, key);
	if (p->ipv6) {
		sf_sip_block(&s, (__u64)p->saddr[0] | (__u64)p->saddr[1] << 32);
		sf_sip_block(&s, (__u64)p->saddr[2] | (__u64)p->saddr[3] << 32);
		sf_sip_block(&s, (__u64)p->daddr[0] | (__u64)p->daddr[1] << 32);
		sf_sip_block(&s, (__u64)p->daddr[2] | (__u64)p->daddr[3] << 32);
		sf_sip_block(&s, ports_isn);
		return sf_sip_final(&s, tail, SF_COOKIE_MSG_LEN_V6);
	}
	sf_sip_block(&s, (__u64)p->saddr[0] | (__u64)p->daddr[0] << 32);
	sf_sip_block(&s, ports_isn);
	return sf_sip_final(&s, tail, SF_COOKIE_MSG_LEN_V4);
}

/* Cookie for a SYN: our ISN, and the TSval that carries 32 more authenticator bits. */
static __always_inline __u32 sf_cookie_make(const struct sf_pkt *p, const struct sf_hs *hs,
					    const struct sf_secrets *sec, __u32 *tsval)
{
	__u32 epoch = sec->epoch;
	__u32 info = sf_hs_info(hs, epoch);
	__u64 h = sf_cookie_hash(p, bpf_ntohl(p->seq), epoch, info | (hs->ts ? SF_COOKIE_TS_BIT : 0),
				 sec->key[epoch & 3]);

	*tsval = (__u32)(h >> 32);
	return (__u32)(h & ((1u << SF_COOKIE_HASH_BITS) - 1)) << SF_COOKIE_HASH_SHIFT | info;
}

enum sf_cookie_verdict {
	SF_COOKIE_OK,
	SF_COOKIE_BAD_HASH,
	SF_COOKIE_BAD_EPOCH,
};

/* Checks the final ACK: its ack_seq - 1 must be a cookie of the current or the previous epoch for
 * this tuple and client ISN (seq - 1), and, with timestamps, its TSecr our TSval. */
static __always_inline int sf_cookie_check(const struct sf_pkt *p, const struct sf_tcpopts *o,
					   const struct sf_secrets *sec, struct sf_hs *hs)
{
	__u32 isn = bpf_ntohl(p->ack_seq) - 1;
	__u32 cur = sec->epoch, bits = isn >> SF_COOKIE_EPOCH_SHIFT & 3, epoch;
	__u64 h;

	if (bits == (cur & 3))
		epoch = cur;
	else if (bits == ((cur - 1) & 3))
		epoch = cur - 1;
	else
		return SF_COOKIE_BAD_EPOCH;
	if (epoch == 0) /* "no secret": its key slot was never written */
		return SF_COOKIE_BAD_EPOCH;

	h = sf_cookie_hash(p, bpf_ntohl(p->seq) - 1, epoch,
			   (isn & SF_COOKIE_INFO_MASK) | (o->ts ? SF_COOKIE_TS_BIT : 0),
			   sec->key[epoch & 3]);
	if ((isn >> SF_COOKIE_HASH_SHIFT) != (__u32)(h & ((1u << SF_COOKIE_HASH_BITS) - 1)))
		return SF_COOKIE_BAD_HASH;
	if (o->ts && o->tsecr != (__u32)(h >> 32))
		return SF_COOKIE_BAD_HASH;

	hs->mss_idx = isn >> SF_COOKIE_MSS_SHIFT & 7;
	hs->wscale = isn >> SF_COOKIE_WS_SHIFT & 0xf;
	hs->sack = isn >> SF_COOKIE_SACK_SHIFT & 1;
	hs->ecn = isn >> SF_COOKIE_ECN_SHIFT & 1;
	hs->ts = o->ts;
	return SF_COOKIE_OK;
}

#endif
