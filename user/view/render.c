/* view/render.c - see render.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/json.h"
#include "lib/loader.h"
#include "conf/ports.h"
#include "lib/preflight.h"
#include "view/render.h"
#include "lib/util.h"

const char *const sf_counter_names[SF_CNT_MAX] = {
#define SF_COUNTER_NAME(name, help) #name,
	SF_COUNTERS(SF_COUNTER_NAME)
#undef SF_COUNTER_NAME
};

const char *const sf_counter_help[SF_CNT_MAX] = {
#define SF_COUNTER_HELP(name, help) help,
	SF_COUNTERS(SF_COUNTER_HELP)
#undef SF_COUNTER_HELP
};

static const char *const sysctl_names[SF_SYSCTL_MAX] = {
#define SF_SYSCTL_NAME(name) #name,
	SF_SYSCTLS(SF_SYSCTL_NAME)
#undef SF_SYSCTL_NAME
};

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
	{ SF_CNT_pass_unparsed, 0 },
};
_Static_assert(SF_ARRAY_SIZE(text_rows) == SF_CNT_MAX, "every counter has a row in the table");

/* ---- human-readable numbers ---------------------------------------------------------------- */

static void fmt_scaled(char *buf, size_t len, double v)
{
	static const char sfx[] = "kMGTPE";
	int i = -1;

	while (v >= 999.95 && i < (int)sizeof(sfx) - 2) {
		v /= 1000;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, v < 99.95 ? "%.1f%c" : "%.0f%c", v, sfx[i]);
}

void sf_fmt_count(char *buf, size_t len, unsigned long long v)
{
	if (v < 10000)
		snprintf(buf, len, "%llu", v);
	else
		fmt_scaled(buf, len, (double)v);
}

void sf_fmt_rate(char *buf, size_t len, double r)
{
	if (r < 0 || isnan(r))
		r = 0;
	if (r == 0)
		snprintf(buf, len, "0");
	else if (r < 9.95)
		snprintf(buf, len, "%.1f", r);
	else if (r < 9999.5)
		snprintf(buf, len, "%.0f", r);
	else
		fmt_scaled(buf, len, r);
}

