/* synfence.bpf.c - entry points: the XDP fast path (SYN cookies, ACK checks) and the TC handoff. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "synfence.h"
#include "consts.h"
#include "maps.h"
#include "csum.h"
#include "hook.h"
#include "siphash.h"
#include "parse.h"
#include "tcpopt.h"
#include "cookie.h"
#include "validate.h"
#include "synack.h"
#include "flowcache.h"
#include "engage.h"
#include "handoff.h"
#include "lists.h"
#include "limit.h"
#include "sample.h"

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

/* A drop (or XDP_TX) on its way out: in monitor mode the packet passes instead, untouched, and is
 * counted in monitor_pass as well as in the counter of what synfence would have done. */
static __always_inline int sf_verdict(const struct sf_config *cfg, struct sf_counters *cnt, int verdict)
{
	if (!sf_monitor(cfg))
		return verdict;
	sf_inc(cnt, SF_CNT_monitor_pass);
	return XDP_PASS;
}

/* The allow and deny lists' verdict on a SYN or a would-be cookie ACK: XDP_PASS or XDP_DROP (through
 * sf_verdict: monitor mode passes), or -1 when the source is in neither list. */
static __always_inline int sf_xdp_lists(struct xdp_md *ctx, const struct sf_pkt *p,
					const struct sf_config *cfg, struct sf_counters *cnt)
{
	switch (sf_list_check(p)) {
	case SF_LIST_ALLOWED:
		return sf_done(ctx, cnt, SF_CNT_pass_allowed, XDP_PASS);
	case SF_LIST_DENIED:
		return sf_done(ctx, cnt, SF_CNT_drop_denied, sf_verdict(cfg, cnt, XDP_DROP));
	}
	return -1;
}

/* A SYN to a protected port: answer it with a cookie SYN-ACK, keep nothing. In monitor mode it
 * passes to the kernel, counted as what it would have been. */
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
	if ((verdict = sf_xdp_lists(ctx, p, cfg, cnt)) >= 0)
		return verdict;
	/* engage = auto, calm: the kernel answers (exact MSS, Fast Open, its own backlog) */
	if (sf_calm(cfg, ctx->ingress_ifindex))
		return sf_done(ctx, cnt, SF_CNT_syn_pass_calm, XDP_PASS);
	if (p->flags & (SF_TCPF_FIN | SF_TCPF_RST))
		return sf_done(ctx, cnt, SF_CNT_drop_syn_flags, sf_verdict(cfg, cnt, XDP_DROP));
	/* Per-source SYN limits (bpf/limit.h), before anything else changes: a SYN over its source
	 * prefix's rate is dropped and leaves no trace. Off: this one branch. A decision to skip the
	 * limits (a prefix on an allow list) goes in front of sf_limit_syn. */
	if (sf_limit_on(cfg) && sf_limit_syn(p, cfg))
		return sf_done(ctx, cnt, SF_CNT_drop_rate_limited, sf_verdict(cfg, cnt, XDP_DROP));
	flow = sf_flow_find(p, pos);
	if (flow || sf_syn_check_budget()) {
		/* If the kernel still has a socket for this tuple (a client reusing the tuple of a
		 * connection in TIME_WAIT), only the kernel can take this SYN: a cookie handshake
		 * would end on that socket. A cached tuple is always checked; an uncached one (its
		 * slot may have been taken by a colliding flow) within a per-CPU budget, so that
		 * a flood of spoofed SYNs stays off the lookup. */
		int state = sf_kernel_sock_state(ctx, p);

		if (state >= 0 && state != BPF_TCP_LISTEN)
			return sf_done(ctx, cnt, SF_CNT_syn_pass_existing, XDP_PASS);
		if (flow)
			sf_flow_forget(flow, pos); /* the final ACK must be checked */
	}
	switch (sf_prepare(ctx, SF_HOOK_XDP, p, &sec, &o)) {
	case SF_PREP_NO_SECRET:
		return sf_done(ctx, cnt, SF_CNT_pass_no_secret, XDP_PASS);
	case SF_PREP_MALFORMED:
		return sf_done(ctx, cnt, SF_CNT_drop_malformed, sf_verdict(cfg, cnt, XDP_DROP));
	}

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
	if (sf_monitor(cfg)) {
		/* the SYN-ACK it would send: the kernel answers this SYN itself */
		sf_inc(cnt, SF_CNT_monitor_pass);
		return sf_done(ctx, cnt, SF_CNT_synack_sent, XDP_PASS);
	}

	/* a tx sample is the SYN as it arrived (a SYN the rewrite then fails on is sampled again, as
	 * its drop) */
	sf_sample(ctx, cnt, SF_CNT_synack_sent, XDP_TX);
	isn = sf_cookie_make(p, &hs, sec, &tsval);
	if (sf_build_synack(ctx, p, cfg, &hs, isn, tsval, o.tsval) < 0)
		return sf_done(ctx, cnt, SF_CNT_drop_no_room, XDP_DROP);
	sf_inc(cnt, SF_CNT_synack_sent);
	return XDP_TX;
}

/* A bare ACK (or data) to a protected port: existing connections pass; a segment that only a
 * listener would get must carry a valid cookie, and then goes up to TC, which checks it again from
 * the packet alone and hands it off. */
