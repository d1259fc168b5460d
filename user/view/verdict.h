/* view/verdict.h - rates over a scope (one interface, "other", the total) and the three answers of
 * stats and status: under attack? working? anything legitimate hurt? */
#ifndef SF_VERDICT_H
#define SF_VERDICT_H

#include <stdbool.h>

#include "view/snapshot.h"

/* Counters of one column in cur, the same counters in prev (NULL: no rates). */
struct sf_scope {
	const char *name; /* interface name, "total" or "other" */
	const __u64 *c;
	const __u64 *p;
	double dt;        /* seconds between prev and cur (0: no rates) */
};

struct sf_scope sf_scope_total(const struct sf_snap *cur, const struct sf_snap *prev, double dt);
struct sf_scope sf_scope_other(const struct sf_snap *cur, const struct sf_snap *prev, double dt);
/* Interface i of cur, with its match in prev (same slot and ifindex). */
struct sf_scope sf_scope_if(const struct sf_snap *cur, const struct sf_snap *prev, int i, double dt);

bool sf_scope_has_rates(const struct sf_scope *s);
/* Per second over the scope's interval; NaN without rates or when the counter went back. */
double sf_scope_rate(const struct sf_scope *s, enum sf_counter i);
/* 1 when the scope is under attack (see SF_ATTACK_MIN_RATE), 0 when not, -1 without rates. */
int sf_scope_attacked(const struct sf_scope *s);

struct sf_verdict {
	bool rates;
	bool syn_flood, ack_flood;
	char attacked[256];          /* interfaces with an attack, comma separated */
	int working;                 /* 1 yes, 0 no, -1 cannot tell */
	int legit_ok;                /* 1 ok, 0 something legitimate may be hurt, -1 no rates */
	char attack_txt[320], working_txt[320], legit_txt[320];
};

/* The verdict on cur, with rates against prev over dt seconds (prev NULL: no rates). */
void sf_verdict_compute(const struct sf_snap *cur, const struct sf_snap *prev, double dt,
			struct sf_verdict *v);

#endif