void sf_fmt_duration(char *buf, size_t len, double s)
{
	unsigned long long t = s < 0 ? 0 : (unsigned long long)(s + 0.5);

	if (t < 60)
		snprintf(buf, len, "%llus", t);
	else if (t < 3600)
		snprintf(buf, len, "%llum%02llus", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%lluh%02llum", t / 3600, t % 3600 / 60);
	else
		snprintf(buf, len, "%llud%02lluh", t / 86400, t % 86400 / 3600);
}

/* ---- the daemon's state ---------------------------------------------------------------------- */

/* Seconds from a CLOCK_BOOTTIME moment of the state to the snapshot (NaN: never, then == 0). */
static double age_s(const struct sf_snap *s, __u64 then)
{
	return then ? (double)(s->boot_ns - then) / 1e9 : NAN;
}

/* The value of sysctl i as run last read it, -1 when unknown. */
static int sysctl_val(const struct sf_snap *s, int i)
{
	return s->state.sysctl_boot_ns ? s->state.sysctl[i] : -1;
}

/* ---- a run that is gone ---------------------------------------------------------------------- */

void sf_daemon_gone_text(const struct sf_snap *s, char *buf, size_t len)
{
	if (!s->state.pid || (s->state.flags & SF_ST_LEFT_ATTACHED))
		snprintf(buf, len, "run stopped without detaching (SIGUSR2 or keep_attached)");
	else
		snprintf(buf, len, "run (pid %u) is gone", s->state.pid);
}

const char *sf_left_text(enum sf_left l)
{
	switch (l) {
	case SF_LEFT_ALL:     return "protection left attached";
	case SF_LEFT_PARTLY:  return "protection partly left attached";
	case SF_LEFT_UNKNOWN: return "protection may be left attached (not checkable from this "
				     "network namespace)";
	case SF_LEFT_NOTHING: break;
	}
	return "nothing attached (the maps are left over)";
}

/* ---- rates and the verdict ------------------------------------------------------------------ */

struct scope {
	const char *name;     /* interface name, "total" or "other" */
	const __u64 *c;
	const __u64 *p;       /* the same counters in prev, or NULL */
	double dt;            /* seconds between prev and cur (0: no rates) */
};

static double rate(const struct scope *s, enum sf_counter i)
{
	if (!s->p || s->dt <= 0 || s->c[i] < s->p[i]) /* counters never go back, unless restarted */
		return NAN;
	return (double)(s->c[i] - s->p[i]) / s->dt;
}

static bool has_rates(const struct scope *s) { return s->p && s->dt > 0; }

static bool is_flood(double bad, double done)
{
	return bad >= SF_ATTACK_MIN_RATE && bad >= SF_ATTACK_RATIO * done;
}

struct verdict {
	bool rates;
	bool syn_flood, ack_flood;
	char attacked[256];          /* interfaces with an attack, comma separated */
	int working;                 /* 1 yes, 0 no, -1 cannot tell */
	int legit_ok;                /* 1 ok, 0 something legitimate may be hurt, -1 no rates */
	char attack_txt[320], working_txt[320], legit_txt[320];
};

static void add_name(char *list, size_t len, const char *name)
{
	size_t n = strlen(list);

	snprintf(list + n, len - n, "%s%s", n ? ", " : "", name);
}

static void compute_verdict(const struct sf_snap *cur, const struct sf_snap *prev, double dt,
			    struct verdict *v)
{
	struct scope t = { "total", cur->total, prev ? prev->total : NULL, dt };
	char a[32], b[32], c[32], gone[96];
	int n_no_xdp = 0, n_no_tc = 0, n_unknown = 0;
	char no_list[128] = "";

	memset(v, 0, sizeof(*v));
	sf_daemon_gone_text(cur, gone, sizeof(gone));
	v->rates = has_rates(&t);

	/* am I under attack? */
	if (v->rates) {
		for (int i = 0; i < cur->n_ifs; i++) {
			const struct sf_snap_if *pi = sf_snap_match_if(prev, &cur->ifs[i]);
			struct scope s = { cur->ifs[i].name, cur->ifs[i].c, pi ? pi->c : NULL, dt };

			if (!has_rates(&s))
				continue;
			if (is_flood(rate(&s, SF_CNT_syn_recv), rate(&s, SF_CNT_ack_cookie_ok)) ||
			    is_flood(rate(&s, SF_CNT_ack_cookie_bad), rate(&s, SF_CNT_ack_cookie_ok)))
				add_name(v->attacked, sizeof(v->attacked), s.name);
		}
		v->syn_flood = is_flood(rate(&t, SF_CNT_syn_recv), rate(&t, SF_CNT_ack_cookie_ok));
		v->ack_flood = is_flood(rate(&t, SF_CNT_ack_cookie_bad), rate(&t, SF_CNT_ack_cookie_ok));
		if (v->attacked[0] && !v->syn_flood && !v->ack_flood) /* one interface drowns */
			v->syn_flood = true;
		sf_fmt_rate(a, sizeof(a), rate(&t, SF_CNT_syn_recv));
		sf_fmt_rate(b, sizeof(b), rate(&t, SF_CNT_ack_cookie_ok));
		sf_fmt_rate(c, sizeof(c), rate(&t, SF_CNT_ack_cookie_bad));
		if (v->syn_flood || v->ack_flood)
			snprintf(v->attack_txt, sizeof(v->attack_txt),
				 "YES, %s%s%s on %s: %s SYN/s, %s bad ACKs/s, only %s handshakes/s completed",
				 v->syn_flood ? "SYN flood" : "", v->syn_flood && v->ack_flood ? " + " : "",
				 v->ack_flood ? "ACK flood" : "", v->attacked[0] ? v->attacked : "all",
				 a, c, b);
		else
			snprintf(v->attack_txt, sizeof(v->attack_txt),
				 "no: %s SYN/s, %s handshakes/s completed, %s bad ACKs/s", a, b, c);
	} else {
		snprintf(v->attack_txt, sizeof(v->attack_txt), "unknown: no rates (sampled once)");
	}

	/* is it working? */
	for (int i = 0; i < cur->n_ifs; i++) {
		const struct sf_snap_if *si = &cur->ifs[i];

		if (si->xdp == SF_ATTACH_NO || si->tc == SF_ATTACH_NO) {
			n_no_xdp += si->xdp == SF_ATTACH_NO;
			n_no_tc += si->tc == SF_ATTACH_NO;
			add_name(no_list, sizeof(no_list), si->name);
		}
		n_unknown += si->xdp == SF_ATTACH_UNKNOWN || si->tc == SF_ATTACH_UNKNOWN;
	}
	if (!cur->have_state) {
		v->working = 0;
		snprintf(v->working_txt, sizeof(v->working_txt), "NO: synfence run has not finished starting");
	} else if (n_no_xdp || n_no_tc) {
		v->working = 0;
		snprintf(v->working_txt, sizeof(v->working_txt), "NO: %s%s%s not attached to %s",
			 n_no_xdp ? "XDP" : "", n_no_xdp && n_no_tc ? " and " : "", n_no_tc ? "TC" : "",
			 no_list);
	} else if (!cur->state.epoch) {
		v->working = 0;
		snprintf(v->working_txt, sizeof(v->working_txt), "NO: no cookie secret loaded");
	} else if (sf_snap_suspended(cur)) {
		v->working = 0;
		snprintf(v->working_txt, sizeof(v->working_txt),
			 "NO: protection suspended: net.ipv4.tcp_syncookies is %d and sysctl changes are "
			 "off; everything passes to the kernel unfiltered",
			 sysctl_val(cur, SF_SYSCTL_tcp_syncookies));
	} else if (!cur->running && n_unknown) {
		v->working = 0;
		snprintf(v->working_txt, sizeof(v->working_txt),
			 "NO: no daemon running (%s), attachment not checkable from here", gone);
	} else if (!cur->running) {
		/* links pinned by a run that exited or died: the programs go on without it */
		v->working = 1;
		snprintf(v->working_txt, sizeof(v->working_txt),
			 "yes, without a daemon: XDP and TC left attached, %s: the secret is not rotated",
			 gone);
	} else {
		v->working = n_unknown ? -1 : 1;
		if (v->rates) {
			sf_fmt_rate(a, sizeof(a), rate(&t, SF_CNT_synack_sent));
			sf_fmt_rate(b, sizeof(b), rate(&t, SF_CNT_ack_cookie_bad));
		}
		snprintf(v->working_txt, sizeof(v->working_txt), "%s%s%s%s%s%s",
			 n_unknown ? "probably: attachment not checkable from this network namespace"
				   : "yes: XDP and TC attached",
			 v->rates ? "; " : "", v->rates ? a : "", v->rates ? " SYN-ACKs/s sent, " : "",
			 v->rates ? b : "", v->rates ? " bad ACKs/s dropped" : "");
	}

	/* is anything legitimate being hurt? */
	if (v->rates) {
		double err = rate(&t, SF_CNT_handoff_err), nol = rate(&t, SF_CNT_handoff_no_listener),
		       room = rate(&t, SF_CNT_drop_no_room), nosec = rate(&t, SF_CNT_pass_no_secret);

		sf_fmt_rate(a, sizeof(a), rate(&t, SF_CNT_handoff_ok));
		if (err > 0 || nol > 0 || room > 0 || nosec > 0) {
			v->legit_ok = 0;
			snprintf(v->legit_txt, sizeof(v->legit_txt),
				 "CHECK: %s connections/s handed over, but per second %.1f handoff errors, "
				 "%.1f without listener, %.1f no-room drops, %.1f passed without secret",
				 a, err, nol, room, nosec);
		} else {
			v->legit_ok = 1;
			snprintf(v->legit_txt, sizeof(v->legit_txt),
				 "ok: %s connections/s handed to the kernel, no handoff errors", a);
		}
	} else {
		v->legit_ok = -1;
		sf_fmt_count(a, sizeof(a), cur->total[SF_CNT_handoff_ok]);
		sf_fmt_count(b, sizeof(b), cur->total[SF_CNT_handoff_err]);
		snprintf(v->legit_txt, sizeof(v->legit_txt),
			 "unknown: no rates; since start %s connections handed over, %s handoff errors", a,
			 b);
	}
}

/* ---- JSON ----------------------------------------------------------------------------------- */

/* A number with up to 3 decimals and no trailing zeros (12.5, 3); NaN and inf become null. */
static void json_numval(struct json_writer *jw, double v)
{
	char buf[64];
	size_t n;

	if (isnan(v) || isinf(v)) {
		jw_null(jw);
		return;
	}
	snprintf(buf, sizeof(buf), "%.3f", v);
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 1 && buf[n - 1] == '.')
		buf[--n] = '\0';
	jw_raw(jw, buf);
}

