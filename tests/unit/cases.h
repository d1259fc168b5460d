/* cases.h - test_xdp's case table: what a case is (scenario, frame, the final ACK's alterations,
 * config, expected verdicts and counter deltas), the shorthands the table is written in, and the
 * frames a case sends. The table itself is in cases.c. */
#ifndef SF_TEST_CASES_H
#define SF_TEST_CASES_H

#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#include "env.h"
#include "pkt.h"
#include "synfence.h"

#define TEST_EPOCH 5u /* the default current epoch (a case may set another) */

/* the environment every case runs in (test_xdp.c) */
extern struct env E;

enum scen {
	S_FRAME,    /* send pkt as built (dport 0 = the listener port, WPORT = the wildcard one) */
	S_ACK,      /* pkt is the client's SYN (never sent); send the final ACK with a cookie for it */
	S_RT,       /* round trip: send the SYN, build the ACK from the SYN-ACK, send it */
	S_EST,      /* an ACK of the real established connection on lo */
	S_ARP,
	S_ORACLE,   /* self-test of the oracle */
};

enum chk { CHK_AUTO, CHK_NONE, CHK_HANDOFF };

#define WPORT 1 /* pkt_spec.dport: the port of the wildcard listener (E.wport) */

struct ackmod {
	int epoch_delta;     /* cookie made in epoch E + epoch_delta */
	uint32_t flip;       /* XOR into the cookie */
	int32_t tsecr_delta;
	int sport_delta;     /* the ACK comes from another source port */
	int saddr_delta;     /* ... from another source address (last byte + this) */
	int daddr_delta;     /* ... goes to another destination address (last byte + this) */
	int to_wport;        /* ... goes to the wildcard listener's port (also protected) */
	int seq_delta;
	int no_ts;           /* the ACK has no TS option although TS was negotiated */
	int paylen;
	uint8_t flags;       /* 0: ACK */
	int to_nowhere;      /* address the ACK to 198.51.100.20:80 (no socket) */
	const uint8_t *rawopt; /* raw option bytes instead of the TS option */
	int rawoptlen;
	int doff;            /* override the data offset (0: computed) */
};

struct poke {
	int off;              /* byte offset in the built frame */
	uint8_t val;
};

struct tcase {
	const char *name;
	enum scen scen;
	struct pkt_spec pkt;
	struct ackmod am;
	uint32_t cfg_clear;   /* config flags cleared for this case */
	uint32_t cfg_set;     /* config flags set for this case (SF_CFG_MONITOR) */
	uint32_t monitor_epoch; /* sf_config.monitor_epoch for this case */
	uint64_t calm_slots;  /* sf_config.calm_slots (CALM: the test interface's slot is calm) */
	uint32_t engaged_epoch; /* sf_config.engaged_epoch for this case */
	int no_secret;        /* sf_secrets.epoch = 0 */
	uint32_t epoch;       /* current epoch for this case (0: TEST_EPOCH) */
	int npoke;            /* bytes overwritten after building (S_FRAME) */
	struct poke poke[4];
	int sweep;            /* truncate at every length 0 .. full-1 (one result line each) */
	int tc_only;          /* the frame goes to the TC program alone; delta: its counters */
	unsigned verdicts;    /* mask of 1 << XDP_* */
	enum chk chk;
	int8_t delta[SF_CNT_MAX];
	uint64_t dontcare;    /* counters not judged */
};

#define V_TX (1u << XDP_TX)
#define V_PASS (1u << XDP_PASS)
#define V_DROP (1u << XDP_DROP)
#define DC(x) (1ull << SF_CNT_##x)
#define D(x) [SF_CNT_##x] = 1

#define CLI_MAC { 0x02, 0xc1, 0x1e, 0x00, 0x00, 0x01 }
#define SRV_MAC { 0x02, 0x5e, 0x27, 0x00, 0x00, 0x02 }
#define CLI4 { 192, 0, 2, 10 }
#define SRV4 { 198, 51, 100, 20 }
#define CLI6 { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 }
#define SRV6 { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20 }
#define LO4 { 127, 0, 0, 1 }
#define PEER4 { 127, 0, 0, 2 }
#define LO6 { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }
#define PEER6 { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 }

/* A Linux-like SYN: MSS, SACK_PERM, TS (ecr 0), NOP, WS 10; TTL 55 so that a copied TTL shows. */
#define BASE_SYN .smac = CLI_MAC, .dmac = SRV_MAC, .sport = 40000, .seq = 0xdeadbeef,            \
		 .flags = TF_SYN, .opts = "MSTNW", .tsval = 0x11223344, .tsecr = 0, .ws = 10,    \
		 .window = 64240, .ttl = 55
