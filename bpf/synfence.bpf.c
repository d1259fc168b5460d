/* synfence.bpf.c - entry points: the XDP fast path (SYN cookies, ACK checks) and the TC handoff. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "synfence.h"
#include "consts.h"
#include "maps.h"
#include "csum.h"
#include "siphash.h"
#include "parse.h"
#include "tcpopt.h"
#include "cookie.h"
#include "synack.h"
#include "flowcache.h"

extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs, int attrs__sz) __ksym;

/* The whole TCP header (fixed part and options) must be inside the frame. */
static __always_inline int sf_tcp_hdr_ok(struct xdp_md *ctx, const struct sf_pkt *p)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	return p->doff >= SF_TCP_HDR_LEN && data + p->l4_off + p->doff <= data_end;
}

/* What the SYN and the ACK path both need before the cookie: the whole TCP header, a secret,
 * parseable options. Returns -1 to go on, or the XDP verdict (counted) to return. A malformed
 * would-be cookie ACK (ack != 0) counts as a bad cookie, a malformed SYN as drop_malformed. */
static __always_inline int sf_prepare(struct xdp_md *ctx, const struct sf_pkt *p,
				      struct sf_counters *cnt, struct sf_secrets **sec,
				      struct sf_tcpopts *o, int ack)
{
	__u32 zero = 0;

	if (!sf_tcp_hdr_ok(ctx, p))
		goto malformed;
	*sec = bpf_map_lookup_elem(&sf_secrets, &zero);
	if (!*sec || (*sec)->epoch == 0) {
		sf_inc(cnt, SF_CNT_pass_no_secret);
		return XDP_PASS;
	}
	if (sf_parse_opts(ctx, p, o) < 0)
		goto malformed;
	return -1;
malformed:
	if (ack) {
		sf_inc(cnt, SF_CNT_ack_cookie_bad);
		sf_inc(cnt, SF_CNT_ack_bad_malformed);
	} else {
		sf_inc(cnt, SF_CNT_drop_malformed);
	}
	return XDP_DROP;
}

/* The state (BPF_TCP_*) of the kernel's socket for the packet's tuple: an established, time-wait or
 * request socket, else the listener; -1 if there is none. */
static __always_inline int sf_kernel_sock_state(struct xdp_md *ctx, const struct sf_pkt *p)
{
	struct bpf_sock_tuple tuple;
	__u32 len = sf_fill_tuple(p, &tuple);
	struct bpf_sock *sk = bpf_skc_lookup_tcp(ctx, &tuple, len, BPF_F_CURRENT_NETNS, 0);
	int state;

	if (!sk)
		return -1;
	state = sk->state;
	bpf_sk_release(sk);
	return state;
}

/* A SYN to a protected port: answer it with a cookie SYN-ACK, keep nothing. */
static __always_inline int sf_xdp_syn(struct xdp_md *ctx, const struct sf_pkt *p,
				      const struct sf_config *cfg, struct sf_counters *cnt)
{
	struct sf_flow_pos pos = sf_flow_pos(p);
	struct sf_secrets *sec;
	struct sf_flow *flow;
	struct sf_tcpopts o;
	__u32 tsval, isn;
	struct sf_hs hs;
	int verdict;

	sf_inc(cnt, SF_CNT_syn_recv);
	if (p->flags & (SF_TCPF_FIN | SF_TCPF_RST)) {
		sf_inc(cnt, SF_CNT_drop_syn_flags);
		return XDP_DROP;
	}
	flow = sf_flow_find(p, pos);
	if (flow || sf_syn_check_budget()) {
		/* If the kernel still has a socket for this tuple (a client reusing the tuple of a
		 * connection in TIME_WAIT), only the kernel can take this SYN: a cookie handshake
		 * would end on that socket. A cached tuple is always checked; an uncached one (its
		 * slot may have been taken by a colliding flow) within a per-CPU budget, so that
		 * a flood of spoofed SYNs stays off the lookup. */
		int state = sf_kernel_sock_state(ctx, p);

		if (state >= 0 && state != BPF_TCP_LISTEN) {
			sf_inc(cnt, SF_CNT_syn_pass_existing);
			return XDP_PASS;
		}
		if (flow)
			sf_flow_forget(flow, pos); /* the final ACK must be checked */
	}
	verdict = sf_prepare(ctx, p, cnt, &sec, &o, 0);
	if (verdict >= 0)
		return verdict;

	hs.mss_idx = sf_mss_to_idx(o.mss ? o.mss : sf_idx_to_mss(0));
	if (p->ipv6 && hs.mss_idx < SF_MSS_IDX_MIN_V6)
		hs.mss_idx = SF_MSS_IDX_MIN_V6;
	hs.wscale = SF_COOKIE_WS_NONE;
	if (o.has_ws && (cfg->flags & SF_CFG_WSCALE))
		hs.wscale = o.wscale > SF_TCP_MAX_WSCALE ? SF_TCP_MAX_WSCALE : o.wscale;
	hs.sack = o.sack && (cfg->flags & SF_CFG_SACK);
	hs.ts = o.ts && (cfg->flags & SF_CFG_TIMESTAMPS);
	hs.ecn = (p->flags & (SF_TCPF_ECE | SF_TCPF_CWR)) == (SF_TCPF_ECE | SF_TCPF_CWR) &&
		 (cfg->flags & SF_CFG_ECN);

	isn = sf_cookie_make(p, &hs, sec, &tsval);
	if (sf_build_synack(ctx, p, cfg, &hs, isn, tsval, o.tsval) < 0) {
		sf_inc(cnt, SF_CNT_drop_no_room);
		return XDP_DROP;
	}
	sf_inc(cnt, SF_CNT_synack_sent);
	return XDP_TX;
}

