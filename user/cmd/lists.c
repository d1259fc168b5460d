/* cmd/lists.c - `synfence allow|deny add|del|list`: live changes of the allow and deny lists in the
 * maps a running `synfence run` pinned (they take effect at once: the programs read the tries). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cmd/cmd.h"
#include "cmd/pindir.h"
#include "conf/settings.h"
#include "lib/json.h"
#include "lib/lists.h"
#include "lib/log.h"
#include "lib/pins.h"
#include "lib/util.h"

#define SF_MAX_TTL (365ul * 24 * 3600)

static void list_help(FILE *out, const char *name, const char *what, const char *counter)
{
	fprintf(out,
		"Usage:\n"
		"    synfence %s add CIDR... [--ttl SECONDS] [--pin-dir DIR] [--config FILE]\n"
		"    synfence %s del CIDR... [--pin-dir DIR] [--config FILE]\n"
		"    synfence %s list [-j] [-p] [--pin-dir DIR] [--config FILE]\n"
		"\n"
		"    Changes the %s list of the running `synfence run` live, in the maps it pinned in\n"
		"    DIR: %s (%s). Effective at once; no restart, no reload.\n"
		"    CIDR is an IPv4 or IPv6 prefix (10.0.0.0/8, 2001:db8::/32) or an address (a host).\n"
		"    Live entries survive SIGHUP (which replaces only the entries of the %s_file)\n"
		"    and a restart that takes the pins over (SIGUSR2).\n"
		"\n"
		"    add     add the prefixes (live origin); again: the TTL is set anew\n"
		"    del     remove the live entries of the prefixes (a file entry stays: edit the file)\n"
		"    list    the entries: prefix, origin (file, live, file+live), seconds left of a TTL\n"
		"\n"
		"Options:\n"
		"    --ttl SECONDS\n"
		"        The entries expire after SECONDS (1-%lu): the programs ignore them from then\n"
		"        on, and run deletes them at its next check (sysctl_interval).\n"
		"    --pin-dir DIR\n"
		"        Where `synfence run` pinned its maps. Default: the config file's pin_dir,\n"
		"        else %s.\n"
		"    --config FILE\n"
		"        Read pin_dir from FILE (default %s, when it exists).\n"
		"\n"
		"Exit status: 0 on success; 1 when no synfence state is pinned in DIR, a map update\n"
		"failed, or del found no live entry; 2 on a command-line error (a bad CIDR).\n",
		name, name, name, name, what, counter, name, SF_MAX_TTL, SF_DEFAULT_PIN_DIR,
		SF_DEFAULT_CONFIG);
}

static void allow_help(FILE *out)
{
	list_help(out, "allow", "their SYNs go to the kernel unchallenged", "pass_allowed");
}

static void deny_help(FILE *out)
{
	list_help(out, "deny", "their SYNs and would-be cookie ACKs are dropped", "drop_denied");
}

enum { OPT_TTL = 256 };

struct list_args {
	const struct sf_cmd *cmd;
	enum sf_list_kind kind;
	struct sf_dir_args d; /* --pin-dir, --config: the pin dir */
	unsigned long ttl;
	char **args;
	int n_args;
};

static int open_list_maps(const struct list_args *a, int *trie, int *allow, int *deny, int *lists)
{
	const char *names[] = { SF_MAP_ALLOW, SF_MAP_DENY, SF_MAP_LISTS };
	int fd[3] = { -1, -1, -1 }, ret = 0;
	char path[PATH_MAX + 32];

	if (sf_is_bpffs(a->d.dir) != 1) {
		sf_err("no synfence state in %s: is `synfence run` running (with this --pin-dir)?", a->d.dir);
		return -ENOENT;
	}
	for (int i = 0; i < 3 && !ret; i++) {
		snprintf(path, sizeof(path), "%s/%s", a->d.dir, names[i]);
		fd[i] = bpf_obj_get(path);
		if (fd[i] >= 0)
			continue;
		ret = -errno;
		if (ret == -ENOENT)
			sf_err("no %s map in %s: is `synfence run` (a version with lists) running "
			       "with this --pin-dir?", names[i], a->d.dir);
		else
			sf_err("cannot open %s: %s", path, strerror(-ret));
	}
	if (ret) {
		for (int i = 0; i < 3; i++)
			if (fd[i] >= 0)
				close(fd[i]);
		return ret;
	}
	*allow = fd[0];
	*deny = fd[1];
	*lists = fd[2];
	*trie = a->kind == SF_LIST_ALLOW_KIND ? *allow : *deny;
	return 0;
}