static __always_inline int sf_xdp_ack(struct xdp_md *ctx, const struct sf_pkt *p,
				      const struct sf_config *cfg, struct sf_counters *cnt)
{
	struct sf_flow_pos pos = sf_flow_pos(p);
	struct sf_tcpopts o;
	struct sf_hs hs;
	enum sf_counter bad;
	int state;

	if (sf_flow_find(p, pos))
		return sf_done(ctx, cnt, SF_CNT_est_pass, XDP_PASS);
	state = sf_kernel_sock_state(ctx, p);
	if (state < 0)
		return sf_done(ctx, cnt, SF_CNT_ack_no_listener, XDP_PASS);
	if (state != BPF_TCP_LISTEN) {
		sf_flow_remember(p, pos);
		/* monitor mode: the final ACK of a handshake the kernel made in synfence's place (its
		 * request socket), one synfence would have accepted */
		if (state == BPF_TCP_NEW_SYN_RECV && sf_monitor(cfg))
			return sf_done(ctx, cnt, SF_CNT_ack_cookie_ok, XDP_PASS);
		return sf_done(ctx, cnt, SF_CNT_est_pass, XDP_PASS);
	}
	if ((state = sf_xdp_lists(ctx, p, cfg, cnt)) >= 0)
		return state;

	switch (sf_check_ack(ctx, SF_HOOK_XDP, p, &o, &hs)) {
	case SF_ACK_VALID:
		return sf_done(ctx, cnt, SF_CNT_ack_cookie_ok, XDP_PASS);
	case SF_ACK_NO_SECRET:
		return sf_done(ctx, cnt, SF_CNT_pass_no_secret, XDP_PASS);
	case SF_ACK_MALFORMED:
		bad = SF_CNT_ack_bad_malformed;
		break;
	case SF_ACK_BAD_EPOCH:
		bad = SF_CNT_ack_bad_epoch;
		break;
	default:
		bad = SF_CNT_ack_bad_hash;
	}
	sf_inc(cnt, SF_CNT_ack_cookie_bad);
	/* calm: the kernel answered this connection's SYN, perhaps with a syncookie of its own */
	if (sf_calm(cfg, ctx->ingress_ifindex))
		return sf_done(ctx, cnt, bad, XDP_PASS);
	return sf_done(ctx, cnt, bad, sf_verdict(cfg, cnt, XDP_DROP));
}

/* An IPv4/IPv6 frame sf_parse could not read: passed, counted while enabled. A call of its own, so
 * that its many ways out of the parser do not merge into (and slow down) the TCP path. */
static __noinline int sf_xdp_unparsed(struct xdp_md *ctx)
{
	struct sf_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&sf_config, &zero);
	if (!cfg || !(cfg->flags & SF_CFG_ENABLED))
		return XDP_PASS;
	return sf_done(ctx, sf_counters_for(ctx->ingress_ifindex), SF_CNT_pass_unparsed, XDP_PASS);
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
	if (r == SF_PARSE_FRAG)
		return sf_done(ctx, cnt, SF_CNT_pass_fragment, XDP_PASS);
	if (!sf_port_protected(bpf_ntohs(p.dport)))
		return sf_done(ctx, cnt, SF_CNT_pass_unprotected, XDP_PASS);
	if (p.flags & SF_TCPF_SYN) {
		if (p.flags & SF_TCPF_ACK) /* a SYN-ACK for one of the host's own connections */
			goto other;
		return sf_xdp_syn(ctx, &p, cfg, cnt);
	}
	if ((p.flags & (SF_TCPF_ACK | SF_TCPF_RST)) == SF_TCPF_ACK)
		return sf_xdp_ack(ctx, &p, cfg, cnt);
other:
	return sf_done(ctx, cnt, SF_CNT_pass_other, XDP_PASS);
}

/* TC ingress: the handoff. It sees every frame XDP passed, so its gate is cheap: a parse and a port
 * bitmap test for unprotected traffic, the flow cache for established connections; only a segment
 * no cached flow explains pays the socket lookup (and, for a listener, the cookie check). */
static __always_inline int sf_tc_gate(struct __sk_buff *skb, int parsed, struct sf_pkt *p)
{
	struct sf_config *cfg;
	struct sf_flow_pos pos;
	__u32 zero = 0;

	/* The kfunc does not check that this is TCP: sf_parse did, on the packet itself. */
	if (parsed != SF_PARSE_TCP || (p->flags & (SF_TCPF_SYN | SF_TCPF_RST | SF_TCPF_ACK)) != SF_TCPF_ACK)
		return SF_TC_ACT_NEXT;
	if (!sf_port_protected(bpf_ntohs(p->dport)))
		return SF_TC_ACT_NEXT;
	cfg = bpf_map_lookup_elem(&sf_config, &zero);
	if (!cfg || !(cfg->flags & SF_CFG_ENABLED))
		return SF_TC_ACT_NEXT;
	pos = sf_flow_pos(p);
	if (sf_flow_find(p, pos))
		return SF_TC_ACT_NEXT;
	sf_tc_handoff(skb, p, &pos, cfg, sf_counters_for(skb->ingress_ifindex));
	return SF_TC_ACT_NEXT;
}

/* A frame whose headers sf_parse could not read in the skb's linear part: pulled in, parsed again.
 * A call of its own, so that this rare path stays out of the fast path's code. */
static __noinline int sf_tc_pulled(struct __sk_buff *skb)
{
	struct sf_pkt p = {};
	int r;

	if (!sf_tc_pull_headers(skb))
		return SF_TC_ACT_NEXT;
	r = sf_parse(sf_hook_data(skb, SF_HOOK_TC), sf_hook_data_end(skb, SF_HOOK_TC), &p);
	return sf_tc_gate(skb, r, &p);
}

SEC("tc")
int synfence_tc(struct __sk_buff *skb)
{
	struct sf_pkt p = {};
	int r = sf_parse(sf_hook_data(skb, SF_HOOK_TC), sf_hook_data_end(skb, SF_HOOK_TC), &p);

	if (r == SF_PARSE_UNPARSED)
		return sf_tc_pulled(skb);
	return sf_tc_gate(skb, r, &p);
}

char LICENSE[] SEC("license") = "GPL";
