/* lib/sysctl.h - read sysctls (of the network namespace we run in) from /proc/sys. */
#ifndef SF_SYSCTL_H
#define SF_SYSCTL_H

/* name is dotted ("net.ipv4.tcp_syncookies"). Reads up to max whitespace-separated integers into
 * vals; *n (if not NULL) gets how many were read. Returns 0 or -errno (-EINVAL: not integers). */
int sf_sysctl_read_ints(const char *name, long *vals, int max, int *n);

/* The first (usually only) integer of a sysctl. */
int sf_sysctl_read_int(const char *name, long *val);

/* Write an integer to a sysctl (of our network namespace for net.*). Returns 0 or -errno. */
int sf_sysctl_write_int(const char *name, long val);

#endif