static void json_num(struct json_writer *jw, const char *name, double v)
{
	jw_name(jw, name);
	json_numval(jw, v);
}

static void json_attach(struct json_writer *jw, const char *name, enum sf_attach a)
{
	jw_name(jw, name);
	if (a == SF_ATTACH_UNKNOWN)
		jw_null(jw);
	else
		jw_bool(jw, a == SF_ATTACH_YES);
}

static void json_counters(struct json_writer *jw, const char *name, const __u64 *c)
{
	jw_name(jw, name);
	jw_start_object(jw);
	for (int i = 0; i < SF_CNT_MAX; i++)
		jw_uint_field(jw, sf_counter_names[i], c[i]);
	jw_end_object(jw);
}

static void json_rates(struct json_writer *jw, const char *name, const struct scope *s)
{
	jw_name(jw, name);
	if (!has_rates(s)) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	for (int i = 0; i < SF_CNT_MAX; i++)
		json_num(jw, sf_counter_names[i], rate(s, i));
	jw_end_object(jw);
}

static void json_tristate(struct json_writer *jw, const char *name, int v)
{
	jw_name(jw, name);
	if (v < 0)
		jw_null(jw);
	else
		jw_bool(jw, v);
}

/* What the programs put in their SYN-ACKs (the config map: the sysctl mirror), or null. */
static void json_synack(struct json_writer *jw, const struct sf_snap *s)
{
	const struct sf_config *c = &s->config;

	jw_name(jw, "synack");
	if (!s->have_config) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	jw_bool_field(jw, "enabled", c->flags & SF_CFG_ENABLED);
	jw_uint_field(jw, "mss4", c->mss4);
	jw_uint_field(jw, "mss6", c->mss6);
	jw_name(jw, "wscale");
	if (c->flags & SF_CFG_WSCALE)
		jw_uint(jw, c->rcv_wscale);
	else
		jw_null(jw);
	jw_bool_field(jw, "timestamps", c->flags & SF_CFG_TIMESTAMPS);
	jw_bool_field(jw, "sack", c->flags & SF_CFG_SACK);
	jw_bool_field(jw, "ecn", c->flags & SF_CFG_ECN);
	jw_end_object(jw);
}

