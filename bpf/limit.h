/* limit.h - per-source SYN limits (source_syn_rate, source_syn_burst): a SYN rate per source prefix,
 * which stops both a botnet's many SYNs per source and the reflection of SYN-ACKs to one victim. */
#ifndef SF_LIMIT_H
#define SF_LIMIT_H

/* Why this shape: it must hold under a flood of random spoofed sources, so it never creates or
 * evicts per-source state. A count-min sketch of SF_LIMIT_ROWS rows of SF_LIMIT_COLS cells, each
 * cell a GCRA token bucket held as one number: its "theoretical arrival time" (TAT, ns). A SYN
 * from prefix P at time t: est = min over the rows of max(TAT[row][h_row(P)], t); it conforms
 * when est - t <= tau (tau = (burst - 1) * T, T = 1 s / rate); then every row's cell is raised to
 * at least est + T (conservative update: a cell only grows as far as the best estimate, which
 * keeps colliding prefixes from inflating each other). A SYN over the limit changes nothing.
 * Collisions only over-count, so a source is never let through above its rate; a real client is
 * limited wrongly only when the cells of all its rows are full of other prefixes' SYNs (sizing:
 * README "Per-source SYN limits").
 *
 * One global array, not per-CPU: with RSS one source's connections (different source ports) land
 * on different CPUs, and per-CPU cells would give it a budget per CPU. Cells are read and written
 * with plain loads and stores (no cmpxchg: that needs -mcpu=v3): two CPUs updating one cell in
 * the same few nanoseconds can lose one update, which can only let a SYN more through.
 *
 * The row hashes are multiply-shift with random odd multipliers from the daemon (sf_config
 * limit_seed, new per run), so that a flood cannot aim at a client's cells.
 *
 * Retransmissions: a client that gets no answer sends the same SYN (tuple and ISN) again after
 * 1 s, 2 s, 4 s ...; it must not pay twice. Each CPU keeps a direct-mapped array of the SYNs it
 * let through (SF_LIMIT_SEEN slots: a 32-bit fingerprint of tuple + ISN and when). Per-CPU is
 * right here: one tuple always lands on the same CPU (RSS hashes the tuple). A SYN whose
 * fingerprint is in its slot, at least SF_LIMIT_RETRANS_GAP_NS after the last time, passes
 * uncounted, at most SF_LIMIT_FREE_RETRANS times (so that resending one SYN cannot bypass the
 * limit: at most that many free SYN-ACKs per counted SYN, never faster than one per gap). Under a
 * flood the slots churn and a retransmission is counted again: the burst covers that. */
#define SF_LIMIT_ROWS      2
#define SF_LIMIT_COLS_BITS 18
#define SF_LIMIT_COLS      (1u << SF_LIMIT_COLS_BITS)
#define SF_LIMIT_SEEN_BITS 12
#define SF_LIMIT_SEEN      (1u << SF_LIMIT_SEEN_BITS)
#define SF_LIMIT_RETRANS_GAP_NS (500ull * 1000 * 1000)
#define SF_LIMIT_FREE_RETRANS 3

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_LIMIT_ROWS * SF_LIMIT_COLS);
	__type(key, __u32);
	__type(value, __u64); /* TAT, bpf_ktime_get_coarse_ns() units */
} sf_limit_cells SEC(".maps");

struct sf_limit_seen {
	__u32 fp;    /* fingerprint of tuple + ISN, 0: empty */
	__u32 hits;  /* free retransmissions so far */
	__u64 when;  /* when it was last let through */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SF_LIMIT_SEEN);
	__type(key, __u32);
	__type(value, struct sf_limit_seen);
} sf_limit_seen SEC(".maps");

/* The limiter is on: one branch on a config value (off costs nothing else). */
static __always_inline int sf_limit_on(const struct sf_config *cfg)
{
	return cfg->limit_t_ns != 0;
}

