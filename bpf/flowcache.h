/* flowcache.h - a direct-mapped cache of flows the kernel already has a socket for. */
#ifndef SF_FLOWCACHE_H
#define SF_FLOWCACHE_H

/* Why: every data packet to a protected port must be told apart from a forged ACK, and the
 * kernel socket lookup that does it costs ~70 ns here (hash walk plus a refcount get/put). A
 * flow found established once is remembered in a slot picked by a cheap hash of its tuple; the
 * next packets compare one slot (inlined array access) instead. A wrong hit can only pass a
 * packet to the kernel, which then handles it exactly as without synfence. A SYN for a cached
 * tuple is checked against the kernel: while a socket still exists (TIME_WAIT reuse) the kernel
 * takes the SYN; otherwise the slot is cleared, so the final ACK of the new connection is checked.
 * Uncached SYNs are checked too, within a small per-CPU budget (sf_syn_check_budget).
 *
 * The slots take 2.5 MB, so in a flood of random tuples (spoofed SYNs, forged ACKs) reading a
 * slot is a cache miss per packet. A byte per slot (64 KB, cache-resident) holds a tag of the flow
 * in it, 0 when empty: a packet whose tag differs is no cached flow, without a look at the slot.
 * The layout and the hash are in synfence.h: `synfence run` seeds the cache at start with the
 * connections the kernel already has (a client that reuses the tuple of one in TIME_WAIT is then
 * recognised on its SYN also when that connection predates this run). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_FLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct sf_flow);
} sf_flows SEC(".maps");

/* Tags in bytes, not bits: concurrent writers on different CPUs never share a read-modify-write. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_flow_tags);
} sf_flow_tags SEC(".maps");

/* Where a tuple goes: its slot and its tag (from other bits of the same hash, never empty). */
struct sf_flow_pos {
	__u32 slot;
	__u8 tag;
};

static __always_inline struct sf_flow_pos sf_flow_pos(const struct sf_pkt *p)
{
	__u32 h = sf_flow_hash(p->saddr, p->daddr, p->ports);
	struct sf_flow_pos pos = { .slot = sf_flow_hash_slot(h), .tag = sf_flow_hash_tag(h) };

	return pos;
}

static __always_inline __u8 *sf_flow_tag(__u32 slot)
{
	__u32 zero = 0;
	struct sf_flow_tags *t = bpf_map_lookup_elem(&sf_flow_tags, &zero);

	return t ? &t->tag[slot & (SF_FLOW_SLOTS - 1)] : NULL;
}

static __always_inline __u32 sf_flow_family(const struct sf_pkt *p)
{
	return p->ipv6 ? 6 : 4;
}

static __always_inline int sf_flow_match(const struct sf_flow *f, const struct sf_pkt *p)
{
	if (f->family != sf_flow_family(p) || f->ports != p->ports || f->saddr[0] != p->saddr[0] ||
	    f->daddr[0] != p->daddr[0])
		return 0;
	if (!p->ipv6)
		return 1;
	return f->saddr[1] == p->saddr[1] && f->saddr[2] == p->saddr[2] &&
	       f->saddr[3] == p->saddr[3] && f->daddr[1] == p->daddr[1] &&
	       f->daddr[2] == p->daddr[2] && f->daddr[3] == p->daddr[3];
}

/* The slot holding p's flow, or NULL when it is not cached. */
static __always_inline struct sf_flow *sf_flow_find(const struct sf_pkt *p, struct sf_flow_pos pos)
{
	__u8 *tag = sf_flow_tag(pos.slot);
	struct sf_flow *f;

	if (!tag || *tag != pos.tag)
		return NULL;
	f = bpf_map_lookup_elem(&sf_flows, &pos.slot);
	return f && sf_flow_match(f, p) ? f : NULL;
}

/* p's tuple in the flow cache's layout (also the key of TC's recent handoffs, bpf/handoff.h). */
static __always_inline void sf_flow_fill(struct sf_flow *f, const struct sf_pkt *p)
{
	__builtin_memcpy(f->saddr, p->saddr, sizeof(f->saddr));
	__builtin_memcpy(f->daddr, p->daddr, sizeof(f->daddr));
	f->ports = p->ports;
	f->family = sf_flow_family(p);
}

static __always_inline void sf_flow_remember(const struct sf_pkt *p, struct sf_flow_pos pos)
{
	struct sf_flow *f = bpf_map_lookup_elem(&sf_flows, &pos.slot);
	__u8 *tag = sf_flow_tag(pos.slot);

	if (!f || !tag)
		return;
	sf_flow_fill(f, p);
	*tag = pos.tag;
}

/* A SYN whose tuple is not cached can still meet a kernel socket: its flow was evicted by a
 * colliding one while the kernel holds it in TIME_WAIT (a proxy reusing its ports does this on a
 * busy server). So uncached SYNs are checked against the kernel too, but at most
 * SF_SYN_CHECKS_PER_JIFFY per CPU per jiffy (16k-64k a second, by HZ): in a flood of spoofed SYNs
 * all but those few skip the ~70 ns lookup (and pay a per-CPU counter and a jiffies read, which
 * the verifier inlines). */
#define SF_SYN_CHECKS_PER_JIFFY 64

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_syn_checks);
} sf_syn_checks SEC(".maps");

/* Spend one check from this CPU's budget; 0 when this jiffy's budget is gone. */
static __always_inline int sf_syn_check_budget(void)
{
	__u32 zero = 0;
	struct sf_syn_checks *c = bpf_map_lookup_elem(&sf_syn_checks, &zero);
	__u64 now;

	if (!c)
		return 0;
	if (c->used < SF_SYN_CHECKS_PER_JIFFY) {
		c->used++;
		return 1;
	}
	now = bpf_jiffies64();
	if (now == c->jiffy)
		return 0;
	c->jiffy = now;
	c->used = 1;
	return 1;
}

static __always_inline void sf_flow_forget(struct sf_flow *f, struct sf_flow_pos pos)
{
	__u8 *tag = sf_flow_tag(pos.slot);

	f->family = 0;
	if (tag)
		*tag = SF_FLOW_TAG_EMPTY;
}

#endif
