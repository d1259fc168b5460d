/* view/top.c - see top.h: frame parsing, aggregation by key, the estimate's scale, one render path for text and JSON. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "conf/listfile.h"
#include "lib/json.h"
#include "lib/log.h"
#include "view/render.h"
#include "view/top.h"

#define ETH_HLEN      14
#define ETH_P_IP      0x0800
#define ETH_P_IPV6    0x86dd
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88a8
#define IPPROTO_TCP_  6
#define TCP_FLAG_SYN  0x02
#define TCP_FLAG_ACK  0x10
#define MAX_VLANS     2
#define MAX_V6_EXT    4
#define INITIAL_CAP   1024

__u64 sf_top_reasons(void)
{
	static const int r[] = {
		SF_CNT_synack_sent, SF_CNT_drop_syn_flags, SF_CNT_drop_malformed, SF_CNT_drop_no_room,
		SF_CNT_pass_no_secret, SF_CNT_syn_pass_existing, SF_CNT_drop_rate_limited,
		SF_CNT_syn_pass_calm, SF_CNT_pass_allowed, SF_CNT_drop_denied, SF_CNT_monitor_pass,
		SF_CNT_ack_bad_hash, SF_CNT_ack_bad_epoch, SF_CNT_ack_bad_malformed,
	};
	__u64 mask = 0;

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		mask |= 1ull << r[i];
	return mask;
}

static bool is_bad_ack(__u8 reason)
{
	return reason == SF_CNT_ack_bad_hash || reason == SF_CNT_ack_bad_epoch ||
	       reason == SF_CNT_ack_bad_malformed;
}

static __u16 be16_at(const __u8 *p) { return (__u16)(p[0] << 8 | p[1]); }

/* The IPv4 header at off: source, protocol; *off moves past it. */
static int parse_ip4(const __u8 *d, size_t len, size_t *off, struct sf_top_pkt *p, __u8 *proto)
{
	const __u8 *ip = d + *off;
	size_t ihl;

	if (len < *off + 20 || ip[0] >> 4 != 4)
		return -EINVAL;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	if (ihl < 20 || ((ip[6] & 0x1f) | ip[7]) || (ip[6] & 0x20)) /* short, or a fragment */
		return -EINVAL;
	p->v4 = true;
	p->src.addr[2] = __builtin_bswap32(0xffff); /* ::ffff:a.b.c.d */
	memcpy(&p->src.addr[3], ip + 12, 4);
	*proto = ip[9];
	*off += ihl;
	return 0;
}

/* The IPv6 header at off and its extension headers: source, protocol; *off moves past them. */
static int parse_ip6(const __u8 *d, size_t len, size_t *off, struct sf_top_pkt *p, __u8 *proto)
{
	__u8 nh;

	if (len < *off + 40 || d[*off] >> 4 != 6)
		return -EINVAL;
	memcpy(p->src.addr, d + *off + 8, 16);
	nh = d[*off + 6];
	*off += 40;
	for (int i = 0; i < MAX_V6_EXT && (nh == 0 || nh == 43 || nh == 60); i++) {
		if (len < *off + 8)
			return -EINVAL;
		nh = d[*off];
		*off += ((size_t)d[*off + 1] + 1) * 8;
	}
	*proto = nh;
	return 0;
}

int sf_top_parse(const __u8 *d, size_t len, struct sf_top_pkt *p)
{
	size_t off = ETH_HLEN;
	__u16 eth;
	__u8 proto = 0;
	int ret;

	memset(p, 0, sizeof(*p));
	if (len < ETH_HLEN)
		return -EINVAL;
	eth = be16_at(d + 12);
	for (int i = 0; i < MAX_VLANS && (eth == ETH_P_8021Q || eth == ETH_P_8021AD); i++) {
		if (len < off + 4)
			return -EINVAL;
		eth = be16_at(d + off + 2);
		off += 4;
	}
	if (eth == ETH_P_IP)
		ret = parse_ip4(d, len, &off, p, &proto);
	else if (eth == ETH_P_IPV6)
		ret = parse_ip6(d, len, &off, p, &proto);
	else
		ret = -EINVAL;
	if (ret || proto != IPPROTO_TCP_ || len < off + 14)
		return -EINVAL;
	p->src.prefixlen = 128;
	p->dport = be16_at(d + off + 2);
	p->flags = d[off + 13];
	return 0;
}