/* The source prefix, folded into 64 bits without losing any of it: an IPv4 prefix in the low 32
 * bits under 32 one bits (an IPv6 prefix shares its key only if it starts ffff:ffff::, which no
 * real source does); up to /64 an IPv6 prefix is its first 64 bits, longer ones fold the rest in. */
static __always_inline __u64 sf_limit_key(const struct sf_pkt *p, const struct sf_config *cfg)
{
	__u64 hi, lo;

	if (!p->ipv6)
		return 0xffffffff00000000ull | (p->saddr[0] & cfg->limit_mask4);
	hi = (__u64)(p->saddr[0] & cfg->limit_mask6[0]) << 32 | (p->saddr[1] & cfg->limit_mask6[1]);
	lo = (__u64)(p->saddr[2] & cfg->limit_mask6[2]) << 32 | (p->saddr[3] & cfg->limit_mask6[3]);
	return hi ^ (lo * 0x9e3779b97f4a7c15ull);
}

/* The fingerprint of the SYN's tuple and ISN, never 0. */
static __always_inline __u32 sf_limit_fp(const struct sf_pkt *p)
{
	__u32 h = sf_flow_hash(p->saddr, p->daddr, p->ports) ^ (p->seq * 0x27d4eb2fu);

	h = (h ^ (h >> 15)) * 0x85ebca6bu;
	return (h ^ (h >> 13)) | 1;
}

/* 1 when this SYN is a retransmission of one let through, and free (bookkeeping done). */
static __always_inline int sf_limit_retrans(__u32 fp, __u64 now)
{
	__u32 slot = fp >> (32 - SF_LIMIT_SEEN_BITS);
	struct sf_limit_seen *s = bpf_map_lookup_elem(&sf_limit_seen, &slot);

	if (!s || s->fp != fp || s->hits >= SF_LIMIT_FREE_RETRANS || now - s->when < SF_LIMIT_RETRANS_GAP_NS)
		return 0;
	s->hits++;
	s->when = now;
	return 1;
}

static __always_inline void sf_limit_seen_put(__u32 fp, __u64 now)
{
	__u32 slot = fp >> (32 - SF_LIMIT_SEEN_BITS);
	struct sf_limit_seen *s = bpf_map_lookup_elem(&sf_limit_seen, &slot);

	if (!s)
		return;
	s->fp = fp;
	s->hits = 0;
	s->when = now;
}

/* Called only when sf_limit_on(cfg). A call of its own: inlined, it made the SYN path with the
 * limiter off ~5-10 ns slower in test_xdp --bench (and on no faster). 1: the SYN's source prefix is over its rate (drop it,
 * nothing changed); 0: it conforms and was counted (or was a free retransmission). */
static __noinline int sf_limit_syn(const struct sf_pkt *p, const struct sf_config *cfg)
{
	__u64 key = sf_limit_key(p, cfg), now = bpf_ktime_get_coarse_ns(), est, t0, t1, next;
	__u32 fp = sf_limit_fp(p);
	__u32 i0 = (__u32)((key * cfg->limit_seed[0]) >> (64 - SF_LIMIT_COLS_BITS));
	__u32 i1 = SF_LIMIT_COLS + (__u32)((key * cfg->limit_seed[1]) >> (64 - SF_LIMIT_COLS_BITS));
	__u64 *c0, *c1;

	if (sf_limit_retrans(fp, now))
		return 0;
	c0 = bpf_map_lookup_elem(&sf_limit_cells, &i0);
	c1 = bpf_map_lookup_elem(&sf_limit_cells, &i1);
	if (!c0 || !c1)
		return 0;
	t0 = *c0 > now ? *c0 : now;
	t1 = *c1 > now ? *c1 : now;
	est = t0 < t1 ? t0 : t1;
	if (est - now > cfg->limit_tau_ns)
		return 1;
	next = est + cfg->limit_t_ns;
	if (*c0 < next)
		*c0 = next;
	if (*c1 < next)
		*c1 = next;
	sf_limit_seen_put(fp, now);
	return 0;
}

#endif