/* What run found in the kernel at start and the paths it picked, or null (a run too old to say). */
static void json_features(struct json_writer *jw, const struct sf_snap *s)
{
	__u32 f = s->state.features;

	jw_name(jw, "features");
	if (!f) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	jw_string_field(jw, "handoff_path", "tc");
	jw_bool_field(jw, "uses_xdp_metadata", false);
	jw_bool_field(jw, "handoff_kfunc", f & SF_FEAT_HANDOFF_KFUNC);
	jw_bool_field(jw, "tcx", f & SF_FEAT_TCX);
	jw_end_object(jw);
}

static void json_daemon(struct json_writer *jw, const struct sf_snap *s, const char *ports)
{
	jw_name(jw, "daemon");
	jw_start_object(jw);
	jw_bool_field(jw, "running", s->running);
	if (s->have_state) {
		jw_uint_field(jw, "pid", s->state.pid);
		jw_name(jw, "version");
		if (s->state.version[0])
			jw_string(jw, s->state.version);
		else
			jw_null(jw); /* a run older than sf_state.version */
		json_num(jw, "started", s->state.start_real_ns / 1e9);
		json_num(jw, "uptime_s", (double)(s->boot_ns - s->state.start_boot_ns) / 1e9);
		jw_name(jw, "secret");
		jw_start_object(jw);
		jw_uint_field(jw, "epoch", s->state.epoch);
		json_num(jw, "age_s", (double)(s->boot_ns - s->state.rotated_boot_ns) / 1e9);
		jw_uint_field(jw, "rotate_s", s->state.rotate_s);
		jw_end_object(jw);
		jw_name(jw, "metrics");
		if (s->state.metrics[0])
			jw_string(jw, s->state.metrics);
		else
			jw_null(jw);
		jw_uint_field(jw, "xdp_prog_id", s->state.xdp_prog_id);
		jw_uint_field(jw, "tc_prog_id", s->state.tc_prog_id);
		jw_bool_field(jw, "suspended", sf_snap_suspended(s));
		jw_name(jw, "sysctl");
		jw_start_object(jw);
		for (int i = 0; i < SF_SYSCTL_MAX; i++) {
			jw_name(jw, sysctl_names[i]);
			if (sysctl_val(s, i) < 0)
				jw_null(jw);
			else
				jw_int(jw, sysctl_val(s, i));
		}
		jw_end_object(jw);
		json_num(jw, "sysctl_age_s", age_s(s, s->state.sysctl_boot_ns));
		json_synack(jw, s);
		json_features(jw, s);
		jw_name(jw, "last_error");
		if (s->state.last_error[0])
			jw_string(jw, s->state.last_error);
		else
			jw_null(jw);
		json_num(jw, "last_error_age_s",
			 s->state.last_error[0] ? age_s(s, s->state.error_boot_ns) : NAN);
	}
	jw_name(jw, "ports");
	if (ports)
		jw_string(jw, ports);
	else
		jw_null(jw);
	jw_end_object(jw);
}

