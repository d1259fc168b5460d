/* view/render_text.c - `stats` and `status` as text: the header, the verdict, the counter table. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "lib/loader.h"
#include "lib/preflight.h"
#include "lib/util.h"
#include "view/render.h"
#include "view/verdict.h"

/* Text order of the counter table: grouped by path; depth 1 rows are the reasons of the row
 * above them (indented). JSON and Prometheus use the X-macro order. */
static const struct {
	enum sf_counter c;
	int depth;
} text_rows[] = {
	{ SF_CNT_syn_recv, 0 },          { SF_CNT_synack_sent, 0 },
	{ SF_CNT_drop_syn_flags, 0 },    { SF_CNT_drop_malformed, 0 },
	{ SF_CNT_drop_no_room, 0 },      { SF_CNT_pass_no_secret, 0 },
	{ SF_CNT_ack_cookie_ok, 0 },     { SF_CNT_ack_cookie_bad, 0 },
	{ SF_CNT_ack_bad_hash, 1 },      { SF_CNT_ack_bad_epoch, 1 },
	{ SF_CNT_ack_bad_malformed, 1 }, { SF_CNT_ack_no_listener, 0 },
	{ SF_CNT_handoff_ok, 0 },        { SF_CNT_handoff_err, 0 },
	{ SF_CNT_handoff_err_einval, 1 }, { SF_CNT_handoff_err_enomem, 1 },
	{ SF_CNT_handoff_err_other, 1 }, { SF_CNT_handoff_no_listener, 0 },
	{ SF_CNT_handoff_dup, 0 },       { SF_CNT_handoff_cookie_bad, 0 },
	{ SF_CNT_est_pass, 0 },
	{ SF_CNT_pass_unprotected, 0 },  { SF_CNT_pass_fragment, 0 },
	{ SF_CNT_pass_other, 0 },        { SF_CNT_syn_pass_existing, 0 },
	{ SF_CNT_pass_unparsed, 0 },     { SF_CNT_monitor_pass, 0 },
	{ SF_CNT_pass_allowed, 0 },      { SF_CNT_drop_denied, 0 },
	{ SF_CNT_drop_rate_limited, 0 },
	{ SF_CNT_syn_pass_calm, 0 },
	{ SF_CNT_sample_tx, 0 },         { SF_CNT_sample_drop, 0 },
	{ SF_CNT_sample_pass, 0 },       { SF_CNT_sample_lost, 0 },
	{ SF_CNT_sample_capped, 0 },
};
_Static_assert(SF_ARRAY_SIZE(text_rows) == SF_CNT_MAX, "every counter has a row in the table");

/* status: the per-source SYN limits in force */
static void text_limit(FILE *out, const struct sf_snap *s)
{
	struct sf_snap_limit l;

	if (!sf_snap_limit(s, &l))
		return;
	if (!l.rate)
		fprintf(out, "limit     off\n");
	else
		fprintf(out, "limit     %lu SYNs/s burst %lu per source /%lu (IPv4), /%lu (IPv6)\n", l.rate,
			l.burst, l.prefix4, l.prefix6);
}

/* status: the sysctl mirror, what the SYN-ACKs carry, the last error */
static void text_sysctl(FILE *out, const struct sf_snap *s)
{
	const struct sf_config *c = &s->config;
	char age[32], ws[16] = "off";

	fprintf(out, "sysctl   ");
	for (int i = 0; i < SF_SYSCTL_MAX; i++) {
		if (sf_snap_sysctl(s, i) < 0)
			fprintf(out, " %s=?", sf_sysctl_names[i]);
		else
			fprintf(out, " %s=%d", sf_sysctl_names[i], sf_snap_sysctl(s, i));
	}
	if (s->state.sysctl_boot_ns) {
		sf_fmt_duration(age, sizeof(age), sf_snap_age_s(s, s->state.sysctl_boot_ns));
		fprintf(out, " (read %s ago)", age);
	}
	fputc('\n', out);
	if (sf_snap_suspended(s))
		fprintf(out, "synack    none: protection SUSPENDED (everything passes)\n");
	else if (s->have_config && (c->flags & SF_CFG_ENABLED)) {
		if (c->flags & SF_CFG_WSCALE)
			snprintf(ws, sizeof(ws), "%u", c->rcv_wscale);
		fprintf(out, "synack    mss %u (IPv6 %u), window scale %s%s%s%s\n", c->mss4, c->mss6, ws,
			c->flags & SF_CFG_TIMESTAMPS ? ", timestamps" : "",
			c->flags & SF_CFG_SACK ? ", SACK" : "", c->flags & SF_CFG_ECN ? ", ECN" : "");
	}
	text_limit(out, s);
	if (s->state.last_error[0]) {
		sf_fmt_duration(age, sizeof(age), sf_snap_age_s(s, s->state.error_boot_ns));
		fprintf(out, "error     %s ago: %s\n", age, s->state.last_error);
	} else {
		fprintf(out, "error     none\n");
	}
}