/* ---- the table ------------------------------------------------------------------------------ */

int sf_top_init(struct sf_top *t, enum sf_top_by by, unsigned int prefix4, unsigned int prefix6)
{
	memset(t, 0, sizeof(*t));
	t->by = by;
	t->prefix4 = prefix4;
	t->prefix6 = prefix6;
	t->tab = calloc(INITIAL_CAP, sizeof(*t->tab));
	if (!t->tab)
		return -ENOMEM;
	t->cap = INITIAL_CAP;
	return 0;
}

void sf_top_reset(struct sf_top *t)
{
	memset(t->tab, 0, t->cap * sizeof(*t->tab));
	t->n = 0;
	t->other_syn = t->other_bad = 0;
	t->samples = t->counted = 0;
}

void sf_top_free(struct sf_top *t)
{
	free(t->tab);
	t->tab = NULL;
	t->cap = t->n = 0;
}

static size_t key_hash(const struct sf_list_key *k)
{
	const __u8 *b = (const __u8 *)k;
	__u64 h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return (size_t)(h ^ h >> 29);
}

static struct sf_top_entry *slot_of(struct sf_top_entry *tab, size_t cap, const struct sf_list_key *k)
{
	size_t i = key_hash(k) & (cap - 1);

	while (tab[i].used && memcmp(&tab[i].key, k, sizeof(*k)))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

/* Double the table (at most SF_TOP_MAX_KEYS). 0 or -ENOSPC/-ENOMEM: the key goes to "other". */
static int grow(struct sf_top *t)
{
	size_t cap = t->cap * 2;
	struct sf_top_entry *tab;

	if (cap > SF_TOP_MAX_KEYS)
		return -ENOSPC;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->tab[i].used)
			*slot_of(tab, cap, &t->tab[i].key) = t->tab[i];
	free(t->tab);
	t->tab = tab;
	t->cap = cap;
	return 0;
}

/* The entry of k, made when new; NULL when the table is full. */
static struct sf_top_entry *entry_of(struct sf_top *t, const struct sf_list_key *k)
{
	struct sf_top_entry *e = slot_of(t->tab, t->cap, k);

	if (e->used)
		return e;
	if (2 * (t->n + 1) > t->cap) {
		if (grow(t))
			return NULL;
		e = slot_of(t->tab, t->cap, k);
	}
	e->used = true;
	e->key = *k;
	t->n++;
	return e;
}

/* The key of p by t->by; false when p has none (an IPv4 source for src6 and the reverse). */
static bool key_of(const struct sf_top *t, const struct sf_top_pkt *p, struct sf_list_key *k)
{
	memset(k, 0, sizeof(*k));
	switch (t->by) {
	case SF_TOP_DPORT:
		k->addr[0] = p->dport;
		return true;
	case SF_TOP_SRC4:
		if (!p->v4)
			return false;
		*k = p->src;
		k->prefixlen = 96 + t->prefix4;
		sf_list_key_mask(k);
		return true;
	case SF_TOP_SRC6:
		if (p->v4)
			return false;
		*k = p->src;
		k->prefixlen = t->prefix6;
		sf_list_key_mask(k);
		return true;
	}
	return false;
}

