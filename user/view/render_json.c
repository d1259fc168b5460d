/* view/render_json.c - `stats -j` and `status -j`: one JSON document (schema SF_JSON_SCHEMA). */
#include <math.h>
#include <string.h>

#include "lib/json.h"
#include "lib/loader.h"
#include "view/render.h"
#include "view/verdict.h"

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

/* A string of the state, NULL when empty. */
static const char *nonempty(const char *s) { return s[0] ? s : NULL; }

static void json_counters(struct json_writer *jw, const char *name, const __u64 *c)
{
	jw_name(jw, name);
	jw_start_object(jw);
	for (int i = 0; i < SF_CNT_MAX; i++)
		jw_uint_field(jw, sf_counter_names[i], c[i]);
	jw_end_object(jw);
}

static void json_rates(struct json_writer *jw, const char *name, const struct sf_scope *s)
{
	jw_name(jw, name);
	if (!sf_scope_has_rates(s)) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	for (int i = 0; i < SF_CNT_MAX; i++)
		json_num(jw, sf_counter_names[i], sf_scope_rate(s, i));
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

/* The per-source SYN limits in force: null when unknown, {"rate": 0} when off. */
static void json_limit(struct json_writer *jw, const struct sf_snap *s)
{
	struct sf_snap_limit l;

	jw_name(jw, "source_syn_limit");
	if (!sf_snap_limit(s, &l)) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	jw_uint_field(jw, "rate", l.rate);
	if (l.rate) {
		jw_uint_field(jw, "burst", l.burst);
		jw_uint_field(jw, "prefix4", l.prefix4);
		jw_uint_field(jw, "prefix6", l.prefix6);
	}
	jw_end_object(jw);
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

/* The sysctls run mirrors (null: unknown) and how long ago it read them. */
static void json_sysctl(struct json_writer *jw, const struct sf_snap *s)
{
	jw_name(jw, "sysctl");
	jw_start_object(jw);
	for (int i = 0; i < SF_SYSCTL_MAX; i++) {
		jw_name(jw, sf_sysctl_names[i]);
		if (sf_snap_sysctl(s, i) < 0)
			jw_null(jw);
		else
			jw_int(jw, sf_snap_sysctl(s, i));
	}
	jw_end_object(jw);
	json_num(jw, "sysctl_age_s", sf_snap_age_s(s, s->state.sysctl_boot_ns));
}

/* Attack mode: engage (always|auto), engaged (some interface), since when (Unix time), switches. */
static void json_engage(struct json_writer *jw, const struct sf_snap *s)
{
	__u64 since, switches;
	bool on = sf_snap_engaged(s, &since, &switches);

	jw_string_field(jw, "engage", sf_snap_engage_auto(s) ? "auto" : "always");
	jw_bool_field(jw, "engaged", on);
	json_num(jw, "engaged_since", (s->real_ns - (s->boot_ns - since)) / 1e9);
	jw_uint_field(jw, "engage_switches", switches);
}

/* daemon.sampling: null when this run has no sampling switch */
static void json_sampling(struct json_writer *jw, const struct sf_snap *s)
{
	static const char *const classes[SF_VC_MAX] = { "tx", "drop", "pass" };
	const struct sf_sample_ctl *c = &s->sampling;

	jw_name(jw, "sampling");
	if (!s->have_sampling) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	jw_bool_field(jw, "on", c->on);
	if (c->on) {
		jw_uint_field(jw, "pid", c->owner_pid);
		jw_bool_field(jw, "holder_alive", s->sampling_alive);
		jw_string_or_null_field(jw, "holder", nonempty(s->sampling_holder));
		jw_name(jw, "every");
		jw_start_object(jw);
		for (int vc = 0; vc < SF_VC_MAX; vc++)
			jw_uint_field(jw, classes[vc], c->every[vc]);
		jw_end_object(jw);
		jw_uint_field(jw, "per_cpu_sec", c->per_cpu_sec);
		jw_uint_field(jw, "ifindex", c->ifindex);
		jw_uint_field(jw, "reasons", c->reasons);
	}
	jw_end_object(jw);
}

static void json_daemon(struct json_writer *jw, const struct sf_snap *s, const char *ports)
{
	jw_name(jw, "daemon");
	jw_start_object(jw);
	jw_bool_field(jw, "running", s->running);
	if (s->have_state) {
		jw_uint_field(jw, "pid", s->state.pid);
		/* null: a run older than sf_state.version */
		jw_string_or_null_field(jw, "version", nonempty(s->state.version));
		json_num(jw, "started", s->state.start_real_ns / 1e9);
		json_num(jw, "uptime_s", sf_snap_uptime_s(s));
		jw_name(jw, "secret");
		jw_start_object(jw);
		jw_uint_field(jw, "epoch", s->state.epoch);
		json_num(jw, "age_s", sf_snap_secret_age_s(s));
		jw_uint_field(jw, "rotate_s", s->state.rotate_s);
		jw_end_object(jw);
		jw_string_or_null_field(jw, "metrics", nonempty(s->state.metrics));
		jw_uint_field(jw, "xdp_prog_id", s->state.xdp_prog_id);
		jw_uint_field(jw, "tc_prog_id", s->state.tc_prog_id);
		jw_bool_field(jw, "suspended", sf_snap_suspended(s));
		jw_bool_field(jw, "monitor", sf_snap_monitor(s));
		json_engage(jw, s);
		json_sysctl(jw, s);
		json_synack(jw, s);
		json_limit(jw, s);
		json_features(jw, s);
		json_sampling(jw, s);
		jw_string_or_null_field(jw, "last_error", nonempty(s->state.last_error));
		json_num(jw, "last_error_age_s",
			 s->state.last_error[0] ? sf_snap_age_s(s, s->state.error_boot_ns) : NAN);
	}
	jw_string_or_null_field(jw, "ports", ports);
	jw_end_object(jw);
}

static void json_verdict(struct json_writer *jw, const struct sf_verdict *v)
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

/* One interface: its attachment; in stats also its verdict, counters and rates. */
static void json_interface(struct json_writer *jw, const struct sf_snap *cur,
			   const struct sf_snap *prev, int i, double dt, const struct sf_render_opts *o)
{
	const struct sf_snap_if *si = &cur->ifs[i];
	struct sf_scope s = sf_scope_if(cur, prev, i, dt);

	jw_start_object(jw);
	jw_string_field(jw, "name", si->name);
	jw_uint_field(jw, "ifindex", si->ifindex);
	jw_string_field(jw, "xdp_mode", sf_mode_name(si->xdp_mode));
	jw_name(jw, "attached");
	jw_start_object(jw);
	json_attach(jw, "xdp", si->xdp);
	json_attach(jw, "tc", si->tc);
	jw_end_object(jw);
	jw_bool_field(jw, "engaged", !sf_snap_engage_auto(cur) || si->engaged);
	jw_uint_field(jw, "syn_rate", si->syn_rate);
	if (o->view == SF_VIEW_STATS) {
		json_tristate(jw, "attack", sf_scope_attacked(&s));
		json_counters(jw, "counters", si->c);
		json_rates(jw, "rates", &s);
	}
	jw_end_object(jw);
}

void sf_render_json(FILE *out, const struct sf_snap *cur, const struct sf_snap *prev, double dt,
		    const struct sf_verdict *v, const char *ports, const struct sf_render_opts *o)
{
	struct sf_scope t = sf_scope_total(cur, prev, dt);
	struct json_writer jw;

	jw_init(&jw, out, o->pretty);
	jw_start_object(&jw);
	jw_uint_field(&jw, "schema", SF_JSON_SCHEMA);
	if (o->pin_dir)
		jw_string_field(&jw, "pin_dir", o->pin_dir);
	json_num(&jw, "time", cur->real_ns / 1e9);
	jw_name(&jw, "interval_s");
	json_numval(&jw, sf_scope_has_rates(&t) ? dt : NAN);
	json_daemon(&jw, cur, ports);
	json_verdict(&jw, v);
	json_counters(&jw, "total", cur->total);
	if (o->view == SF_VIEW_STATS)
		json_rates(&jw, "total_rates", &t);
	jw_name(&jw, "interfaces");
	jw_start_array(&jw);
	for (int i = 0; i < cur->n_ifs; i++)
		json_interface(&jw, cur, prev, i, dt, o);
	jw_end_array(&jw);
	if (o->view == SF_VIEW_STATS)
		json_counters(&jw, "other", cur->other);
	jw_end_object(&jw);
	jw_finish(&jw);
}
