/* cmd/stats.c - `synfence stats` and `synfence status`: one snapshot (or two, for rates) of what a
 * running synfence publishes, rendered by view/ as text (render_text.c) or JSON (render_json.c). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/pindir.h"
#include "conf/settings.h"
#include "lib/log.h"
#include "view/render.h"
#include "view/snapshot.h"
#include "lib/util.h"
#include "view/watch.h"

#define DEFAULT_INTERVAL 1.0
#define MAX_INTERVAL     60.0
#define DEFAULT_WATCH    1.0
#define MIN_WATCH        0.1
#define MAX_WATCH        3600.0

static void counters_help(FILE *out)
{
	fprintf(out, "COUNTERS\n");
	for (int i = 0; i < SF_CNT_MAX; i++)
		fprintf(out, "    %-20s %s\n", sf_counter_names[i], sf_counter_help[i]);
}

static void stats_help_description(FILE *out)
{
	fprintf(out,
		"NAME\n"
		"    synfence stats - show the packet counters of a running synfence\n"
		"\n"
		"SYNOPSIS\n"
		"    synfence stats [--pin-dir DIR] [--config FILE] [-i SECONDS] [-w [SECONDS]] [-a] [-e]\n"
		"                   [-j] [-p] [-v]\n"
		"\n"
		"DESCRIPTION\n"
		"    Reads the counters that `synfence run` keeps (per CPU, per interface) from the maps\n"
		"    pinned in DIR, samples them twice --interval apart for per-second rates, and prints:\n"
		"      a header (pid, uptime, ports, secret age, the interval the rates are over);\n"
		"      attack   YES when SYNs (or bad cookie ACKs) arrive at >= %.0f/s and >= %.0f times\n"
		"               the rate of completed handshakes, else no;\n"
		"      working  whether XDP and TC are attached and a secret is loaded;\n"
		"      legit    whether validated connections fail to reach the kernel (handoff errors,\n"
		"               no listener, no room, no secret);\n"
		"    then one row per counter with its count and rate per interface (and in total with\n"
		"    several interfaces). Numbers are human-readable (9999, 12.3k, 1.2M) unless -e.\n"
		"    Counters at zero are left out unless -a.\n"
		"\n"
		"    When no daemon runs but run left its programs attached (killed, crashed, or stopped\n"
		"    with SIGUSR2 or keep_attached: its pinned links outlive it), they still protect and\n"
		"    count: stats shows their counters under a header saying NOT RUNNING: no daemon,\n"
		"    and what is still attached (the secret is not rotated until the next run).\n"
		"\n"
		"    With -j the same as one JSON object (schema %d, documented in synfence(8) and the\n"
		"    README): \"total\" and \"interfaces[].counters\" hold every counter as an integer,\n"
		"    \"total_rates\" and \"interfaces[].rates\" the per-second rates (null without rates),\n"
		"    \"daemon\" the state of run, \"verdict\" the three answers above.\n"
		"\n",
		SF_ATTACK_MIN_RATE, SF_ATTACK_RATIO, SF_JSON_SCHEMA);
}

/* The options of stats besides --pin-dir and --config. */
static void stats_help_options(FILE *out)
{
	fprintf(out,
		"    -i, --interval SECONDS\n"
		"        Sample the counters twice, SECONDS apart, for the rates (default %g; 0: read once,\n"
		"        no rates; at most %g).\n"
		"    -w, --watch [SECONDS]\n"
		"        Redraw every SECONDS (default %g) in place like top(1), the rates over the last\n"
		"        period; q or Ctrl-C quits and restores the terminal. Not on a terminal (or with\n"
		"        -j): one output per period (JSON: one document per line).\n"
		"    -a, --all       also show the counters that are zero\n"
		"    -e, --exact     full numbers instead of 1.2M and 34.5k/s\n"
		"    -j, --json      JSON output (errors too)\n"
		"    -p, --pretty    indented JSON output\n"
		"    -v, --verbose   add a description column to the table\n"
		"\n",
		DEFAULT_INTERVAL, MAX_INTERVAL, DEFAULT_WATCH);
}

static void stats_help_exit(FILE *out)
{
	fprintf(out,
		"\n"
		"EXIT STATUS\n"
		"    0 when the counters are shown: run is alive, or it is gone but left programs\n"
		"    attached (see above). 1 when synfence is not running: no synfence state (nothing\n"
		"    pinned in DIR), run still starting, or run gone with nothing attached (the maps\n"
		"    are left over); or the maps cannot be read. 2 on a command-line or config file\n"
		"    error.\n"
		"\n"
		"EXAMPLES\n"
		"    synfence stats\n"
		"    synfence stats --watch 2\n"
		"    synfence stats -j -i 0 | jq .total.syn_recv\n");
}

