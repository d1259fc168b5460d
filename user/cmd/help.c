/* cmd/help.c - `synfence help [COMMAND]`. */
#include "cmd/cmd.h"
#include "lib/log.h"

static void help_help(FILE *out)
{
	fprintf(out,
		"NAME\n"
		"    synfence help - show help for synfence or one of its commands\n"
		"\n"
		"SYNOPSIS\n"
		"    synfence help [COMMAND]\n"
		"    synfence COMMAND --help\n"
		"\n"
		"DESCRIPTION\n"
		"    Without COMMAND, lists the commands and the global options. COMMAND may be\n"
		"    abbreviated to any unique prefix.\n");
}

static int help_run(int argc, char **argv)
{
	static const struct option long_opts[] = { SF_GLOBAL_LONGOPTS, { NULL, 0, NULL, 0 } };
	const struct sf_cmd *cmd;
	int c;

	while ((c = getopt_long(argc, argv, ":" SF_GLOBAL_SHORTOPTS, long_opts, NULL)) != -1) {
		switch (sf_global_opt(c, argv, &sf_cmd_help)) {
		case SF_OPT_HANDLED:
			break;
		case SF_OPT_EXIT:
			return SF_EXIT_OK;
		default:
			return SF_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		sf_print_main_help(stdout);
		return SF_EXIT_OK;
	}
	if (argc - optind > 1)
		return sf_usage_err(&sf_cmd_help, "too many arguments");
	cmd = sf_cmd_find(argv[optind]);
	if (!cmd)
		return SF_EXIT_USAGE;
	cmd->help(stdout);
	return SF_EXIT_OK;
}

const struct sf_cmd sf_cmd_help = {
	.name = "help",
	.summary = "show help for a command",
	.run = help_run,
	.help = help_help,
};
