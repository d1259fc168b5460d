/* gen.h - the BPF fuzzer's inputs: a deterministic PRNG, the selector byte (the config and secrets
 * an input runs under), the structure-aware generator of frames of every shape (valid SYNs, final
 * ACKs with valid cookies, the established connection's segments, other traffic) and the
 * layer-aware mutator. An input (a corpus file) is one selector byte + the frame. */
#ifndef SF_FUZZ_GEN_H
#define SF_FUZZ_GEN_H

#include <stdint.h>

#define MAX_FRAME 1600

/* splitmix64 */
struct rng {
	uint64_t s;
};

uint64_t rnd64(struct rng *r);
uint32_t rnd(struct rng *r, uint32_t n); /* 0..n-1 */
int pct(struct rng *r, unsigned p);      /* true p% of the time */

/* sel: bit 0..3 TIMESTAMPS, SACK, WSCALE, ECN cleared when set; bits 4..5 secret variant (epoch 5,
 * 1, 0xfffffff2, none); bit 6 program disabled; bit 7 other MSS/window/wscale/TTL; bits 6 and 7
 * both set: monitor mode (see gen.c). */
uint32_t sel_epoch(uint8_t sel);
/* Write the config and secrets sel stands for (when not in force already). 0 or -1. */
int sel_apply(uint8_t sel);
/* fuzz_bpf --limit BURST: every selector's config also has the per-source SYN limits on (1 SYN/s,
 * this burst, /32 and /64, fixed hash multipliers); 0: off (the default) */
extern unsigned long gen_limit_burst;

/* A fresh input in buf (selector byte first); returns its total length. */
int gen(struct rng *g, uint8_t *buf, int cap);
/* Layer-aware mutations of a frame (selector byte excluded). Returns the new length. */
int mutate(struct rng *g, uint8_t *f, int len, int cap);

#endif
