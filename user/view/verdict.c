/* view/verdict.c - rates per scope and the verdict: attack, then working, then legit. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "view/render.h"
#include "view/verdict.h"

struct sf_scope sf_scope_total(const struct sf_snap *cur, const struct sf_snap *prev, double dt)
{
	return (struct sf_scope){ "total", cur->total, prev ? prev->total : NULL, dt };
}

struct sf_scope sf_scope_other(const struct sf_snap *cur, const struct sf_snap *prev, double dt)
{
	return (struct sf_scope){ "other", cur->other, prev ? prev->other : NULL, dt };
}

struct sf_scope sf_scope_if(const struct sf_snap *cur, const struct sf_snap *prev, int i, double dt)
{
	const struct sf_snap_if *pi = sf_snap_match_if(prev, &cur->ifs[i]);

	return (struct sf_scope){ cur->ifs[i].name, cur->ifs[i].c, pi ? pi->c : NULL, dt };
}

bool sf_scope_has_rates(const struct sf_scope *s) { return s->p && s->dt > 0; }

double sf_scope_rate(const struct sf_scope *s, enum sf_counter i)
{
	if (!s->p || s->dt <= 0 || s->c[i] < s->p[i]) /* counters never go back, unless restarted */
		return NAN;
	return (double)(s->c[i] - s->p[i]) / s->dt;
}

static bool is_flood(double bad, double done)
{
	return bad >= SF_ATTACK_MIN_RATE && bad >= SF_ATTACK_RATIO * done;
}

static bool is_syn_flood(const struct sf_scope *s)
{
	return is_flood(sf_scope_rate(s, SF_CNT_syn_recv), sf_scope_rate(s, SF_CNT_ack_cookie_ok));
}

static bool is_ack_flood(const struct sf_scope *s)
{
	return is_flood(sf_scope_rate(s, SF_CNT_ack_cookie_bad), sf_scope_rate(s, SF_CNT_ack_cookie_ok));
}

int sf_scope_attacked(const struct sf_scope *s)
{
	if (!sf_scope_has_rates(s))
		return -1;
	return is_syn_flood(s) || is_ack_flood(s);
}