static void stats_help(FILE *out)
{
	stats_help_description(out);
	fprintf(out, "OPTIONS\n");
	sf_dir_opts_help(out);
	stats_help_options(out);
	counters_help(out);
	stats_help_exit(out);
}

static void status_help(FILE *out)
{
	fprintf(out,
		"NAME\n"
		"    synfence status - is synfence running, attached, working, under attack?\n"
		"\n"
		"SYNOPSIS\n"
		"    synfence status [--pin-dir DIR] [--config FILE] [-i SECONDS] [-j] [-p]\n"
		"\n"
		"DESCRIPTION\n"
		"    Shows what `synfence run` publishes in DIR: its pid and uptime, the protected ports,\n"
		"    the age of the cookie secret and its rotation period, the metrics address, the ids\n"
		"    of its programs, each interface with its XDP mode and whether the XDP and TC\n"
		"    programs are attached to it right now (asked from the kernel; only possible in\n"
		"    run's network namespace), the same attack / working / legit verdict as `stats`,\n"
		"    a few totals, the sysctls run mirrors and what its SYN-ACKs carry, and run's last\n"
		"    error with its age. The secret itself is never shown. With -j: the same JSON object as\n"
		"    `stats -j` without the per-interface counters and rates.\n"
		"\n"
		"    When no daemon runs (killed, crashed, or stopped with SIGUSR2 or keep_attached),\n"
		"    the daemon is shown as NOT RUNNING, with what it left attached: its pinned links\n"
		"    outlive it and go on protecting, without secret rotation.\n"
		"\n"
		"OPTIONS\n");
	sf_dir_opts_help(out);
	fprintf(out,
		"    -i, --interval SECONDS\n"
		"        Sample twice, SECONDS apart, for the verdict (default %g; 0: no rates).\n"
		"    -j, --json      JSON output (errors too)\n"
		"    -p, --pretty    indented JSON output\n"
		"\n"
		"EXIT STATUS\n"
		"    0 when protection is in place: run is alive and its programs are attached to\n"
		"    every interface (or that cannot be checked from here), or no daemon runs but the\n"
		"    programs it left are attached to every interface. 1 when there is no synfence\n"
		"    state (nothing pinned in DIR), something is not attached, protection is suspended\n"
		"    (tcp_syncookies off with no sysctl changes), or the maps cannot be read; 2 on a\n"
		"    command-line or config file error.\n",
		DEFAULT_INTERVAL);
}

struct view_args {
	struct sf_dir_args d; /* --pin-dir, --config: the pin dir */
	double interval;
	double watch; /* 0: no --watch */
	struct sf_render_opts ro;
};

/* --watch SECONDS as well as --watch=SECONDS and -wSECONDS */
static int parse_watch(const struct sf_cmd *cmd, int argc, char **argv, struct view_args *a)
{
	const char *arg = optarg;

	a->watch = DEFAULT_WATCH;
	if (!arg && optind < argc && argv[optind][0] != '-' &&
	    !sf_parse_seconds(argv[optind], 0, 1e9, &a->watch))
		arg = argv[optind++];
	if (arg && sf_parse_seconds(arg, MIN_WATCH, MAX_WATCH, &a->watch))
		return sf_usage_err(cmd, "bad --watch '%s': expected seconds, %g-%g", arg, MIN_WATCH,
				    MAX_WATCH);
	return SF_EXIT_OK;
}

/* One option of stats or status (not a global one). -w, -a and -e are for stats only. */
static int view_opt(const struct sf_cmd *cmd, int c, int argc, char **argv, struct view_args *a)
{
	bool stats = cmd == &sf_cmd_stats;
	int ret = sf_dir_opt(cmd, c, &a->d);

	if (ret != SF_DIR_NOT_MINE)
		return ret;
	switch (c) {
	case 'i':
		if (sf_parse_seconds(optarg, 0, MAX_INTERVAL, &a->interval))
			return sf_usage_err(cmd, "bad --interval '%s': expected seconds, 0-%g", optarg,
					    MAX_INTERVAL);
		return SF_EXIT_OK;
	case 'w':
		if (stats)
			return parse_watch(cmd, argc, argv, a);
		break;
	case 'a':
		if (!stats)
			break;
		a->ro.all = true;
		return SF_EXIT_OK;
	case 'e':
		if (!stats)
			break;
		a->ro.exact = true;
		return SF_EXIT_OK;
	}
	return sf_usage_err(cmd, "unexpected option");
}

/* After the options: the pin dir, and how to render. */
static int finish_args(const struct sf_cmd *cmd, struct view_args *a)
{
	bool stats = cmd == &sf_cmd_stats;
	int ret = sf_dir_resolve(cmd, &a->d, 0);

	if (ret)
		return ret;
	a->ro.view = stats ? SF_VIEW_STATS : SF_VIEW_STATUS;
	a->ro.json = sf_opts.json;
	a->ro.pretty = sf_opts.pretty;
	a->ro.descriptions = stats && sf_opts.verbose > 0;
	a->ro.pin_dir = a->d.dir;
	return SF_EXIT_OK;
}

