/* tcpopt.h - TCP option parsing: direct matches for common layouts, a bpf_loop parser otherwise. */
#ifndef SF_TCPOPT_H
#define SF_TCPOPT_H

struct sf_tcpopts {
	__u32 tsval;
	__u32 tsecr;
	__u16 mss;    /* 0: no MSS option */
	__u8 wscale;  /* valid if has_ws */
	__u8 has_ws;
	__u8 sack;
	__u8 ts;
};

#define SF_OPT_BUF_LEN 64 /* power of two >= SF_TCP_MAX_OPT_LEN, so indexes can be masked */

struct sf_optwalk {
	__u8 buf[SF_OPT_BUF_LEN];
	__u32 off;
	__u32 len;
	__s32 bad;
	struct sf_tcpopts o;
};

static __always_inline __u32 sf_be32_at(const __u8 *b, __u32 off)
{
	return (__u32)b[off & (SF_OPT_BUF_LEN - 1)] << 24 |
	       (__u32)b[(off + 1) & (SF_OPT_BUF_LEN - 1)] << 16 |
	       (__u32)b[(off + 2) & (SF_OPT_BUF_LEN - 1)] << 8 |
	       (__u32)b[(off + 3) & (SF_OPT_BUF_LEN - 1)];
}

/* One option per call; returns 1 to stop. Malformed (length < 2 or overrunning) sets bad. */
static long sf_optwalk_step(__u32 idx __attribute__((unused)), void *arg) /* a bpf_loop callback */
{
	struct sf_optwalk *w = arg;
	__u32 off = w->off, olen;
	__u8 kind;

	if (off >= w->len || off >= SF_TCP_MAX_OPT_LEN)
		return 1;
	kind = w->buf[off & (SF_OPT_BUF_LEN - 1)];
	if (kind == SF_TCPOPT_EOL)
		return 1;
	if (kind == SF_TCPOPT_NOP) {
		w->off = off + 1;
		return 0;
	}
	if (off + 1 >= w->len)
		goto bad;
	olen = w->buf[(off + 1) & (SF_OPT_BUF_LEN - 1)];
	if (olen < 2 || off + olen > w->len)
		goto bad;

	if (kind == SF_TCPOPT_MSS && olen == SF_TCPOLEN_MSS) {
		w->o.mss = (__u16)(sf_be32_at(w->buf, off) & 0xffff);
	} else if (kind == SF_TCPOPT_WSCALE && olen == SF_TCPOLEN_WSCALE) {
		w->o.wscale = w->buf[(off + 2) & (SF_OPT_BUF_LEN - 1)];
		w->o.has_ws = 1;
	} else if (kind == SF_TCPOPT_SACK_PERM && olen == SF_TCPOLEN_SACK_PERM) {
		w->o.sack = 1;
	} else if (kind == SF_TCPOPT_TS && olen == SF_TCPOLEN_TS) {
		w->o.tsval = sf_be32_at(w->buf, off + 2);
		w->o.tsecr = sf_be32_at(w->buf, off + 6);
		w->o.ts = 1;
	}
	w->off = off + olen;
	return 0;
bad:
	w->bad = 1;
	return 1;
}

/* General parser: copies the option bytes to the stack and walks them. 0 or -1 if malformed. */
static __always_inline int sf_parse_opts_slow(void *ctx, enum sf_hook hook, const struct sf_pkt *p,
					      struct sf_tcpopts *o)
{
	struct sf_optwalk w = {};
	__u32 len = p->doff - SF_TCP_HDR_LEN;

	if (len == 0 || len > SF_TCP_MAX_OPT_LEN)
		return 0;
	if (sf_hook_load_bytes(ctx, hook, p->l4_off + SF_TCP_HDR_LEN, w.buf, len))
		return -1;
	w.len = len;
	bpf_loop(SF_TCP_MAX_OPT_LEN, sf_optwalk_step, &w, 0);
	if (w.bad)
		return -1;
	*o = w.o;
	return 0;
}

/* Parses the options of a segment whose header (p->doff bytes) is known to be inside the frame.
 * The layouts Linux sends are matched directly; anything else takes the general parser. */
static __always_inline int sf_parse_opts(void *ctx, enum sf_hook hook, const struct sf_pkt *p,
					 struct sf_tcpopts *o)
{
	void *data = sf_hook_data(ctx, hook), *data_end = sf_hook_data_end(ctx, hook);
	__u32 *w = data + sf_l4_off(p) + SF_TCP_HDR_LEN;
	__u32 len = p->doff - SF_TCP_HDR_LEN;

	__builtin_memset(o, 0, sizeof(*o));
	if (len == 0)
		return 0;
	/* Linux SYN: MSS, SACK_PERM, TS, NOP, WS (20 bytes). */
	if (len == 20 && (void *)(w + 5) <= data_end &&
	    (w[0] & bpf_htonl(0xffff0000)) == bpf_htonl(SF_OPTW_MSS) &&
	    w[1] == bpf_htonl(SF_OPTW_SACKPERM_TS) &&
	    (w[4] & bpf_htonl(0xffffff00)) == bpf_htonl(SF_OPTW_NOP_WSCALE)) {
		o->mss = bpf_ntohl(w[0]) & 0xffff;
		o->sack = 1;
		o->ts = 1;
		o->tsval = bpf_ntohl(w[2]);
		o->tsecr = bpf_ntohl(w[3]);
		o->has_ws = 1;
		o->wscale = bpf_ntohl(w[4]) & 0xff;
		return 0;
	}
	/* Linux ACK and data segments: NOP, NOP, TS (12 bytes). */
	if (len == 12 && (void *)(w + 3) <= data_end && w[0] == bpf_htonl(SF_OPTW_NOP_NOP_TS)) {
		o->ts = 1;
		o->tsval = bpf_ntohl(w[1]);
		o->tsecr = bpf_ntohl(w[2]);
		return 0;
	}
	return sf_parse_opts_slow(ctx, hook, p, o);
}

#endif