/* The two durations of every header: uptime, and the age of the cookie secret. */
struct header_times {
	char up[32], age[32];
};

static void header_times(const struct sf_snap *s, struct header_times *t)
{
	sf_fmt_duration(t->up, sizeof(t->up), sf_snap_uptime_s(s));
	sf_fmt_duration(t->age, sizeof(t->age), sf_snap_secret_age_s(s));
}

/* status: the daemon, alive or not, its ports and its secret */
static void status_daemon(FILE *out, const struct sf_snap *s, const char *ports)
{
	time_t started = (time_t)(s->state.start_real_ns / 1000000000ull);
	char when[64] = "", gone[96];
	struct header_times t;
	struct tm tm;

	header_times(s, &t);
	if (localtime_r(&started, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	sf_daemon_gone_text(s, gone, sizeof(gone));
	if (s->running)
		fprintf(out, "synfence  running (pid %u), up %s since %s%s%s\n", s->state.pid, t.up, when,
			sf_snap_suspended(s) ? "; protection SUSPENDED" : "",
			sf_snap_monitor(s) ? "; MONITOR mode: counting only, every packet passes to the kernel" : "");
	else
		fprintf(out, "synfence  NOT RUNNING: no daemon, %s; %s; started %s\n", gone,
			sf_left_text(sf_snap_left(s)), when);
	fprintf(out, "ports     %s\n", ports);
	fprintf(out, "secret    epoch %u, replaced %s ago, every %us%s\n", s->state.epoch, t.age,
		s->state.rotate_s, s->running ? "" : " (not rotated: no daemon)");
}

/* status: packet sampling (capture, top): off, or who holds it and at what rates */
static void status_sampling(FILE *out, const struct sf_snap *s)
{
	const struct sf_sample_ctl *c = &s->sampling;

	if (!s->have_sampling)
		return;
	if (!c->on) {
		fprintf(out, "sampling  off\n");
		return;
	}
	if (!s->sampling_alive)
		fprintf(out, "sampling  on, but its holder (pid %u) is gone: the daemon switches it off\n",
			c->owner_pid);
	else
		fprintf(out, "sampling  on by pid %u (%s): 1 in tx %u, drop %u, pass %u (0: none); "
			"at most %u/s per CPU\n", c->owner_pid, s->sampling_holder[0] ? s->sampling_holder : "?",
			c->every[SF_VC_TX], c->every[SF_VC_DROP], c->every[SF_VC_PASS], c->per_cpu_sec);
}

/* status: attack mode, engaged yes/no since when */
static void status_engage(FILE *out, const struct sf_snap *s)
{
	__u64 since, switches;
	bool on = sf_snap_engaged(s, &since, &switches);
	time_t t = (time_t)((s->real_ns - (s->boot_ns - since)) / 1000000000ull);
	char when[64] = "";
	struct tm tm;

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(out, "engaged   %s since %s (engage %s", on ? "yes" : "no", when,
		sf_snap_engage_auto(s) ? "auto" : "always");
	if (sf_snap_engage_auto(s)) {
		fprintf(out, ", %llu switch%s", (unsigned long long)switches, switches == 1 ? "" : "es");
		for (int i = 0; i < s->n_ifs; i++)
			fprintf(out, "; %s %s, %u SYNs/s", s->ifs[i].name,
				s->ifs[i].engaged ? "engaged" : "calm", s->ifs[i].syn_rate);
	}
	fputs(")\n", out);
}

/* status: the metrics address, the programs and the kernel features run picked */
static void status_programs(FILE *out, const struct sf_snap *s)
{
	char feat[256];

	if (s->state.metrics[0])
		fprintf(out, "metrics   http://%s/metrics\n", s->state.metrics);
	else
		fprintf(out, "metrics   off\n");
	fprintf(out, "programs  xdp id %u, tc id %u\n", s->state.xdp_prog_id, s->state.tc_prog_id);
	if (s->state.features) {
		sf_features_text(s->state.features, feat, sizeof(feat));
		fprintf(out, "features  %s\n", feat);
	}
}

/* status: each interface with its XDP mode and what is attached */
static void status_interfaces(FILE *out, const struct sf_snap *s)
{
	static const char *const att[] = { "?", "NOT attached", "attached" };

	for (int i = 0; i < s->n_ifs; i++) {
		const struct sf_snap_if *si = &s->ifs[i];

		fprintf(out, "%-9s %s (ifindex %u): xdp %s %s, tc %s\n", i ? "" : "interface", si->name,
			si->ifindex, sf_mode_name(si->xdp_mode), att[si->xdp + 1], att[si->tc + 1]);
	}
	if (!s->same_netns)
		fprintf(out, "          (attachments not checked: run is in another network "
			     "namespace)\n");
}

/* stats: one line about the daemon */
static void stats_header(FILE *out, const struct sf_snap *s, const char *ports, double dt)
{
	struct header_times t;
	char gone[96];

	header_times(s, &t);
	if (s->running) {
		fprintf(out, "synfence pid %u, up %s; ports %s; secret epoch %u, %s old (every %us)",
			s->state.pid, t.up, ports, s->state.epoch, t.age, s->state.rotate_s);
	} else {
		sf_daemon_gone_text(s, gone, sizeof(gone));
		fprintf(out, "synfence NOT RUNNING: no daemon, %s; %s; ports %s; secret epoch %u, "
			"%s old (not rotated)", gone, sf_left_text(sf_snap_left(s)), ports,
			s->state.epoch, t.age);
	}
	if (dt > 0)
		fprintf(out, "; rates over %.2f s", dt);
	fputc('\n', out);
}

static void text_header(FILE *out, const struct sf_snap *s, const char *ports, double dt,
			const struct sf_render_opts *o)
{
	if (!s->have_state) {
		fprintf(out, "synfence: state not published yet (run is starting)\n");
		return;
	}
	if (!ports)
		ports = "?";
	if (o->view == SF_VIEW_STATS) {
		stats_header(out, s, ports, dt);
		return;
	}
	status_daemon(out, s, ports);
	if (s->have_state)
		status_engage(out, s);
	status_programs(out, s);
	status_sampling(out, s);
	text_sysctl(out, s);
	status_interfaces(out, s);
}

static void text_verdict(FILE *out, const struct sf_verdict *v)
{
	fprintf(out, "%-9s %s\n", "attack", v->attack_txt);
	fprintf(out, "%-9s %s\n", "working", v->working_txt);
	fprintf(out, "%-9s %s\n", "legit", v->legit_txt);
}

static void cell_count(char *buf, size_t len, __u64 v, bool exact)
{
	if (exact)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		sf_fmt_count(buf, len, v);
}

static void cell_rate(char *buf, size_t len, const struct sf_scope *s, enum sf_counter i, bool exact)
{
	double r = sf_scope_rate(s, i);

	if (isnan(r))
		snprintf(buf, len, "-");
	else if (exact)
		snprintf(buf, len, "%.1f/s", r);
	else {
		sf_fmt_rate(buf, len, r);
		strncat(buf, "/s", len - strlen(buf) - 1);
	}
}

/* The counter table: one column per interface (then "other", "total"), counts and rates. */
struct table {
	struct sf_scope cols[SF_MAX_IFACES + 2];
	int n_cols;
	bool rates;
	bool show[SF_ARRAY_SIZE(text_rows)]; /* the rows not left out (-a shows all) */
	int hidden;
	int name_w;                          /* the counter name column */
	int cw[SF_MAX_IFACES + 2], rw[SF_MAX_IFACES + 2]; /* count and rate columns */
};

static void table_columns(struct table *tb, const struct sf_snap *cur, const struct sf_snap *prev,
			  double dt)
{
	for (int i = 0; i < cur->n_ifs; i++)
		tb->cols[tb->n_cols++] = sf_scope_if(cur, prev, i, dt);
	if (cur->other_nonzero)
		tb->cols[tb->n_cols++] = sf_scope_other(cur, prev, dt);
	/* a total column only says something new when there is more than one column */
	if (tb->n_cols != 1)
		tb->cols[tb->n_cols++] = sf_scope_total(cur, prev, dt);
	tb->rates = prev && dt > 0;
}

static void table_rows(struct table *tb, const struct sf_snap *cur, const struct sf_render_opts *o)
{
	tb->name_w = (int)strlen("counter");
	for (size_t r = 0; r < SF_ARRAY_SIZE(text_rows); r++) {
		enum sf_counter c = text_rows[r].c;
		int w = (int)strlen(sf_counter_names[c]) + 2 * text_rows[r].depth;

		tb->show[r] = o->all || cur->total[c] || cur->other[c];
		if (!tb->show[r]) {
			tb->hidden++;
			continue;
		}
		if (w > tb->name_w)
			tb->name_w = w;
	}
}

static void widen(int *w, const char *cell)
{
	if ((int)strlen(cell) > *w)
		*w = (int)strlen(cell);
}

static void table_widths(struct table *tb, const struct sf_render_opts *o)
{
	char buf[64];

	for (int k = 0; k < tb->n_cols; k++) {
		tb->cw[k] = (int)strlen(tb->cols[k].name);
		tb->rw[k] = 4;
		for (size_t r = 0; r < SF_ARRAY_SIZE(text_rows); r++) {
			if (!tb->show[r])
				continue;
			cell_count(buf, sizeof(buf), tb->cols[k].c[text_rows[r].c], o->exact);
			widen(&tb->cw[k], buf);
			if (tb->rates) {
				cell_rate(buf, sizeof(buf), &tb->cols[k], text_rows[r].c, o->exact);
				widen(&tb->rw[k], buf);
			}
		}
	}
}

static void table_print_head(FILE *out, const struct table *tb, const struct sf_render_opts *o)
{
	fprintf(out, "%-*s", tb->name_w, "counter");
	for (int k = 0; k < tb->n_cols; k++) {
		fprintf(out, "  %*s", tb->cw[k], tb->cols[k].name);
		if (tb->rates)
			fprintf(out, " %*s", tb->rw[k], "/s");
	}
	fputs(o->descriptions ? "  description\n" : "\n", out);
}

static void table_print_row(FILE *out, const struct table *tb, size_t r,
			    const struct sf_render_opts *o)
{
	enum sf_counter c = text_rows[r].c;
	int d = text_rows[r].depth * 2;
	char buf[64];

	fprintf(out, "%*s%-*s", d, "", tb->name_w - d, sf_counter_names[c]);
	for (int k = 0; k < tb->n_cols; k++) {
		cell_count(buf, sizeof(buf), tb->cols[k].c[c], o->exact);
		fprintf(out, "  %*s", tb->cw[k], buf);
		if (tb->rates) {
			cell_rate(buf, sizeof(buf), &tb->cols[k], c, o->exact);
			fprintf(out, " %*s", tb->rw[k], buf);
		}
	}
	if (o->descriptions)
		fprintf(out, "  %s", sf_counter_help[c]);
	fputc('\n', out);
}

static void text_table(FILE *out, const struct sf_snap *cur, const struct sf_snap *prev, double dt,
		       const struct sf_render_opts *o)
{
	struct table tb = { 0 };

	table_columns(&tb, cur, prev, dt);
	table_rows(&tb, cur, o);
	table_widths(&tb, o);
	table_print_head(out, &tb, o);
	for (size_t r = 0; r < SF_ARRAY_SIZE(text_rows); r++)
		if (tb.show[r])
			table_print_row(out, &tb, r, o);
	if (tb.hidden)
		fprintf(out, "(%d counters at zero not shown; -a shows all)\n", tb.hidden);
}

static void text_totals(FILE *out, const struct sf_snap *s)
{
	char a[32], b[32], c[32], d[32];

	sf_fmt_count(a, sizeof(a), s->total[SF_CNT_synack_sent]);
	sf_fmt_count(b, sizeof(b), s->total[SF_CNT_handoff_ok]);
	sf_fmt_count(c, sizeof(c), s->total[SF_CNT_ack_cookie_bad]);
	sf_fmt_count(d, sizeof(d), s->total[SF_CNT_handoff_err]);
	fprintf(out, "%-9s %s SYNs answered, %s connections handed over, %s bad ACKs dropped, "
		     "%s handoff errors\n", "totals", a, b, c, d);
}

void sf_render_text(FILE *out, const struct sf_snap *cur, const struct sf_snap *prev, double dt,
		    const struct sf_verdict *v, const char *ports, const struct sf_render_opts *o)
{
	text_header(out, cur, ports, dt, o);
	text_verdict(out, v);
	if (o->view == SF_VIEW_STATUS) {
		text_totals(out, cur);
		if (v->rates)
			fprintf(out, "(rates over %.2f s)\n", dt);
		return;
	}
	fputc('\n', out);
	text_table(out, cur, prev, dt, o);
}
