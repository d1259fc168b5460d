/* flowcache.h - a direct-mapped cache of flows the kernel already has a socket for. */
#ifndef SF_FLOWCACHE_H
#define SF_FLOWCACHE_H

/* Why: every data packet to a protected port must be told apart from a forged ACK, and the
 * kernel socket lookup that does it costs ~70 ns here (hash walk plus a refcount get/put). A
 * flow found established once is remembered in a slot picked by a cheap hash of its tuple; the
 * next packets compare one slot (inlined array access) instead. A wrong hit can only pass a
 * packet to the kernel, which then handles it exactly as without synfence. A SYN for a cached
 * tuple is checked against the kernel: while a socket still exists (TIME_WAIT reuse) the kernel
 * takes the SYN; otherwise the slot is cleared, so the final ACK of the new connection is checked. */
#define SF_FLOW_SLOTS_BITS 16
#define SF_FLOW_SLOTS (1u << SF_FLOW_SLOTS_BITS)

struct sf_flow {
	__u32 saddr[4];
	__u32 daddr[4];
	__u32 ports;
	__u32 family; /* 4 or 6; 0 marks an empty slot */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_FLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct sf_flow);
} sf_flows SEC(".maps");

static __always_inline struct sf_flow *sf_flow_slot(const struct sf_pkt *p)
{
	__u32 a = p->saddr[0] ^ p->saddr[1] ^ p->saddr[2] ^ p->saddr[3];
	__u32 b = p->daddr[0] ^ p->daddr[1] ^ p->daddr[2] ^ p->daddr[3];
	__u32 slot = ((a ^ b * 0x9e3779b1u ^ p->ports * 0x85ebca6bu) * 0xc2b2ae35u) >>
		     (32 - SF_FLOW_SLOTS_BITS);

	return bpf_map_lookup_elem(&sf_flows, &slot);
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

static __always_inline void sf_flow_remember(struct sf_flow *f, const struct sf_pkt *p)
{
	__builtin_memcpy(f->saddr, p->saddr, sizeof(f->saddr));
	__builtin_memcpy(f->daddr, p->daddr, sizeof(f->daddr));
	f->ports = p->ports;
	f->family = sf_flow_family(p);
}

#endif
