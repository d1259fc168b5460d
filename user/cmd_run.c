/* cmd_run.c - `synfence run`: check, attach, fill the maps, rotate the secret until a signal, undo. */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "config.h"
#include "loader.h"
#include "log.h"
#include "pins.h"
#include "ports.h"
#include "preflight.h"
#include "secret.h"
#include "synfence.skel.h"
#include "util.h"

#define DEFAULT_ROTATE 60
#define MAX_ROTATE     (7 * 24 * 3600)

static void run_help(FILE *out)
{
	fprintf(out,
		"NAME\n"
		"    synfence run - protect TCP ports on interfaces against SYN floods\n"
		"\n"
		"SYNOPSIS\n"
		"    synfence run IFACE [IFACE...] --ports LIST [--pin-dir DIR]\n"
		"                 [--mode native|generic|auto] [--rotate SECONDS] [-v]\n"
		"\n"
		"DESCRIPTION\n"
		"    Attaches the synfence XDP program to each IFACE and a TC ingress program next to\n"
		"    it. SYNs to a port in LIST are answered from XDP with a SYN-ACK carrying a SYN\n"
		"    cookie; the final ACK is checked in XDP, and the TC program hands the connection\n"
		"    to the listening socket. Other traffic passes untouched.\n"
		"\n"
		"    run stays in the foreground and logs to stderr. On SIGINT, SIGTERM or SIGHUP it\n"
		"    detaches everything, removes its pinned maps and exits 0. The SipHash secret is\n"
		"    random, replaced every --rotate seconds, and never written anywhere but the map.\n"
		"\n"
		"    The SYN-ACK mirrors what the kernel would offer: timestamps, SACK, window scaling\n"
		"    and ECN follow net.ipv4.tcp_timestamps, tcp_sack, tcp_window_scaling and tcp_ecn\n"
		"    of the network namespace synfence runs in; the window scale follows tcp_rmem and\n"
		"    net.core.rmem_max; the MSS is the smallest MTU of the interfaces minus 40 (IPv4)\n"
		"    or 60 (IPv6). These are read once at start.\n"
		"\n"
		"OPTIONS\n"
		"    --ports LIST\n"
		"        Ports to protect: comma-separated ports and inclusive ranges, e.g.\n"
		"        80,443,8000-8100. Ports are 1-65535. Required.\n"
		"\n"
		"    --pin-dir DIR\n"
		"        Where the maps are pinned (for `synfence stats`). Default: %s.\n"
		"        Created (mode 0700) if missing; a bpffs is mounted on it if it is not on\n"
		"        one (and unmounted at exit). Refused if it already holds synfence maps.\n"
		"        Note: a bpffs mounted inside `ip netns exec` is private to that command; to\n"
		"        read stats from another one, mount a bpffs on DIR beforehand.\n"
		"\n"
		"    -m, --mode native|generic|auto\n"
		"        XDP mode. auto (default) tries native and falls back to generic (skb) mode\n"
		"        with a warning.\n"
		"\n"
		"    --rotate SECONDS\n"
		"        Replace the cookie secret every SECONDS (1-%d, default %d). Cookies from\n"
		"        the previous secret stay valid, so a handshake has at least SECONDS to finish.\n"
		"\n"
		"    -v, --verbose\n"
		"        Show libbpf and libxdp messages and more progress.\n"
		"\n"
		"    -j, -p, -h, -V\n"
		"        As for every command (see 'synfence help').\n"
		"\n"
		"REQUIREMENTS\n"
		"    root; kernel BTF (/sys/kernel/btf/vmlinux); Linux >= 6.9 (kfunc %s);\n"
		"    net.ipv4.tcp_syncookies = 1 or 2.\n"
		"\n"
		"EXIT STATUS\n"
		"    0 after a clean shutdown on a signal, 1 on a runtime error, 2 on a command-line\n"
		"    error. Errors are one line on stderr (JSON on stdout with -j).\n"
		"\n"
		"EXAMPLES\n"
		"    synfence run eth1 --ports 80,443\n"
		"    synfence run eth1 eth2 --ports 22,8000-8100 --mode native --rotate 30\n",
		SF_DEFAULT_PIN_DIR, MAX_ROTATE, DEFAULT_ROTATE, SF_KFUNC_HANDOFF);
}

struct run_args {
	char **ifnames;
	int n_ifs;
	const char *ports;
	const char *pin_dir;
	enum sf_mode_req mode;
	unsigned long rotate;
	__u64 bitmap[SF_PORT_WORDS];
};

enum { OPT_PORTS = 256, OPT_PIN_DIR, OPT_ROTATE };

