/* fuzz_cli.c - libFuzzer target: the synfence command line, from main() down through every
 * command's option parser, with a synthetic argv (the input split at NUL bytes).
 *
 * user/main.c is compiled with -Dmain=sf_cli_main (no refactor of the real code). A fuzz input must
 * never reach the system, so:
 *  - the link wraps (-Wl,--wrap) the first system step of `run`: sf_check_root() answers "not root"
 *    and sf_daemon_run() (when the daemon exists) returns without doing anything: every input that
 *    parses still goes through all of the parsing and the checks before them;
 *  - tests/fuzz/fuzz.sh runs this binary as the unprivileged user nobody in a network namespace of
 *    its own, so even a path we did not foresee cannot attach, pin or mount anything.
 * Properties: no crash, no ASan/UBSan report, and the exit code is 0, 1 or 2. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

int sf_cli_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int __wrap_sf_check_root(void);
struct sf_run_opts;
int __wrap_sf_daemon_run(struct sf_run_opts *o);

static unsigned long reached_system;

int __wrap_sf_check_root(void)
{
	reached_system++;
	return -EPERM;
}

int __wrap_sf_daemon_run(struct sf_run_opts *o)
{
	(void)o;
	reached_system++;
	return 1;
}

#define MAX_ARGS 24

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	/* help pages and tables to /dev/null; errors (stderr) stay visible but are one line each */
	if (fd >= 0)
		dup2(fd, STDOUT_FILENO);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS + 2];
	int argc = 1, rc;
	size_t i, start = 0;

	if (size > 4096)
		return -1;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[0] = "synfence";
	for (i = 0; i <= size && argc <= MAX_ARGS; i++)
		if (buf[i] == 0) {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	/* a fresh process each time, as far as the parsers can tell */
	memset(&sf_opts, 0, sizeof(sf_opts));
	optind = 0;
	opterr = 0;
	rc = sf_cli_main(argc, argv);
	if (rc < 0 || rc > 2) {
		fprintf(stderr, "exit code %d\n", rc);
		abort();
	}
	fflush(stdout);
	free(buf);
	return 0;
}
