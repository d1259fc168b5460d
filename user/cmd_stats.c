/* cmd_stats.c - `synfence stats`: per-interface and total counters from the pinned maps. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "util.h"

static const char *const counter_names[SF_CNT_MAX] = {
#define SF_COUNTER_NAME(name, help) #name,
	SF_COUNTERS(SF_COUNTER_NAME)
#undef SF_COUNTER_NAME
};

static const char *const counter_help[SF_CNT_MAX] = {
#define SF_COUNTER_HELP(name, help) help,
	SF_COUNTERS(SF_COUNTER_HELP)
#undef SF_COUNTER_HELP
};

static void stats_help(FILE *out)
{
	fprintf(out,
		"NAME\n"
		"    synfence stats - show the packet counters of a running synfence\n"
		"\n"
		"SYNOPSIS\n"
		"    synfence stats [-j] [-p] [--pin-dir DIR] [-v]\n"
		"\n"
		"DESCRIPTION\n"
		"    Reads the counters that `synfence run` keeps (per CPU, per interface) from the maps\n"
		"    pinned in DIR and prints them per interface and in total: a table, one row per\n"
		"    counter, or with -j an object\n"
		"      {\"total\":{COUNTER:N,...},\n"
		"       \"interfaces\":[{\"name\":IFACE,\"ifindex\":N,\"xdp_mode\":MODE,\"counters\":{...}}],\n"
		"       \"other\":{...}}\n"
		"    \"other\" counts packets seen on an interface without a slot (normally all zero; the\n"
		"    table shows its column only when it is not).\n"
		"\n"
		"OPTIONS\n"
		"    --pin-dir DIR\n"
		"        Where `synfence run` pinned its maps. Default: %s.\n"
		"    -j, --json      JSON output\n"
		"    -p, --pretty    indented JSON output\n"
		"    -v, --verbose   add a description column to the table\n"
		"\n"
		"COUNTERS\n",
		SF_DEFAULT_PIN_DIR);
	for (int i = 0; i < SF_CNT_MAX; i++)
		fprintf(out, "    %-20s %s\n", counter_names[i], counter_help[i]);
	fprintf(out,
		"\n"
		"EXIT STATUS\n"
		"    0 on success, 1 when no synfence state is found or the maps cannot be read,\n"
		"    2 on a command-line error.\n");
}

struct if_stats {
	char name[sizeof(((struct sf_iface *)0)->name) + 1];
	__u32 ifindex;
	__u32 xdp_mode;
	__u64 c[SF_CNT_MAX];
};

struct stats {
	__u64 total[SF_CNT_MAX];
	__u64 other[SF_CNT_MAX];
	bool other_nonzero;
	struct if_stats ifs[SF_MAX_IFACES];
	int n_ifs;
};

/* Open DIR/name and check it is a map of the expected type. Prints its errors. */
static int open_map(const char *dir, const char *name, __u32 type, struct bpf_map_info *info)
{
	char path[PATH_MAX];
	__u32 len = sizeof(*info);
	int fd, err;

	err = sf_path_join(path, sizeof(path), dir, name);
	if (err) {
		sf_err("pin dir %s: %s", dir, strerror(-err));
		return err;
	}
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT || err == -ENOTDIR)
			sf_err("no synfence state at %s: is `synfence run` running?", dir);
		else
			sf_err("cannot open %s: %s", path, strerror(-err));
		return err;
	}
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len) || info->type != type || info->key_size != 4) {
		sf_err("%s is not a synfence %s map", path, name);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static void add_iface(struct stats *st, const struct sf_iface *info, const __u64 *sum)
{
	struct if_stats *is = &st->ifs[st->n_ifs++];

	/* the map's name need not be NUL-terminated */
	snprintf(is->name, sizeof(is->name), "%.*s", (int)sizeof(info->name), info->name);
	is->ifindex = info->ifindex;
	is->xdp_mode = info->xdp_mode;
	memcpy(is->c, sum, sizeof(is->c));
}

static int read_stats(const char *dir, struct stats *st)
{
	struct bpf_map_info cinfo, iinfo;
	int cfd = -1, ifd = -1, ncpus, n_cnt, err = 0;
	__u32 n_slots;
	size_t stride;
	__u64 *vals = NULL;
	void *ibuf = NULL;

	memset(st, 0, sizeof(*st));
	/* e.g. the bpffs of `run` was mounted in another mount namespace (ip netns exec) */
	if (sf_is_bpffs(dir) != 1) {
		err = -ENOENT;
		sf_err("no synfence state at %s (not a bpffs): is `synfence run` running?", dir);
		goto out;
	}
	cfd = open_map(dir, SF_MAP_COUNTERS, BPF_MAP_TYPE_PERCPU_ARRAY, &cinfo);
	if (cfd < 0) {
		err = cfd;
		goto out;
	}
	ifd = open_map(dir, SF_MAP_IFACES, BPF_MAP_TYPE_ARRAY, &iinfo);
	if (ifd < 0) {
		err = ifd;
		goto out;
	}
	if (iinfo.value_size < sizeof(struct sf_iface)) {
		err = -EINVAL;
		sf_err("%s/%s has %u-byte values, expected %zu: built from another synfence.h?",
		       dir, SF_MAP_IFACES, iinfo.value_size, sizeof(struct sf_iface));
		goto out;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 1) {
		err = ncpus < 0 ? ncpus : -EINVAL;
		sf_err("cannot count the possible CPUs: %s", strerror(-err));
		goto out;
	}
	/* A newer BPF object may have appended counters: read what both sides know. */
	stride = (cinfo.value_size + 7) & ~7u; /* per-CPU values are 8-byte aligned */
	n_cnt = cinfo.value_size / sizeof(__u64);
	if (n_cnt > SF_CNT_MAX)
		n_cnt = SF_CNT_MAX;
	n_slots = cinfo.max_entries < SF_MAX_IFACES ? cinfo.max_entries : SF_MAX_IFACES;
	vals = calloc(ncpus, stride);
	ibuf = calloc(1, iinfo.value_size);
	if (!vals || !ibuf) {
		err = -ENOMEM;
		sf_err("out of memory");
		goto out;
	}

	for (__u32 slot = 0; slot < n_slots; slot++) {
		__u64 sum[SF_CNT_MAX] = { 0 };
		struct sf_iface info;
		bool nonzero = false;

		if (bpf_map_lookup_elem(cfd, &slot, vals)) {
			err = -errno;
			sf_err("cannot read %s/%s: %s", dir, SF_MAP_COUNTERS, strerror(-err));
			goto out;
		}
		for (int cpu = 0; cpu < ncpus; cpu++) {
			const __u64 *v = (const __u64 *)((const char *)vals + cpu * stride);

			for (int i = 0; i < n_cnt; i++)
				sum[i] += v[i];
		}
		for (int i = 0; i < n_cnt; i++) {
			st->total[i] += sum[i];
			nonzero |= sum[i] != 0;
		}
		if (slot == 0) {
			memcpy(st->other, sum, sizeof(sum));
			st->other_nonzero = nonzero;
			continue;
		}

		err = bpf_map_lookup_elem(ifd, &slot, ibuf) ? -errno : 0;
		memcpy(&info, ibuf, sizeof(info));
		if (err == -ENOENT) { /* fewer slots in the interface map: nothing more to show */
			err = 0;
			continue;
		}
		if (err) {
			sf_err("cannot read %s/%s: %s", dir, SF_MAP_IFACES, strerror(-err));
			goto out;
		}
		if (info.ifindex)
			add_iface(st, &info, sum);
	}
out:
	free(vals);
	free(ibuf);
	if (cfd >= 0)
		close(cfd);
	if (ifd >= 0)
		close(ifd);
	return err;
}

static void json_counters(struct json_writer *jw, const char *name, const __u64 *c)
{
	jw_name(jw, name);
	jw_start_object(jw);
	for (int i = 0; i < SF_CNT_MAX; i++)
		jw_uint_field(jw, counter_names[i], c[i]);
	jw_end_object(jw);
}

static void print_json(const struct stats *st)
{
	struct json_writer jw;

	jw_init(&jw, stdout, sf_opts.pretty);
	jw_start_object(&jw);
	json_counters(&jw, "total", st->total);
	jw_name(&jw, "interfaces");
	jw_start_array(&jw);
	for (int i = 0; i < st->n_ifs; i++) {
		jw_start_object(&jw);
		jw_string_field(&jw, "name", st->ifs[i].name);
		jw_uint_field(&jw, "ifindex", st->ifs[i].ifindex);
		jw_string_field(&jw, "xdp_mode", sf_mode_name(st->ifs[i].xdp_mode));
		json_counters(&jw, "counters", st->ifs[i].c);
		jw_end_object(&jw);
	}
	jw_end_array(&jw);
	json_counters(&jw, "other", st->other);
	jw_end_object(&jw);
	jw_finish(&jw);
}

/* A table: one row per counter, one column per interface, "other" when not all zero, total. */
static void print_text(const struct stats *st)
{
	const __u64 *cols[SF_MAX_IFACES + 2];
	const char *heads[SF_MAX_IFACES + 2];
	int widths[SF_MAX_IFACES + 2];
	int n_cols = 0, name_w = (int)strlen("counter");
	char num[32];

	for (int i = 0; i < st->n_ifs; i++) {
		heads[n_cols] = st->ifs[i].name;
		cols[n_cols++] = st->ifs[i].c;
	}
	if (st->other_nonzero) {
		heads[n_cols] = "other";
		cols[n_cols++] = st->other;
	}
	heads[n_cols] = "total";
	cols[n_cols++] = st->total;

	for (int i = 0; i < SF_CNT_MAX; i++)
		if ((int)strlen(counter_names[i]) > name_w)
			name_w = strlen(counter_names[i]);
	for (int c = 0; c < n_cols; c++) {
		widths[c] = strlen(heads[c]);
		for (int i = 0; i < SF_CNT_MAX; i++) {
			int w = snprintf(num, sizeof(num), "%llu", (unsigned long long)cols[c][i]);

			if (w > widths[c])
				widths[c] = w;
		}
	}

	printf("%-*s", name_w, "counter");
	for (int c = 0; c < n_cols; c++)
		printf("  %*s", widths[c], heads[c]);
	printf(sf_opts.verbose ? "  description\n" : "\n");
	for (int i = 0; i < SF_CNT_MAX; i++) {
		printf("%-*s", name_w, counter_names[i]);
		for (int c = 0; c < n_cols; c++)
			printf("  %*llu", widths[c], (unsigned long long)cols[c][i]);
		if (sf_opts.verbose)
			printf("  %s", counter_help[i]);
		putchar('\n');
	}
}

static int stats_cmd(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		SF_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = SF_DEFAULT_PIN_DIR;
	struct stats *st = NULL;
	int c, ret = SF_EXIT_OK;

	while ((c = getopt_long(argc, argv, ":" SF_GLOBAL_SHORTOPTS, long_opts, NULL)) != -1) {
		switch (sf_global_opt(c, argv, &sf_cmd_stats)) {
		case SF_OPT_HANDLED:
			continue;
		case SF_OPT_EXIT:
			return SF_EXIT_OK;
		case SF_OPT_ERROR:
			return SF_EXIT_USAGE;
		case SF_OPT_NOT_GLOBAL:
			break;
		}
		if (c != 'd')
			return sf_usage_err(&sf_cmd_stats, "unexpected option");
		if (!*optarg)
			return sf_usage_err(&sf_cmd_stats, "--pin-dir needs a directory");
		dir = optarg;
	}
	if (optind < argc)
		return sf_usage_err(&sf_cmd_stats, "unexpected argument '%s'", argv[optind]);

	st = malloc(sizeof(*st));
	if (!st) {
		sf_err("out of memory");
		ret = SF_EXIT_FAIL;
		goto out;
	}
	if (read_stats(dir, st)) {
		ret = SF_EXIT_FAIL;
		goto out;
	}
	if (sf_opts.json)
		print_json(st);
	else
		print_text(st);
	if (fflush(stdout) || ferror(stdout)) {
		ret = SF_EXIT_FAIL;
		if (!sf_opts.json)
			sf_err("cannot write the output: %s", strerror(errno));
	}
out:
	free(st);
	return ret;
}

const struct sf_cmd sf_cmd_stats = {
	.name = "stats",
	.summary = "show the packet counters of a running synfence",
	.run = stats_cmd,
	.help = stats_help,
};
