/* cmd/detach.c - `synfence detach IFACE...`: remove synfence from interfaces without a daemon (after
 * a stop that left protection in place, a crash, or an older synfence's leftovers). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "cmd/cmd.h"
#include "cmd/pindir.h"
#include "conf/settings.h"
#include "lib/ifmaps.h"
#include "lib/json.h"
#include "lib/loader.h"
#include "lib/log.h"
#include "lib/mapio.h"
#include "lib/pins.h"
#include "lib/preflight.h"

static void detach_help(FILE *out)
{
	fprintf(out,
		"NAME\n"
		"    synfence detach - remove synfence from interfaces when no daemon runs\n"
		"\n"
		"SYNOPSIS\n"
		"    synfence detach IFACE [IFACE...] [--pin-dir DIR] [--config FILE] [-j]\n"
		"    synfence detach --all [--pin-dir DIR] [--config FILE] [-j]\n"
		"\n"
		"DESCRIPTION\n"
		"    Detaches synfence's XDP and TC programs from each IFACE: the links pinned in the\n"
		"    pin dir by a `synfence run` that stopped leaving protection in place (SIGUSR2,\n"
		"    keep_attached) or was killed, and synfence programs attached without pins (an\n"
		"    older synfence, through libxdp). XDP goes first, then TC. The interface's slot in\n"
		"    the pinned maps is cleared; when no pinned interface is left, the pinned maps and\n"
		"    the pin dir go too.\n"
		"\n"
		"    A running `synfence run` keeps its interfaces: detach refuses them (remove the\n"
		"    interface from its config and send it SIGHUP, or stop it).\n"
		"\n"
		"OPTIONS\n"
		"    --all           every interface with a link pinned in the pin dir (what a package\n"
		"                    removal runs after stopping the daemon)\n"
		"    --pin-dir DIR   where run pinned its state (default: the config file's pin_dir,\n"
		"                    else %s)\n"
		"    --config FILE   read pin_dir from FILE (default %s, when it exists)\n"
		"    -j, --json      {\"interfaces\":[{\"name\":..,\"xdp\":bool,\"tc\":bool}],\"state_removed\":bool}\n"
		"\n"
		"EXIT STATUS\n"
		"    0 when every IFACE is free of synfence (also when nothing was attached), 1 on a\n"
		"    runtime error (not root, an interface a running synfence protects, no such\n"
		"    interface and nothing pinned for it), 2 on a command-line or config error.\n",
		SF_DEFAULT_PIN_DIR, SF_DEFAULT_CONFIG);
}

enum { OPT_ALL = 256 };

struct result {
	char name[IF_NAMESIZE];
	bool xdp, tc;
};

/* The running daemon (it holds the pin dir's lock) protects name? Its pid, else 0. */
static __u32 daemon_owns(const struct sf_pins *p, const char *name)
{
	struct sf_state st = { 0 };
	struct sf_iface fi;
	__u32 zero = 0, pid = 0;
	int sfd = sf_pins_get(p, SF_MAP_STATE), ifd = sf_pins_get(p, SF_MAP_IFACES);

	if (sfd >= 0)
		sf_map_read(sfd, &zero, &st, sizeof(st));
	for (__u32 s = sf_ifaces_find(ifd, name, 1, &fi); s && !pid; s = sf_ifaces_find(ifd, name, s + 1, &fi))
		if (!(fi.flags & SF_IF_GONE))
			pid = st.pid ? st.pid : 1;
	if (sfd >= 0)
		close(sfd);
	if (ifd >= 0)
		close(ifd);
	return pid;
}

/* Forget name in the pinned maps: its slot and its ifindex. */
static void clear_maps(const struct sf_pins *p, const char *name, unsigned int ifindex)
{
	int ifd = sf_pins_get(p, SF_MAP_IFACES), sfd = sf_pins_get(p, SF_MAP_IF_SLOT);
	struct sf_iface fi, none = { 0 };
	__u32 zero = 0;

	for (__u32 s = sf_ifaces_find(ifd, name, 1, &fi); s; s = sf_ifaces_find(ifd, name, s + 1, &fi)) {
		if (sfd >= 0 && fi.ifindex < SF_MAX_IFINDEX)
			sf_map_update(sfd, &fi.ifindex, &zero, BPF_ANY);
		sf_map_update(ifd, &s, &none, BPF_ANY);
	}
	if (sfd >= 0 && ifindex && ifindex < SF_MAX_IFINDEX)
		sf_map_update(sfd, &ifindex, &zero, BPF_ANY);
	if (ifd >= 0)
		close(ifd);
	if (sfd >= 0)
		close(sfd);
}