static int parse_args(const struct sf_cmd *cmd, int argc, char **argv, struct view_args *a,
		      bool *done)
{
	static const struct option long_opts[] = {
		SF_DIR_LONGOPTS,
		{ "interval", required_argument, NULL, 'i' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "all", no_argument, NULL, 'a' },
		{ "exact", no_argument, NULL, 'e' },
		SF_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *shortopts = cmd == &sf_cmd_stats ? ":" SF_GLOBAL_SHORTOPTS "i:w::ae"
						     : ":" SF_GLOBAL_SHORTOPTS "i:";
	int c, ret;

	a->interval = DEFAULT_INTERVAL;
	/* -v is global (verbose); in stats it also adds the description column */
	while ((c = sf_getopt(argc, argv, shortopts, long_opts, cmd)) >= 0) {
		ret = view_opt(cmd, c, argc, argv, a);
		if (ret)
			return ret;
	}
	ret = sf_opts_no_args(cmd, c, argc, argv, done);
	if (ret != SF_OPTS_END)
		return ret;
	return finish_args(cmd, a);
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int sf_check_running(const char *dir, const struct sf_snap *s)
{
	char gone[96];

	if (!s->have_state) {
		sf_err("synfence is still starting (state not published yet in %s)", dir);
		return -EAGAIN;
	}
	if (s->running || sf_snap_left(s) != SF_LEFT_NOTHING)
		return 0;
	sf_daemon_gone_text(s, gone, sizeof(gone));
	sf_err("synfence is not running: %s and nothing is attached; the maps in %s are left over "
	       "(start synfence run, or remove them)", gone, dir);
	return -ESRCH;
}

/* status: 0 when protection is in place on every interface: run alive with nothing found detached
 * (or not checkable from here), or, without a daemon, its programs attached everywhere; and not
 * suspended. */
static int status_exit(const struct sf_snap *s)
{
	if (!s->have_state || sf_snap_suspended(s))
		return SF_EXIT_FAIL;
	if (!s->running)
		return sf_snap_left(s) == SF_LEFT_ALL ? SF_EXIT_OK : SF_EXIT_FAIL;
	for (int i = 0; i < s->n_ifs; i++)
		if (s->ifs[i].xdp == SF_ATTACH_NO || s->ifs[i].tc == SF_ATTACH_NO)
			return SF_EXIT_FAIL;
	return SF_EXIT_OK;
}

static int view_cmd(const struct sf_cmd *cmd, int argc, char **argv)
{
	struct view_args a = { 0 };
	struct sf_snap *snaps = NULL;
	struct sf_maps maps;
	bool done = false, stats = cmd == &sf_cmd_stats;
	int ret;

	sf_maps_init(&maps);
	ret = parse_args(cmd, argc, argv, &a, &done);
	if (ret || done)
		return ret;

	ret = SF_EXIT_FAIL;
	snaps = calloc(2, sizeof(*snaps));
	if (!snaps) {
		sf_err("out of memory");
		goto out;
	}
	if (sf_maps_open_pinned(&maps, a.d.dir) || sf_snap_read(&maps, &snaps[0], true))
		goto out;
	if (stats && sf_check_running(a.d.dir, &snaps[0]))
		goto out;
	if (a.watch > 0) {
		ret = sf_watch(&maps, &a.ro, a.watch) ? SF_EXIT_FAIL : SF_EXIT_OK;
		goto out;
	}
	if (a.interval > 0) {
		sleep_s(a.interval);
		if (sf_snap_read(&maps, &snaps[1], true))
			goto out;
		sf_render(stdout, &snaps[1], &snaps[0], &a.ro);
	} else {
		sf_render(stdout, &snaps[0], NULL, &a.ro);
	}
	if (fflush(stdout) || ferror(stdout)) {
		if (!sf_opts.json)
			sf_err("cannot write the output: %s", strerror(errno));
		goto out;
	}
	/* stats: the counters are shown (the header says when no daemon runs); status: see above */
	ret = stats ? SF_EXIT_OK : status_exit(&snaps[a.interval > 0]);
out:
	sf_maps_close(&maps);
	free(snaps);
	return ret;
}

static int stats_cmd(int argc, char **argv) { return view_cmd(&sf_cmd_stats, argc, argv); }
static int status_cmd(int argc, char **argv) { return view_cmd(&sf_cmd_status, argc, argv); }

const struct sf_cmd sf_cmd_stats = {
	.name = "stats",
	.summary = "show the packet counters and rates of a running synfence",
	.run = stats_cmd,
	.help = stats_help,
};

const struct sf_cmd sf_cmd_status = {
	.name = "status",
	.summary = "is synfence running, attached, working, under attack?",
	.run = status_cmd,
	.help = status_help,
};
