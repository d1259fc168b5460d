/* model.h - the BPF fuzzer's reference model: what the specification (README, include/synfence.h,
 * the protocol rules) says the XDP and TC programs must do with a frame, written here from those
 * rules and sharing no code with bpf/: the frame as the spec parses it, which socket the kernel's
 * lookup finds, the cookie check (libsodium, tests/unit/oracle.c), the flow cache, and from those
 * the verdict, the counter deltas and TC's handoff decision. */
#ifndef SF_FUZZ_MODEL_H
#define SF_FUZZ_MODEL_H

#include <stdint.h>
#include <linux/bpf.h>

#include "env.h"
#include "oracle.h"
#include "synfence.h"

/* the environment the frames run in (fuzz_bpf.c): its listener, connection, config and secrets */
extern struct env E;

/* RT_UNPARSED: IPv4/IPv6 whose IP or TCP header cannot be read (cut, bad version or IHL, more
 * than 4 IPv6 extension headers); another ethertype or protocol is RT_NOT_TCP. */
enum { RT_NOT_TCP, RT_TCP, RT_FRAG, RT_UNPARSED };

struct ref {
	int kind;                 /* RT_* */
	int family, nvlan, l3, l4;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	int doff;                 /* bytes */
	int hdr_ok;               /* doff >= 20 and the whole header inside the frame */
	int opts_ok;              /* options well-formed (RFC 9293 3.1: kind, length >= 2, no overrun) */
	int has_mss, has_ws, sack, ts;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	int len_mismatch;         /* IP length field disagrees with the frame (not judged by XDP) */
};

void ref_parse(const uint8_t *b, int len, struct ref *r);

/* Which socket the kernel's lookup finds for the segment (the namespace holds only ours). */
enum { SK_NONE, SK_LISTENER, SK_EST };
int ref_socket(const struct ref *r);
void ref_tuple(const struct ref *r, uint32_t isn, struct oc_tuple *t);

/* The check of a segment only a listener would get, in the spec's order: the whole TCP header, a
 * secret, well-formed options, then the cookie (libsodium). On ACK_VALID, cp is what the cookie
 * remembers. */
enum { ACK_VALID, ACK_NO_SECRET, ACK_MALFORMED, ACK_BAD_HASH, ACK_BAD_EPOCH };
int ref_ack(const struct ref *r, struct oc_params *cp);

/* The flow cache: the index of the flow's entry or -1; remember (after a segment met a socket
 * other than a listener); forget entry i (a SYN); forget them all (the cache emptied). */
int mflow_find(const struct ref *r);
void mflow_remember(const struct ref *r);
void mflow_forget(int i);
void mflow_clear(void);

#define C(x) SF_CNT_##x /* a counter's index, in the deltas below */

/* What the XDP program must do with a frame. */
struct expect {
	const char *path;      /* the path in the spec, for statistics and messages */
	unsigned verdict;
	int8_t d[SF_CNT_MAX];  /* exact counter deltas */
	int synack;            /* XDP_TX with this SYN-ACK */
	int valid;             /* a valid cookie ACK to the listener: passed, then TC's to hand off */
	struct oc_params cp;   /* negotiated (synack) or decoded (valid) */
	int sock;
	int remember, forget;  /* the flow is cached / uncached after it */
};

/* What the TC program must then do with the same frame. */
struct tc_expect {
	const char *path;
	int8_t d[SF_CNT_MAX];
	int handoff;           /* attempts a handoff, with these attributes */
	struct sf_handoff_attrs attrs;
	int remember;
};

/* The allow and deny lists the fuzzer installs at setup (fuzz_bpf.c writes them into sf_allow and
 * sf_deny; the model matches them itself): a few prefixes inside the generator's source ranges,
 * a host allowed inside a denied prefix, and an expired live entry that must be ignored. */
struct mlist {
	int family, deny, len, expired; /* len: prefix length in bits of the family's address */
	uint8_t addr[16];
};
extern const struct mlist mlists[];
extern const int n_mlists;

void expect_frame(const struct ref *r, struct expect *x);
/* The per-source SYN limits (bpf/limit.h), which the model cannot predict exactly (time, hashing):
 * after expect_frame, given whether the run counted drop_rate_limited. A SYN the limiter checked is
 * counted per source prefix; "limited" is an allowed outcome only once the model has counted at
 * least burst SYNs of the prefix (the real count is at most that: retransmissions pass uncounted,
 * and time only adds tokens), and then x becomes that outcome (path syn/limited). */
void expect_limit(const struct ref *r, struct expect *x, int limited);
/* TC sees the frame after XDP (the flow cache as XDP left it). */
void expect_tc(const struct ref *r, struct tc_expect *t);
/* engage = auto: the test interface (ENV_SLOT) is calm (sf_config.calm_slots). */
int model_calm(void);
/* TC hands off only valid cookies of an epoch <= *limit (monitor mode: monitor_epoch; a calm
 * interface: engaged_epoch): 1, else 0 (every valid cookie). */
int model_handoff_limited(uint32_t *limit);

#endif