static void origin_name(__u32 origin, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", origin & SF_LIST_FILE ? "file" : "",
		 (origin & SF_LIST_FILE) && (origin & SF_LIST_LIVE) ? "+" : "",
		 origin & SF_LIST_LIVE ? "live" : "");
}

/* list order: by address (IPv4 before IPv6), then prefix length */
static int entry_order(const void *a, const void *b)
{
	const struct sf_list_key *x = &((const struct sf_list_entry *)a)->key;
	const struct sf_list_key *y = &((const struct sf_list_entry *)b)->key;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	return c ? c : (x->prefixlen > y->prefixlen) - (x->prefixlen < y->prefixlen);
}

static int do_list(const struct list_args *a, int fd)
{
	struct sf_list_entry *e = NULL;
	__u64 now = sf_list_now_ns();
	struct json_writer jw;
	size_t n = 0;
	int ret = sf_list_dump(fd, &e, &n);

	if (ret) {
		sf_err("cannot read the %s list: %s", sf_list_kind_name(a->kind), strerror(-ret));
		return SF_EXIT_FAIL;
	}
	if (n)
		qsort(e, n, sizeof(*e), entry_order);
	if (sf_opts.json) {
		jw_init(&jw, stdout, sf_opts.pretty);
		jw_start_object(&jw);
		jw_string_field(&jw, "list", sf_list_kind_name(a->kind));
		jw_name(&jw, "entries");
		jw_start_array(&jw);
	}
	for (size_t i = 0; i < n; i++) {
		const struct sf_list_val *v = &e[i].val;
		bool ttl = (v->origin & SF_LIST_LIVE) && v->expires_ns;
		__u64 left = ttl && v->expires_ns > now ? (v->expires_ns - now + 999999999ull) / 1000000000ull : 0;
		char cidr[64], origin[16];

		if (ttl && !(v->origin & SF_LIST_FILE) && !left)
			continue; /* expired: the programs ignore it already */
		sf_cidr_format(&e[i].key, cidr, sizeof(cidr));
		origin_name(v->origin, origin, sizeof(origin));
		if (sf_opts.json) {
			jw_start_object(&jw);
			jw_string_field(&jw, "prefix", cidr);
			jw_string_field(&jw, "origin", origin);
			jw_name(&jw, "ttl");
			if (ttl)
				jw_uint(&jw, left);
			else
				jw_null(&jw);
			jw_end_object(&jw);
		} else if (ttl) {
			printf("%-43s %-9s ttl %llus\n", cidr, origin, (unsigned long long)left);
		} else {
			printf("%-43s %s\n", cidr, origin);
		}
	}
	if (sf_opts.json) {
		jw_end_array(&jw);
		jw_end_object(&jw);
		jw_finish(&jw);
	}
	free(e);
	return SF_EXIT_OK;
}

static int do_change(const struct list_args *a, bool add, int fd)
{
	const char *name = sf_list_kind_name(a->kind);
	int ret, code = SF_EXIT_OK;

	for (int i = 0; i < a->n_args; i++) {
		struct sf_list_key k;
		char err[256], cidr[64];

		sf_cidr_parse(a->args[i], &k, err, sizeof(err)); /* checked before */
		sf_cidr_format(&k, cidr, sizeof(cidr));
		ret = add ? sf_list_add_live(fd, &k, a->ttl) : sf_list_del_live(fd, &k);
		if (ret == -ENOENT) {
			sf_err("%s del: %s is not in the %s list", name, cidr, name);
			code = SF_EXIT_FAIL;
		} else if (ret == -EPERM) {
			sf_err("%s del: %s is in the %s_file only: remove it there (and reload)", name, cidr, name);
			code = SF_EXIT_FAIL;
		} else if (ret) {
			sf_err("%s %s %s: %s", name, add ? "add" : "del", cidr, strerror(-ret));
			code = SF_EXIT_FAIL;
		}
	}
	return code;
}

