/* pkt.h - frame builder (Ethernet / 802.1Q / 802.1ad / IPv4 with options / IPv6 with extension
 * headers / TCP with options / UDP / ICMP / ARP) and a strict, independent frame parser for the
 * unit tests. */
#ifndef SF_TEST_PKT_H
#define SF_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048

/* TCP flag bits (byte 13 of the TCP header) */
#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_PSH 0x08
#define TF_ACK 0x10
#define TF_URG 0x20
#define TF_ECE 0x40
#define TF_CWR 0x80

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6_ 0x86dd
#define ETH_P_ARP_ 0x0806
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8

/* IPv6 extension headers (pkt_spec.v6ext), in this order: HBH, DST (v6ndst of them), RH, FRAG.
 * V6X_RH: a segment routing header (RFC 8754, type 4) with segments left 0, segment list = daddr. */
enum { V6X_HBH = 1, V6X_DST = 2, V6X_FRAG = 4, V6X_RH = 8 };
#define PKT_MAX_V6DST 8
enum { L4_TCP = 0, L4_UDP, L4_ICMP };

struct vlan_tag {
	uint16_t tpid;
	uint16_t tci;
};

struct pkt_spec {
	int family;                 /* 4 or 6 */
	uint8_t smac[6], dmac[6];
	int nvlan;                  /* 0..3, outermost first */
	struct vlan_tag vlan[3];
	uint8_t saddr[16], daddr[16];
	int l4;                     /* L4_TCP (default), L4_UDP, L4_ICMP */
	uint8_t ttl;                /* 0 -> 64 */
	uint8_t tos;
	int frag_set;               /* IPv4: use frag as the frag_off field; else DF */
	uint16_t frag;
	int ipoptlen;               /* IPv4 options (NOP-filled, EOL-terminated), multiple of 4 */
	int ihl;                    /* override IHL (0: computed, -1: 0) */
	int tot_len;                /* override IPv4 total length / IPv6 payload length (0: computed) */
	unsigned v6ext;             /* V6X_*: extension headers in order HBH, DST, RH, FRAG */
	int v6ndst;                 /* destination options headers with V6X_DST (0: 1; at most
				     * PKT_MAX_V6DST) */
	uint16_t v6frag;            /* fragment header offset/flags field (offset << 3 | M) */
	uint8_t v6rh_left;          /* V6X_RH: segments left (0: the destination is the last) */
	/* TCP / UDP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;            /* 0 -> 64240 */
	const char *opts;           /* option script: M S T N W E U (see pkt.c); NULL: none */
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	const uint8_t *rawopt;      /* raw option bytes instead of the script */
	int rawoptlen;
	int doff;                   /* override the data offset (0: computed, -1: 0) */
	int paylen;                 /* payload bytes */
	int pad_to;                 /* pad the Ethernet frame with zeros up to this length */
};

/* Build the frame; returns its length (> 0) or -1. */
int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap);
/* An ARP request (who-has) frame. */
int pkt_build_arp(uint8_t *buf, size_t cap);

/* --- parser --- */
struct pkt_parsed {
	int len;
	uint8_t dmac[6], smac[6];
	int nvlan;
	struct vlan_tag vlan[4];
	uint16_t ethertype;         /* after the tags */
	int family;
	int l3off, l4off;           /* offsets into the frame */
	/* IPv4 */
	int ver, ihl;
	uint8_t tos, ttl, proto;
	uint16_t tot_len, frag, id;
	int ip_csum_ok;
	/* IPv6 */
	uint16_t plen;
	uint8_t nexthdr, hlim;      /* first next header (before extension headers) */
	int v6_ext;                 /* extension headers present */
	uint8_t saddr[16], daddr[16];
	/* TCP */
	int tcp_len;                /* from the IP length fields */
	uint16_t sport, dport;
	uint32_t seq, ack;
	int doff;                   /* bytes */
	uint8_t flags, res;
	uint16_t window, csum, urg;
	int tcp_csum_ok;
	int paylen;
	/* options */
	int has_mss, has_sack, has_ts, has_ws;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	int n_unknown, n_dup, n_nop;
	char opterr[64];
};

/* Parse an Ethernet frame carrying IPv4/IPv6 + TCP. Returns 0, or -1 with a reason in err. Length
 * consistency (IP lengths vs frame) is not judged here: the caller compares. */
int pkt_parse(const uint8_t *buf, int len, struct pkt_parsed *p, char *err, size_t errlen);

/* Find the TCP timestamp option of a frame built by pkt_build (helper for mutating frames):
 * returns its offset in the frame or -1. */
int pkt_find_tsopt(const uint8_t *buf, int len);
/* Recompute the IPv4 header checksum and the TCP checksum of a frame in place (after a mutation). */
int pkt_fix_csums(uint8_t *buf, int len);

uint16_t rd16(const uint8_t *p);
uint32_t rd32(const uint8_t *p);
void wr16(uint8_t *p, uint16_t v);
void wr32(uint8_t *p, uint32_t v);

#endif
