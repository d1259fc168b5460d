/* view/top.h - `synfence top`: the samples of an interval aggregated by source prefix or destination port, scaled to estimated rates, rendered as text or JSON. */
#ifndef SF_TOP_H
#define SF_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "synfence.h"
#include "view/snapshot.h"

enum sf_top_by {
	SF_TOP_SRC4,  /* IPv4 source, cut to prefix4 bits */
	SF_TOP_SRC6,  /* IPv6 source, cut to prefix6 bits */
	SF_TOP_DPORT, /* TCP destination port (IPv4 and IPv6) */
};

/* The reason counters top asks sampling for: every verdict a SYN to a protected port can get, and
 * the bad cookie ACKs (bit 1 << r of struct sf_sample_req.reasons). */
__u64 sf_top_reasons(void);

/* What top reads out of a sample's frame (Ethernet, up to two VLAN tags, IPv4 or IPv6 with up to
 * four extension headers, TCP). */
struct sf_top_pkt {
	struct sf_list_key src; /* the source as a /128 key (IPv4 as ::ffff:a.b.c.d, prefixlen 128) */
	bool v4;
	__u16 dport;            /* host order */
	__u8 flags;             /* TCP flags byte */
};

/* 0, or -EINVAL when the frame holds no readable TCP header (or is an IP fragment). */
int sf_top_parse(const __u8 *data, size_t len, struct sf_top_pkt *p);

struct sf_top_entry {
	struct sf_list_key key; /* a prefix (src4, src6), or the port in addr[0] (dport) */
	bool used;
	double syn, bad_ack;    /* packets: the sum of the samples' every */
};

/* One interval's aggregate. */
struct sf_top {
	enum sf_top_by by;
	unsigned int prefix4, prefix6;
	struct sf_top_entry *tab; /* open addressing, cap a power of 2 */
	size_t cap, n;
	double other_syn, other_bad; /* packets of keys that did not fit in SF_TOP_MAX_KEYS */
	__u64 samples;               /* samples read, counted or not */
	__u64 counted;               /* samples that made a SYN or bad ACK of the kind --by shows */
};
#define SF_TOP_MAX_KEYS (1u << 20)

/* 0 or -ENOMEM. */
int sf_top_init(struct sf_top *t, enum sf_top_by by, unsigned int prefix4, unsigned int prefix6);
/* Forget the samples (the next interval begins); the table keeps its size. */
void sf_top_reset(struct sf_top *t);
void sf_top_free(struct sf_top *t);
/* Count one sample (arg: the struct sf_top): the sf_sampler_poll callback. Returns 0. */
int sf_top_add(const struct sf_sample *smp, void *arg);

/* The factor for samples the per-CPU cap or the full ring left out, between two snapshots:
 * (taken + capped + lost) / taken over the interface (ifindex 0: all), 1 when none was taken. */
double sf_top_scale(const struct sf_snap *a, const struct sf_snap *b, __u32 ifindex, __u64 *taken,
		    __u64 *missed);

/* The packets a second top's samples are drawn from (SYNs to protected ports, syn_recv, and bad
 * ACKs, ack_cookie_bad) between two snapshots, on the interface ifindex (0: all). */
double sf_top_rate(const struct sf_snap *a, const struct sf_snap *b, __u32 ifindex);

/* top's 1-in-N for a rate of packets a second, so that the per-CPU cap is rarely what thins the
 * samples: the cap (a GCRA, bpf/sample.h) keeps the first sample after a gap, which favours the
 * burst leaders of paced floods and skews the shares, while the random 1-in-N draw is unbiased.
 * Assumes the worst, all the packets on one CPU, and aims at SF_TOP_EVERY_TARGET of the cap:
 * the smallest power of two >= rate / (SF_TOP_EVERY_TARGET x per_cpu_sec), 1 to
 * SF_TOP_EVERY_MAX (1 for no traffic). */
__u32 sf_top_every(double rate, __u32 per_cpu_sec);
#define SF_TOP_EVERY_TARGET 0.5
#define SF_TOP_EVERY_MAX    1000000

/* How to render an interval. */
struct sf_top_view {
	double interval_s;
	__u32 every, per_cpu_sec; /* the sampling asked for */
	bool every_auto;          /* every was chosen from the rate (sf_top_every), not --every */
	double scale;             /* sf_top_scale */
	__u64 taken, missed;
	const char *ifname;       /* NULL: every interface */
	int rows;                 /* -n */
	int deny_fd;              /* the pinned deny list (-1: none): suggestions are printed */
	bool json, pretty;
};

/* Suggestions: at most SF_TOP_SUGGEST_MAX prefixes with >= SF_TOP_SUGGEST_SHARE % of the total
 * and >= SF_ATTACK_MIN_RATE/s (view/render.h), not denied already. */
#define SF_TOP_SUGGEST_MAX   5
#define SF_TOP_SUGGEST_SHARE 10.0

/* Write t as text or JSON. 0 or -ENOMEM (printed). */
int sf_top_render(FILE *out, const struct sf_top *t, const struct sf_top_view *v);

/* "src4", "src6", "dport"; sf_top_by_parse: 0 or -EINVAL. */
const char *sf_top_by_name(enum sf_top_by by);
int sf_top_by_parse(const char *s, enum sf_top_by *by);

#endif
