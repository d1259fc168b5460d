/* pkt.c - frame builder and parser for the unit tests (see pkt.h). */
#include <stdio.h>
#include <string.h>

#include "oracle.h"
#include "pkt.h"

uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Option script letters:
 *   M  MSS (kind 2, len 4, s->mss)          S  SACK permitted (4, 2)
 *   T  timestamps (8, 10, tsval, tsecr)     W  window scale (3, 3, s->ws)
 *   N  NOP                                  E  EOL
 *   U  an unknown option (kind 30 MPTCP MP_CAPABLE, len 4)
 * The result is padded with EOL (zero) bytes to a multiple of 4. */
static int build_opts(const struct pkt_spec *s, uint8_t *o)
{
	const char *c;
	int n = 0;

	if (s->rawopt) {
		memcpy(o, s->rawopt, (size_t)s->rawoptlen);
		n = s->rawoptlen;
	} else {
		for (c = s->opts; c && *c; c++) {
			switch (*c) {
			case 'M':
				o[n++] = 2; o[n++] = 4; wr16(o + n, s->mss); n += 2;
				break;
			case 'S':
				o[n++] = 4; o[n++] = 2;
				break;
			case 'T':
				o[n++] = 8; o[n++] = 10; wr32(o + n, s->tsval); wr32(o + n + 4, s->tsecr);
				n += 8;
				break;
			case 'W':
				o[n++] = 3; o[n++] = 3; o[n++] = s->ws;
				break;
			case 'N':
				o[n++] = 1;
				break;
			case 'E':
				o[n++] = 0;
				break;
			case 'U':
				o[n++] = 30; o[n++] = 4; o[n++] = 0x01; o[n++] = 0x81;
				break;
			default:
				return -1;
			}
			if (n > 40)
				return -1;
		}
	}
	while (n & 3)
		o[n++] = 0;
	return n > 40 ? -1 : n;
}

