/* sample.h - packet sampling at XDP's verdicts: the ring, its switch, the per-CPU cap, sf_done. */
#ifndef SF_SAMPLE_BPF_H
#define SF_SAMPLE_BPF_H

#define SF_NSEC_PER_SEC 1000000000ull

_Static_assert(SF_CNT_MAX <= 64, "sf_sample_ctl.reasons is a 64-bit mask of counters");
_Static_assert(SF_CNT_MAX <= 255, "sf_sample.reason is a byte");
_Static_assert(SF_CNT_sample_drop - SF_CNT_sample_tx == SF_VC_DROP &&
	       SF_CNT_sample_pass - SF_CNT_sample_tx == SF_VC_PASS, "sample_* counters in class order");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SF_SAMPLES_RING);
} sf_samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_sample_ctl);
} sf_sample_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_sample_win);
} sf_sample_win SEC(".maps");

static __always_inline enum sf_verdict_class sf_vclass(int verdict)
{
	if (verdict == XDP_TX)
		return SF_VC_TX;
	return verdict == XDP_DROP ? SF_VC_DROP : SF_VC_PASS;
}

/* Does this verdict pass the holder's filters and the 1-in-N draw? */
static __always_inline int sf_sample_wanted(struct xdp_md *ctx, const struct sf_sample_ctl *ctl,
					    enum sf_counter reason, enum sf_verdict_class vc)
{
	__u32 every = ctl->every[vc];

	if (ctl->ifindex && ctl->ifindex != ctx->ingress_ifindex)
		return 0;
	if (ctl->reasons && !(ctl->reasons & (1ull << reason)))
		return 0;
	/* random, not every N-th: a periodic flood would alias with a counter */
	return every == 1 || (every && bpf_get_prandom_u32() % every == 0);
}

/* This CPU's cap, a GCRA: 1 while it allows one more sample now (and books it), else 0. Samples
 * are spaced 1 s / per_cpu_sec apart, with a burst of a tenth of a second's worth
 * (SF_SAMPLE_BURST_DIV) that absorbs the bursts a paced flood arrives in. Under a flood the cap
 * thins the samples evenly through the second: a window that took the first per_cpu_sec of each
 * second would favour whoever sends at the start of a second, and skew top's shares. */
static __always_inline int sf_sample_under_cap(const struct sf_sample_ctl *ctl, __u64 now)
{
	struct sf_sample_win *w;
	__u64 t, tau;
	__u32 zero = 0;

	w = bpf_map_lookup_elem(&sf_sample_win, &zero);
	if (!w || !ctl->per_cpu_sec)
		return 0;
	t = SF_NSEC_PER_SEC / ctl->per_cpu_sec;
	tau = t * (ctl->per_cpu_sec / SF_SAMPLE_BURST_DIV);
	if (w->tat > now + tau)
		return 0;
	w->tat = (w->tat > now ? w->tat : now) + t;
	return 1;
}

#ifndef SF_BENCH_NO_SAMPLING
/* A record's bytes in the ring: its header and the sample, 8-aligned. */
#define SF_SAMPLE_REC_BYTES ((BPF_RINGBUF_HDR_SZ + sizeof(struct sf_sample) + 7) / 8 * 8)

/* Wake the holder when the unread samples (this one reserved) grow past SF_SAMPLE_WAKE_BYTES, not
 * for every sample: a wakeup is an interrupt (irq_work), microseconds each. A holder with more to
 * read does not sleep (its poll sees the unread data), and it reads every SF_SAMPLE_POLL_MS on its
 * own (user/lib/sample.c), so a crossing two CPUs both miss costs at most that long. */
static __always_inline __u64 sf_sample_wakeup(void)
{
	__u64 unread = bpf_ringbuf_query(&sf_samples, BPF_RB_AVAIL_DATA);

	if (unread >= SF_SAMPLE_WAKE_BYTES && unread < SF_SAMPLE_WAKE_BYTES + SF_SAMPLE_REC_BYTES)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* The first min(len, SF_SAMPLE_SNAP) bytes of the frame into to: how many (0 when the copy failed). */
static __always_inline __u32 sf_sample_copy(struct xdp_md *ctx, __u8 *to, __u64 len)
{
	if (len > SF_SAMPLE_SNAP)
		len = SF_SAMPLE_SNAP;
	/* clang 14 bounds a copy of len, not the register the helper gets: bounded again on it */
	barrier_var(len);
	if (len > SF_SAMPLE_SNAP)
		return 0;
	barrier_var(len);
	if (len == 0 || bpf_xdp_load_bytes(ctx, 0, to, len) < 0)
		return 0;
	return len;
}

/* The frame as it is now, into the ring. A call of its own, so that the verdict exits pay one
 * test while sampling is off. */
static __noinline int sf_sample_take(struct xdp_md *ctx, const struct sf_sample_ctl *ctl,
				     struct sf_counters *cnt, enum sf_counter reason, int verdict)
{
	enum sf_verdict_class vc = sf_vclass(verdict);
	struct sf_sample *s;
	__u64 now, len;

	if (!sf_sample_wanted(ctx, ctl, reason, vc))
		return 0;
	now = bpf_ktime_get_ns();
	if (!sf_sample_under_cap(ctl, now)) {
		sf_inc(cnt, SF_CNT_sample_capped);
		return 0;
	}
	s = bpf_ringbuf_reserve(&sf_samples, sizeof(*s), 0);
	if (!s) {
		sf_inc(cnt, SF_CNT_sample_lost);
		return 0;
	}
	len = bpf_xdp_get_buff_len(ctx);
	s->frame_len = len;
	s->cap_len = sf_sample_copy(ctx, s->data, len);
	s->ts_ns = now;
	s->ifindex = ctx->ingress_ifindex;
	s->every = ctl->every[vc];
	s->vclass = vc;
	s->reason = reason;
	bpf_ringbuf_submit(s, sf_sample_wakeup());
	sf_inc(cnt, SF_CNT_sample_tx + vc);
	return 0;
}

/* Sample this verdict if sampling is on (the rare case: one inlined lookup and a test). */
static __always_inline void sf_sample(struct xdp_md *ctx, struct sf_counters *cnt,
				      enum sf_counter reason, int verdict)
{
	struct sf_sample_ctl *ctl;
	__u32 zero = 0;

	ctl = bpf_map_lookup_elem(&sf_sample_ctl, &zero);
	if (ctl && __builtin_expect(!!ctl->on, 0))
		sf_sample_take(ctx, ctl, cnt, reason, verdict);
}

#else
/* The bench's variant without the sampling code (build/synfence_nosample.bpf.o, `test_xdp
 * --bench-sampling`): the baseline the real off path is measured against. Never loaded otherwise. */
static __always_inline void sf_sample(struct xdp_md *ctx, struct sf_counters *cnt,
				      enum sf_counter reason, int verdict)
{
	(void)ctx, (void)cnt, (void)reason, (void)verdict;
}
#endif

/* A packet's way ends: count its reason, sample it, return what XDP does with it. */
static __always_inline int sf_done(struct xdp_md *ctx, struct sf_counters *cnt,
				   enum sf_counter reason, int verdict)
{
	sf_inc(cnt, reason);
	sf_sample(ctx, cnt, reason, verdict);
	return verdict;
}

#endif