static void json_verdict(struct json_writer *jw, const struct verdict *v)
{
	jw_name(jw, "verdict");
	jw_start_object(jw);
	json_tristate(jw, "attack", v->rates ? (v->syn_flood || v->ack_flood) : -1);
	jw_bool_field(jw, "syn_flood", v->syn_flood);
	jw_bool_field(jw, "ack_flood", v->ack_flood);
	json_tristate(jw, "working", v->working);
	json_tristate(jw, "legit_ok", v->legit_ok);
	jw_string_field(jw, "attack_text", v->attack_txt);
	jw_string_field(jw, "working_text", v->working_txt);
	jw_string_field(jw, "legit_text", v->legit_txt);
	jw_end_object(jw);
}

static void render_json(FILE *out, const struct sf_snap *cur, const struct sf_snap *prev,
			double dt, const struct verdict *v, const char *ports,
			const struct sf_render_opts *o)
{
	struct scope t = { "total", cur->total, prev ? prev->total : NULL, dt };
	struct json_writer jw;

	jw_init(&jw, out, o->pretty);
	jw_start_object(&jw);
	jw_uint_field(&jw, "schema", SF_JSON_SCHEMA);
	if (o->pin_dir)
		jw_string_field(&jw, "pin_dir", o->pin_dir);
	json_num(&jw, "time", cur->real_ns / 1e9);
	jw_name(&jw, "interval_s");
	json_numval(&jw, has_rates(&t) ? dt : NAN);
	json_daemon(&jw, cur, ports);
	json_verdict(&jw, v);
	json_counters(&jw, "total", cur->total);
	if (o->view == SF_VIEW_STATS)
		json_rates(&jw, "total_rates", &t);
	jw_name(&jw, "interfaces");
	jw_start_array(&jw);
	for (int i = 0; i < cur->n_ifs; i++) {
		const struct sf_snap_if *si = &cur->ifs[i];
		const struct sf_snap_if *pi = sf_snap_match_if(prev, si);
		struct scope s = { si->name, si->c, pi ? pi->c : NULL, dt };

		jw_start_object(&jw);
		jw_string_field(&jw, "name", si->name);
		jw_uint_field(&jw, "ifindex", si->ifindex);
		jw_string_field(&jw, "xdp_mode", sf_mode_name(si->xdp_mode));
		jw_name(&jw, "attached");
		jw_start_object(&jw);
		json_attach(&jw, "xdp", si->xdp);
		json_attach(&jw, "tc", si->tc);
		jw_end_object(&jw);
		if (o->view == SF_VIEW_STATS) {
			json_tristate(&jw, "attack",
				      has_rates(&s) ? (is_flood(rate(&s, SF_CNT_syn_recv),
								rate(&s, SF_CNT_ack_cookie_ok)) ||
						       is_flood(rate(&s, SF_CNT_ack_cookie_bad),
								rate(&s, SF_CNT_ack_cookie_ok)))
						    : -1);
			json_counters(&jw, "counters", si->c);
			json_rates(&jw, "rates", &s);
		}
		jw_end_object(&jw);
	}
	jw_end_array(&jw);
	if (o->view == SF_VIEW_STATS)
		json_counters(&jw, "other", cur->other);
	jw_end_object(&jw);
	jw_finish(&jw);
}

