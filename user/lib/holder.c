/* lib/holder.c - which other process holds a link or program fd (declared in loader.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lib/loader.h"
#include "lib/proc.h"

/* fdinfo of one fd names link_id or prog_id */
static bool fdinfo_matches(const char *path, __u32 link_id, __u32 prog_id)
{
	char line[128];
	bool hit = false;
	FILE *f = fopen(path, "re");
	unsigned int v;

	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f)) {
		if (link_id && sscanf(line, "link_id: %u", &v) == 1 && v == link_id)
			hit = true;
		else if (prog_id && sscanf(line, "prog_id: %u", &v) == 1 && v == prog_id)
			hit = true;
	}
	fclose(f);
	return hit;
}

pid_t sf_find_holder(__u32 link_id, __u32 prog_id, char *cmdline, size_t len)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid(), found = 0;

	if (cmdline && len)
		cmdline[0] = '\0';
	if (!proc)
		return 0;
	while (!found && (de = readdir(proc))) {
		char path[300];
		struct dirent *fe;
		DIR *fds;
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			if (!isdigit((unsigned char)fe->d_name[0]))
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, fe->d_name);
			if (fdinfo_matches(path, link_id, prog_id)) {
				found = pid;
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	if (found && cmdline && len)
		sf_proc_cmdline(found, cmdline, len);
	return found;
}
