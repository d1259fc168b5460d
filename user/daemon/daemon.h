/* daemon/daemon.h - the life of `synfence run`: take over or set up the pinned state, attach, then serve
 * signals (SIGHUP reload, SIGTERM/SIGINT stop, SIGUSR2 stop leaving protection in place), rotate the
 * secret, keep the sysctl mirror and the interfaces in shape, talk to systemd. sf_daemon_run is in
 * lifecycle.c; the other files of daemon/ share daemon/internal.h. */
#ifndef SF_DAEMON_H
#define SF_DAEMON_H

#include <stdbool.h>

#include "conf/settings.h"

struct sf_run_opts {
	struct sf_settings cli;  /* what the command line set (cli.set): keeps overriding on reload */
	struct sf_settings set;  /* the merged settings, already checked */
	const char *config;      /* config file path (re-read on SIGHUP) */
	bool config_given;       /* --config was given: the file must exist */
	bool config_used;        /* the file existed and was read */
};

/* Runs until a signal ends it. Returns the exit code (SF_EXIT_*). */
int sf_daemon_run(struct sf_run_opts *o);

#endif