int sf_top_add(const struct sf_sample *smp, void *arg)
{
	struct sf_top *t = arg;
	struct sf_top_entry *e;
	struct sf_list_key k;
	struct sf_top_pkt p;
	bool bad;

	t->samples++;
	if (sf_top_parse(smp->data, smp->cap_len < SF_SAMPLE_SNAP ? smp->cap_len : SF_SAMPLE_SNAP, &p))
		return 0;
	bad = is_bad_ack(smp->reason);
	if (!bad && (p.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN)
		return 0;
	if (!key_of(t, &p, &k))
		return 0;
	t->counted++;
	e = entry_of(t, &k);
	*(bad ? (e ? &e->bad_ack : &t->other_bad) : (e ? &e->syn : &t->other_syn)) += smp->every;
	return 0;
}

/* The counters of the interface ifindex (0: all) in a and b (*ca, *cb). */
static void counters_of(const struct sf_snap *a, const struct sf_snap *b, __u32 ifindex,
			const __u64 **ca, const __u64 **cb)
{
	*ca = a->total;
	*cb = b->total;
	for (int i = 0; ifindex && i < b->n_ifs; i++) {
		const struct sf_snap_if *pa = sf_snap_match_if(a, &b->ifs[i]);

		if (b->ifs[i].ifindex == ifindex && pa) {
			*ca = pa->c;
			*cb = b->ifs[i].c;
		}
	}
}

#define D(name) (cb[SF_CNT_##name] - ca[SF_CNT_##name])
double sf_top_scale(const struct sf_snap *a, const struct sf_snap *b, __u32 ifindex, __u64 *taken,
		    __u64 *missed)
{
	const __u64 *ca, *cb;

	counters_of(a, b, ifindex, &ca, &cb);
	*taken = D(sample_tx) + D(sample_drop) + D(sample_pass);
	*missed = D(sample_capped) + D(sample_lost);
	return *taken ? (double)(*taken + *missed) / (double)*taken : 1.0;
}

double sf_top_rate(const struct sf_snap *a, const struct sf_snap *b, __u32 ifindex)
{
	const __u64 *ca, *cb;
	double s = sf_snap_interval(a, b);

	counters_of(a, b, ifindex, &ca, &cb);
	return s > 0 ? (double)(D(syn_recv) + D(ack_cookie_bad)) / s : 0;
}
#undef D

__u32 sf_top_every(double rate, __u32 per_cpu_sec)
{
	double want = rate / (SF_TOP_EVERY_TARGET * per_cpu_sec);
	__u32 every = 1;

	while (every < want && every < SF_TOP_EVERY_MAX / 2)
		every *= 2;
	return every < want ? SF_TOP_EVERY_MAX : every;
}

/* ---- rendering: one walk over the rows, a text or a JSON printer -------------------------------- */

struct top_rates {
	double syn, bad_ack, total, share; /* per second; share in % of the grand total */
};

struct top_printer {
	FILE *out;
	const struct sf_top *t;
	const struct sf_top_view *v;
	struct json_writer jw;
	bool suggesting; /* JSON: the "suggest" array is open */
	void (*head)(struct top_printer *p, const struct top_rates *total);
	void (*row)(struct top_printer *p, int rank, const char *key, const struct top_rates *r);
	void (*suggest)(struct top_printer *p, int i, const char *cmd);
	void (*end)(struct top_printer *p);
};

static const char *const by_names[] = {
	[SF_TOP_SRC4] = "src4", [SF_TOP_SRC6] = "src6", [SF_TOP_DPORT] = "dport",
};

const char *sf_top_by_name(enum sf_top_by by) { return by_names[by]; }

int sf_top_by_parse(const char *s, enum sf_top_by *by)
{
	for (size_t i = 0; i < sizeof(by_names) / sizeof(by_names[0]); i++) {
		if (!strcmp(s, by_names[i])) {
			*by = (enum sf_top_by)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void text_head(struct top_printer *p, const struct top_rates *tot)
{
	const struct sf_top_view *v = p->v;
	char what[48], a[16], b[16], c[16];

	if (p->t->by == SF_TOP_DPORT)
		snprintf(what, sizeof(what), "destination port");
	else
		snprintf(what, sizeof(what), "%s source /%u", p->t->by == SF_TOP_SRC4 ? "IPv4" : "IPv6",
			 p->t->by == SF_TOP_SRC4 ? p->t->prefix4 : p->t->prefix6);
	fprintf(p->out,
		"top SYN and bad-ACK senders by %s on %s over the last %.1fs\n"
		"estimates from samples (1 in %u, %s; at most %u/s per CPU; %llu samples, %llu capped "
		"or lost: scaled x%.2f)\n",
		what, v->ifname ? v->ifname : "all interfaces", v->interval_s, v->every,
		v->every_auto ? "chosen from the rate" : "set by --every", v->per_cpu_sec,
		(unsigned long long)p->t->samples, (unsigned long long)v->missed, v->scale);
	if (v->missed)
		fprintf(p->out, "the per-CPU cap or the ring left samples out: the shares are less certain "
			"(the cap keeps the first sample after a gap, the 1-in-N draw is random); %s\n",
			v->every_auto ? "the traffic grew after the 1 in N was chosen"
				      : "raise --every, or leave it out to have it chosen from the rate");
	sf_fmt_rate(a, sizeof(a), tot->total);
	sf_fmt_rate(b, sizeof(b), tot->syn);
	sf_fmt_rate(c, sizeof(c), tot->bad_ack);
	fprintf(p->out, "total ~%s/s (SYN %s/s, bad ACK %s/s)\n\n", a, b, c);
	fprintf(p->out, "%4s  %-*s %9s %10s %9s %6s\n", "#", p->t->by == SF_TOP_SRC6 ? 44 : 20,
		p->t->by == SF_TOP_DPORT ? "DPORT" : "PREFIX", "SYN/s", "BADACK/s", "TOTAL/s", "SHARE");
}

static void text_row(struct top_printer *p, int rank, const char *key, const struct top_rates *r)
{
	char a[16], b[16], c[16];

	sf_fmt_rate(a, sizeof(a), r->syn);
	sf_fmt_rate(b, sizeof(b), r->bad_ack);
	sf_fmt_rate(c, sizeof(c), r->total);
	fprintf(p->out, "%4d  %-*s %9s %10s %9s %5.1f%%\n", rank, p->t->by == SF_TOP_SRC6 ? 44 : 20,
		key, a, b, c, r->share);
}

static void text_suggest(struct top_printer *p, int i, const char *cmd)
{
	if (!i)
		fprintf(p->out, "\nsuggested (not run: >= %.0f%% of the total and >= %.0f/s):\n",
			SF_TOP_SUGGEST_SHARE, SF_ATTACK_MIN_RATE);
	fprintf(p->out, "  %s\n", cmd);
}

static void text_end(struct top_printer *p)
{
	if (!p->t->n && !p->t->other_syn && !p->t->other_bad)
		fprintf(p->out, "%4s  (no SYNs or bad ACKs sampled)\n", "");
}

/* A number with up to 3 decimals and no trailing zeros. */
static void json_num(struct json_writer *jw, const char *name, double v)
{
	char buf[64];
	size_t n;

	snprintf(buf, sizeof(buf), "%.3f", v);
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[n - 1] = '\0';
	jw_name(jw, name);
	jw_raw(jw, buf);
}

static void json_rates(struct json_writer *jw, const struct top_rates *r)
{
	json_num(jw, "syn_per_s", r->syn);
	json_num(jw, "bad_ack_per_s", r->bad_ack);
	json_num(jw, "per_s", r->total);
}

static void json_head(struct top_printer *p, const struct top_rates *tot)
{
	const struct sf_top_view *v = p->v;
	struct json_writer *jw = &p->jw;

	jw_init(jw, p->out, v->pretty);
	jw_start_object(jw);
	jw_bool_field(jw, "estimate", true);
	json_num(jw, "interval_s", v->interval_s);
	jw_string_field(jw, "by", sf_top_by_name(p->t->by));
	if (p->t->by != SF_TOP_DPORT)
		jw_uint_field(jw, "prefix", p->t->by == SF_TOP_SRC4 ? p->t->prefix4 : p->t->prefix6);
	jw_string_or_null_field(jw, "interface", v->ifname);
	jw_uint_field(jw, "every", v->every);
	jw_bool_field(jw, "every_auto", v->every_auto);
	jw_uint_field(jw, "per_cpu_sec", v->per_cpu_sec);
	jw_uint_field(jw, "samples", p->t->samples);
	jw_uint_field(jw, "samples_missed", v->missed);
	json_num(jw, "scale", v->scale);
	jw_name(jw, "total");
	jw_start_object(jw);
	json_rates(jw, tot);
	jw_end_object(jw);
	jw_name(jw, "rows");
	jw_start_array(jw);
}

static void json_row(struct top_printer *p, int rank, const char *key, const struct top_rates *r)
{
	(void)rank;
	jw_start_object(&p->jw);
	jw_string_field(&p->jw, "key", key);
	json_rates(&p->jw, r);
	json_num(&p->jw, "share", r->share);
	jw_end_object(&p->jw);
}

static void json_suggest(struct top_printer *p, int i, const char *cmd)
{
	(void)i;
	if (!p->suggesting) {
		jw_end_array(&p->jw); /* rows */
		jw_name(&p->jw, "suggest");
		jw_start_array(&p->jw);
		p->suggesting = true;
	}
	jw_string(&p->jw, cmd);
}

static void json_end(struct top_printer *p)
{
	if (!p->suggesting) {
		jw_end_array(&p->jw);
		jw_name(&p->jw, "suggest");
		jw_start_array(&p->jw);
	}
	jw_end_array(&p->jw);
	jw_end_object(&p->jw);
	jw_finish(&p->jw);
}

static int by_total(const void *a, const void *b)
{
	const struct sf_top_entry *x = a, *y = b;
	double dx = x->syn + x->bad_ack, dy = y->syn + y->bad_ack;

	if (dx != dy)
		return dx < dy ? 1 : -1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static void key_text(const struct sf_top *t, const struct sf_top_entry *e, char *buf, size_t len)
{
	if (t->by == SF_TOP_DPORT)
		snprintf(buf, len, "%u", e->key.addr[0]);
	else
		sf_cidr_format(&e->key, buf, len);
}

static void rates_of(const struct sf_top_view *v, double syn, double bad, double total,
		     struct top_rates *r)
{
	double f = v->interval_s > 0 ? v->scale / v->interval_s : 0;

	r->syn = syn * f;
	r->bad_ack = bad * f;
	r->total = r->syn + r->bad_ack;
	r->share = total > 0 ? 100.0 * (syn + bad) / total : 0;
}

/* Whether e is worth a `synfence deny add` line: a prefix, big enough, not denied yet. */
static bool suggestible(const struct sf_top *t, const struct sf_top_view *v, const struct sf_top_entry *e,
			const struct top_rates *r)
{
	struct sf_list_val val;

	if (t->by == SF_TOP_DPORT || v->deny_fd < 0)
		return false;
	if (r->share < SF_TOP_SUGGEST_SHARE || r->total < SF_ATTACK_MIN_RATE)
		return false;
	return bpf_map_lookup_elem(v->deny_fd, &e->key, &val) != 0; /* LPM: any covering prefix */
}

static void print_all(struct top_printer *p, const struct sf_top_entry *rows)
{
	const struct sf_top *t = p->t;
	double total, syn = t->other_syn, bad = t->other_bad;
	struct top_rates r;
	char key[INET6_ADDRSTRLEN + 8], cmd[sizeof(key) + 32];
	int shown = p->v->rows < (int)t->n ? p->v->rows : (int)t->n, sugg = 0;

	for (size_t i = 0; i < t->n; i++) {
		syn += rows[i].syn;
		bad += rows[i].bad_ack;
	}
	total = syn + bad;
	rates_of(p->v, syn, bad, total, &r);
	r.share = total > 0 ? 100 : 0;
	p->head(p, &r);
	for (int i = 0; i < shown; i++) {
		rates_of(p->v, rows[i].syn, rows[i].bad_ack, total, &r);
		key_text(t, &rows[i], key, sizeof(key));
		p->row(p, i + 1, key, &r);
	}
	for (int i = 0; i < shown && sugg < SF_TOP_SUGGEST_MAX; i++) {
		rates_of(p->v, rows[i].syn, rows[i].bad_ack, total, &r);
		if (!suggestible(t, p->v, &rows[i], &r))
			continue;
		key_text(t, &rows[i], key, sizeof(key));
		snprintf(cmd, sizeof(cmd), "synfence deny add %s", key);
		p->suggest(p, sugg++, cmd);
	}
	p->end(p);
}

int sf_top_render(FILE *out, const struct sf_top *t, const struct sf_top_view *v)
{
	struct top_printer p = { .out = out, .t = t, .v = v };
	struct sf_top_entry *rows = malloc((t->n ? t->n : 1) * sizeof(*rows)); /* sorted copies */
	size_t n = 0;

	if (!rows) {
		sf_err("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++)
		if (t->tab[i].used)
			rows[n++] = t->tab[i];
	qsort(rows, n, sizeof(*rows), by_total);
	if (v->json) {
		p.head = json_head, p.row = json_row, p.suggest = json_suggest, p.end = json_end;
	} else {
		p.head = text_head, p.row = text_row, p.suggest = text_suggest, p.end = text_end;
	}
	print_all(&p, rows);
	free(rows);
	return 0;
}
