/* cmd.h - the command table and what the command parsers share (exit codes, global options). */
#ifndef SF_CMD_H
#define SF_CMD_H

#include <getopt.h>
#include <stdio.h>

#ifndef SYNFENCE_VERSION
#define SYNFENCE_VERSION "0.1.0"
#endif

/* Exit codes of the binary. Commands return one of these; internal functions return 0/-errno. */
#define SF_EXIT_OK    0
#define SF_EXIT_FAIL  1 /* runtime error */
#define SF_EXIT_USAGE 2 /* bad command line */

struct sf_cmd {
	const char *name;
	const char *summary;            /* one line for the command list */
	int (*run)(int argc, char **argv); /* argv[0] is the command name; returns an exit code */
	void (*help)(FILE *out);        /* the command's full help page */
};

/* Find a command by exact name or unique prefix. Prints the error (unknown/ambiguous) itself and
 * returns NULL then. */
const struct sf_cmd *sf_cmd_find(const char *name);

/* The global options, accepted before the command and by every command. */
#define SF_GLOBAL_SHORTOPTS "jpvhV"
#define SF_GLOBAL_LONGOPTS                                                                       \
	{ "json", no_argument, NULL, 'j' }, { "pretty", no_argument, NULL, 'p' },                \
	{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },               \
	{ "version", no_argument, NULL, 'V' }

/* Result of sf_global_opt(). */
enum sf_opt_res {
	SF_OPT_NOT_GLOBAL, /* not a global option: the command handles it */
	SF_OPT_HANDLED,    /* a flag was set: continue parsing */
	SF_OPT_EXIT,       /* help or version was printed: exit 0 */
	SF_OPT_ERROR,      /* a getopt error was reported: exit SF_EXIT_USAGE */
};

/* Handle getopt_long's return c for the global options and getopt errors ('?', ':'); cmd's help
 * page is printed for -h. Command parsers use optstring ":" SF_GLOBAL_SHORTOPTS "...". */
enum sf_opt_res sf_global_opt(int c, char **argv, const struct sf_cmd *cmd);

/* Report a usage error for cmd: one line, plus where to find help. Returns SF_EXIT_USAGE. */
int sf_usage_err(const struct sf_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void sf_print_version(void);
/* The top-level help: commands and global options. */
void sf_print_main_help(FILE *out);

/* Commands. */
extern const struct sf_cmd sf_cmd_run, sf_cmd_status, sf_cmd_stats, sf_cmd_help;
extern const struct sf_cmd sf_cmd_detach;

#endif
