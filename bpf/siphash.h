/* siphash.h - SipHash-2-4 over little-endian 64-bit message words and a tail of up to 7 bytes. */
#ifndef SF_SIPHASH_H
#define SF_SIPHASH_H

#define SF_ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

#define SF_SIPROUND(v0, v1, v2, v3)                                                     \
	do {                                                                            \
		v0 += v1; v1 = SF_ROTL64(v1, 13); v1 ^= v0; v0 = SF_ROTL64(v0, 32);     \
		v2 += v3; v3 = SF_ROTL64(v3, 16); v3 ^= v2;                             \
		v0 += v3; v3 = SF_ROTL64(v3, 21); v3 ^= v0;                             \
		v2 += v1; v1 = SF_ROTL64(v1, 17); v1 ^= v2; v2 = SF_ROTL64(v2, 32);     \
	} while (0)

struct sf_sip {
	__u64 v0, v1, v2, v3;
};

static __always_inline void sf_sip_init(struct sf_sip *s, const __u64 key[2])
{
	s->v0 = key[0] ^ 0x736f6d6570736575ULL;
	s->v1 = key[1] ^ 0x646f72616e646f6dULL;
	s->v2 = key[0] ^ 0x6c7967656e657261ULL;
	s->v3 = key[1] ^ 0x7465646279746573ULL;
}

/* One 8-byte message block: two compression rounds ("2" of 2-4). */
static __always_inline void sf_sip_block(struct sf_sip *s, __u64 m)
{
	__u64 v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;

	v3 ^= m;
	SF_SIPROUND(v0, v1, v2, v3);
	SF_SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	s->v0 = v0; s->v1 = v1; s->v2 = v2; s->v3 = v3;
}

/* Finish a message whose last 0..7 bytes (little-endian) are in tail: the final block carries them
 * and the message length in its top byte. */
static __always_inline __u64 sf_sip_final(struct sf_sip *s, __u64 tail, __u64 msg_len)
{
	__u64 v0, v1, v2, v3;

	sf_sip_block(s, tail | msg_len << 56);
	v0 = s->v0; v1 = s->v1; v2 = s->v2 ^ 0xff; v3 = s->v3;
	SF_SIPROUND(v0, v1, v2, v3);
	SF_SIPROUND(v0, v1, v2, v3);
	SF_SIPROUND(v0, v1, v2, v3);
	SF_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

#endif
