/* synack.h - what synfence's SYN-ACK to a SYN must be, and the judge of a SYN-ACK against it: one
 * checker for the unit tests (test_xdp) and the BPF fuzzer. The caller describes the SYN from its
 * own parser (tests/unit/pkt.c, or the fuzzer's reference model); the SYN-ACK is parsed with the
 * strict parser of pkt.c, its checksums and cookie recomputed by the oracle (libsodium). */
#ifndef SF_TEST_SYNACK_H
#define SF_TEST_SYNACK_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "oracle.h"
#include "pkt.h"
#include "synfence.h"

/* The SYN, as the caller's parser read it. */
struct synack_syn {
	int family;                 /* 4 or 6 */
	uint8_t smac[6], dmac[6];
	int nvlan;
	struct vlan_tag vlan[4];    /* outermost first */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t seq;               /* the client's ISN */
	uint8_t flags;
	int has_mss, has_ws, sack, ts;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval;
};

/* What the SYN-ACK must carry. */
struct synack_expect {
	struct synack_syn syn;
	struct oc_params cp;        /* what synfence negotiates (and the cookie remembers) */
	uint32_t cookie, tsval;     /* the oracle's ISN and TSval for it */
};

/* The SYN as pkt_parse read it. */
void synack_syn_parsed(const struct pkt_parsed *p, struct synack_syn *s);
/* The negotiated parameters for the SYN under config c and the cookie made in epoch with
 * keys[epoch & 3] (the key slots of sf_secrets). */
void synack_expect(const struct synack_syn *s, const struct sf_config *c, uint32_t epoch,
		   const void *keys, struct synack_expect *x);
/* Judge the frame the program sent (metalen bytes of XDP metadata before it, none allowed):
 * appends a reason to why for every difference. Returns how many properties were checked. */
int synack_check(const struct synack_expect *x, const struct sf_config *c, const uint8_t *frame,
		 int len, int metalen, char *why, size_t wl);

#endif
