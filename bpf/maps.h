/* maps.h - the maps userspace owns (config, secrets, ports, interface slots, counters) and counting. */
#ifndef SF_MAPS_H
#define SF_MAPS_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_config);
} sf_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_secrets);
} sf_secrets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} sf_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_MAX_IFINDEX);
	__type(key, __u32);
	__type(value, __u32);
} sf_if_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct sf_iface);
} sf_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SF_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct sf_counters);
} sf_counters SEC(".maps");

/* Written by userspace only (`synfence run`), read by `status`, `stats` and the metrics server;
 * the programs never touch it. Defined here so that it is created and pinned with the others. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_state);
} sf_state SEC(".maps");

/* The counter slot of interface ifindex (0: none of ours). An array map: the lookup is inlined by
 * the JIT, so this costs a few instructions. */
static __always_inline __u32 sf_slot_of(__u32 ifindex)
{
	__u32 *s;

	if (ifindex >= SF_MAX_IFINDEX)
		return 0;
	s = bpf_map_lookup_elem(&sf_if_slot, &ifindex);
	return s ? *s : 0;
}

static __always_inline struct sf_counters *sf_counters_for(__u32 ifindex)
{
	__u32 slot = sf_slot_of(ifindex);

	return bpf_map_lookup_elem(&sf_counters, &slot);
}

static __always_inline void sf_inc(struct sf_counters *cnt, enum sf_counter which)
{
	if (cnt)
		cnt->c[which]++;
}

/* Monitor mode (SF_CFG_MONITOR): count what synfence would do, pass every packet untouched. The
 * rare case, so that the hot paths keep their layout. */
static __always_inline int sf_monitor(const struct sf_config *cfg)
{
	return __builtin_expect(!!(cfg->flags & SF_CFG_MONITOR), 0);
}

static __always_inline int sf_port_protected(__u16 port)
{
	__u32 word = port / 64;
	__u64 *bits = bpf_map_lookup_elem(&sf_ports, &word);

	return bits && ((*bits >> (port % 64)) & 1);
}

#endif
