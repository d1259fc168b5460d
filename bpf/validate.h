/* validate.h - the steps before and of a cookie check, shared by XDP (SYNs, ACKs) and TC (handoff). */
#ifndef SF_VALIDATE_H
#define SF_VALIDATE_H

/* The whole TCP header (fixed part and options) must be inside the frame's linear part. */
static __always_inline int sf_tcp_hdr_ok(void *ctx, enum sf_hook hook, const struct sf_pkt *p)
{
	return p->doff >= SF_TCP_HDR_LEN &&
	       sf_hook_data(ctx, hook) + sf_l4_off(p) + p->doff <= sf_hook_data_end(ctx, hook);
}

enum sf_prep_result {
	SF_PREP_OK,
	SF_PREP_NO_SECRET, /* no key loaded yet (epoch 0): the kernel answers as without us */
	SF_PREP_MALFORMED, /* TCP header outside the frame, bad data offset or options */
};

/* What the SYN and the ACK path both need before the cookie, in this order: the whole TCP header,
 * a secret, parseable options. */
static __always_inline int sf_prepare(void *ctx, enum sf_hook hook, const struct sf_pkt *p,
				      struct sf_secrets **sec, struct sf_tcpopts *o)
{
	__u32 zero = 0;

	if (!sf_tcp_hdr_ok(ctx, hook, p))
		return SF_PREP_MALFORMED;
	*sec = bpf_map_lookup_elem(&sf_secrets, &zero);
	if (!*sec || (*sec)->epoch == 0)
		return SF_PREP_NO_SECRET;
	if (sf_parse_opts(ctx, hook, p, o) < 0)
		return SF_PREP_MALFORMED;
	return SF_PREP_OK;
}

enum sf_ack_result {
	SF_ACK_VALID,
	SF_ACK_NO_SECRET,
	SF_ACK_MALFORMED,
	SF_ACK_BAD_HASH,
	SF_ACK_BAD_EPOCH,
};

/* The whole check of a would-be final ACK (a segment only a listener would get): on SF_ACK_VALID,
 * o holds its options and hs what its cookie remembers of the handshake. */
static __always_inline int sf_check_ack(void *ctx, enum sf_hook hook, const struct sf_pkt *p,
					struct sf_tcpopts *o, struct sf_hs *hs)
{
	struct sf_secrets *sec;

	switch (sf_prepare(ctx, hook, p, &sec, o)) {
	case SF_PREP_NO_SECRET:
		return SF_ACK_NO_SECRET;
	case SF_PREP_MALFORMED:
		return SF_ACK_MALFORMED;
	}
	switch (sf_cookie_check(p, o, sec, hs)) {
	case SF_COOKIE_OK:
		return SF_ACK_VALID;
	case SF_COOKIE_BAD_EPOCH:
		return SF_ACK_BAD_EPOCH;
	}
	return SF_ACK_BAD_HASH;
}

#endif