/* ---- text ----------------------------------------------------------------------------------- */

/* status: the sysctl mirror, what the SYN-ACKs carry, the last error */
static void text_sysctl(FILE *out, const struct sf_snap *s)
{
	const struct sf_config *c = &s->config;
	char age[32], ws[16] = "off";

	fprintf(out, "sysctl   ");
	for (int i = 0; i < SF_SYSCTL_MAX; i++) {
		if (sysctl_val(s, i) < 0)
			fprintf(out, " %s=?", sysctl_names[i]);
		else
			fprintf(out, " %s=%d", sysctl_names[i], sysctl_val(s, i));
	}
	if (s->state.sysctl_boot_ns) {
		sf_fmt_duration(age, sizeof(age), age_s(s, s->state.sysctl_boot_ns));
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
	if (s->state.last_error[0]) {
		sf_fmt_duration(age, sizeof(age), age_s(s, s->state.error_boot_ns));
		fprintf(out, "error     %s ago: %s\n", age, s->state.last_error);
	} else {
		fprintf(out, "error     none\n");
	}
}

static void text_header(FILE *out, const struct sf_snap *s, const char *ports, double dt,
			const struct sf_render_opts *o)
{
	char up[32], age[32], gone[96];

	sf_daemon_gone_text(s, gone, sizeof(gone));
	if (!s->have_state) {
		fprintf(out, "synfence: state not published yet (run is starting)\n");
		return;
	}
	sf_fmt_duration(up, sizeof(up), (double)(s->boot_ns - s->state.start_boot_ns) / 1e9);
	sf_fmt_duration(age, sizeof(age), (double)(s->boot_ns - s->state.rotated_boot_ns) / 1e9);
	if (o->view == SF_VIEW_STATUS) {
		time_t started = (time_t)(s->state.start_real_ns / 1000000000ull);
		char when[64] = "";
		struct tm tm;

		if (localtime_r(&started, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		if (s->running)
			fprintf(out, "synfence  running (pid %u), up %s since %s%s\n", s->state.pid, up,
				when, sf_snap_suspended(s) ? "; protection SUSPENDED" : "");
		else
			fprintf(out, "synfence  NOT RUNNING: no daemon, %s; %s; started %s\n", gone,
				sf_left_text(sf_snap_left(s)), when);
		fprintf(out, "ports     %s\n", ports ? ports : "?");
		fprintf(out, "secret    epoch %u, replaced %s ago, every %us%s\n", s->state.epoch, age,
			s->state.rotate_s, s->running ? "" : " (not rotated: no daemon)");
		if (s->state.metrics[0])
			fprintf(out, "metrics   http://%s/metrics\n", s->state.metrics);
		else
			fprintf(out, "metrics   off\n");
		fprintf(out, "programs  xdp id %u, tc id %u\n", s->state.xdp_prog_id,
			s->state.tc_prog_id);
		if (s->state.features) {
			char feat[256];

			sf_features_text(s->state.features, feat, sizeof(feat));
			fprintf(out, "features  %s\n", feat);
		}
		text_sysctl(out, s);
		for (int i = 0; i < s->n_ifs; i++) {
			const struct sf_snap_if *si = &s->ifs[i];
			static const char *const att[] = { "?", "NOT attached", "attached" };

			fprintf(out, "%-9s %s (ifindex %u): xdp %s %s, tc %s\n", i ? "" : "interface",
				si->name, si->ifindex, sf_mode_name(si->xdp_mode), att[si->xdp + 1],
				att[si->tc + 1]);
		}
		if (!s->same_netns)
			fprintf(out, "          (attachments not checked: run is in another network "
				     "namespace)\n");
	} else {
		if (s->running)
			fprintf(out, "synfence pid %u, up %s; ports %s; secret epoch %u, %s old (every %us)",
				s->state.pid, up, ports ? ports : "?", s->state.epoch, age,
				s->state.rotate_s);
		else
			fprintf(out, "synfence NOT RUNNING: no daemon, %s; %s; ports %s; secret epoch %u, "
				"%s old (not rotated)", gone, sf_left_text(sf_snap_left(s)),
				ports ? ports : "?", s->state.epoch, age);
		if (dt > 0)
			fprintf(out, "; rates over %.2f s", dt);
		fputc('\n', out);
	}
}

static void text_verdict(FILE *out, const struct verdict *v)
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

static void cell_rate(char *buf, size_t len, const struct scope *s, enum sf_counter i, bool exact)
{
	double r = rate(s, i);

	if (isnan(r))
		snprintf(buf, len, "-");
	else if (exact)
		snprintf(buf, len, "%.1f/s", r);
	else {
		sf_fmt_rate(buf, len, r);
		strncat(buf, "/s", len - strlen(buf) - 1);
	}
}

static void text_table(FILE *out, const struct sf_snap *cur, const struct sf_snap *prev, double dt,
		       const struct sf_render_opts *o)
{
	struct scope cols[SF_MAX_IFACES + 2];
	int n_cols = 0, name_w = (int)strlen("counter"), hidden = 0;
	int cw[SF_MAX_IFACES + 2], rw[SF_MAX_IFACES + 2];
	bool rates, show[SF_ARRAY_SIZE(text_rows)];
	char buf[64];

	for (int i = 0; i < cur->n_ifs; i++) {
		const struct sf_snap_if *pi = sf_snap_match_if(prev, &cur->ifs[i]);

		cols[n_cols++] = (struct scope){ cur->ifs[i].name, cur->ifs[i].c, pi ? pi->c : NULL, dt };
	}
	if (cur->other_nonzero)
		cols[n_cols++] = (struct scope){ "other", cur->other, prev ? prev->other : NULL, dt };
	/* a total column only says something new when there is more than one column */
	if (n_cols != 1)
		cols[n_cols++] = (struct scope){ "total", cur->total, prev ? prev->total : NULL, dt };
	rates = prev && dt > 0;

	for (size_t r = 0; r < SF_ARRAY_SIZE(text_rows); r++) {
		enum sf_counter c = text_rows[r].c;
		int w = (int)strlen(sf_counter_names[c]) + 2 * text_rows[r].depth;

		show[r] = o->all || cur->total[c] || cur->other[c];
		if (!show[r]) {
			hidden++;
			continue;
		}
		if (w > name_w)
			name_w = w;
	}
	for (int k = 0; k < n_cols; k++) {
		cw[k] = (int)strlen(cols[k].name);
		rw[k] = 4;
		for (size_t r = 0; r < SF_ARRAY_SIZE(text_rows); r++) {
			if (!show[r])
				continue;
			cell_count(buf, sizeof(buf), cols[k].c[text_rows[r].c], o->exact);
			if ((int)strlen(buf) > cw[k])
				cw[k] = strlen(buf);
			if (rates) {
				cell_rate(buf, sizeof(buf), &cols[k], text_rows[r].c, o->exact);
				if ((int)strlen(buf) > rw[k])
					rw[k] = strlen(buf);
			}
		}
	}

	fprintf(out, "%-*s", name_w, "counter");
	for (int k = 0; k < n_cols; k++) {
		fprintf(out, "  %*s", cw[k], cols[k].name);
		if (rates)
			fprintf(out, " %*s", rw[k], "/s");
	}
	fputs(o->descriptions ? "  description\n" : "\n", out);
	for (size_t r = 0; r < SF_ARRAY_SIZE(text_rows); r++) {
		enum sf_counter c = text_rows[r].c;
		int d = text_rows[r].depth * 2;

		if (!show[r])
			continue;
		fprintf(out, "%*s%-*s", d, "", name_w - d, sf_counter_names[c]);
		for (int k = 0; k < n_cols; k++) {
			cell_count(buf, sizeof(buf), cols[k].c[c], o->exact);
			fprintf(out, "  %*s", cw[k], buf);
			if (rates) {
				cell_rate(buf, sizeof(buf), &cols[k], c, o->exact);
				fprintf(out, " %*s", rw[k], buf);
			}
		}
		if (o->descriptions)
			fprintf(out, "  %s", sf_counter_help[c]);
		fputc('\n', out);
	}
	if (hidden)
		fprintf(out, "(%d counters at zero not shown; -a shows all)\n", hidden);
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

void sf_render(FILE *out, const struct sf_snap *cur, const struct sf_snap *prev,
	       const struct sf_render_opts *o)
{
	double dt = prev ? sf_snap_interval(prev, cur) : 0;
	char ports_buf[512], *ports = NULL;
	struct verdict v;

	if (dt <= 0)
		prev = NULL;
	if (cur->have_ports) {
		if (sf_format_ports(cur->ports, ports_buf, sizeof(ports_buf)) >= sizeof(ports_buf))
			strcpy(ports_buf + sizeof(ports_buf) - 4, "...");
		ports = ports_buf;
	}
	compute_verdict(cur, prev, dt, &v);
	if (o->json) {
		render_json(out, cur, prev, dt, &v, ports, o);
		return;
	}
	text_header(out, cur, ports, dt, o);
	text_verdict(out, &v);
	if (o->view == SF_VIEW_STATUS) {
		text_totals(out, cur);
		if (v.rates)
			fprintf(out, "(rates over %.2f s)\n", dt);
		return;
	}
	fputc('\n', out);
	text_table(out, cur, prev, dt, o);
}

/* ---- Prometheus ----------------------------------------------------------------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void prom_label(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void prom_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void sf_render_prom(FILE *out, const struct sf_snap *s)
{
	char name[96];

	/* rendered by the daemon that serves /metrics: its own version */
	prom_head(out, "synfence_build_info", "gauge", "The version of the synfence serving these "
		  "metrics (the label); always 1");
	fprintf(out, "synfence_build_info{version=\"");
	prom_label(out, SYNFENCE_VERSION);
	fprintf(out, "\"} 1\n");

	for (int c = 0; c < SF_CNT_MAX; c++) {
		snprintf(name, sizeof(name), "synfence_%s_total", sf_counter_names[c]);
		prom_head(out, name, "counter", sf_counter_help[c]);
		for (int i = 0; i < s->n_ifs; i++) {
			fprintf(out, "%s{interface=\"", name);
			prom_label(out, s->ifs[i].name);
			fprintf(out, "\"} %llu\n", (unsigned long long)s->ifs[i].c[c]);
		}
		if (s->other_nonzero)
			fprintf(out, "%s{interface=\"other\"} %llu\n", name,
				(unsigned long long)s->other[c]);
	}

	prom_head(out, "synfence_attached", "gauge",
		  "1 when the synfence program is attached to the interface at the hook (xdp, tc), "
		  "else 0");
	for (int i = 0; i < s->n_ifs; i++) {
		static const char *const hooks[] = { "xdp", "tc" };
		enum sf_attach a[] = { s->ifs[i].xdp, s->ifs[i].tc };

		for (int h = 0; h < 2; h++) {
			if (a[h] == SF_ATTACH_UNKNOWN)
				continue;
			fprintf(out, "synfence_attached{interface=\"");
			prom_label(out, s->ifs[i].name);
			fprintf(out, "\",hook=\"%s\"} %d\n", hooks[h], a[h] == SF_ATTACH_YES);
		}
	}
	if (!s->have_state)
		return;
	prom_head(out, "synfence_secret_age_seconds", "gauge",
		  "Seconds since the cookie secret was last replaced");
	fprintf(out, "synfence_secret_age_seconds %.3f\n",
		(double)(s->boot_ns - s->state.rotated_boot_ns) / 1e9);
	prom_head(out, "synfence_secret_rotation_seconds", "gauge",
		  "Configured period of the cookie secret rotation (--rotate)");
	fprintf(out, "synfence_secret_rotation_seconds %u\n", s->state.rotate_s);
	prom_head(out, "synfence_start_time_seconds", "gauge",
		  "When synfence run finished attaching, in seconds since the Unix epoch");
	fprintf(out, "synfence_start_time_seconds %.3f\n", s->state.start_real_ns / 1e9);
	prom_head(out, "synfence_suspended", "gauge",
		  "1 while protection is suspended (net.ipv4.tcp_syncookies is 0 and sysctl changes "
		  "are off: everything passes to the kernel unfiltered), else 0");
	fprintf(out, "synfence_suspended %d\n", sf_snap_suspended(s));
}
