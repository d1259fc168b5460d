/* oracle.h - independent reference computations for the unit tests: Internet checksums (RFC 1071,
 * computed from scratch over the packet bytes) and the synfence cookie (SipHash-2-4 from libsodium
 * over the exact message layout of include/synfence.h). Nothing here shares code with the BPF. */
#ifndef SF_TEST_ORACLE_H
#define SF_TEST_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* --- checksums --- */
/* One's-complement sum of len bytes (big-endian 16-bit words, odd byte padded), added to sum. */
uint32_t oc_sum(uint32_t sum, const void *data, size_t len);
/* Fold and complement: the value to store in a checksum field. */
uint16_t oc_fold(uint32_t sum);
/* IPv4 header checksum over hdr_len bytes, the checksum field (bytes 10..11) taken as zero.
 * Returned in host order. */
uint16_t oc_ip4_csum(const uint8_t *ip, size_t hdr_len);
/* TCP/UDP checksum with the pseudo header (family 4 or 6), over len bytes of the segment, the
 * checksum field at csum_off taken as zero. Returned in host order. */
uint16_t oc_l4_csum(int family, const uint8_t *saddr, const uint8_t *daddr, uint8_t proto,
		    const uint8_t *seg, size_t len, size_t csum_off);

/* --- cookie --- */
struct oc_tuple {
	int family;          /* 4 or 6 */
	uint8_t saddr[16];   /* the client's (SYN source) address, wire order */
	uint8_t daddr[16];   /* the server's address */
	uint16_t sport;      /* host order; serialised big-endian */
	uint16_t dport;
	uint32_t isn;        /* the client's ISN, host order; serialised big-endian */
};

struct oc_params {
	uint32_t epoch;      /* full epoch number the cookie is made in */
	unsigned mss_idx;    /* 0..7 */
	unsigned ws;         /* 0..14, or 15 = no window scaling */
	unsigned sack;       /* 0/1 */
	unsigned ecn;        /* 0/1 */
	unsigned ts;         /* 0/1: timestamps negotiated (SF_COOKIE_TS_BIT in info) */
};

/* Build the SipHash message exactly as the header describes; returns its length (24 or 48). */
size_t oc_cookie_msg(const struct oc_tuple *t, uint32_t epoch, uint32_t info, uint8_t *msg);
/* SipHash-2-4 (libsodium crypto_shorthash_siphash24) with the 16-byte key k0||k1 (little-endian
 * words, i.e. the bytes of sf_secrets.key[e] on a little-endian host); output as a LE u64. */
uint64_t oc_siphash(const uint8_t key[16], const uint8_t *msg, size_t len);
/* The ISN our SYN-ACK must carry; *tsval gets h >> 32 (meaningful when p->ts). */
uint32_t oc_cookie(const uint8_t key[16], const struct oc_tuple *t, const struct oc_params *p,
		   uint32_t *tsval);
/* Low 11 bits (epoch&3, mss_idx, ws, sack, ecn) of a cookie. */
uint32_t oc_cookie_low(const struct oc_params *p);
/* Index of the largest SF_MSS_VALUES entry <= mss; mss < 0 means "no MSS option" (-> 536, idx 0);
 * an MSS below 536 also gives index 0; over IPv6 (family 6) at least SF_MSS_IDX_MIN_V6 (1220). */
unsigned oc_mss_idx(int mss, int family);
unsigned oc_mss_value(unsigned idx);

/* --- the final ACK: the server's verdict, and what TC then hands to the kernel --- */
enum oc_ack { OC_ACK_OK, OC_ACK_BAD_HASH, OC_ACK_BAD_EPOCH };
/* The final-ACK check of include/synfence.h. t: the connection's tuple, t->isn the client's ISN
 * (the ACK's seq - 1); ack: the ACK's acknowledgment number; ts, tsecr: its TS option (ts 0: none);
 * cur: the current epoch; keys: the four 16-byte key slots, as in sf_secrets.key. On OC_ACK_OK, *p
 * gets what the cookie remembers of the handshake (p->ts = ts). */
int oc_ack_check(const struct oc_tuple *t, uint32_t ack, int ts, uint32_t tsecr, uint32_t cur,
		 const void *keys, struct oc_params *p);

struct sf_handoff_attrs;
/* The attributes of bpf_sk_assign_tcp_reqsk for a final ACK whose cookie decodes to p; ts, tsval,
 * tsecr: the ACK's TS option (ts 0: none); rcv_wscale: ours (sf_config.rcv_wscale). */
void oc_handoff_attrs(const struct oc_params *p, int ts, uint32_t tsval, uint32_t tsecr,
		      unsigned rcv_wscale, struct sf_handoff_attrs *a);
/* Names each field in which got differs from want, with both values, in buf ("" if none);
 * returns how many differ. */
int oc_handoff_diff(const struct sf_handoff_attrs *want, const struct sf_handoff_attrs *got,
		    char *buf, size_t n);

/* Known-answer self-tests of the oracle itself (SipHash reference vector, RFC 1071 example).
 * Returns 0 when fine, else writes a reason. */
int oc_selftest(char *why, size_t whylen);

#endif