/* A bare ACK (or data) to a protected port: existing connections pass; a segment that only a
 * listener would get must carry a valid cookie, and then goes up with metadata for the handoff. */
static __always_inline int sf_xdp_ack(struct xdp_md *ctx, const struct sf_pkt *p,
				      const struct sf_config *cfg, struct sf_counters *cnt)
{
	struct sf_flow_pos pos = sf_flow_pos(p);
	struct sf_secrets *sec;
	struct sf_tcpopts o;
	struct sf_meta *meta;
	struct sf_hs hs;
	void *data;
	int verdict, state;

	if (sf_flow_find(p, pos)) {
		sf_inc(cnt, SF_CNT_est_pass);
		return XDP_PASS;
	}
	state = sf_kernel_sock_state(ctx, p);
	if (state < 0) {
		sf_inc(cnt, SF_CNT_ack_no_listener);
		return XDP_PASS;
	}
	if (state != BPF_TCP_LISTEN) {
		sf_flow_remember(p, pos);
		sf_inc(cnt, SF_CNT_est_pass);
		return XDP_PASS;
	}

	verdict = sf_prepare(ctx, p, cnt, &sec, &o, 1);
	if (verdict >= 0)
		return verdict;
	verdict = sf_cookie_check(p, &o, sec, &hs);
	if (verdict != SF_COOKIE_OK) {
		sf_inc(cnt, SF_CNT_ack_cookie_bad);
		sf_inc(cnt, verdict == SF_COOKIE_BAD_EPOCH ? SF_CNT_ack_bad_epoch : SF_CNT_ack_bad_hash);
		return XDP_DROP;
	}

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		goto no_room;
	data = (void *)(long)ctx->data;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > data)
		goto no_room;
	meta->magic = SF_META_MAGIC;
	meta->tsval = o.tsval;
	meta->tsecr = o.tsecr;
	meta->mss = sf_idx_to_mss(hs.mss_idx);
	meta->snd_wscale = hs.wscale == SF_COOKIE_WS_NONE ? 0 : hs.wscale;
	meta->rcv_wscale = hs.wscale == SF_COOKIE_WS_NONE ? 0 : cfg->rcv_wscale;
	meta->flags = (hs.ts ? SF_META_TS : 0) | (hs.sack ? SF_META_SACK : 0) |
		      (hs.wscale != SF_COOKIE_WS_NONE ? SF_META_WSCALE : 0) |
		      (hs.ecn ? SF_META_ECN : 0);
	meta->pad[0] = meta->pad[1] = meta->pad[2] = 0;
	sf_inc(cnt, SF_CNT_ack_cookie_ok);
	return XDP_PASS;
no_room:
	sf_inc(cnt, SF_CNT_drop_no_room);
	return XDP_DROP;
}

/* An IPv4/IPv6 frame sf_parse could not read: passed, counted while enabled. A call of its own, so
 * that its many ways out of the parser do not merge into (and slow down) the TCP path. */
static __noinline int sf_xdp_unparsed(struct xdp_md *ctx)
{
	struct sf_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&sf_config, &zero);
	if (cfg && (cfg->flags & SF_CFG_ENABLED))
		sf_inc(sf_counters_for(ctx->ingress_ifindex), SF_CNT_pass_unparsed);
	return XDP_PASS;
}

