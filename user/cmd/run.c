/* cmd/run.c - `synfence run`: the command line and the config file into settings, then the daemon
 * (daemon/lifecycle.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "conf/listfile.h"
#include "conf/settings.h"
#include "daemon/daemon.h"
#include "daemon/limit_config.h"
#include "lib/log.h"
#include "conf/ports.h"
#include "lib/preflight.h"
#include "daemon/secret.h"
#include "lib/util.h"

/* getopt values: run's own options, then one per key flag (OPT_KEY + key) and one per --no-FLAG
 * of a bool key (OPT_KEY + SF_KEY_MAX + key) */
enum { OPT_CONFIG = 256, OPT_CHECK, OPT_KEY };

/* run's options that are not config keys (those come from sf_keys, conf/settings.c) */
static const struct run_opt {
	struct option opt; /* getopt_long's entry; name NULL: in the help only */
	const char *head, *help;
	int after;         /* the help goes after that key's (-1: before the keys) */
} run_opts[] = {
	{ { "config", required_argument, NULL, OPT_CONFIG }, "--config FILE",
	  "The config file (default " SF_DEFAULT_CONFIG "; with --config it must exist).", -1 },
	{ { "check-config", no_argument, NULL, OPT_CHECK }, "--check-config",
	  "Check the settings (config file, flags, secret file) and exit: 0 when valid.", -1 },
	{ { "quiet", no_argument, NULL, 'q' }, "-q, --quiet",
	  "Log less: once for warnings and errors only, twice for errors only (run only).", SF_KEY_LOG_LEVEL },
	{ { NULL, 0, NULL, 0 }, "-v, -j, -p, -h, -V", "As for every command (see 'synfence help').",
	  SF_KEY_METRICS },
};

static void opts_help_after(FILE *out, int key)
{
	for (size_t i = 0; i < SF_ARRAY_SIZE(run_opts); i++) {
		if (run_opts[i].after != key)
			continue;
		fprintf(out, "    %s\n", run_opts[i].head);
		sf_help_lines(out, run_opts[i].help, NULL);
	}
}

/* run --help around the options (those come from run_opts and sf_keys) */
static const char help_head[] =
	"NAME\n"
	"    synfence run - protect TCP ports on interfaces against SYN floods (the daemon)\n"
	"\n"
	"SYNOPSIS\n"
	"    synfence run [IFACE...] [--ports LIST] [--config FILE] [--check-config]\n"
	"                 [--mode native|generic|auto] [--rotate SECONDS] [--secret-file FILE]\n"
	"                 [--pin-dir DIR] [--log-level LEVEL] [-v|-q] [--no-sysctl-changes]\n"
	"                 [--sysctl-interval SECONDS] [--no-reattach] [--keep-attached]\n"
	"                 [--metrics ADDR:PORT]\n"
	"\n"
	"DESCRIPTION\n"
	"    Attaches the synfence XDP program to each IFACE and a TC ingress program next to\n"
	"    it. SYNs to a port in LIST are answered from XDP with a SYN-ACK carrying a SYN\n"
	"    cookie; the final ACK is checked in XDP, and the TC program hands the connection\n"
	"    to the listening socket. Other traffic passes untouched.\n"
	"\n"
	"    run stays in the foreground and logs to stderr (journald picks up the levels).\n"
	"    Under systemd it reports READY/RELOADING/STOPPING and the watchdog (Type=notify).\n"
	"\n"
	"    Settings come from the config file (default " SF_DEFAULT_CONFIG ", used when it exists;\n"
	"    see CONFIG FILE) and every setting has a flag that overrides it. IFACE arguments\n"
	"    replace the file's 'interfaces'.\n"
	"\n"
	"SIGNALS AND RESTARTS\n"
	"    SIGTERM, SIGINT  detach everything and remove the pins, exit 0 (with keep_attached:\n"
	"                     exit leaving protection in place, as SIGUSR2).\n"
	"    SIGUSR2          exit 0 leaving protection in place, for an upgrade: the programs\n"
	"                     stay attached and the maps and links pinned; no secret rotation\n"
	"                     happens until the next run.\n"
	"    SIGHUP           re-read the config file (flags keep overriding it): interfaces and\n"
	"                     ports added or removed, rotation period, secret file, log level,\n"
	"                     sysctl settings. Interfaces that stay are not touched. A bad config\n"
	"                     is refused as a whole and logged; the running one stays. pin_dir\n"
	"                     and metrics change only with a restart (a warning is logged).\n"
	"    Maps and the XDP and TC links are pinned in the pin dir. A run that finds the pins\n"
	"    of an earlier one (crashed, killed, stopped with SIGUSR2) takes them over: same\n"
	"    secrets, same counters, programs swapped atomically (bpf_link_update), so no\n"
	"    handshake in flight and no connection is lost. One run per pin dir (a lock); a\n"
	"    second run on an interface another synfence protects is refused, naming it.\n"
	"\n"
	"    The SYN-ACK mirrors what the kernel would offer: timestamps, SACK, window scaling\n"
	"    and ECN follow net.ipv4.tcp_timestamps, tcp_sack, tcp_window_scaling and tcp_ecn\n"
	"    of the network namespace synfence runs in; the window scale follows tcp_rmem and\n"
	"    net.core.rmem_max; the MSS is the smallest MTU of the interfaces minus 40 (IPv4)\n"
	"    or 60 (IPv6). They are read at start, on SIGHUP and every sysctl_interval seconds.\n"
	"    net.ipv4.tcp_syncookies must be 1 or 2: run sets it to 1 (logged), or with\n"
	"    --no-sysctl-changes refuses to start (and suspends protection while it is off).\n"
	"\n"
	"    An interface that disappears is logged and left; the others stay protected, and it\n"
	"    is attached again when it comes back (unless --no-reattach).\n"
	"\n"
	"OPTIONS\n";