struct foreign {
	const char *ifname, *prog;
	bool check;  /* only look for a holder */
	bool *found;
};

static int drop_foreign(int fd, const struct sf_link_info *li, void *arg)
{
	struct foreign *f = arg;
	char pname[32], cmd[256];
	pid_t holder;

	sf_prog_name(li->prog_id, pname, sizeof(pname));
	if (strcmp(pname, f->prog))
		return 0;
	holder = sf_find_holder(li->id, 0, cmd, sizeof(cmd));
	if (holder) {
		sf_err("%s is protected by a running synfence, pid %d (%s): stop it, or remove %s from "
		       "its config and send it SIGHUP", f->ifname, (int)holder, cmd, f->ifname);
		return -EBUSY;
	}
	if (!f->check) {
		bpf_link_detach(fd);
		*f->found = true;
	}
	return 0;
}

/* synfence links of type on ifindex not pinned in our pin dir (pinned elsewhere, or held by a
 * process): detached, unless a running process holds one (-EBUSY). */
static int drop_foreign_links(unsigned int ifindex, const char *ifname, __u32 type, const char *prog,
			      bool check, bool *found)
{
	struct foreign f = { .ifname = ifname, .prog = prog, .check = check, .found = found };

	return sf_for_links_on(ifindex, type, drop_foreign, &f);
}

/* A synfence XDP program attached without a link (libxdp: directly or behind its dispatcher). */
static int drop_libxdp(unsigned int ifindex, const char *ifname, bool *found)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex((int)ifindex);
	struct xdp_program *prog;
	int err = 0;

	if (libxdp_get_error(mp))
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		prog = xdp_multiprog__main_prog(mp);
		if (prog && !strcmp(xdp_program__name(prog), SF_PROG_XDP)) {
			err = xdp_multiprog__detach(mp);
			*found = !err;
		}
	} else {
		for (prog = xdp_multiprog__next_prog(NULL, mp); prog; prog = xdp_multiprog__next_prog(prog, mp)) {
			if (strcmp(xdp_program__name(prog), SF_PROG_XDP))
				continue;
			err = xdp_program__detach(prog, (int)ifindex, xdp_multiprog__attach_mode(mp), 0);
			*found = !err;
			break;
		}
	}
	if (err)
		sf_err("cannot detach synfence's XDP program from %s: %s", ifname, strerror(-err));
	xdp_multiprog__close(mp);
	return err;
}

/* Refused, before anything is touched: no such interface and nothing pinned for it, an interface
 * the running daemon protects, a synfence link a running process holds. */
static int refuse_detach(const struct sf_pins *p, bool have_pins, bool daemon, const char *name,
			 unsigned int ifindex, struct result *r)
{
	char pin[64], path[PATH_MAX];
	bool pinned = false;
	int ret = 0;

	if (have_pins) {
		for (int k = SF_LINK_XDP; k <= SF_LINK_TC; k++) {
			sf_pins_link_name(k, name, pin, sizeof(pin));
			if (!sf_pins_path(p, pin, path, sizeof(path)) && !access(path, F_OK))
				pinned = true;
		}
	}
	if (!ifindex && !pinned) {
		sf_err("no such interface: %s (and nothing pinned for it in %s)", name, p->dir);
		return -ENODEV;
	}
	if (daemon) {
		__u32 pid = daemon_owns(p, name);

		if (pid) {
			sf_err("%s is protected by the running synfence (pid %u, pin dir %s): remove it from "
			       "its config and send it SIGHUP, or stop it", name, pid, p->dir);
			return -EBUSY;
		}
	}
	if (ifindex &&
	    ((ret = drop_foreign_links(ifindex, name, SF_LINK_TYPE_XDP, SF_PROG_XDP, true, &r->xdp)) ||
	     (ret = drop_foreign_links(ifindex, name, SF_LINK_TYPE_TCX, SF_PROG_TC, true, &r->tc))))
		return ret;
	return 0;
}

