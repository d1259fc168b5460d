/* cmd/pindir.c - --pin-dir DIR and --config FILE of the commands that read what a running synfence
 * pinned (stats, status, capture, top, allow, deny, detach): parsing, help, and the pin dir. */
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/pindir.h"
#include "conf/settings.h"
#include "lib/log.h"

void sf_dir_opts_help(FILE *out)
{
	fprintf(out,
		"    --pin-dir DIR\n"
		"        Where `synfence run` pinned its maps. Default: the config file's pin_dir,\n"
		"        else %s.\n"
		"    --config FILE\n"
		"        Read pin_dir from FILE (default %s, when it exists).\n",
		SF_DEFAULT_PIN_DIR, SF_DEFAULT_CONFIG);
}

bool sf_dir_set(int c, struct sf_dir_args *d)
{
	if (c == SF_OPT_PIN_DIR) {
		d->dir = optarg;
		d->dir_given = true;
	} else if (c == SF_OPT_CONFIG) {
		d->config = optarg;
	} else {
		return false;
	}
	return true;
}

int sf_dir_opt(const struct sf_cmd *cmd, int c, struct sf_dir_args *d)
{
	if (c != SF_OPT_PIN_DIR && c != SF_OPT_CONFIG)
		return SF_DIR_NOT_MINE;
	if (!*optarg)
		return sf_usage_err(cmd, c == SF_OPT_PIN_DIR ? "--pin-dir needs a directory" : "--config needs a file");
	sf_dir_set(c, d);
	return SF_EXIT_OK;
}

int sf_dir_resolve(const struct sf_cmd *cmd, struct sf_dir_args *d, unsigned int flags)
{
	static const char flag[] = "--pin-dir: "; /* how sf_conf_pin_dir reports a bad --pin-dir */
	char err[1024];

	if (d->dir_given && !(flags & SF_DIR_CHECKED))
		return SF_EXIT_OK;
	if (!sf_conf_pin_dir(d->config, d->dir_given ? d->dir : NULL, d->buf, sizeof(d->buf), err,
			     sizeof(err))) {
		d->dir = d->buf;
		return SF_EXIT_OK;
	}
	if ((flags & SF_DIR_USAGE) && d->dir_given && !strncmp(err, flag, strlen(flag)))
		return sf_usage_err(cmd, "%s", err);
	if (d->config || (flags & SF_DIR_STRICT)) {
		sf_err("%s", err);
		return SF_EXIT_USAGE;
	}
	sf_warn("%s: ignored, looking in %s", err, SF_DEFAULT_PIN_DIR);
	d->dir = SF_DEFAULT_PIN_DIR;
	return SF_EXIT_OK;
}
