/* lib/util.h - small filesystem, interface, parsing and error-message helpers. All return 0 or -errno
 * unless said otherwise. */
#ifndef SF_UTIL_H
#define SF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* mkdir -p; newly created directories get mode. *created (if not NULL) tells whether the last
 * component was created by this call. */
int sf_mkdir_p(const char *path, mode_t mode, bool *created);

/* 1 if path is on a bpffs, 0 if not, -errno if it cannot be checked. */
int sf_is_bpffs(const char *path);

/* buf = dir + "/" + name; -ENAMETOOLONG if it does not fit. */
int sf_path_join(char *buf, size_t len, const char *dir, const char *name);

/* MTU of an interface by name. */
int sf_if_mtu(const char *ifname, unsigned int *mtu);

/* Parse a decimal unsigned integer in [min, max] (whole string). Returns 0 or -EINVAL. */
int sf_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *val);

/* Parse a decimal number of seconds ("2", "0.5") in [min, max] (whole string, no sign, no
 * exponent sign needed). Returns 0 or -EINVAL. */
int sf_parse_seconds(const char *s, double min, double max, double *val);

/* s[0..len) as quoted back in an error message: printable ASCII as is, any other byte as \xNN, so
 * that the message stays one line of plain text whatever the input (a newline or an escape sequence
 * must not reach the terminal or the log raw). Stops when out is full; out is always terminated
 * (outlen >= 1). Returns the length written. */
int sf_visible(char *out, size_t outlen, const char *s, size_t len);

/* Format an error message into err (when err is not NULL and errlen is not 0); returns -EINVAL. */
int sf_einval(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