/* The text of one answer; a long list of interface names is cut. */
__attribute__((format(printf, 3, 4)))
static void answer(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void add_name(char *list, size_t len, const char *name)
{
	size_t n = strlen(list);

	snprintf(list + n, len - n, "%s%s", n ? ", " : "", name);
}

/* ---- am I under attack? ---------------------------------------------------------------------- */

static void verdict_attack(const struct sf_snap *cur, const struct sf_snap *prev,
			   const struct sf_scope *t, struct sf_verdict *v)
{
	char syn[32], ok[32], bad[32];

	if (!v->rates) {
		answer(v->attack_txt, sizeof(v->attack_txt), "unknown: no rates (sampled once)");
		return;
	}
	for (int i = 0; i < cur->n_ifs; i++) {
		struct sf_scope s = sf_scope_if(cur, prev, i, t->dt);

		if (sf_scope_attacked(&s) > 0)
			add_name(v->attacked, sizeof(v->attacked), s.name);
	}
	v->syn_flood = is_syn_flood(t);
	v->ack_flood = is_ack_flood(t);
	if (v->attacked[0] && !v->syn_flood && !v->ack_flood) /* one interface drowns */
		v->syn_flood = true;
	sf_fmt_rate(syn, sizeof(syn), sf_scope_rate(t, SF_CNT_syn_recv));
	sf_fmt_rate(ok, sizeof(ok), sf_scope_rate(t, SF_CNT_ack_cookie_ok));
	sf_fmt_rate(bad, sizeof(bad), sf_scope_rate(t, SF_CNT_ack_cookie_bad));
	if (v->syn_flood || v->ack_flood)
		answer(v->attack_txt, sizeof(v->attack_txt),
			 "YES, %s%s%s on %s: %s SYN/s, %s bad ACKs/s, only %s handshakes/s completed",
			 v->syn_flood ? "SYN flood" : "", v->syn_flood && v->ack_flood ? " + " : "",
			 v->ack_flood ? "ACK flood" : "", v->attacked[0] ? v->attacked : "all", syn, bad,
			 ok);
	else
		answer(v->attack_txt, sizeof(v->attack_txt),
			 "no: %s SYN/s, %s handshakes/s completed, %s bad ACKs/s", syn, ok, bad);
}

/* ---- is it working? -------------------------------------------------------------------------- */

/* The interfaces where a program is found detached (names in list), and how many are unknown. */
struct detached {
	int n_no_xdp, n_no_tc, n_unknown;
	char list[128];
};

static void find_detached(const struct sf_snap *cur, struct detached *d)
{
	memset(d, 0, sizeof(*d));
	for (int i = 0; i < cur->n_ifs; i++) {
		const struct sf_snap_if *si = &cur->ifs[i];

		if (si->xdp == SF_ATTACH_NO || si->tc == SF_ATTACH_NO) {
			d->n_no_xdp += si->xdp == SF_ATTACH_NO;
			d->n_no_tc += si->tc == SF_ATTACH_NO;
			add_name(d->list, sizeof(d->list), si->name);
		}
		d->n_unknown += si->xdp == SF_ATTACH_UNKNOWN || si->tc == SF_ATTACH_UNKNOWN;
	}
}

/* ... in monitor mode: what the programs would do per second; they answer and drop nothing. */
static void working_monitor(const struct sf_scope *t, int n_unknown, struct sf_verdict *v)
{
	char sent[32], dropped[32];

	if (v->rates) {
		sf_fmt_rate(sent, sizeof(sent), sf_scope_rate(t, SF_CNT_synack_sent));
		sf_fmt_rate(dropped, sizeof(dropped), sf_scope_rate(t, SF_CNT_ack_cookie_bad));
	}
	answer(v->working_txt, sizeof(v->working_txt),
	       "MONITOR: %s, counting only: every packet passes to the kernel%s%s%s%s%s",
	       n_unknown ? "attachment not checkable from this network namespace" : "XDP and TC attached",
	       v->rates ? "; would send " : "", v->rates ? sent : "",
	       v->rates ? " SYN-ACKs/s, would drop " : "", v->rates ? dropped : "",
	       v->rates ? " bad ACKs/s" : "");
}

/* A live daemon with nothing found detached: what the programs do per second. */
static void working_running(const struct sf_snap *cur, const struct sf_scope *t, int n_unknown,
			    struct sf_verdict *v)
{
	char sent[32], dropped[32];

	v->working = n_unknown ? -1 : 1;
	if (sf_snap_monitor(cur)) {
		working_monitor(t, n_unknown, v);
		return;
	}
	if (v->rates) {
		sf_fmt_rate(sent, sizeof(sent), sf_scope_rate(t, SF_CNT_synack_sent));
		sf_fmt_rate(dropped, sizeof(dropped), sf_scope_rate(t, SF_CNT_ack_cookie_bad));
	}
	answer(v->working_txt, sizeof(v->working_txt), "%s%s%s%s%s%s",
		 n_unknown ? "probably: attachment not checkable from this network namespace"
			   : "yes: XDP and TC attached",
		 v->rates ? "; " : "", v->rates ? sent : "", v->rates ? " SYN-ACKs/s sent, " : "",
		 v->rates ? dropped : "", v->rates ? " bad ACKs/s dropped" : "");
}

static void verdict_working(const struct sf_snap *cur, const struct sf_scope *t,
			    struct sf_verdict *v)
{
	const size_t len = sizeof(v->working_txt);
	struct detached d;
	char gone[96];

	find_detached(cur, &d);
	sf_daemon_gone_text(cur, gone, sizeof(gone));
	v->working = 0;
	if (!cur->have_state)
		answer(v->working_txt, len, "NO: synfence run has not finished starting");
	else if (d.n_no_xdp || d.n_no_tc)
		answer(v->working_txt, len, "NO: %s%s%s not attached to %s",
			 d.n_no_xdp ? "XDP" : "", d.n_no_xdp && d.n_no_tc ? " and " : "",
			 d.n_no_tc ? "TC" : "", d.list);
	else if (!cur->state.epoch)
		answer(v->working_txt, len, "NO: no cookie secret loaded");
	else if (sf_snap_suspended(cur))
		answer(v->working_txt, len,
			 "NO: protection suspended: net.ipv4.tcp_syncookies is %d and sysctl changes are "
			 "off; everything passes to the kernel unfiltered",
			 sf_snap_sysctl(cur, SF_SYSCTL_tcp_syncookies));
	else if (!cur->running && d.n_unknown)
		answer(v->working_txt, len,
			 "NO: no daemon running (%s), attachment not checkable from here", gone);
	else if (!cur->running) {
		/* links pinned by a run that exited or died: the programs go on without it */
		v->working = 1;
		answer(v->working_txt, len,
			 "yes, without a daemon: XDP and TC left attached, %s: the secret is not rotated",
			 gone);
	} else
		working_running(cur, t, d.n_unknown, v);
}

/* ---- is anything legitimate being hurt? ------------------------------------------------------ */

static void verdict_legit(const struct sf_snap *cur, const struct sf_scope *t, struct sf_verdict *v)
{
	double err, nol, room, nosec;
	char ok[32], errs[32];

	if (!v->rates) {
		v->legit_ok = -1;
		sf_fmt_count(ok, sizeof(ok), cur->total[SF_CNT_handoff_ok]);
		sf_fmt_count(errs, sizeof(errs), cur->total[SF_CNT_handoff_err]);
		answer(v->legit_txt, sizeof(v->legit_txt),
			 "unknown: no rates; since start %s connections handed over, %s handoff errors",
			 ok, errs);
		return;
	}
	err = sf_scope_rate(t, SF_CNT_handoff_err);
	nol = sf_scope_rate(t, SF_CNT_handoff_no_listener);
	room = sf_scope_rate(t, SF_CNT_drop_no_room);
	nosec = sf_scope_rate(t, SF_CNT_pass_no_secret);
	sf_fmt_rate(ok, sizeof(ok), sf_scope_rate(t, SF_CNT_handoff_ok));
	v->legit_ok = !(err > 0 || nol > 0 || room > 0 || nosec > 0);
	if (v->legit_ok && sf_snap_monitor(cur))
		answer(v->legit_txt, sizeof(v->legit_txt),
			 "ok: MONITOR mode, every packet passes: the kernel makes the connections");
	else if (v->legit_ok)
		answer(v->legit_txt, sizeof(v->legit_txt),
			 "ok: %s connections/s handed to the kernel, no handoff errors", ok);
	else
		answer(v->legit_txt, sizeof(v->legit_txt),
			 "CHECK: %s connections/s handed over, but per second %.1f handoff errors, "
			 "%.1f without listener, %.1f no-room drops, %.1f passed without secret",
			 ok, err, nol, room, nosec);
}

void sf_verdict_compute(const struct sf_snap *cur, const struct sf_snap *prev, double dt,
			struct sf_verdict *v)
{
	struct sf_scope t = sf_scope_total(cur, prev, dt);

	memset(v, 0, sizeof(*v));
	v->rates = sf_scope_has_rates(&t);
	verdict_attack(cur, prev, &t, v);
	verdict_working(cur, &t, v);
	verdict_legit(cur, &t, v);
}
