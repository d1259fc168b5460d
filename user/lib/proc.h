/* lib/proc.h - what the kernel says about this process and others: clocks, network namespace,
 * command lines. */
#ifndef SF_PROC_H
#define SF_PROC_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include <linux/types.h>

/* clock_gettime(id) in nanoseconds. */
__u64 sf_clock_ns(clockid_t id);

/* Inode of this process's network namespace (/proc/self/ns/net), 0 if unknown. */
__u32 sf_netns_ino(void);

/* The command line of pid, its arguments joined by blanks, cut to fit buf (always terminated;
 * empty when it cannot be read). */
void sf_proc_cmdline(pid_t pid, char *buf, size_t len);

/* Start time of pid (field 22 of /proc/PID/stat, clock ticks since boot): 0, or -errno (-ENOENT:
 * no such process). With the pid it names one process: a reused pid has another start time. */
int sf_proc_start_time(pid_t pid, __u64 *start);

/* Is pid alive and still the process that started at start? */
int sf_proc_is(pid_t pid, __u64 start);

#endif
