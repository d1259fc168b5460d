/* sfi_limit_sim.c - test tool: the false positives of the per-source SYN limiter (bpf/limit.h) under
 * a flood of random sources, by simulation (the same sketch: 2 rows of 2^18 GCRA cells, min over
 * the rows, conservative update, random odd multipliers).
 *
 *   sfi_limit_sim RATE BURST LOAD SECONDS
 *
 * A flood of LOAD * 2^18 * RATE SYNs a second, each from a new random source, and 10000 real
 * clients that each send SYNs at RATE/2, evenly, for SECONDS. Prints how many of the clients' SYNs
 * (and of the flood's) the limiter would drop. Time is exact here; in BPF it is the coarse clock
 * (a tick) and CPUs can race on a cell, which both only let more SYNs through. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BITS 18
#define COLS (1u << BITS)
#define CLIENTS 10000

static uint64_t cells[2 * COLS];
static uint64_t mul[2];
static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* bpf/limit.h's sf_limit_syn without the retransmission check: 1 when limited */
static int syn(uint64_t key, uint64_t now, uint64_t t, uint64_t tau)
{
	uint64_t *c0 = &cells[(key * mul[0]) >> (64 - BITS)];
	uint64_t *c1 = &cells[COLS + ((key * mul[1]) >> (64 - BITS))];
	uint64_t t0 = *c0 > now ? *c0 : now, t1 = *c1 > now ? *c1 : now;
	uint64_t est = t0 < t1 ? t0 : t1;

	if (est - now > tau)
		return 1;
	if (*c0 < est + t)
		*c0 = est + t;
	if (*c1 < est + t)
		*c1 = est + t;
	return 0;
}

int main(int argc, char **argv)
{
	double rate, load, secs, flood, next_f, next_c, end;
	uint64_t t, tau, n_c = 0, lim_c = 0, n_f = 0, lim_f = 0;
	long burst;

	if (argc != 5 || (rate = atof(argv[1])) <= 0 || (burst = atol(argv[2])) < 1 ||
	    (load = atof(argv[3])) <= 0 || (secs = atof(argv[4])) <= 0) {
		fprintf(stderr, "usage: %s RATE BURST LOAD SECONDS\n", argv[0]);
		return 2;
	}
	t = (uint64_t)(1e9 / rate);
	tau = (uint64_t)(burst - 1) * t;
	flood = load * COLS * rate;
	mul[0] = rnd() | 1;
	mul[1] = rnd() | 1;
	next_f = next_c = 1e9;
	end = 1e9 + secs * 1e9;
	while (next_f < end || next_c < end) {
		if (next_f <= next_c) {
			lim_f += (uint64_t)syn(rnd() | 1ull << 40, (uint64_t)next_f, t, tau);
			n_f++;
			next_f += 1e9 / flood;
		} else {
			lim_c += (uint64_t)syn(0x0a000000ull + n_c % CLIENTS, (uint64_t)next_c, t, tau);
			n_c++;
			next_c += 1e9 / (rate / 2 * CLIENTS);
		}
	}
	printf("rate %g/s burst %ld load %g (flood %.0f SYN/s, %g s): client SYNs %llu limited %llu "
	       "(%.4f %%); flood SYNs %llu limited %llu\n", rate, burst, load, flood, secs,
	       (unsigned long long)n_c, (unsigned long long)lim_c, 100.0 * (double)lim_c / (double)n_c,
	       (unsigned long long)n_f, (unsigned long long)lim_f);
	return 0;
}
