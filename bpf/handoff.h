/* handoff.h - TC ingress: a final ACK whose cookie TC checked itself becomes a kernel connection. */
#ifndef SF_HANDOFF_H
#define SF_HANDOFF_H

extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs, int attrs__sz) __ksym;

/* Headers the TC program wants in the skb's linear part: Ethernet, two VLAN tags, IPv6 with
 * extension headers, a TCP header with options. */
#define SF_TC_PULL_LEN 256

/* A driver may leave headers in page fragments (the linear part holding only Ethernet): pull
 * them in once. Only frames sf_parse could not read pay this. 1 if it pulled. */
static __always_inline int sf_tc_pull_headers(struct __sk_buff *skb)
{
	__u32 len = skb->len < SF_TC_PULL_LEN ? skb->len : SF_TC_PULL_LEN;

	return bpf_skb_pull_data(skb, len) == 0;
}

/* The attributes of the last handoff TC attempted, on any CPU: what the unit tests compare with the
 * cookie, and what `bpftool map dump name synfence.bss` shows when handoffs are refused. One
 * 20-byte store per new connection. */
struct sf_handoff_attrs sf_last_handoff;

#define SF_SAME_FIELD(f) (__builtin_offsetof(struct sf_handoff_attrs, f) == \
			  __builtin_offsetof(struct bpf_tcp_req_attrs, f))
_Static_assert(sizeof(struct sf_handoff_attrs) == sizeof(struct bpf_tcp_req_attrs) &&
	       SF_SAME_FIELD(rcv_tsval) && SF_SAME_FIELD(rcv_tsecr) && SF_SAME_FIELD(mss) &&
	       SF_SAME_FIELD(rcv_wscale) && SF_SAME_FIELD(snd_wscale) && SF_SAME_FIELD(ecn_ok) &&
	       SF_SAME_FIELD(wscale_ok) && SF_SAME_FIELD(sack_ok) && SF_SAME_FIELD(tstamp_ok) &&
	       SF_SAME_FIELD(usec_ts_ok), "sf_handoff_attrs has the kfunc's layout");
#undef SF_SAME_FIELD

/* Recent handoffs. The final ACK and the client's first data segment right behind it often reach
 * TC in one batch, before TCP has processed the first (TC runs for a whole receive batch, TCP
 * after it): both carry the cookie, and a second handoff makes a second request socket whose
 * connection cannot be inserted, so the kernel drops that segment and the client resends it after
 * a loss probe (~200 ms: the peacetime bench lost 1 % of its requests so). A tuple handed off in
 * the last SF_HANDOFF_DEDUP_JIFFIES is therefore not handed off again (handoff_dup): its segment
 * goes on to the connection the first one makes. A handoff the kernel refused after the kfunc (a
 * full accept queue) is retried by the client's retransmission, which comes later than that. */
#define SF_HANDOFF_DEDUP_JIFFIES 2
#define SF_HANDOFF_RECENT 8192 /* tuples: 2 jiffies of handoffs at over 1M connections/s */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SF_HANDOFF_RECENT);
	__type(key, struct sf_flow);
	__type(value, __u64); /* bpf_jiffies64() of the handoff */
} sf_handoffs SEC(".maps");

/* 1 if p's tuple was handed off in the last SF_HANDOFF_DEDUP_JIFFIES. */
static __always_inline int sf_handoff_recent(const struct sf_flow *key)
{
	__u64 *when = bpf_map_lookup_elem(&sf_handoffs, key);

	return when && bpf_jiffies64() - *when <= SF_HANDOFF_DEDUP_JIFFIES;
}

static __always_inline void sf_handoff_note(const struct sf_flow *key)
{
	__u64 now = bpf_jiffies64();

	bpf_map_update_elem(&sf_handoffs, key, &now, BPF_ANY);
}

/* The connection's parameters, as our SYN-ACK offered them (cookie bits) and the ACK carries them. */
static __always_inline void sf_req_attrs(struct bpf_tcp_req_attrs *a, const struct sf_hs *hs,
					 const struct sf_tcpopts *o, const struct sf_config *cfg)
{
	int ws = hs->wscale != SF_COOKIE_WS_NONE;

	a->rcv_tsval = o->tsval;
	a->rcv_tsecr = o->tsecr;
	a->mss = sf_idx_to_mss(hs->mss_idx);
	a->snd_wscale = ws ? hs->wscale : 0;
	a->rcv_wscale = ws ? cfg->rcv_wscale : 0;
	a->wscale_ok = ws;
	a->sack_ok = hs->sack;
	a->tstamp_ok = hs->ts;
	a->ecn_ok = hs->ecn;
}

/* The kfunc's answer, counted; the segment goes on to the kernel either way (on failure the
 * kernel answers it as it would without us). A segment of a tuple handed off a moment ago goes on
 * without (see sf_handoffs). */
