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

	c = sf_getopt(argc, argv, ":" SF_GLOBAL_SHORTOPTS, long_opts, &sf_cmd_help);
	if (c != SF_OPTS_END)
		return sf_opts_exit_code(c);
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