static const char help_tail[] =
	"\n"
	"CONFIG FILE\n"
	"    INI style: 'key = value' lines, '#' or ';' comments, optionally under [synfence].\n"
	"    interfaces and ports may go on over indented lines. Unknown keys, bad values and\n"
	"    repeated keys are errors naming the file, the line and the key.\n"
	"        interfaces = eth0 eth1\n"
	"        ports = 80,443\n"
	"                8000-8100\n"
	"        rotate = 60\n"
	"        secret_file = /etc/synfence/secret\n"
	"\n"
	"REQUIREMENTS\n"
	"    root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_ADMIN); kernel BTF; Linux >= 6.9\n"
	"    (kfunc " SF_KFUNC_HANDOFF ").\n"
	"\n"
	"EXIT STATUS\n"
	"    0 after a clean stop on a signal, 1 on a runtime error, 2 on a command-line or\n"
	"    config error (bad flag, key, value or secret file). Errors are one line on stderr.\n"
	"\n"
	"EXAMPLES\n"
	"    synfence run eth1 --ports 80,443\n"
	"    synfence run --config /etc/synfence/synfence.conf\n"
	"    synfence run eth1 eth2 --ports 22,8000-8100 --mode native --rotate 30\n"
	"    synfence run eth1 --ports 443 --metrics 127.0.0.1:9464\n"
	"    kill -USR2 $(pidof synfence); install the new binary; synfence run ...  (upgrade)\n";

static void run_help(FILE *out)
{
	fputs(help_head, out);
	opts_help_after(out, -1);
	for (int k = 0; k < SF_KEY_MAX; k++) {
		sf_key_help(out, (enum sf_key)k);
		opts_help_after(out, k);
	}
	fputs(help_tail, out);
}

struct run_args {
	struct sf_run_opts o;
	bool check;
	int quiet;
};

static const struct option global_opts[] = { SF_GLOBAL_LONGOPTS };

/* Room for the long options: run's, two per key (--FLAG, --no-FLAG), the global ones, the end. */
#define N_LONGOPTS (SF_ARRAY_SIZE(run_opts) + 2 * SF_KEY_MAX + SF_ARRAY_SIZE(global_opts) + 1)

struct run_getopt {
	struct option lo[N_LONGOPTS];
	char no_names[SF_KEY_MAX][40]; /* "no-FLAG" */
	char shortopts[64];
};

static void add_short(char *so, size_t len, char c, bool arg)
{
	size_t o = strlen(so);

	if (o + 3 <= len) {
		so[o++] = c;
		if (arg)
			so[o++] = ':';
		so[o] = '\0';
	}
}