static int parse_args(int argc, char **argv, struct list_args *a, bool *done)
{
	static const struct option long_opts[] = {
		SF_DIR_LONGOPTS,
		{ "ttl", required_argument, NULL, OPT_TTL },
		SF_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	while ((c = sf_getopt(argc, argv, ":" SF_GLOBAL_SHORTOPTS, long_opts, a->cmd)) >= 0) {
		ret = sf_dir_opt(a->cmd, c, &a->d);
		if (ret != SF_DIR_NOT_MINE) {
			if (ret)
				return ret;
			continue;
		}
		switch (c) {
		case OPT_TTL:
			if (sf_parse_uint(optarg, 1, SF_MAX_TTL, &a->ttl))
				return sf_usage_err(a->cmd, "bad --ttl '%s': expected seconds, 1-%lu", optarg,
						    SF_MAX_TTL);
			break;
		default:
			return sf_usage_err(a->cmd, "unexpected option");
		}
	}
	if (c == SF_OPTS_EXIT)
		*done = true;
	if (c != SF_OPTS_END)
		return sf_opts_exit_code(c);
	a->args = argv + optind;
	a->n_args = argc - optind;
	return SF_EXIT_OK;
}

static int list_cmd(const struct sf_cmd *cmd, enum sf_list_kind kind, int argc, char **argv)
{
	struct list_args a = { .cmd = cmd, .kind = kind };
	int trie = -1, allow, deny, lists, ret;
	bool done = false;
	const char *verb;
	char err[1024];

	if ((ret = parse_args(argc, argv, &a, &done)) || done)
		return ret;
	if (a.n_args < 1)
		return sf_usage_err(cmd, "expected add, del or list");
	verb = a.args[0];
	a.args++;
	a.n_args--;
	if (strcmp(verb, "add") && strcmp(verb, "del") && strcmp(verb, "list"))
		return sf_usage_err(cmd, "unknown action '%s': expected add, del or list", verb);
	if (!strcmp(verb, "list") ? a.n_args > 0 : a.n_args < 1)
		return sf_usage_err(cmd, strcmp(verb, "list") ? "%s needs a CIDR" : "%s takes no argument", verb);
	if (a.ttl && strcmp(verb, "add"))
		return sf_usage_err(cmd, "--ttl is for add");
	for (int i = 0; i < a.n_args; i++) {
		struct sf_list_key k;

		if (sf_cidr_parse(a.args[i], &k, err, sizeof(err)))
			return sf_usage_err(cmd, "%s", err);
	}
	if ((ret = sf_dir_resolve(cmd, &a.d, SF_DIR_STRICT)))
		return ret;
	if (open_list_maps(&a, &trie, &allow, &deny, &lists))
		return SF_EXIT_FAIL;
	if (!strcmp(verb, "list"))
		ret = do_list(&a, trie);
	else
		ret = do_change(&a, !strcmp(verb, "add"), trie);
	if (strcmp(verb, "list") && sf_lists_sync_flags(lists, allow, deny)) {
		sf_err("cannot update %s in %s", SF_MAP_LISTS, a.d.dir);
		ret = SF_EXIT_FAIL;
	}
	close(allow);
	close(deny);
	close(lists);
	return ret;
}

static int allow_cmd(int argc, char **argv) { return list_cmd(&sf_cmd_allow, SF_LIST_ALLOW_KIND, argc, argv); }
static int deny_cmd(int argc, char **argv) { return list_cmd(&sf_cmd_deny, SF_LIST_DENY_KIND, argc, argv); }

const struct sf_cmd sf_cmd_allow = {
	.name = "allow",
	.summary = "allow list: add, del or list prefixes never challenged (live, in run's maps)",
	.run = allow_cmd,
	.help = allow_help,
};

const struct sf_cmd sf_cmd_deny = {
	.name = "deny",
	.summary = "deny list: add, del or list prefixes whose SYNs are dropped (live)",
	.run = deny_cmd,
	.help = deny_help,
};
