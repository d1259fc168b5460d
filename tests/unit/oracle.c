/* oracle.c - independent checksum and cookie computations (see oracle.h). */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <linux/types.h>

#include "synfence.h"
#include "oracle.h"

uint32_t oc_sum(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint16_t oc_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t oc_ip4_csum(const uint8_t *ip, size_t hdr_len)
{
	uint32_t sum = 0;

	sum = oc_sum(sum, ip, 10);
	if (hdr_len > 12)
		sum = oc_sum(sum, ip + 12, hdr_len - 12);
	return oc_fold(sum);
}

uint16_t oc_l4_csum(int family, const uint8_t *saddr, const uint8_t *daddr, uint8_t proto,
		    const uint8_t *seg, size_t len, size_t csum_off)
{
	uint8_t ph[40];
	size_t phlen;
	uint32_t sum = 0;

	if (family == 4) {
		memcpy(ph, saddr, 4);
		memcpy(ph + 4, daddr, 4);
		ph[8] = 0;
		ph[9] = proto;
		ph[10] = (uint8_t)(len >> 8);
		ph[11] = (uint8_t)len;
		phlen = 12;
	} else {
		memcpy(ph, saddr, 16);
		memcpy(ph + 16, daddr, 16);
		ph[32] = (uint8_t)(len >> 24);
		ph[33] = (uint8_t)(len >> 16);
		ph[34] = (uint8_t)(len >> 8);
		ph[35] = (uint8_t)len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = proto;
		phlen = 40;
	}
	sum = oc_sum(sum, ph, phlen);
	/* segment with the checksum field skipped (csum_off is even, so word alignment holds) */
	sum = oc_sum(sum, seg, csum_off);
	if (len > csum_off + 2)
		sum = oc_sum(sum, seg + csum_off + 2, len - csum_off - 2);
	return oc_fold(sum);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

size_t oc_cookie_msg(const struct oc_tuple *t, uint32_t epoch, uint32_t info, uint8_t *msg)
{
	size_t alen = t->family == 4 ? 4 : 16, o = 0;

	memcpy(msg + o, t->saddr, alen);
	o += alen;
	memcpy(msg + o, t->daddr, alen);
	o += alen;
	put_be16(msg + o, t->sport);
	o += 2;
	put_be16(msg + o, t->dport);
	o += 2;
	put_be32(msg + o, t->isn);
	o += 4;
	/* the 7-byte tail: info | epoch << 12, little-endian */
	put_le(msg + o, (uint64_t)info | (uint64_t)epoch << 12, 7);
	o += 7;
	return o;
}

uint64_t oc_siphash(const uint8_t key[16], const uint8_t *msg, size_t len)
{
	unsigned char out[crypto_shorthash_siphash24_BYTES];
	uint64_t h = 0;
	int i;

	crypto_shorthash_siphash24(out, msg, len, key);
	for (i = 7; i >= 0; i--)
		h = h << 8 | out[i];
	return h;
}

uint32_t oc_cookie_low(const struct oc_params *p)
{
	return (p->epoch & 3u) << SF_COOKIE_EPOCH_SHIFT | (p->mss_idx & 7u) << SF_COOKIE_MSS_SHIFT |
	       (p->ws & 15u) << SF_COOKIE_WS_SHIFT | (p->sack & 1u) << SF_COOKIE_SACK_SHIFT |
	       (p->ecn & 1u) << SF_COOKIE_ECN_SHIFT;
}

uint32_t oc_cookie(const uint8_t key[16], const struct oc_tuple *t, const struct oc_params *p,
		   uint32_t *tsval)
{
	uint8_t msg[64];
	uint32_t low = oc_cookie_low(p);
	uint32_t info = (low & SF_COOKIE_INFO_MASK) | (p->ts ? SF_COOKIE_TS_BIT : 0);
	size_t len = oc_cookie_msg(t, p->epoch, info, msg);
	uint64_t h = oc_siphash(key, msg, len);

	if (tsval)
		*tsval = (uint32_t)(h >> 32);
	return (uint32_t)(h & 0x1fffff) << SF_COOKIE_HASH_SHIFT | low;
}

int oc_ack_check(const struct oc_tuple *t, uint32_t ack, int ts, uint32_t tsecr, uint32_t cur,
		 const void *keys, struct oc_params *p)
{
	uint32_t isn = ack - 1, bits = isn >> SF_COOKIE_EPOCH_SHIFT & 3, ep;
	uint32_t info = (isn & SF_COOKIE_INFO_MASK) | (ts ? SF_COOKIE_TS_BIT : 0);
	uint8_t msg[64];
	uint64_t h;

	/* the epoch bits name the current epoch or the one before; epoch 0 never had a key */
	if (bits == (cur & 3))
		ep = cur;
	else if (bits == ((cur - 1) & 3))
		ep = cur - 1;
	else
		return OC_ACK_BAD_EPOCH;
	if (ep == 0)
		return OC_ACK_BAD_EPOCH;
	h = oc_siphash((const uint8_t *)keys + 16 * (ep & 3), msg, oc_cookie_msg(t, ep, info, msg));
	if (isn >> SF_COOKIE_HASH_SHIFT != (uint32_t)(h & 0x1fffff) ||
	    (ts && tsecr != (uint32_t)(h >> 32)))
		return OC_ACK_BAD_HASH;
	p->epoch = ep;
	p->mss_idx = isn >> SF_COOKIE_MSS_SHIFT & 7;
	p->ws = isn >> SF_COOKIE_WS_SHIFT & 15;
	p->sack = isn >> SF_COOKIE_SACK_SHIFT & 1;
	p->ecn = isn >> SF_COOKIE_ECN_SHIFT & 1;
	p->ts = ts != 0;
	return OC_ACK_OK;
}

void oc_handoff_attrs(const struct oc_params *p, int ts, uint32_t tsval, uint32_t tsecr,
		      unsigned rcv_wscale, struct sf_handoff_attrs *a)
{
	int ws = p->ws != SF_COOKIE_WS_NONE;

	memset(a, 0, sizeof(*a));
	a->mss = (__u16)oc_mss_value(p->mss_idx);
	a->tstamp_ok = ts != 0;
	a->rcv_tsval = ts ? tsval : 0;
	a->rcv_tsecr = ts ? tsecr : 0;
	a->sack_ok = (__u8)p->sack;
	a->wscale_ok = ws;
	a->snd_wscale = ws ? (__u8)p->ws : 0;
	a->rcv_wscale = ws ? (__u8)rcv_wscale : 0;
	a->ecn_ok = (__u8)p->ecn;
}

int oc_handoff_diff(const struct sf_handoff_attrs *want, const struct sf_handoff_attrs *got,
		    char *buf, size_t n)
{
#define F(f) { #f, want->f, got->f }
	const struct {
		const char *name;
		unsigned long long want, got;
	} f[] = { F(mss), F(tstamp_ok), F(rcv_tsval), F(rcv_tsecr), F(sack_ok), F(wscale_ok),
		  F(snd_wscale), F(rcv_wscale), F(ecn_ok), F(usec_ts_ok), F(reserved[0]),
		  F(reserved[1]), F(reserved[2]) };
#undef F
	size_t i, o = 0;
	int bad = 0;

	if (n)
		buf[0] = 0;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].want == f[i].got)
			continue;
		bad++;
		if (o < n)
			o += (size_t)snprintf(buf + o, n - o, "%shandoff %s %llu (%#llx), want %llu (%#llx)",
					      o ? ", " : "", f[i].name, f[i].got, f[i].got,
					      f[i].want, f[i].want);
	}
	return bad;
}