int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	uint8_t l4[PKT_MAX];
	int l4len = 0, optlen = 0, i, o = 0, l3, l4off, iphl;
	uint8_t proto;
	uint8_t nh_chain[PKT_MAX_V6DST + 3];
	int next_ext;

	if (cap < PKT_MAX)
		return -1;
	memset(buf, 0, cap);
	memset(l4, 0, sizeof(l4));

	/* L4 first (length needed by IP) */
	if (s->l4 == L4_TCP) {
		uint8_t opts[48];

		optlen = build_opts(s, opts);
		if (optlen < 0)
			return -1;
		wr16(l4, s->sport);
		wr16(l4 + 2, s->dport);
		wr32(l4 + 4, s->seq);
		wr32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((s->doff < 0 ? 0 : s->doff ? s->doff : 5 + optlen / 4) << 4);
		l4[13] = s->flags;
		wr16(l4 + 14, s->window ? s->window : 64240);
		memcpy(l4 + 20, opts, (size_t)optlen);
		l4len = 20 + optlen;
		proto = 6;
	} else if (s->l4 == L4_UDP) {
		wr16(l4, s->sport);
		wr16(l4 + 2, s->dport);
		l4len = 8;
		proto = 17;
	} else {
		l4[0] = s->family == 4 ? 8 : 128; /* echo request */
		wr16(l4 + 4, 0x4242);
		wr16(l4 + 6, 1);
		l4len = 8;
		proto = s->family == 4 ? 1 : 58;
	}
	for (i = 0; i < s->paylen; i++)
		l4[l4len + i] = (uint8_t)('a' + i % 26);
	l4len += s->paylen;

	/* Ethernet + tags */
	memcpy(buf, s->dmac, 6);
	memcpy(buf + 6, s->smac, 6);
	o = 12;
	for (i = 0; i < s->nvlan; i++) {
		wr16(buf + o, s->vlan[i].tpid);
		wr16(buf + o + 2, s->vlan[i].tci);
		o += 4;
	}
	wr16(buf + o, s->family == 4 ? ETH_P_IPV4 : ETH_P_IPV6_);
	o += 2;
	l3 = o;

	if (s->family == 4) {
		iphl = 20 + s->ipoptlen;
		buf[l3] = (uint8_t)(0x40 | (s->ihl < 0 ? 0 : s->ihl ? s->ihl : iphl / 4));
		buf[l3 + 1] = s->tos;
		wr16(buf + l3 + 2, (uint16_t)(s->tot_len ? s->tot_len : iphl + l4len));
		wr16(buf + l3 + 4, 0x1234);
		wr16(buf + l3 + 6, s->frag_set ? s->frag : 0x4000);
		buf[l3 + 8] = s->ttl ? s->ttl : 64;
		buf[l3 + 9] = proto;
		memcpy(buf + l3 + 12, s->saddr, 4);
		memcpy(buf + l3 + 16, s->daddr, 4);
		/* options: NOPs, then EOL in the last byte; a 4-byte "router alert" first when room */
		for (i = 0; i < s->ipoptlen; i++)
			buf[l3 + 20 + i] = 1;
		if (s->ipoptlen >= 8) {
			buf[l3 + 20] = 0x94; buf[l3 + 21] = 4; buf[l3 + 22] = 0; buf[l3 + 23] = 0;
		}
		if (s->ipoptlen)
			buf[l3 + 20 + s->ipoptlen - 1] = 0;
		wr16(buf + l3 + 10, oc_ip4_csum(buf + l3, (size_t)iphl));
		l4off = l3 + iphl;
	} else {
		int n = 0, ext = 0, ndst = s->v6ndst ? s->v6ndst : 1;

		if (ndst > PKT_MAX_V6DST)
			return -1;
		if (s->v6ext & V6X_HBH)
			nh_chain[n++] = 0;
		for (i = 0; (s->v6ext & V6X_DST) && i < ndst; i++)
			nh_chain[n++] = 60;
		if (s->v6ext & V6X_RH)
			nh_chain[n++] = 43;
		if (s->v6ext & V6X_FRAG)
			nh_chain[n++] = 44;
		buf[l3] = 0x60;
		buf[l3 + 6] = n ? nh_chain[0] : proto;
		buf[l3 + 7] = s->ttl ? s->ttl : 64;
		memcpy(buf + l3 + 8, s->saddr, 16);
		memcpy(buf + l3 + 24, s->daddr, 16);
		o = l3 + 40;
		for (i = 0; i < n; i++) {
			next_ext = i + 1 < n ? nh_chain[i + 1] : proto;
			buf[o] = (uint8_t)next_ext;
			if (nh_chain[i] == 44) {
				wr16(buf + o + 2, s->v6frag);
				wr32(buf + o + 4, 0xabcdef01);
			} else if (nh_chain[i] == 43) {
				/* SRH: length 2 (24 bytes), type 4, segments left 0, last entry 0,
				 * then the one segment: the destination */
				buf[o + 1] = 2;
				buf[o + 2] = 4;
				buf[o + 3] = s->v6rh_left;
				memcpy(buf + o + 8, s->daddr, 16);
				o += 16;
				ext += 16;
			} else {
				/* PadN of 6 bytes */
				buf[o + 2] = 1;
				buf[o + 3] = 4;
			}
			o += 8;
			ext += 8;
		}
		wr16(buf + l3 + 4, (uint16_t)(s->tot_len ? s->tot_len : ext + l4len));
		l4off = o;
	}
	if ((size_t)(l4off + l4len) > cap)
		return -1;
	memcpy(buf + l4off, l4, (size_t)l4len);

	/* L4 checksum */
	if (s->l4 == L4_TCP || s->l4 == L4_UDP) {
		int co = s->l4 == L4_TCP ? 16 : 6;
		uint16_t c;

		if (s->l4 == L4_UDP)
			wr16(buf + l4off + 4, (uint16_t)l4len);
		c = oc_l4_csum(s->family, s->saddr, s->daddr, proto, buf + l4off, (size_t)l4len,
			       (size_t)co);
		if (s->l4 == L4_UDP && c == 0)
			c = 0xffff;
		wr16(buf + l4off + co, c);
	} else if (s->family == 4) {
		wr16(buf + l4off + 2, oc_fold(oc_sum(0, buf + l4off, (size_t)l4len)));
	} else {
		wr16(buf + l4off + 2, oc_l4_csum(6, s->saddr, s->daddr, 58, buf + l4off,
						 (size_t)l4len, 2));
	}
	o = l4off + l4len;
	if (s->pad_to > o)
		o = s->pad_to;
	return o;
}