#define SYN4(...) { .family = 4, BASE_SYN, .saddr = CLI4, .daddr = SRV4, .dport = 80,            \
		    .mss = 1460, __VA_ARGS__ }
#define SYN6(...) { .family = 6, BASE_SYN, .saddr = CLI6, .daddr = SRV6, .dport = 80,            \
		    .mss = 1440, __VA_ARGS__ }
/* SYNs (for ACK cases: the SYN the client is assumed to have sent) to the test's listener */
#define LSYN4(...) { .family = 4, BASE_SYN, .saddr = PEER4, .daddr = LO4, .dport = 0,            \
		     .sport = 41000, .mss = 1460, __VA_ARGS__ }
#define LSYN6(...) { .family = 6, BASE_SYN, .saddr = PEER6, .daddr = LO6, .dport = 0,            \
		     .sport = 41000, .mss = 1440, __VA_ARGS__ }
#define VLAN1 .nvlan = 1, .vlan = { { ETH_P_8021Q_, 0x0064 } }
#define QINQ .nvlan = 2, .vlan = { { ETH_P_8021AD_, 0x00c8 }, { ETH_P_8021Q_, 0x2064 } }
#define VLAN3 .nvlan = 3, .vlan = { { ETH_P_8021AD_, 0x00c8 }, { ETH_P_8021Q_, 0x2064 },         \
				    { ETH_P_8021Q_, 0x0033 } }

#define SYNACK_OK .verdicts = V_TX, .delta = { D(syn_recv), D(synack_sent) }
#define PASS_QUIET .verdicts = V_PASS
#define ACK_OK .verdicts = V_PASS, .chk = CHK_HANDOFF, .delta = { D(ack_cookie_ok) }
#define ACK_BAD_HASH .verdicts = V_DROP, .delta = { D(ack_cookie_bad), D(ack_bad_hash) }
#define ACK_BAD_EPOCH .verdicts = V_DROP, .delta = { D(ack_cookie_bad), D(ack_bad_epoch) }
#define MALFORMED .verdicts = V_DROP, .delta = { D(drop_malformed) }, .dontcare = DC(syn_recv)
#define ACK_MALFORMED .verdicts = V_DROP, .delta = { D(ack_cookie_bad), D(ack_bad_malformed) }
#define PASS_UNPROT .verdicts = V_PASS, .delta = { D(pass_unprotected) }
#define PASS_UNPARSED .verdicts = V_PASS, .delta = { D(pass_unparsed) }
/* TC alone (a frame XDP did not see): a test run is not at TC ingress, so a handoff it attempts
 * ends in the kfunc's EINVAL (see check_tc) */
#define TC_HANDOFF .tc_only = 1, .chk = CHK_HANDOFF, .delta = { D(handoff_err), D(handoff_err_einval) }
#define TC_REFUSED .tc_only = 1, .delta = { D(handoff_cookie_bad) }
#define TC_QUIET .tc_only = 1
/* engage = auto: the test interface calm; another interface calm (this one engaged) */
#define CALM .calm_slots = 1ull << 1
#define OTHER_CALM .calm_slots = 1ull << 2
_Static_assert(SF_CNT_MAX <= 64, "tcase.dontcare is a 64-bit mask of counters");

extern const struct tcase cases[];
extern const size_t ncases;

/* The monitor-mode twin of a case in t (named "monitor:NAME" in name, 128 bytes): the same frame
 * with SF_CFG_MONITOR set must pass untouched with the same counters, plus monitor_pass where the
 * case expects XDP_TX or XDP_DROP, and TC must hand nothing off (nor count anything). 0 when the
 * case has no twin (sweeps, round trips, the oracle, cases that set the flag themselves). */
int monitor_twin(const struct tcase *tc, struct tcase *t, char *name);
/* The default config and secrets (random keys, epoch TEST_EPOCH); 0 or -1. */
int cases_config_init(void);
/* The default config with the case's changes, written to the maps (exits when it cannot). */
void apply_case_config(const struct tcase *tc);
/* dport 0 and WPORT: the listener's and the wildcard listener's ports. */
void spec_fixup(struct pkt_spec *s);
/* The frame of a case (not S_ACK/S_RT) in buf (PKT_MAX bytes); its length or -1. */
int build_frame(const struct tcase *tc, uint8_t *buf);
/* S_ACK: the final ACK for the SYN tc->pkt, cookie from the oracle, then tc->am applied; m gets the
 * attributes TC must hand it off with. Its length, or -1 with a reason in why. */
int build_ack(const struct tcase *tc, uint8_t *buf, struct sf_handoff_attrs *m, char *why,
	      size_t wl);

#endif