/* check: only the refusals, nothing is touched (every interface is checked before any is detached) */
static int detach_one(const struct sf_pins *p, bool have_pins, bool daemon, const char *name,
		      struct result *r, bool check)
{
	unsigned int ifindex = if_nametoindex(name);
	bool ours = have_pins && !daemon; /* the pins are ours to remove */
	int ret;

	snprintf(r->name, sizeof(r->name), "%s", name);
	ret = refuse_detach(p, have_pins, daemon, name, ifindex, r);
	if (ret || check)
		return ret;
	/* XDP first: it must stop validating ACKs before TC, which completes them, goes */
	if (ours)
		r->xdp = sf_pins_drop_link(p, SF_LINK_XDP, name, NULL);
	if (ifindex) {
		if ((ret = drop_foreign_links(ifindex, name, SF_LINK_TYPE_XDP, SF_PROG_XDP, false, &r->xdp)) ||
		    (ret = drop_libxdp(ifindex, name, &r->xdp)))
			return ret;
	}
	if (ours)
		r->tc |= sf_pins_drop_link(p, SF_LINK_TC, name, NULL);
	if (ifindex &&
	    (ret = drop_foreign_links(ifindex, name, SF_LINK_TYPE_TCX, SF_PROG_TC, false, &r->tc)))
		return ret;
	if (ours)
		clear_maps(p, name, ifindex);
	return 0;
}

struct pinned_names {
	char name[SF_MAX_RUN_IFACES][IF_NAMESIZE];
	const char *ptr[SF_MAX_RUN_IFACES];
	int n;
};

/* --all: collect each interface with a link pin once (its XDP and TC pins name it twice). */
static int add_pinned(enum sf_link_kind kind, const char *ifname, void *arg)
{
	struct pinned_names *l = arg;

	(void)kind;
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->name[i], ifname))
			return 0;
	if (l->n == SF_MAX_RUN_IFACES || strlen(ifname) >= IF_NAMESIZE)
		return -E2BIG;
	snprintf(l->name[l->n], IF_NAMESIZE, "%s", ifname);
	l->ptr[l->n] = l->name[l->n];
	l->n++;
	return 0;
}

/* What the command line asks for. */
struct detach_args {
	struct sf_dir_args d; /* --pin-dir DIR (not checked here: see open_pin_dir), --config FILE */
	bool all;
	char **names;        /* the interfaces (none with --all) */
	int n_names;
};