static __always_inline void sf_tc_assign(struct __sk_buff *skb, const struct sf_pkt *p,
					 struct bpf_sock *listener, const struct sf_hs *hs,
					 const struct sf_tcpopts *o, const struct sf_config *cfg,
					 struct sf_counters *cnt)
{
	struct bpf_tcp_req_attrs attrs = {};
	struct tcp_sock *tsk;
	struct sf_flow key;
	int err;

	sf_flow_fill(&key, p);
	if (sf_handoff_recent(&key)) {
		sf_inc(cnt, SF_CNT_handoff_dup);
		return;
	}
	tsk = bpf_skc_to_tcp_sock(listener);
	sf_req_attrs(&attrs, hs, o, cfg);
	__builtin_memcpy(&sf_last_handoff, &attrs, sizeof(attrs));
	err = tsk ? bpf_sk_assign_tcp_reqsk(skb, (struct sock *)tsk, &attrs, sizeof(attrs)) : 1;
	if (err == 0) {
		sf_handoff_note(&key);
		sf_inc(cnt, SF_CNT_handoff_ok);
		return;
	}
	sf_inc(cnt, SF_CNT_handoff_err);
	sf_inc(cnt, err == -SF_EINVAL ? SF_CNT_handoff_err_einval :
		    err == -SF_ENOMEM ? SF_CNT_handoff_err_enomem : SF_CNT_handoff_err_other);
}

/* 1 if the valid cookie of p's ACK was made in an epoch <= limit, i.e. by a SYN-ACK XDP sent before
 * that epoch ended (sf_cookie_check accepted its epoch bits as the current epoch or the one
 * before). Only the switches pay this (sf_handoff_limited: monitor mode, a calm interface). */
static __noinline int sf_cookie_epoch_le(const struct sf_pkt *p, __u32 limit)
{
	__u32 zero = 0, bits = (bpf_ntohl(p->ack_seq) - 1) >> SF_COOKIE_EPOCH_SHIFT & 3, cur;
	struct sf_secrets *sec = bpf_map_lookup_elem(&sf_secrets, &zero);

	if (!sec)
		return 0;
	cur = sec->epoch;
	return (bits == (cur & 3) ? cur : cur - 1) <= limit;
}

/* A bare ACK (or data) to a protected port that is in no cached flow: the kernel's socket decides.
 * None: nothing to hand to (counted when it was a valid cookie ACK). An existing connection: it
 * goes on (and is cached). The listener: the segment must carry a valid cookie, checked here
 * again from the packet alone, and is then handed off. A call of its own: the gate before it runs
 * for every packet and stays small; this runs once per connection (and its stack frame is not
 * added to the gate's). */
static __noinline void sf_tc_handoff(struct __sk_buff *skb, const struct sf_pkt *p,
				     const struct sf_flow_pos *pos, const struct sf_config *cfg,
				     struct sf_counters *cnt)
{
	struct bpf_sock_tuple tuple;
	__u32 tuple_len = sf_fill_tuple(p, &tuple);
	struct bpf_sock *sk = bpf_skc_lookup_tcp(skb, &tuple, tuple_len, BPF_F_CURRENT_NETNS, 0);
	struct sf_tcpopts o;
	struct sf_hs hs;
	__u32 limit = 0;
	int valid, limited;

	valid = sf_check_ack(skb, SF_HOOK_TC, p, &o, &hs);
	if (!sk) {
		if (valid == SF_ACK_VALID)
			sf_inc(cnt, SF_CNT_handoff_no_listener);
		return;
	}
	if (sk->state != BPF_TCP_LISTEN) {
		/* XDP caches the flows it finds established, so this one lost its slot to a
		 * colliding flow, or is a second copy of a final ACK whose first copy made it */
		sf_flow_remember(p, *pos);
		if (valid == SF_ACK_VALID)
			sf_inc(cnt, SF_CNT_handoff_dup);
	} else if (valid == SF_ACK_VALID) {
		/* monitor mode, a calm interface: only the final ACK of a SYN-ACK XDP sent before the
		 * switch (sf_config.monitor_epoch, .engaged_epoch) is handed off; the kernel made
		 * every other connection */
		limited = sf_handoff_limited(cfg, skb->ingress_ifindex, &limit);
		if (!limited || sf_cookie_epoch_le(p, limit))
			sf_tc_assign(skb, p, sk, &hs, &o, cfg, cnt);
	} else if (valid != SF_ACK_NO_SECRET && !sf_handoff_limited(cfg, skb->ingress_ifindex, &limit)) {
		/* (monitor mode, calm: the kernel's own syncookies come this way) */
		sf_inc(cnt, SF_CNT_handoff_cookie_bad);
	}
	bpf_sk_release(sk);
}

#endif
