/* cmd/pindir.h - --pin-dir DIR and --config FILE, shared by the commands that read a running
 * synfence's pins. */
#ifndef SF_CMD_PINDIR_H
#define SF_CMD_PINDIR_H

#include <limits.h>
#include <stdbool.h>

#include "cmd/cmd.h"

/* The commands that read what a running synfence pinned (stats, status, capture, top, allow, deny,
 * detach) share --pin-dir DIR and --config FILE (cmd/pindir.c): */
/* their option codes (the commands' own start at 256), and their struct option entries; */
enum { SF_OPT_PIN_DIR = 0x1000, SF_OPT_CONFIG };
#define SF_DIR_LONGOPTS                                                                          \
	{ "pin-dir", required_argument, NULL, SF_OPT_PIN_DIR },                                  \
	{ "config", required_argument, NULL, SF_OPT_CONFIG }
/* what they were given, and the pin dir they resolve to; */
struct sf_dir_args {
	const char *dir;    /* --pin-dir DIR; after sf_dir_resolve() the pin dir */
	const char *config; /* --config FILE, else NULL */
	bool dir_given;     /* --pin-dir was given */
	char buf[PATH_MAX]; /* the pin dir sf_dir_resolve() found */
};
/* the help of their --pin-dir and --config; */
void sf_dir_opts_help(FILE *out);
/* records option c (optarg) when it is SF_OPT_PIN_DIR or SF_OPT_CONFIG, as it is (no check); */
bool sf_dir_set(int c, struct sf_dir_args *d);
/* one option c: SF_DIR_NOT_MINE when it is neither; else an empty value is a usage error of cmd
 * ("--pin-dir needs a directory", "--config needs a file"), SF_EXIT_USAGE, else SF_EXIT_OK; */
#define SF_DIR_NOT_MINE (-1)
int sf_dir_opt(const struct sf_cmd *cmd, int c, struct sf_dir_args *d);
/* after the options, d->dir = the pin dir: --pin-dir as given, else the pin_dir of the config file
 * (--config FILE, else the default file when it exists; d->buf holds it), else the default.
 * A broken --config FILE is a usage error (SF_EXIT_USAGE, reported); a broken default file is only
 * warned about (they must work while run still has the config it started with), unless flags say: */
#define SF_DIR_STRICT  1u /* a broken default config file is an error too (allow, deny, top, detach) */
#define SF_DIR_CHECKED 2u /* --pin-dir is checked as the pin_dir setting, and the config file is read
			   * even with it (top, detach) */
#define SF_DIR_USAGE   4u /* with SF_DIR_CHECKED: a bad --pin-dir is a usage error of cmd (detach) */
int sf_dir_resolve(const struct sf_cmd *cmd, struct sf_dir_args *d, unsigned int flags);

#endif
