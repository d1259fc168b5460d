/* cmd/run.c - `synfence run`: the command line and the config file into settings, then the daemon
 * (daemon/daemon.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "conf/settings.h"
#include "daemon/daemon.h"
#include "lib/log.h"
#include "conf/ports.h"
#include "lib/preflight.h"
#include "daemon/secret.h"

static void run_help(FILE *out)
{
	fprintf(out,
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
		"    Settings come from the config file (default %s, used when it exists;\n"
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
		"OPTIONS\n"
		"    --config FILE\n"
		"        The config file (default %s; with --config it must exist).\n"
		"    --check-config\n"
		"        Check the settings (config file, flags, secret file) and exit: 0 when valid.\n"
		"    IFACE...  (config: interfaces = IFACE ...)\n"
		"        The interfaces to protect (at most %d).\n"
		"    --ports LIST  (config: ports = LIST)\n"
		"        Ports to protect: comma-separated ports and inclusive ranges, e.g.\n"
		"        80,443,8000-8100. Ports are 1-65535. Required (here or in the file).\n"
		"    -m, --mode native|generic|auto  (config: mode)\n"
		"        XDP mode. auto (default) tries native and falls back to generic (skb) mode\n"
		"        with a warning.\n"
		"    --rotate SECONDS  (config: rotate)\n"
		"        Replace the cookie secret every SECONDS (1-%d, default %d). Cookies from\n"
		"        the previous secret stay valid, so a cookie lives 1 to 2 periods.\n"
		"    --secret-file FILE  (config: secret_file)\n"
		"        Derive the secrets from the master secret in FILE (32-128 hex digits; a\n"
		"        regular file owned by root, mode 0600 or 0400) instead of random ones: the\n"
		"        key of epoch e = floor(unix time / SECONDS) is BLAKE2b(master, e), so servers\n"
		"        behind one anycast/ECMP address with the same file, the same --rotate and\n"
		"        synced clocks accept each other's cookies. Clock skew: a cookie made by a\n"
		"        server whose clock is s seconds ahead fails on the others when its ACK comes\n"
		"        within s seconds after a period boundary of that server; otherwise cookies\n"
		"        are accepted for 1 to 2 periods minus s. Keep s far below the period.\n"
		"    --pin-dir DIR  (config: pin_dir)\n"
		"        Where the maps and links are pinned (default %s); created (0700)\n"
		"        and a bpffs mounted on it when needed. Other commands find run's state there.\n"
		"        A bpffs mounted inside `ip netns exec` is private to that command: mount one\n"
		"        beforehand for state that must outlive it.\n"
		"    --log-level error|warning|info|debug  (config: log_level)\n"
		"        Default info. -v is debug (and libbpf messages), -q warning, -qq error;\n"
		"        with another --log-level they are an error.\n"
		"    -q, --quiet\n"
		"        Log less: once for warnings and errors only, twice for errors only (run only).\n"
		"    --no-sysctl-changes, --sysctl-changes  (config: sysctl_changes = no|yes)\n"
		"        Never change a sysctl (tcp_syncookies=0 is then refused).\n"
		"    --sysctl-interval SECONDS  (config: sysctl_interval)\n"
		"        How often the sysctls and the interfaces are re-checked (1-%d, default %d).\n"
		"    --no-reattach, --reattach  (config: reattach = no|yes)\n"
		"        Whether an interface that disappeared is attached again when it comes back\n"
		"        (and one that lost a link, at once).\n"
		"    --keep-attached, --no-keep-attached  (config: keep_attached = yes|no)\n"
		"        SIGTERM leaves protection in place (as SIGUSR2); 'synfence detach' removes it.\n"
		"    --metrics ADDR:PORT  (config: metrics)\n"
		"        Serve the counters and a few gauges in the Prometheus text format at\n"
		"        http://ADDR:PORT/metrics (off by default). ADDR is a literal IPv4 address or\n"
		"        an IPv6 one in brackets: 127.0.0.1:9464, [::1]:9464. Prefer a loopback\n"
		"        address: the endpoint has no authentication. A port in use is an error.\n"
		"        A changed address takes effect only with a restart (SIGHUP logs a warning).\n"
		"    -v, -j, -p, -h, -V\n"
		"        As for every command (see 'synfence help').\n"
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
		"    (kfunc %s).\n"
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
		"    kill -USR2 $(pidof synfence); install the new binary; synfence run ...  (upgrade)\n",
		SF_DEFAULT_CONFIG, SF_DEFAULT_CONFIG, SF_MAX_RUN_IFACES, SF_MAX_ROTATE,
		SF_DEFAULT_ROTATE, SF_DEFAULT_PIN_DIR, SF_MAX_SYSCTL_INTERVAL,
		SF_DEFAULT_SYSCTL_INTERVAL, SF_KFUNC_HANDOFF);
}

enum {
	OPT_PORTS = 256, OPT_PIN_DIR, OPT_ROTATE, OPT_METRICS, OPT_CONFIG, OPT_CHECK, OPT_SECRET,
	OPT_LOG_LEVEL, OPT_NO_SYSCTL, OPT_SYSCTL, OPT_SYSCTL_INT, OPT_NO_REATTACH, OPT_REATTACH,
	OPT_KEEP, OPT_NO_KEEP,
};

struct run_args {
	struct sf_run_opts o;
	bool check;
	int quiet;
};

static int set_key(struct run_args *a, enum sf_key key, const char *v)
{
	char err[512];

	if (sf_settings_set(&a->o.cli, key, v, false, err, sizeof(err)))
		return sf_usage_err(&sf_cmd_run, "%s: %s", sf_key_flag(key), err);
	return SF_EXIT_OK;
}

/* Returns SF_EXIT_OK to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct run_args *a, bool *done)
{
	static const struct option long_opts[] = {
		{ "ports", required_argument, NULL, OPT_PORTS },
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "mode", required_argument, NULL, 'm' },
		{ "rotate", required_argument, NULL, OPT_ROTATE },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "secret-file", required_argument, NULL, OPT_SECRET },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-sysctl-changes", no_argument, NULL, OPT_NO_SYSCTL },
		{ "sysctl-changes", no_argument, NULL, OPT_SYSCTL },
		{ "sysctl-interval", required_argument, NULL, OPT_SYSCTL_INT },
		{ "no-reattach", no_argument, NULL, OPT_NO_REATTACH },
		{ "reattach", no_argument, NULL, OPT_REATTACH },
		{ "keep-attached", no_argument, NULL, OPT_KEEP },
		{ "no-keep-attached", no_argument, NULL, OPT_NO_KEEP },
		SF_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const struct sf_cmd *cmd = &sf_cmd_run;
	char err[512];
	int c, ret = SF_EXIT_OK;

	sf_settings_defaults(&a->o.cli);
	a->o.cli.set = 0;
	a->o.config = SF_DEFAULT_CONFIG;

	while ((c = getopt_long(argc, argv, ":" SF_GLOBAL_SHORTOPTS "m:q", long_opts, NULL)) != -1) {
		switch (sf_global_opt(c, argv, cmd)) {
		case SF_OPT_HANDLED:
			continue;
		case SF_OPT_EXIT:
			*done = true;
			return SF_EXIT_OK;
		case SF_OPT_ERROR:
			return SF_EXIT_USAGE;
		case SF_OPT_NOT_GLOBAL:
			break;
		}
		switch (c) {
		case OPT_PORTS: ret = set_key(a, SF_KEY_PORTS, optarg); break;
		case OPT_PIN_DIR: ret = set_key(a, SF_KEY_PIN_DIR, optarg); break;
		case 'm': ret = set_key(a, SF_KEY_MODE, optarg); break;
		case OPT_ROTATE: ret = set_key(a, SF_KEY_ROTATE, optarg); break;
		case OPT_SECRET: ret = set_key(a, SF_KEY_SECRET_FILE, optarg); break;
		case OPT_LOG_LEVEL: ret = set_key(a, SF_KEY_LOG_LEVEL, optarg); break;
		case OPT_SYSCTL_INT: ret = set_key(a, SF_KEY_SYSCTL_INTERVAL, optarg); break;
		case OPT_NO_SYSCTL: ret = set_key(a, SF_KEY_SYSCTL_CHANGES, "no"); break;
		case OPT_SYSCTL: ret = set_key(a, SF_KEY_SYSCTL_CHANGES, "yes"); break;
		case OPT_NO_REATTACH: ret = set_key(a, SF_KEY_REATTACH, "no"); break;
		case OPT_REATTACH: ret = set_key(a, SF_KEY_REATTACH, "yes"); break;
		case OPT_KEEP: ret = set_key(a, SF_KEY_KEEP_ATTACHED, "yes"); break;
		case OPT_NO_KEEP: ret = set_key(a, SF_KEY_KEEP_ATTACHED, "no"); break;
		case 'q': a->quiet++; break;
		case OPT_CHECK: a->check = true; break;
		case OPT_CONFIG:
			if (!*optarg)
				return sf_usage_err(cmd, "--config needs a file");
			a->o.config = optarg;
			a->o.config_given = true;
			break;
		case OPT_METRICS: ret = set_key(a, SF_KEY_METRICS, optarg); break;
		default:
			return sf_usage_err(cmd, "unexpected option");
		}
		if (ret)
			return ret;
	}
	if (a->quiet && sf_opts.verbose)
		return sf_usage_err(cmd, "-q and -v contradict each other");
	if (sf_opts.verbose || a->quiet) {
		const char *flag = sf_opts.verbose ? "-v" : a->quiet > 1 ? "-qq" : "-q";
		bool level_given = a->o.cli.set & (1u << SF_KEY_LOG_LEVEL);
		enum sf_log_level given = a->o.cli.log_level;

		ret = set_key(a, SF_KEY_LOG_LEVEL, sf_opts.verbose ? "debug" :
			      a->quiet > 1 ? "error" : "warning");
		if (ret)
			return ret;
		if (level_given && given != a->o.cli.log_level)
			return sf_usage_err(cmd, "%s and --log-level %s contradict each other", flag,
					    sf_log_level_name(given));
	}
	for (int i = optind; i < argc; i++) {
		if (sf_settings_set(&a->o.cli, SF_KEY_INTERFACES, argv[i], i > optind, err, sizeof(err)))
			return sf_usage_err(cmd, "%s", err);
	}
	return SF_EXIT_OK;
}

static int check_config(struct run_args *a)
{
	const struct sf_settings *s = &a->o.set;
	char ports[256], err[1024];
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
	       "metrics %s\n", a->o.config_used ? a->o.config : "no config file", s->n_ifs,
	       s->n_ifs == 1 ? "" : "s", ports, sf_mode_req_name(s->mode), s->rotate,
	       s->secret_file[0] ? "shared" : "random", s->pin_dir, s->metrics[0] ? s->metrics : "off");
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