int pkt_build_arp(uint8_t *buf, size_t cap)
{
	static const uint8_t arp[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 198, 51, 100, 20,
	};

	if (cap < 60)
		return -1;
	memset(buf, 0, 60);
	memcpy(buf, arp, sizeof(arp));
	return 60;
}

static int parse_opts(const uint8_t *o, int n, struct pkt_parsed *p)
{
	int i = 0;

	while (i < n) {
		uint8_t kind = o[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			p->n_nop++;
			i++;
			continue;
		}
		if (i + 1 >= n) {
			snprintf(p->opterr, sizeof(p->opterr), "option %u without length at %d", kind, i);
			return -1;
		}
		len = o[i + 1];
		if (len < 2 || i + len > n) {
			snprintf(p->opterr, sizeof(p->opterr), "option %u bad length %u at %d", kind, len, i);
			return -1;
		}
		switch (kind) {
		case 2:
			if (len != 4)
				goto badlen;
			p->n_dup += p->has_mss;
			p->has_mss = 1;
			p->mss = rd16(o + i + 2);
			break;
		case 3:
			if (len != 3)
				goto badlen;
			p->n_dup += p->has_ws;
			p->has_ws = 1;
			p->ws = o[i + 2];
			break;
		case 4:
			if (len != 2)
				goto badlen;
			p->n_dup += p->has_sack;
			p->has_sack = 1;
			break;
		case 8:
			if (len != 10)
				goto badlen;
			p->n_dup += p->has_ts;
			p->has_ts = 1;
			p->tsval = rd32(o + i + 2);
			p->tsecr = rd32(o + i + 6);
			break;
		default:
			p->n_unknown++;
		}
		i += len;
	}
	return 0;
badlen:
	snprintf(p->opterr, sizeof(p->opterr), "option %u has length %u", o[i], o[i + 1]);
	return -1;
}

