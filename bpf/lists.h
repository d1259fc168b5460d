/* lists.h - the allow and deny lists (LPM tries keyed by prefix, include/synfence.h): consulted only
 * for SYNs and would-be cookie ACKs, and not at all while both lists are empty (sf_lists). */
#ifndef SF_LISTS_H
#define SF_LISTS_H

/* One type for both tries: the same layout, two maps. */
struct sf_list_trie {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SF_LIST_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sf_list_key);
	__type(value, struct sf_list_val);
};
struct sf_list_trie sf_allow SEC(".maps");
struct sf_list_trie sf_deny SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_lists);
} sf_lists SEC(".maps");

enum sf_list_verdict {
	SF_LIST_NONE,    /* in neither list: challenge as usual */
	SF_LIST_ALLOWED, /* pass to the kernel, unchallenged */
	SF_LIST_DENIED,  /* drop */
};

/* The longest match of the source in one trie, unless it is a live-only entry past its expiry. */
static __always_inline int sf_list_match(void *trie, const struct sf_list_key *k)
{
	struct sf_list_val *v = bpf_map_lookup_elem(trie, k);

	if (!v)
		return 0;
	if (v->expires_ns && !(v->origin & SF_LIST_FILE) && v->expires_ns <= bpf_ktime_get_ns())
		return 0;
	return 1;
}

/* The source's verdict: the allow list wins over the deny list. A call of its own, so that the
 * lookups stay out of the fast path's code while the lists are empty. */
static __noinline int sf_list_lookup(const struct sf_pkt *p, __u32 which)
{
	struct sf_list_key k;

	if (p->ipv6) {
		k.prefixlen = 128;
		k.addr[0] = p->saddr[0];
		k.addr[1] = p->saddr[1];
		k.addr[2] = p->saddr[2];
		k.addr[3] = p->saddr[3];
	} else {
		k.prefixlen = 128;
		k.addr[0] = 0;
		k.addr[1] = 0;
		k.addr[2] = bpf_htonl(0xffff);
		k.addr[3] = p->saddr[0];
	}
	if ((which & SF_LISTS_ALLOW) && sf_list_match(&sf_allow, &k))
		return SF_LIST_ALLOWED;
	if ((which & SF_LISTS_DENY) && sf_list_match(&sf_deny, &k))
		return SF_LIST_DENIED;
	return SF_LIST_NONE;
}

/* The lists' verdict for a SYN or a would-be cookie ACK: one array lookup (inlined) while both
 * lists are empty. */
static __always_inline int sf_list_check(const struct sf_pkt *p)
{
	__u32 zero = 0;
	struct sf_lists *l = bpf_map_lookup_elem(&sf_lists, &zero);

	if (!l || !l->flags)
		return SF_LIST_NONE;
	return sf_list_lookup(p, l->flags);
}

#endif