/* getopt_long's tables from sf_keys and run_opts */
static void build_getopt(struct run_getopt *g)
{
	size_t n = 0;

	snprintf(g->shortopts, sizeof(g->shortopts), ":%s", SF_GLOBAL_SHORTOPTS);
	for (int k = 0; k < SF_KEY_MAX; k++) {
		const struct sf_key_desc *d = &sf_keys[k];
		bool arg = d->type != SF_T_BOOL;

		if (!d->flag)
			continue;
		g->lo[n++] = (struct option){ d->flag, arg ? required_argument : no_argument, NULL,
					      d->short_opt ? d->short_opt : OPT_KEY + k };
		if (d->short_opt)
			add_short(g->shortopts, sizeof(g->shortopts), d->short_opt, arg);
		if (arg)
			continue;
		snprintf(g->no_names[k], sizeof(g->no_names[k]), "no-%s", d->flag);
		g->lo[n++] = (struct option){ g->no_names[k], no_argument, NULL, OPT_KEY + SF_KEY_MAX + k };
	}
	for (size_t i = 0; i < SF_ARRAY_SIZE(run_opts); i++) {
		if (!run_opts[i].opt.name)
			continue;
		g->lo[n++] = run_opts[i].opt;
		if (run_opts[i].opt.val < 256)
			add_short(g->shortopts, sizeof(g->shortopts), (char)run_opts[i].opt.val,
				  run_opts[i].opt.has_arg != no_argument);
	}
	for (size_t i = 0; i < SF_ARRAY_SIZE(global_opts); i++)
		g->lo[n++] = global_opts[i];
	g->lo[n] = (struct option){ NULL, 0, NULL, 0 };
}

/* The key getopt's c sets and the value (the argument, or yes/no for a bool's flags); -1: none. */
static int opt_key(int c, const char *arg, const char **v)
{
	for (int k = 0; k < SF_KEY_MAX; k++) {
		if (c == OPT_KEY + k || (sf_keys[k].short_opt && c == sf_keys[k].short_opt)) {
			*v = sf_keys[k].type == SF_T_BOOL ? "yes" : arg;
			return k;
		}
		if (c == OPT_KEY + SF_KEY_MAX + k) {
			*v = "no";
			return k;
		}
	}
	return -1;
}

static int set_key(struct run_args *a, enum sf_key key, const char *v)
{
	char err[512];

	if (sf_settings_set(&a->o.cli, key, v, false, err, sizeof(err)))
		return sf_usage_err(&sf_cmd_run, "--%s: %s", sf_keys[key].flag, err);
	return SF_EXIT_OK;
}

/* One option that is not a global one. Returns SF_EXIT_OK or the exit code. */
static int handle_opt(struct run_args *a, int c, const char *arg)
{
	const char *v;
	int key = opt_key(c, arg, &v);

	if (key >= 0)
		return set_key(a, (enum sf_key)key, v);
	switch (c) {
	case 'q':
		a->quiet++;
		break;
	case OPT_CHECK:
		a->check = true;
		break;
	case OPT_CONFIG:
		if (!*arg)
			return sf_usage_err(&sf_cmd_run, "--config needs a file");
		a->o.config = arg;
		a->o.config_given = true;
		break;
	default:
		return sf_usage_err(&sf_cmd_run, "unexpected option");
	}
	return SF_EXIT_OK;
}

/* -v, -q, -qq: a log level, which must agree with --log-level */
static int apply_verbosity(struct run_args *a)
{
	const char *flag = sf_opts.verbose ? "-v" : a->quiet > 1 ? "-qq" : "-q";
	bool level_given = a->o.cli.set & (1u << SF_KEY_LOG_LEVEL);
	enum sf_log_level given = a->o.cli.log_level;
	int ret;

	if (a->quiet && sf_opts.verbose)
		return sf_usage_err(&sf_cmd_run, "-q and -v contradict each other");
	if (!sf_opts.verbose && !a->quiet)
		return SF_EXIT_OK;
	ret = set_key(a, SF_KEY_LOG_LEVEL, sf_opts.verbose ? "debug" : a->quiet > 1 ? "error" : "warning");
	if (ret)
		return ret;
	if (level_given && given != a->o.cli.log_level)
		return sf_usage_err(&sf_cmd_run, "%s and --log-level %s contradict each other", flag,
				    sf_log_level_name(given));
	return SF_EXIT_OK;
}