#define SF_MSS_ENTRY(idx, mss) [idx] = mss,
static const unsigned mss_table[] = { SF_MSS_VALUES(SF_MSS_ENTRY) };
#undef SF_MSS_ENTRY
#define MSS_TABLE_LEN (sizeof(mss_table) / sizeof(mss_table[0]))

unsigned oc_mss_idx(int mss, int family)
{
	unsigned i, idx = 0;

	if (mss >= 0)
		for (i = 0; i < MSS_TABLE_LEN; i++)
			if (mss_table[i] <= (unsigned)mss)
				idx = i;
	if (family == 6 && idx < SF_MSS_IDX_MIN_V6)
		idx = SF_MSS_IDX_MIN_V6;
	return idx;
}

unsigned oc_mss_value(unsigned idx)
{
	return mss_table[idx & 7];
}

int oc_selftest(char *why, size_t whylen)
{
	/* SipHash-2-4 reference vector (Aumasson & Bernstein, appendix A): key 00..0f, message
	 * 00..0e -> a129ca6149be45e5. */
	uint8_t key[16], msg[15];
	uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			   0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint64_t h;
	uint16_t c;
	int i;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	h = oc_siphash(key, msg, sizeof(msg));
	if (h != 0xa129ca6149be45e5ull) {
		snprintf(why, whylen, "siphash vector: got %016llx", (unsigned long long)h);
		return -1;
	}
	c = oc_ip4_csum(ip, 20);
	if (c != 0xb861) {
		snprintf(why, whylen, "ipv4 checksum example: got %04x want b861", c);
		return -1;
	}
	if (oc_fold(oc_sum(0, ip, 20)) != 0) {
		snprintf(why, whylen, "ipv4 checksum verify-by-sum failed");
		return -1;
	}
	if (MSS_TABLE_LEN != 8 || oc_mss_idx(-1, 4) != 0 || oc_mss_idx(1460, 4) != 6 ||
	    oc_mss_idx(1459, 4) != 5 || oc_mss_idx(65535, 4) != 7 || oc_mss_idx(100, 4) != 0 ||
	    oc_mss_idx(1220, 4) != 1 || oc_mss_idx(-1, 6) != 1 || oc_mss_idx(536, 6) != 1) {
		snprintf(why, whylen, "mss index table");
		return -1;
	}
	return 0;
}
