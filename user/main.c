/* main.c - synfence entry point: global options and the command table (xdp-tools/bpftool style). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cmd/cmd.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/util.h"

/* Order is the order of `synfence help`. Later commands (detach, ...) slot in here. */
static const struct sf_cmd *const commands[] = {
	&sf_cmd_run,
	&sf_cmd_status,
	&sf_cmd_stats,
	&sf_cmd_top,
	&sf_cmd_capture,
	&sf_cmd_detach,
	&sf_cmd_allow,
	&sf_cmd_deny,
	&sf_cmd_help,
};

const struct sf_cmd *sf_cmd_find(const char *name)
{
	const struct sf_cmd *found = NULL;
	char list[256] = "";
	size_t len = strlen(name), off = 0;
	int matches = 0;

	for (size_t i = 0; i < SF_ARRAY_SIZE(commands); i++) {
		if (!strcmp(commands[i]->name, name))
			return commands[i];
		if (len && !strncmp(commands[i]->name, name, len)) {
			found = commands[i];
			matches++;
			if (off < sizeof(list))
				off += snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "",
						commands[i]->name);
		}
	}
	if (matches == 1)
		return found;
	if (matches > 1)
		sf_err("command '%s' is ambiguous: %s", name, list);
	else
		sf_err("unknown command '%s' (see 'synfence help')", name);
	return NULL;
}

void sf_print_version(void)
{
	if (sf_opts.json) {
		struct json_writer jw;
		char lib[32];

		snprintf(lib, sizeof(lib), "%u.%u", libbpf_major_version(), libbpf_minor_version());
		jw_init(&jw, stdout, sf_opts.pretty);
		jw_start_object(&jw);
		jw_string_field(&jw, "version", SYNFENCE_VERSION);
		jw_string_field(&jw, "libbpf", lib);
		jw_end_object(&jw);
		jw_finish(&jw);
		return;
	}
	printf("synfence %s (libbpf %u.%u)\n", SYNFENCE_VERSION, libbpf_major_version(),
	       libbpf_minor_version());
}

void sf_print_main_help(FILE *out)
{
	fprintf(out,
		"Usage: synfence [OPTIONS] COMMAND [ARGS...]\n"
		"\n"
		"synfence shields TCP listeners from SYN floods: an XDP program answers SYNs to the\n"
		"protected ports with SYN cookies and checks the final ACKs; a TC ingress program\n"
		"hands the validated connections to the kernel's listening sockets.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < SF_ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out,
		"\n"
		"Options (also accepted after the command):\n"
		"  -j, --json      JSON output; errors become {\"error\":\"...\"} on stdout\n"
		"  -p, --pretty    indented JSON output (implies --json)\n"
		"  -v, --verbose   show libbpf and libxdp messages (twice: also their debug messages)\n"
		"  -h, --help      show this help, or a command's help after a command\n"
		"  -V, --version   show the version\n"
		"\n"
		"A command can be abbreviated to any unique prefix.\n"
		"See 'synfence help COMMAND' for the options of a command.\n"
		"\n"
		"Exit status: 0 on success, 1 on a runtime error, 2 on a command-line error.\n");
}

static const struct sf_cmd main_cmd = { .name = "synfence", .help = sf_print_main_help };

/* Global option c handled (1), a command's own (0), or the command ends: SF_OPTS_EXIT/_USAGE. */
static int global_opt(int c, char **argv, const struct sf_cmd *cmd)
{
	switch (c) {
	case 'j':
		sf_opts.json = true;
		return 1;
	case 'p':
		sf_opts.json = sf_opts.pretty = true;
		return 1;
	case 'v':
		sf_opts.verbose++;
		return 1;
	case 'h':
		cmd->help(stdout);
		return SF_OPTS_EXIT;
	case 'V':
		sf_print_version();
		return SF_OPTS_EXIT;
	case ':':
		if (optopt && optopt < 256 && argv[optind - 1][1] != '-')
			sf_usage_err(cmd, "option '-%c' needs an argument", optopt);
		else
			sf_usage_err(cmd, "option '%s' needs an argument", argv[optind - 1]);
		return SF_OPTS_USAGE;
	case '?': {
		const char *arg = argv[optind - 1];

		if (!strncmp(arg, "--", 2) && optopt && strchr(arg, '='))
			sf_usage_err(cmd, "option '%.*s' takes no argument", (int)strcspn(arg, "="), arg);
		else if (optopt)
			sf_usage_err(cmd, "unknown option '-%c'", optopt);
		else
			sf_usage_err(cmd, "unknown option '%s'", arg);
		return SF_OPTS_USAGE;
	}
	default:
		return 0;
	}
}

int sf_getopt(int argc, char **argv, const char *shortopts, const struct option *lo, const struct sf_cmd *cmd)
{
	int c, ret;

	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		ret = global_opt(c, argv, cmd);
		if (ret == 0)
			return c;
		if (ret < 0)
			return ret;
	}
	return SF_OPTS_END;
}

int sf_opts_no_args(const struct sf_cmd *cmd, int c, int argc, char **argv, bool *done)
{
	if (done && c == SF_OPTS_EXIT)
		*done = true;
	if (c != SF_OPTS_END)
		return sf_opts_exit_code(c);
	if (optind < argc)
		return sf_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	return SF_OPTS_END;
}

int sf_usage_err(const struct sf_cmd *cmd, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cmd == &main_cmd)
		sf_err("%s (see 'synfence --help')", msg);
	else
		sf_err("%s: %s (see 'synfence help %s')", cmd->name, msg, cmd->name);
	return SF_EXIT_USAGE;
}

/* JSON mode must be known before the first error, which getopt may report before it reaches -j:
 * look for -j/--json/-p/--pretty (alone or in a cluster of global flags) up front. */
static void prescan_json(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "--json") || !strcmp(a, "--pretty")) {
			sf_opts.json = true;
		} else if (a[0] == '-' && a[1] && a[1] != '-' &&
			   strspn(a + 1, SF_GLOBAL_SHORTOPTS) == strlen(a + 1) && strpbrk(a + 1, "jp")) {
			sf_opts.json = true;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = { SF_GLOBAL_LONGOPTS, { NULL, 0, NULL, 0 } };
	const struct sf_cmd *cmd;
	int c;

	sf_log_init();
	prescan_json(argc, argv);

	/* '+': stop at the command name; the command parses the rest */
	c = sf_getopt(argc, argv, "+:" SF_GLOBAL_SHORTOPTS, long_opts, &main_cmd);
	if (c != SF_OPTS_END) /* only global options here: no option of its own comes back */
		return sf_opts_exit_code(c);
	if (optind >= argc)
		return sf_usage_err(&main_cmd, "no command given");

	cmd = sf_cmd_find(argv[optind]);
	if (!cmd)
		return SF_EXIT_USAGE;

	argc -= optind;
	argv += optind;
	optind = 0; /* glibc: fully re-initialise getopt for the command's parser */
	return cmd->run(argc, argv);
}