/* Returns SF_EXIT_OK to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct run_args *a, bool *done)
{
	struct run_getopt *g = calloc(1, sizeof(*g));
	char err[512];
	int c, ret = SF_EXIT_OK;

	if (!g) {
		sf_err("%s", strerror(ENOMEM));
		return SF_EXIT_FAIL;
	}
	build_getopt(g);
	sf_settings_defaults(&a->o.cli);
	a->o.cli.set = 0;
	a->o.config = SF_DEFAULT_CONFIG;
	while ((c = sf_getopt(argc, argv, g->shortopts, g->lo, &sf_cmd_run)) >= 0) {
		ret = handle_opt(a, c, optarg);
		if (ret)
			goto out;
	}
	if (c != SF_OPTS_END) {
		*done = c == SF_OPTS_EXIT;
		ret = sf_opts_exit_code(c);
		goto out;
	}
	ret = apply_verbosity(a);
	for (int i = optind; !ret && i < argc; i++)
		if (sf_settings_set(&a->o.cli, SF_KEY_INTERFACES, argv[i], i > optind, err, sizeof(err)))
			ret = sf_usage_err(&sf_cmd_run, "%s", err);
out:
	free(g);
	return ret;
}

/* --check-config, the end of its line: the list files (already read and checked by sf_settings_check). */
static void print_list_files(const struct sf_settings *s)
{
	const char *files[] = { s->allow_file, s->deny_file }, *names[] = { "allow", "deny" };
	char err[512];

	for (int i = 0; i < 2; i++) {
		struct sf_list_key *keys = NULL;
		size_t n = 0;

		if (!files[i][0])
			continue;
		sf_list_file_read(files[i], &keys, &n, err, sizeof(err));
		free(keys);
		printf(", %s file %s (%zu prefix%s)", names[i], files[i], n, n == 1 ? "" : "es");
	}
	printf("\n");
}

static int check_config(struct run_args *a)
{
	const struct sf_settings *s = &a->o.set;
	char ports[256], err[1024], lim[128];
	struct sf_master m;

	if (sf_master_load(s, a->o.config, &m, err, sizeof(err))) {
		sf_err("%s", err);
		return SF_EXIT_USAGE;
	}
	sf_master_clear(&m);
	for (int i = 0; i < s->n_ifs; i++)
		if (!if_nametoindex(s->ifs[i]))
			sf_warn("interface %s does not exist (here, now)", s->ifs[i]);
	if (sf_format_ports(s->ports, ports, sizeof(ports)) >= sizeof(ports))
		strcpy(ports + sizeof(ports) - 4, "...");
	printf("config OK (%s): %d interface%s, ports %s, mode %s, rotate %lus, %s secret, pin dir %s, "
	       "metrics %s, monitor %s, engage %s", a->o.config_used ? a->o.config : "no config file",
	       s->n_ifs, s->n_ifs == 1 ? "" : "s", ports, sf_mode_req_name(s->mode), s->rotate,
	       s->secret_file[0] ? "shared" : "random", s->pin_dir, s->metrics[0] ? s->metrics : "off",
	       s->monitor ? "yes (counting only, every packet passes)" : "no", sf_engage_name(s->engage));
	if (s->engage == SF_ENGAGE_AUTO)
		printf(" (above %lu SYNs/s, hold %lus)", s->engage_rate, s->engage_hold);
	printf(", source SYN limit %s", sf_limit_describe(s, lim, sizeof(lim)));
	print_list_files(s); /* and the newline */
	return SF_EXIT_OK;
}

static int run_cmd(int argc, char **argv)
{
	struct run_args *a = calloc(1, sizeof(*a));
	bool done = false;
	char err[1024];
	int ret;

	if (!a) {
		sf_err("%s", strerror(ENOMEM));
		return SF_EXIT_FAIL;
	}
	ret = parse_args(argc, argv, a, &done);
	if (ret || done)
		goto out;
	if (sf_settings_resolve(a->o.config, a->o.config_given, &a->o.cli, &a->o.set, &a->o.config_used,
				err, sizeof(err)) ||
	    sf_settings_check(&a->o.set, err, sizeof(err))) {
		sf_err("%s", err);
		ret = SF_EXIT_USAGE;
		goto out;
	}
	if (a->check) {
		ret = check_config(a);
		goto out;
	}
	ret = sf_daemon_run(&a->o);
out:
	free(a);
	return ret;
}

const struct sf_cmd sf_cmd_run = {
	.name = "run",
	.summary = "attach to interfaces and protect ports (the daemon; stays in the foreground)",
	.run = run_cmd,
	.help = run_help,
};