/* Returns SF_EXIT_OK to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct run_args *a, bool *done)
{
	static const struct option long_opts[] = {
		{ "ports", required_argument, NULL, OPT_PORTS },
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "mode", required_argument, NULL, 'm' },
		{ "rotate", required_argument, NULL, OPT_ROTATE },
		SF_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const struct sf_cmd *cmd = &sf_cmd_run;
	char err[160];
	int c;

	a->pin_dir = SF_DEFAULT_PIN_DIR;
	a->mode = SF_MODE_AUTO;
	a->rotate = DEFAULT_ROTATE;

	while ((c = getopt_long(argc, argv, ":" SF_GLOBAL_SHORTOPTS "m:", long_opts, NULL)) != -1) {
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
		case OPT_PORTS:
			a->ports = optarg;
			break;
		case OPT_PIN_DIR:
			if (!*optarg)
				return sf_usage_err(cmd, "--pin-dir needs a directory");
			a->pin_dir = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "auto"))
				a->mode = SF_MODE_AUTO;
			else if (!strcmp(optarg, "native") || !strcmp(optarg, "drv"))
				a->mode = SF_MODE_NATIVE;
			else if (!strcmp(optarg, "generic") || !strcmp(optarg, "skb"))
				a->mode = SF_MODE_GENERIC;
			else
				return sf_usage_err(cmd, "bad --mode '%s': expected native, generic or auto",
						    optarg);
			break;
		case OPT_ROTATE:
			if (sf_parse_uint(optarg, 1, MAX_ROTATE, &a->rotate))
				return sf_usage_err(cmd, "bad --rotate '%s': expected seconds, 1-%d", optarg,
						    MAX_ROTATE);
			break;
		default:
			return sf_usage_err(cmd, "unexpected option");
		}
	}

	a->ifnames = argv + optind;
	a->n_ifs = argc - optind;
	if (a->n_ifs == 0)
		return sf_usage_err(cmd, "no interface given");
	if (a->n_ifs > SF_MAX_IFACES - 1)
		return sf_usage_err(cmd, "too many interfaces (at most %d)", SF_MAX_IFACES - 1);
	for (int i = 0; i < a->n_ifs; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(a->ifnames[i], a->ifnames[j]))
				return sf_usage_err(cmd, "interface %s given twice", a->ifnames[i]);
	if (!a->ports)
		return sf_usage_err(cmd, "--ports LIST is required");
	if (sf_parse_ports(a->ports, a->bitmap, err, sizeof(err)))
		return sf_usage_err(cmd, "%s", err);
	return SF_EXIT_OK;
}

/* Fill ld->ifs from the names; the interfaces must exist. */
static int resolve_ifaces(struct sf_loader *ld, const struct run_args *a)
{
	int err = 0;

	for (int i = 0; i < a->n_ifs; i++) {
		struct sf_ifstate *st = &ld->ifs[i];
		const char *name = a->ifnames[i];

		st->tc_link_fd = -1;
		if (strlen(name) >= IF_NAMESIZE || !(st->ifindex = if_nametoindex(name))) {
			err = -ENODEV;
			sf_err("no such interface: %s", name);
			goto out;
		}
		strcpy(st->name, name);
		err = sf_if_mtu(name, &st->mtu);
		if (err) {
			sf_err("cannot read the MTU of %s: %s", name, strerror(-err));
			goto out;
		}
		if (st->ifindex >= SF_MAX_IFINDEX)
			sf_warn("%s has ifindex %u >= %d: its packets are counted under \"other\"",
				name, st->ifindex, SF_MAX_IFINDEX);
	}
out:
	return err;
}

static int map_update(struct bpf_map *map, __u32 key, const void *val, const char *what)
{
	int err = bpf_map_update_elem(bpf_map__fd(map), &key, val, BPF_ANY) ? -errno : 0;

	if (err)
		sf_err("cannot write %s (map %s): %s", what, bpf_map__name(map), strerror(-err));
	return err;
}

/* Ports, interface slots and the secret; sf_config comes last, once everything is attached. */
static int fill_maps(struct sf_loader *ld, const struct run_args *a)
{
	struct synfence_bpf *skel = ld->skel;
	int err = 0;

	for (__u32 w = 0; w < SF_PORT_WORDS; w++) {
		err = map_update(skel->maps.sf_ports, w, &a->bitmap[w], "the port set");
		if (err)
			goto out;
	}
	for (int i = 0; i < ld->n_ifs; i++) {
		struct sf_ifstate *st = &ld->ifs[i];
		struct sf_iface info = { .ifindex = st->ifindex, .xdp_mode = st->mode };
		__u32 slot = i + 1;

		snprintf(info.name, sizeof(info.name), "%s", st->name);
		if (st->ifindex < SF_MAX_IFINDEX) {
			err = map_update(skel->maps.sf_if_slot, st->ifindex, &slot, "interface slots");
			if (err)
				goto out;
		}
		err = map_update(skel->maps.sf_ifaces, slot, &info, "interface info");
		if (err)
			goto out;
	}
	err = sf_secret_init(bpf_map__fd(skel->maps.sf_secrets));
	if (err)
		sf_err("cannot set the cookie secret: %s", strerror(-err));
out:
	return err;
}

static int write_config(struct sf_loader *ld, const struct sf_config *cfg)
{
	return map_update(ld->skel->maps.sf_config, 0, cfg, "the config");
}

/* Turn the BPF side off (everything passes) before detaching: XDP must stop answering SYNs and
 * passing validated ACKs before the TC program that completes those handshakes goes away. */