SEC("xdp")
int synfence_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct sf_pkt p = {};
	int r = sf_parse(data, data_end, &p);
	struct sf_counters *cnt;
	struct sf_config *cfg;
	__u32 zero = 0;

	if (r == SF_PARSE_PASS)
		return XDP_PASS;
	if (r == SF_PARSE_UNPARSED)
		return sf_xdp_unparsed(ctx);
	/* disabled: everything passes, uncounted */
	cfg = bpf_map_lookup_elem(&sf_config, &zero);
	if (!cfg || !(cfg->flags & SF_CFG_ENABLED))
		return XDP_PASS;
	/* one counter-slot lookup per TCP segment, shared by every path below */
	cnt = sf_counters_for(ctx->ingress_ifindex);
	if (r == SF_PARSE_FRAG) {
		sf_inc(cnt, SF_CNT_pass_fragment);
		return XDP_PASS;
	}
	if (!sf_port_protected(bpf_ntohs(p.dport))) {
		sf_inc(cnt, SF_CNT_pass_unprotected);
		return XDP_PASS;
	}
	if (p.flags & SF_TCPF_SYN) {
		if (p.flags & SF_TCPF_ACK) /* a SYN-ACK for one of the host's own connections */
			goto other;
		return sf_xdp_syn(ctx, &p, cfg, cnt);
	}
	if ((p.flags & (SF_TCPF_ACK | SF_TCPF_RST)) == SF_TCPF_ACK)
		return sf_xdp_ack(ctx, &p, cfg, cnt);
other:
	sf_inc(cnt, SF_CNT_pass_other);
	return XDP_PASS;
}

/* TC ingress: a segment that XDP validated (metadata present) becomes a kernel connection. */
SEC("tc")
int synfence_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct sf_meta *meta = (void *)(long)skb->data_meta;
	struct bpf_tcp_req_attrs attrs = {};
	struct bpf_sock_tuple tuple;
	struct sf_counters *cnt;
	struct tcp_sock *tsk;
	struct bpf_sock *sk;
	struct sf_pkt p = {};
	__u32 tuple_len;
	__u8 mflags;
	int err;

	if ((void *)(meta + 1) > data || meta->magic != SF_META_MAGIC)
		return SF_TC_ACT_OK;
	mflags = meta->flags;
	attrs.rcv_tsval = meta->tsval;
	attrs.rcv_tsecr = meta->tsecr;
	attrs.mss = meta->mss;
	attrs.rcv_wscale = meta->rcv_wscale;
	attrs.snd_wscale = meta->snd_wscale;
	attrs.ecn_ok = !!(mflags & SF_META_ECN);
	attrs.wscale_ok = !!(mflags & SF_META_WSCALE);
	attrs.sack_ok = !!(mflags & SF_META_SACK);
	attrs.tstamp_ok = !!(mflags & SF_META_TS);

	/* The kfunc does not check that this is TCP: we do, on the packet itself. */
	if (sf_parse(data, data_end, &p) != SF_PARSE_TCP)
		return SF_TC_ACT_OK;
	if ((p.flags & (SF_TCPF_SYN | SF_TCPF_RST | SF_TCPF_ACK)) != SF_TCPF_ACK)
		return SF_TC_ACT_OK;

	cnt = sf_counters_for(skb->ingress_ifindex);
	tuple_len = sf_fill_tuple(&p, &tuple);
	sk = bpf_skc_lookup_tcp(skb, &tuple, tuple_len, BPF_F_CURRENT_NETNS, 0);
	if (!sk) {
		sf_inc(cnt, SF_CNT_handoff_no_listener);
		return SF_TC_ACT_OK;
	}
	if (sk->state != BPF_TCP_LISTEN) { /* made by an earlier copy of this ACK */
		sf_inc(cnt, SF_CNT_handoff_dup);
		bpf_sk_release(sk);
		return SF_TC_ACT_OK;
	}
	tsk = bpf_skc_to_tcp_sock(sk);
	err = tsk ? bpf_sk_assign_tcp_reqsk(skb, (struct sock *)tsk, &attrs, sizeof(attrs)) : 1;
	if (err == 0) {
		sf_inc(cnt, SF_CNT_handoff_ok);
	} else { /* the kernel answers it as it would without us */
		sf_inc(cnt, SF_CNT_handoff_err);
		sf_inc(cnt, err == -SF_EINVAL ? SF_CNT_handoff_err_einval :
			    err == -SF_ENOMEM ? SF_CNT_handoff_err_enomem : SF_CNT_handoff_err_other);
	}
	bpf_sk_release(sk);
	return SF_TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