int pkt_parse(const uint8_t *b, int len, struct pkt_parsed *p, char *err, size_t errlen)
{
	int o = 12, l3, l4;
	uint16_t et;

	memset(p, 0, sizeof(*p));
	p->len = len;
	if (len < 14) {
		snprintf(err, errlen, "frame of %d bytes", len);
		return -1;
	}
	memcpy(p->dmac, b, 6);
	memcpy(p->smac, b + 6, 6);
	et = rd16(b + o);
	while (et == ETH_P_8021Q_ || et == ETH_P_8021AD_) {
		if (p->nvlan == 4 || o + 6 > len) {
			snprintf(err, errlen, "bad VLAN tags");
			return -1;
		}
		p->vlan[p->nvlan].tpid = et;
		p->vlan[p->nvlan].tci = rd16(b + o + 2);
		p->nvlan++;
		o += 4;
		et = rd16(b + o);
	}
	p->ethertype = et;
	l3 = p->l3off = o + 2;
	if (et == ETH_P_IPV4) {
		p->family = 4;
		if (l3 + 20 > len) {
			snprintf(err, errlen, "IPv4 header truncated");
			return -1;
		}
		p->ver = b[l3] >> 4;
		p->ihl = b[l3] & 15;
		p->tos = b[l3 + 1];
		p->tot_len = rd16(b + l3 + 2);
		p->id = rd16(b + l3 + 4);
		p->frag = rd16(b + l3 + 6);
		p->ttl = b[l3 + 8];
		p->proto = b[l3 + 9];
		memcpy(p->saddr, b + l3 + 12, 4);
		memcpy(p->daddr, b + l3 + 16, 4);
		if (p->ihl < 5 || l3 + p->ihl * 4 > len) {
			snprintf(err, errlen, "bad IHL %d", p->ihl);
			return -1;
		}
		p->ip_csum_ok = oc_fold(oc_sum(0, b + l3, (size_t)p->ihl * 4)) == 0;
		l4 = l3 + p->ihl * 4;
		p->tcp_len = p->tot_len - p->ihl * 4;
		if (p->proto != 6) {
			snprintf(err, errlen, "IPv4 protocol %u, not TCP", p->proto);
			return -1;
		}
	} else if (et == ETH_P_IPV6_) {
		uint8_t nh;
		int ext = 0;

		p->family = 6;
		if (l3 + 40 > len) {
			snprintf(err, errlen, "IPv6 header truncated");
			return -1;
		}
		p->ver = b[l3] >> 4;
		p->plen = rd16(b + l3 + 4);
		p->nexthdr = nh = b[l3 + 6];
		p->hlim = b[l3 + 7];
		memcpy(p->saddr, b + l3 + 8, 16);
		memcpy(p->daddr, b + l3 + 24, 16);
		l4 = l3 + 40;
		while (nh == 0 || nh == 43 || nh == 60 || nh == 44) {
			int hl;

			if (l4 + 8 > len) {
				snprintf(err, errlen, "IPv6 extension header truncated");
				return -1;
			}
			hl = nh == 44 ? 8 : (b[l4 + 1] + 1) * 8;
			nh = b[l4];
			l4 += hl;
			ext += hl;
			p->v6_ext = 1;
		}
		if (nh != 6) {
			snprintf(err, errlen, "IPv6 next header %u, not TCP", nh);
			return -1;
		}
		p->tcp_len = p->plen - ext;
	} else {
		snprintf(err, errlen, "ethertype %04x", et);
		return -1;
	}
	p->l4off = l4;
	if (l4 + 20 > len) {
		snprintf(err, errlen, "TCP header truncated");
		return -1;
	}
	p->sport = rd16(b + l4);
	p->dport = rd16(b + l4 + 2);
	p->seq = rd32(b + l4 + 4);
	p->ack = rd32(b + l4 + 8);
	p->doff = (b[l4 + 12] >> 4) * 4;
	p->res = b[l4 + 12] & 15;
	p->flags = b[l4 + 13];
	p->window = rd16(b + l4 + 14);
	p->csum = rd16(b + l4 + 16);
	p->urg = rd16(b + l4 + 18);
	if (p->doff < 20 || l4 + p->doff > len) {
		snprintf(err, errlen, "TCP data offset %d", p->doff);
		return -1;
	}
	if (p->tcp_len < p->doff || l4 + p->tcp_len > len) {
		snprintf(err, errlen, "TCP length %d from the IP header vs doff %d / frame %d",
			 p->tcp_len, p->doff, len - l4);
		return -1;
	}
	p->paylen = p->tcp_len - p->doff;
	p->tcp_csum_ok = oc_l4_csum(p->family, p->saddr, p->daddr, 6, b + l4, (size_t)p->tcp_len,
				    16) == p->csum;
	if (parse_opts(b + l4 + 20, p->doff - 20, p) < 0) {
		snprintf(err, errlen, "TCP options: %s", p->opterr);
		return -1;
	}
	return 0;
}

int pkt_find_tsopt(const uint8_t *b, int len)
{
	struct pkt_parsed p;
	char err[128];
	int i, n;
	const uint8_t *o;

	if (pkt_parse(b, len, &p, err, sizeof(err)) < 0)
		return -1;
	o = b + p.l4off + 20;
	n = p.doff - 20;
	for (i = 0; i < n;) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (o[i] == 8)
			return p.l4off + 20 + i;
		i += o[i + 1];
	}
	return -1;
}

int pkt_fix_csums(uint8_t *b, int len)
{
	struct pkt_parsed p;
	char err[128];

	if (pkt_parse(b, len, &p, err, sizeof(err)) < 0)
		return -1;
	if (p.family == 4)
		wr16(b + p.l3off + 10, oc_ip4_csum(b + p.l3off, (size_t)p.ihl * 4));
	wr16(b + p.l4off + 16, oc_l4_csum(p.family, p.saddr, p.daddr, 6, b + p.l4off,
					  (size_t)p.tcp_len, 16));
	return 0;
}