static void disable(struct sf_loader *ld)
{
	struct sf_config off = { 0 };
	__u32 key = 0;

	if (ld->skel && bpf_map__fd(ld->skel->maps.sf_config) >= 0)
		bpf_map_update_elem(bpf_map__fd(ld->skel->maps.sf_config), &key, &off, BPF_ANY);
}

static int setup_signals(sigset_t *old)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* blocked from the start: a signal during setup is handled once setup is done or undone */
	if (sigprocmask(SIG_BLOCK, &set, old))
		return -errno;
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int wait_loop(struct sf_loader *ld, int sig_fd, unsigned long rotate)
{
	struct itimerspec its = { .it_interval = { .tv_sec = rotate }, .it_value = { .tv_sec = rotate } };
	int secrets_fd = bpf_map__fd(ld->skel->maps.sf_secrets);
	int tfd, err = 0;

	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL)) {
		err = -errno;
		sf_err("cannot create the rotation timer: %s", strerror(-err));
		goto out;
	}
	for (;;) {
		struct pollfd pfd[2] = { { .fd = sig_fd, .events = POLLIN }, { .fd = tfd, .events = POLLIN } };

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			sf_err("poll: %s", strerror(-err));
			goto out;
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				sf_info("got SIG%s, detaching", sigabbrev_np(si.ssi_signo));
			goto out;
		}
		if (pfd[1].revents) {
			__u64 expirations;
			__u32 epoch;

			if (read(tfd, &expirations, sizeof(expirations)) < 0)
				continue;
			err = sf_secret_rotate(secrets_fd, &epoch);
			if (err)
				sf_warn("cannot rotate the cookie secret: %s", strerror(-err));
			else
				sf_dbg("cookie secret rotated (epoch %u)", epoch);
			err = 0;
		}
	}
out:
	if (tfd >= 0)
		close(tfd);
	return err;
}

static int do_run(struct run_args *a)
{
	struct sf_loader ld = { 0 };
	struct sf_pins pins = { 0 };
	struct sf_config cfg;
	unsigned int min_mtu = 0;
	char ports[512];
	int sig_fd = -1, err;
	sigset_t oldmask;

	if ((err = sf_check_root()) || (err = sf_check_kernel()) || (err = resolve_ifaces(&ld, a)) ||
	    (err = sf_check_syncookies()))
		goto out;
	for (int i = 0; i < a->n_ifs; i++)
		if (!min_mtu || ld.ifs[i].mtu < min_mtu)
			min_mtu = ld.ifs[i].mtu;
	err = sf_config_build(&cfg, min_mtu);
	if (err)
		goto out;

	sig_fd = setup_signals(&oldmask);
	if (sig_fd < 0) {
		err = sig_fd;
		sf_err("cannot set up signal handling: %s", strerror(-err));
		goto out;
	}

	sf_bpffs_ensure_sys();
	err = sf_pins_prepare(&pins, a->pin_dir);
	if (err)
		goto out;
	err = sf_loader_open(&ld);
	if (err)
		goto out;

	/* The first attach makes libxdp load the whole object. Until sf_config is written the
	 * programs let everything pass. */
	for (int i = 0; i < a->n_ifs; i++) {
		ld.n_ifs = i + 1;
		err = sf_loader_attach_xdp(&ld, i, a->mode);
		if (err)
			goto out;
	}
	if ((err = sf_pins_pin(&pins, ld.skel->obj)) || (err = fill_maps(&ld, a)))
		goto out;
	for (int i = 0; i < ld.n_ifs; i++) {
		err = sf_loader_attach_tc(&ld, i);
		if (err)
			goto out;
	}
	err = write_config(&ld, &cfg);
	if (err)
		goto out;

	if (sf_format_ports(a->bitmap, ports, sizeof(ports)) >= sizeof(ports))
		strcpy(ports + sizeof(ports) - 4, "...");
	for (int i = 0; i < ld.n_ifs; i++)
		sf_info("protecting %s (%s) ports %s", ld.ifs[i].name, sf_mode_name(ld.ifs[i].mode), ports);
	sf_dbg("maps pinned in %s; mss4 %u mss6 %u wscale %u flags 0x%x; secret rotates every %lus",
	       pins.dir, cfg.mss4, cfg.mss6, cfg.rcv_wscale, cfg.flags, a->rotate);

	err = wait_loop(&ld, sig_fd, a->rotate);
out:
	disable(&ld);
	sf_loader_close(&ld);
	sf_pins_cleanup(&pins);
	if (sig_fd >= 0) {
		close(sig_fd);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	}
	if (!err)
		sf_info("stopped");
	return err;
}

static int run_cmd(int argc, char **argv)
{
	struct run_args args = { 0 };
	bool done = false;
	int ret;

	ret = parse_args(argc, argv, &args, &done);
	if (ret || done)
		return ret;
	return do_run(&args) ? SF_EXIT_FAIL : SF_EXIT_OK;
}

const struct sf_cmd sf_cmd_run = {
	.name = "run",
	.summary = "attach to interfaces and protect ports (stays in the foreground)",
	.run = run_cmd,
	.help = run_help,
};
