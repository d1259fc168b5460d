/* view/prom.c - the metrics server's page: the Prometheus text exposition format (0.0.4). */
#include <stdbool.h>
#include <stdio.h>

#include "view/render.h"
#include "version.h"

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

/* The samples_* counters have series of their own (prom_samples), not synfence_sample_*_total. */
static bool prom_is_sample_counter(int c)
{
	return c >= SF_CNT_sample_tx && c <= SF_CNT_sample_capped;
}

/* Counter c per interface (and "other" when it counted anything); extra: more labels or "". */
static void prom_series(FILE *out, const struct sf_snap *s, const char *name, const char *extra, int c)
{
	for (int i = 0; i < s->n_ifs; i++) {
		fprintf(out, "%s{interface=\"", name);
		prom_label(out, s->ifs[i].name);
		fprintf(out, "\"%s} %llu\n", extra, (unsigned long long)s->ifs[i].c[c]);
	}
	if (s->other_nonzero)
		fprintf(out, "%s{interface=\"other\"%s} %llu\n", name, extra,
			(unsigned long long)s->other[c]);
}

/* Every counter but the samples' */
static void prom_counters(FILE *out, const struct sf_snap *s)
{
	char name[96];

	for (int c = 0; c < SF_CNT_MAX; c++) {
		if (prom_is_sample_counter(c))
			continue;
		snprintf(name, sizeof(name), "synfence_%s_total", sf_counter_names[c]);
		prom_head(out, name, "counter", sf_counter_help[c]);
		prom_series(out, s, name, "", c);
	}
}

/* Packet sampling (capture, top): taken by verdict class, lost to a full ring, over the cap. */
static void prom_samples(FILE *out, const struct sf_snap *s)
{
	static const char *const classes[SF_VC_MAX] = { ",class=\"tx\"", ",class=\"drop\"",
							  ",class=\"pass\"" };

	prom_head(out, "synfence_samples_taken_total", "counter",
		  "Packet samples taken for capture or top, by verdict class (tx, drop, pass)");
	for (int vc = 0; vc < SF_VC_MAX; vc++)
		prom_series(out, s, "synfence_samples_taken_total", classes[vc], SF_CNT_sample_tx + vc);
	prom_head(out, "synfence_samples_lost_total", "counter", sf_counter_help[SF_CNT_sample_lost]);
	prom_series(out, s, "synfence_samples_lost_total", "", SF_CNT_sample_lost);
	prom_head(out, "synfence_samples_capped_total", "counter", sf_counter_help[SF_CNT_sample_capped]);
	prom_series(out, s, "synfence_samples_capped_total", "", SF_CNT_sample_capped);
}

/* Per interface and hook, where it could be checked. */
static void prom_attached(FILE *out, const struct sf_snap *s)
{
	static const char *const hooks[] = { "xdp", "tc" };

	prom_head(out, "synfence_attached", "gauge",
		  "1 when the synfence program is attached to the interface at the hook (xdp, tc), "
		  "else 0");
	for (int i = 0; i < s->n_ifs; i++) {
		enum sf_attach a[] = { s->ifs[i].xdp, s->ifs[i].tc };

		for (int h = 0; h < 2; h++) {
			if (a[h] == SF_ATTACH_UNKNOWN)
				continue;
			fprintf(out, "synfence_attached{interface=\"");
			prom_label(out, s->ifs[i].name);
			fprintf(out, "\",hook=\"%s\"} %d\n", hooks[h], a[h] == SF_ATTACH_YES);
		}
	}
}

/* Attack mode: engaged per interface (always 1 with engage = always), switches in all. */
static void prom_engage(FILE *out, const struct sf_snap *s)
{
	__u64 since, switches;

	sf_snap_engaged(s, &since, &switches);
	prom_head(out, "synfence_engaged", "gauge",
		  "1 while synfence answers the interface's SYNs (always with engage = always), 0 while "
		  "it is calm (engage = auto: the kernel answers them)");
	for (int i = 0; i < s->n_ifs; i++) {
		fprintf(out, "synfence_engaged{interface=\"");
		prom_label(out, s->ifs[i].name);
		fprintf(out, "\"} %d\n", !sf_snap_engage_auto(s) || s->ifs[i].engaged);
	}
	prom_head(out, "synfence_engage_switches_total", "counter",
		  "Switches between calm and engaged (engage = auto), every interface, since start");
	fprintf(out, "synfence_engage_switches_total %llu\n", (unsigned long long)switches);
}

/* The gauges of the daemon's published state. */
static void prom_state(FILE *out, const struct sf_snap *s)
{
	prom_head(out, "synfence_secret_age_seconds", "gauge",
		  "Seconds since the cookie secret was last replaced");
	fprintf(out, "synfence_secret_age_seconds %.3f\n", sf_snap_secret_age_s(s));
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
	prom_head(out, "synfence_monitor", "gauge",
		  "1 in monitor mode (--monitor: the counters show what synfence would do, every "
		  "packet passes to the kernel untouched), else 0");
	fprintf(out, "synfence_monitor %d\n", sf_snap_monitor(s));
	prom_engage(out, s);
}

void sf_render_prom(FILE *out, const struct sf_snap *s)
{
	/* rendered by the daemon that serves /metrics: its own version */
	prom_head(out, "synfence_build_info", "gauge", "The version of the synfence serving these "
		  "metrics (the label); always 1");
	fprintf(out, "synfence_build_info{version=\"");
	prom_label(out, SYNFENCE_VERSION);
	fprintf(out, "\"} 1\n");
	prom_counters(out, s);
	prom_samples(out, s);
	prom_attached(out, s);
	if (s->have_state)
		prom_state(out, s);
}
