/* forge.h - the forged-ACK classes of the forgery test, shared by the BPF generator
 * (sf_forge.bpf.c) and the userspace checker (forge.c), which recomputes every value with
 * libsodium. Only __u32/__u64 types: included by BPF C and by userspace. */
#ifndef SF_FORGE_H
#define SF_FORGE_H

#define FORGE_ACC_MAX   4096 /* accepted iterations recorded per run */
#define FORGE_L4_OFF    34   /* the forged frame: Ethernet + IPv4 without options + TCP */
#define FORGE_TSECR_OFF 28   /* TSecr in the TCP header of the timestamp frame (NOP NOP TS) */

enum forge_class {
	FC_RANDOM,       /* random ISN and cookie; the cookie's epoch bits right */
	FC_RANDOM_EPOCH, /* random ISN and cookie, epoch bits random too */
	FC_FOREIGN,      /* a well-formed cookie made with another server's secret */
	FC_REPLAY,       /* genuine cookies of epochs cur-2 and cur-3, their keys still in the map */
	FC_ISN_SWAP,     /* a genuine cookie of this server, for another client ISN, same tuple */
	FC_GENUINE,      /* control: genuine cookies of epochs cur and cur-1 (all must pass) */
	FC_N
};

struct forge_cfg {
	__u64 seed;
	__u32 cls;
	__u32 ts;        /* the frame carries a TS option (NOP NOP TS) */
	__u32 epoch;     /* the server's current epoch */
	__u32 saddr;     /* the tuple, network order */
	__u32 daddr;
	__u32 ports;     /* sport, dport as the first 4 bytes of the TCP header */
	__u32 slot;      /* synfence's counter slot for the test runs' ingress device */
	__u64 foreign[2];       /* another server's key */
	__u64 keys[4][2];       /* the server's keys, as in sf_secrets */
};

struct forge_vals {
	__u32 seq, ack, tsecr;
};

/* What to hash for iteration i: filled from two random words; hash_key < 0: no hash needed. */
struct forge_plan {
	__u32 seq, ack, tsecr; /* final unless a hash is needed */
	int hash_key;          /* 0..3: the server's key slot, 4: the foreign key */
	__u32 h_isn, h_epoch, h_info, low;
};

#ifndef FORGE_INLINE
#define FORGE_INLINE static inline
#endif

FORGE_INLINE void forge_plan(struct forge_plan *pl, const struct forge_cfg *c, __u64 r1, __u64 r2)
{
	__u32 cur = c->epoch, e, isn, low;

	pl->seq = (__u32)r1;
	pl->tsecr = (__u32)r2;
	pl->hash_key = -1;
	isn = (__u32)(r1 >> 32);
	/* random option bits (mss, wscale, sack, ecn) for the well-formed classes */
	low = (__u32)(r2 >> 32) & ((1u << 9) - 1);
	switch (c->cls) {
	case FC_RANDOM:
		isn = (isn & ~(3u << 9)) | (cur & 3) << 9;
		pl->ack = isn + 1;
		return;
	case FC_RANDOM_EPOCH:
		pl->ack = isn + 1;
		return;
	case FC_FOREIGN:
		e = cur;
		pl->hash_key = 4;
		pl->h_isn = pl->seq - 1;
		break;
	case FC_REPLAY:
		e = cur - 2 - (__u32)(r2 >> 63);
		pl->hash_key = (int)(e & 3);
		pl->h_isn = pl->seq - 1;
		break;
	case FC_ISN_SWAP:
		e = cur;
		pl->hash_key = (int)(e & 3);
		pl->h_isn = (pl->seq - 1) ^ ((__u32)r2 | 1); /* never the ISN the ACK claims */
		break;
	default: /* FC_GENUINE */
		e = cur - (__u32)(r2 >> 63);
		pl->hash_key = (int)(e & 3);
		pl->h_isn = pl->seq - 1;
	}
	pl->low = (e & 3) << 9 | low;
	pl->h_epoch = e;
	pl->h_info = pl->low | (c->ts ? (1u << 11) : 0);
}

FORGE_INLINE void forge_finish(struct forge_plan *pl, __u64 h)
{
	pl->ack = ((__u32)(h & 0x1fffff) << 11 | pl->low) + 1;
	pl->tsecr = (__u32)(h >> 32);
}

/* The two random words of iteration i. */
#define FORGE_R1(c, i, mix) mix((c)->seed ^ (__u64)(c)->cls << 56 ^ (__u64)(c)->ts << 48 ^ (i) * 2)
#define FORGE_R2(c, i, mix) mix((c)->seed ^ (__u64)(c)->cls << 56 ^ (__u64)(c)->ts << 48 ^ ((i) * 2 + 1))

#endif