/* One detach: the pin dir and what was done. */
struct detach_run {
	struct sf_pins pins;
	bool have_pins;      /* the pin dir is there (a bpffs) */
	bool daemon;         /* a running synfence holds its lock */
	struct pinned_names pinned; /* --all: the interfaces pinned there */
	struct result res[SF_MAX_RUN_IFACES];
	int n;               /* interfaces in res */
	bool removed;        /* no protected interface left: the pinned state went too */
};

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct detach_args *a)
{
	static const struct option long_opts[] = {
		SF_DIR_LONGOPTS,
		{ "all", no_argument, NULL, OPT_ALL },
		SF_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const struct sf_cmd *cmd = &sf_cmd_detach;
	int c;

	while ((c = sf_getopt(argc, argv, ":" SF_GLOBAL_SHORTOPTS, long_opts, cmd)) >= 0) {
		if (sf_dir_set(c, &a->d))
			continue;
		if (c == OPT_ALL)
			a->all = true;
		else
			return sf_usage_err(cmd, "unexpected option");
	}
	if (c != SF_OPTS_END)
		return sf_opts_exit_code(c);
	if (a->all && optind < argc)
		return sf_usage_err(cmd, "--all takes no interface");
	if (!a->all && optind >= argc)
		return sf_usage_err(cmd, "no interface given (or --all)");
	if (argc - optind > SF_MAX_RUN_IFACES)
		return sf_usage_err(cmd, "too many interfaces (at most %d)", SF_MAX_RUN_IFACES);
	for (int i = optind; i < argc; i++)
		if (!*argv[i] || strlen(argv[i]) >= IF_NAMESIZE || strchr(argv[i], '/'))
			return sf_usage_err(cmd, "bad interface name \"%s\"", argv[i]);
	a->names = argv + optind;
	a->n_names = argc - optind;
	return -1;
}

/* The pin dir (--pin-dir, else the config file's, else the default), locked unless a running
 * synfence holds it; --all: the interfaces pinned in it. Returns -1 to go on, else the exit code. */
static int open_pin_dir(struct detach_args *a, struct detach_run *d)
{
	char err[1024];
	int ret = sf_dir_resolve(&sf_cmd_detach, &a->d, SF_DIR_STRICT | SF_DIR_CHECKED | SF_DIR_USAGE);

	if (ret)
		return ret;
	if (sf_check_root())
		return SF_EXIT_FAIL;
	ret = sf_pins_open(&d->pins, a->d.dir, true, err, sizeof(err));
	d->have_pins = ret == 0 || ret == -EBUSY;
	d->daemon = ret == -EBUSY;
	if (ret && ret != -EBUSY && ret != -ENOENT) {
		sf_err("%s", err);
		return SF_EXIT_FAIL;
	}
	if (a->all) {
		if (d->have_pins && sf_pins_for_links(&d->pins, add_pinned, &d->pinned) < 0) {
			sf_err("more than %d interfaces pinned in %s", SF_MAX_RUN_IFACES, d->pins.dir);
			return SF_EXIT_FAIL;
		}
		a->names = (char **)d->pinned.ptr;
		a->n_names = d->pinned.n;
	}
	return -1;
}

/* Every interface checked first (the refusals), then each detached; then, with nothing protected
 * any more and no daemon, the pinned state goes too. */
static int detach_ifaces(const struct detach_args *a, struct detach_run *d)
{
	for (int pass = 0; pass < 2; pass++) {
		for (d->n = 0; d->n < a->n_names; d->n++) {
			memset(&d->res[d->n], 0, sizeof(d->res[d->n]));
			if (detach_one(&d->pins, d->have_pins, d->daemon, a->names[d->n], &d->res[d->n],
				       pass == 0))
				return SF_EXIT_FAIL;
		}
	}
	if (d->have_pins && !d->daemon && !sf_pins_any_link(&d->pins) &&
	    sf_pins_any(&d->pins)) {
		sf_pins_remove_all(&d->pins);
		d->removed = true;
	}
	return SF_EXIT_OK;
}

static void print_json(const struct detach_run *d)
{
	struct json_writer jw;

	jw_init(&jw, stdout, sf_opts.pretty);
	jw_start_object(&jw);
	jw_name(&jw, "interfaces");
	jw_start_array(&jw);
	for (int i = 0; i < d->n; i++) {
		jw_start_object(&jw);
		jw_string_field(&jw, "name", d->res[i].name);
		jw_bool_field(&jw, "xdp", d->res[i].xdp);
		jw_bool_field(&jw, "tc", d->res[i].tc);
		jw_end_object(&jw);
	}
	jw_end_array(&jw);
	jw_bool_field(&jw, "state_removed", d->removed);
	jw_end_object(&jw);
	jw_finish(&jw);
}

static void print_text(const struct detach_args *a, const struct detach_run *d)
{
	for (int i = 0; i < d->n; i++) {
		const struct result *r = &d->res[i];

		if (r->xdp || r->tc)
			printf("%s: detached%s%s\n", r->name, r->xdp ? " XDP" : "",
			       r->tc ? (r->xdp ? " and TC" : " TC") : "");
		else
			printf("%s: no synfence program was attached\n", r->name);
	}
	if (a->all && !d->n)
		printf("no interface pinned in %s\n", d->pins.dir);
	if (d->removed)
		printf("no protected interface left: removed the pinned state in %s\n", d->pins.dir);
}

static int detach_cmd(int argc, char **argv)
{
	struct detach_args a = { 0 };
	struct detach_run *d = calloc(1, sizeof(*d));
	int ret;

	if (!d) {
		sf_err("%s", strerror(ENOMEM));
		return SF_EXIT_FAIL;
	}
	d->pins.lock_fd = -1;
	if ((ret = parse_args(argc, argv, &a)) >= 0 || (ret = open_pin_dir(&a, d)) >= 0 ||
	    (ret = detach_ifaces(&a, d)))
		goto out;
	if (sf_opts.json)
		print_json(d);
	else
		print_text(&a, d);
out:
	sf_pins_close(&d->pins, d->removed);
	free(d);
	return ret;
}

const struct sf_cmd sf_cmd_detach = {
	.name = "detach",
	.summary = "remove synfence from interfaces when no daemon runs",
	.run = detach_cmd,
	.help = detach_help,
};
