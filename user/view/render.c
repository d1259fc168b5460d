/* view/render.c - what the outputs share: names, readable numbers, sf_render (text or JSON). */
#include <math.h>
#include <string.h>

#include "conf/ports.h"
#include "view/render.h"
#include "view/verdict.h"

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

const char *const sf_sysctl_names[SF_SYSCTL_MAX] = {
#define SF_SYSCTL_NAME(name) #name,
	SF_SYSCTLS(SF_SYSCTL_NAME)
#undef SF_SYSCTL_NAME
};

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

/* The protected ports as text (NULL: unknown), cut with "..." where buf is too short. */
static const char *ports_text(const struct sf_snap *s, char *buf, size_t len)
{
	if (!s->have_ports)
		return NULL;
	if (sf_format_ports(s->ports, buf, len) >= len)
		strcpy(buf + len - 4, "...");
	return buf;
}

void sf_render(FILE *out, const struct sf_snap *cur, const struct sf_snap *prev,
	       const struct sf_render_opts *o)
{
	double dt = prev ? sf_snap_interval(prev, cur) : 0;
	char ports_buf[512];
	const char *ports;
	struct sf_verdict v;

	if (dt <= 0)
		prev = NULL;
	ports = ports_text(cur, ports_buf, sizeof(ports_buf));
	sf_verdict_compute(cur, prev, dt, &v);
	if (o->json)
		sf_render_json(out, cur, prev, dt, &v, ports, o);
	else
		sf_render_text(out, cur, prev, dt, &v, ports, o);
}
