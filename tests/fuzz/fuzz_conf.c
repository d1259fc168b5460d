/* fuzz_conf.c - libFuzzer target: the config file loader of `synfence run` (sf_conf_load in
 * user/conf/settings.c, libinih underneath), fed each input as the whole file through a memfd
 * (/proc/self/fd/N: a regular file, as the loader requires).
 * Properties checked on every input, beyond "no crash, no ASan/UBSan/LeakSanitizer report":
 *  - the result is 0 or -EINVAL; the same input gives the same result and message twice; no fd is
 *    left open; a tiny or absent error buffer changes nothing but the message;
 *  - a rejection is one line of printable ASCII, "FILE:LINE: problem", LINE a line of the input;
 *  - an accepted file has no NUL byte (it would hide the rest of its line); every key marked set
 *    has the line of the input that names it, every other key keeps its default; values are in
 *    their documented ranges (every number within its sf_keys range, mode, log level, engage),
 *    interface names valid and distinct, ports non-empty without port 0, paths absolute with
 *    room for the pin names;
 *  - every key of sf_keys is covered by the checks and the formatter below (they walk the table),
 *    so a new key cannot be missed as monitor, engage and the list files once were;
 *  - round trip: the settings written back as a config file (our own formatter: key=value, long
 *    lists over indented continuation lines) load without error to the same settings, and that
 *    formats to the same text;
 *  - reload: sf_settings_apply_reloadable copies exactly the keys the daemon's SIGHUP applies (all
 *    but pin_dir and metrics) from the loaded settings onto the defaults, and reports exactly those
 *    of them that differ. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf/settings.h"
#include "conf/listen_addr.h"
#include "conf/ports.h"
#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int memfd = -1;
static char path[64];
static struct sf_settings s1, s2, s3, def;
static char err1[1024], err2[1024], ports[400000];
static char text1[1 << 20], text2[1 << 20];

/* The lowest free fd now: a leak in the loader shows up as a different one afterwards. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("synfence.conf", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("memfd_create");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	sf_settings_defaults(&def);
	/* the daemon's reload relies on this split: pin_dir and metrics change only with a restart */
	for (int k = 0; k < SF_KEY_MAX; k++)
		REQUIRE(sf_keys[k].reload == (k != SF_KEY_PIN_DIR && k != SF_KEY_METRICS));
	return 0;
}

/* live = defaults (restart-only keys with values of their own), next applied on it */
static void check_reload(const struct sf_settings *next)
{
	static struct sf_settings live, before;
	unsigned int changed, diff;

	live = def;
	snprintf(live.pin_dir, sizeof(live.pin_dir), "/run/sf-live");
	snprintf(live.metrics, sizeof(live.metrics), "127.0.0.1:1");
	live.line[SF_KEY_ROTATE] = 12345;
	before = live;
	diff = sf_settings_diff(&live, next);
	changed = sf_settings_apply_reloadable(&live, next);
	REQUIRE(changed == (diff & ~(1u << SF_KEY_PIN_DIR | 1u << SF_KEY_METRICS)));
	REQUIRE(sf_settings_diff(&live, next) == (diff & (1u << SF_KEY_PIN_DIR | 1u << SF_KEY_METRICS)));
	REQUIRE(!strcmp(live.pin_dir, before.pin_dir) && !strcmp(live.metrics, before.metrics));
	REQUIRE(live.set == before.set && !memcmp(live.line, before.line, sizeof(live.line)));
	REQUIRE(live.n_ifs == next->n_ifs && !memcmp(live.ports, next->ports, sizeof(live.ports)) &&
		live.mode == next->mode && live.rotate == next->rotate &&
		!strcmp(live.secret_file, next->secret_file) && live.log_level == next->log_level &&
		live.sysctl_changes == next->sysctl_changes &&
		live.sysctl_interval == next->sysctl_interval && live.reattach == next->reattach &&
		live.keep_attached == next->keep_attached);
	for (int i = 0; i < next->n_ifs; i++)
		REQUIRE(!strcmp(live.ifs[i], next->ifs[i]));
}

static void set_file(const void *p, size_t n)
{
	REQUIRE(ftruncate(memfd, 0) == 0);
	REQUIRE(pwrite(memfd, p, n, 0) == (ssize_t)n);
}

/* No fd leaked by a load. (Measured around each load: libFuzzer itself keeps new fds open between
 * inputs, e.g. the pipes of llvm-symbolizer after its first NEW_FUNC line.) */
static int load(struct sf_settings *s, char *err, size_t errlen)
{
	int free_fd = lowest_free_fd(), rc = sf_conf_load(path, s, err, errlen);

	REQUIRE(lowest_free_fd() == free_fd);
	return rc;
}

/* Lines of the input: [start, end) of line n (1-based); false when there is no such line. */
static bool line_of(const uint8_t *d, size_t size, long n, size_t *start, size_t *end)
{
	size_t i = 0;

	if (n < 1)
		return false;
	for (long l = 1; l < n; l++) {
		const uint8_t *nl = memchr(d + i, '\n', size - i);

		if (!nl)
			return false;
		i = (size_t)(nl - d) + 1;
	}
	if (i >= size)
		return false;
	*start = i;
	*end = memchr(d + i, '\n', size - i) ? (size_t)((const uint8_t *)memchr(d + i, '\n', size - i) - d)
					      : size;
	return true;
}

static void check_error(const char *err, const uint8_t *d, size_t size)
{
	size_t plen = strlen(path), a, b;
	char *end;
	long n;

	REQUIRE(err[0]);
	for (const char *p = err; *p; p++)
		REQUIRE(*p >= 0x20 && *p < 0x7f); /* one line, no raw control or non-ASCII byte */
	REQUIRE(!strncmp(err, path, plen) && err[plen] == ':');
	n = strtol(err + plen + 1, &end, 10);
	REQUIRE(end > err + plen + 1 && end[0] == ':' && end[1] == ' ' && end[2]);
	REQUIRE(line_of(d, size, n, &a, &b));
}

static bool ifname_valid(const char *n)
{
	size_t len = strnlen(n, IF_NAMESIZE);

	if (len == 0 || len >= IF_NAMESIZE || !strcmp(n, ".") || !strcmp(n, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (n[i] == '/' || n[i] == ':' || (unsigned char)n[i] <= ' ' || n[i] == 0x7f || n[i] == ',')
			return false;
	return true;
}

/* Per key type: numbers in their range, paths absolute with room for the pin names under them
 * (and, without a default, set exactly when given), booleans 0 or 1. */
static void check_key_values(const struct sf_settings *s)
{
	for (int k = 0; k < SF_KEY_MAX; k++) {
		const struct sf_key_desc *d = &sf_keys[k];
		const char *f = (const char *)s + d->off;
		unsigned long v;

		switch (d->type) {
		case SF_T_SECONDS:
		case SF_T_NUMBER:
		case SF_T_RATE:
			memcpy(&v, f, sizeof(v));
			REQUIRE(v >= d->min && v <= d->max);
			break;
		case SF_T_PATH:
			REQUIRE(memchr(f, 0, d->size));
			REQUIRE(!f[0] || (f[0] == '/' && strlen(f) < d->size - 64));
			REQUIRE(d->def || !!(s->set & (1u << k)) == !!f[0]);
			break;
		case SF_T_BOOL:
			REQUIRE(*(const unsigned char *)f <= 1);
			break;
		default:
			break;
		}
	}
	REQUIRE(s->pin_dir[0] == '/');
	REQUIRE(s->engage == SF_ENGAGE_ALWAYS || s->engage == SF_ENGAGE_AUTO);
}

static void check_settings(const struct sf_settings *s, const uint8_t *d, size_t size)
{
	REQUIRE(!(s->set & ~((1u << SF_KEY_MAX) - 1)));
	for (int k = 0; k < SF_KEY_MAX; k++) {
		size_t a, b;
		const char *name = sf_key_name((enum sf_key)k);

		if (!(s->set & (1u << k))) {
			REQUIRE(s->line[k] == 0);
			continue;
		}
		/* the line recorded is the one that names the key */
		REQUIRE(line_of(d, size, s->line[k], &a, &b));
		REQUIRE(memmem(d + a, b - a, name, strlen(name)));
	}
	/* every key not set keeps its default */
	REQUIRE(!(sf_settings_diff(s, &def) & ~s->set));
	check_key_values(s);
	REQUIRE(s->mode == SF_MODE_AUTO || s->mode == SF_MODE_NATIVE || s->mode == SF_MODE_GENERIC);
	REQUIRE(s->log_level >= SF_LOG_ERROR && s->log_level <= SF_LOG_DEBUG);
	/* interfaces: set means at least one; valid, distinct names */
	REQUIRE(s->n_ifs >= 0 && s->n_ifs <= SF_MAX_RUN_IFACES);
	REQUIRE(!!(s->set & (1u << SF_KEY_INTERFACES)) == (s->n_ifs > 0));
	for (int i = 0; i < s->n_ifs; i++) {
		REQUIRE(ifname_valid(s->ifs[i]));
		for (int j = 0; j < i; j++)
			REQUIRE(strcmp(s->ifs[i], s->ifs[j]));
	}
	/* ports: set means at least one; never port 0 */
	REQUIRE(!!(s->set & (1u << SF_KEY_PORTS)) == (sf_count_ports(s->ports) > 0));
	REQUIRE(!(s->ports[0] & 1));
	/* metrics: set means an address the server can bind */
	REQUIRE(memchr(s->metrics, 0, sizeof(s->metrics)));
	REQUIRE(!!(s->set & (1u << SF_KEY_METRICS)) == !!s->metrics[0]);
	if (s->metrics[0]) {
		struct sockaddr_storage sa;
		socklen_t salen;
		char why[128];

		REQUIRE(!sf_metrics_parse(s->metrics, &sa, &salen, why, sizeof(why)));
	}
}

/* "key=ITEM,ITEM..." over lines of at most ~150 bytes; continuation lines are indented and start
 * with the separator (so that an item starting with '#' or ';' is not taken for a comment). */
static size_t put_list(char *out, size_t o, size_t len, const char *key, const char *items)
{
	const char *p = items;

	o += (size_t)snprintf(out + o, len - o, "%s=", key);
	while (*p) {
		size_t n = strlen(p), cut = n;

		if (n > 150) {
			cut = 150;
			while (cut > 0 && p[cut] != ',')
				cut--;
			REQUIRE(cut > 0);
		}
		o += (size_t)snprintf(out + o, len - o, "%.*s\n", (int)cut, p);
		p += cut;
		if (*p)
			o += (size_t)snprintf(out + o, len - o, "\t");
	}
	REQUIRE(o < len);
	return o;
}

static const char *yesno(bool b) { return b ? "yes" : "no"; }

/* One value as the config file writes it. */
static const char *format_value(const struct sf_key_desc *d, const void *f)
{
	static char buf[PATH_MAX + 32];
	unsigned long v;

	switch (d->type) {
	case SF_T_MODE:
		return sf_mode_req_name(*(const enum sf_mode_req *)f);
	case SF_T_LOG_LEVEL:
		return sf_log_level_name(*(const enum sf_log_level *)f);
	case SF_T_ENGAGE:
		return sf_engage_name(*(const enum sf_engage *)f);
	case SF_T_BOOL:
		return yesno(*(const bool *)f);
	case SF_T_SECONDS:
	case SF_T_NUMBER:
	case SF_T_RATE:
		memcpy(&v, f, sizeof(v));
		snprintf(buf, sizeof(buf), "%lu", v);
		return buf;
	case SF_T_PATH:
	case SF_T_LISTEN:
		return f;
	default:
		REQUIRE(0);
	}
	return "";
}

/* The settings as a config file: only the keys set. */
static size_t format_conf(const struct sf_settings *s, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	if (s->set & (1u << SF_KEY_INTERFACES)) {
		char list[SF_MAX_RUN_IFACES * (IF_NAMESIZE + 1) + 1];
		size_t l = 0;

		for (int i = 0; i < s->n_ifs; i++)
			l += (size_t)snprintf(list + l, sizeof(list) - l, "%s%s", i ? "," : "", s->ifs[i]);
		o = put_list(out, o, len, "interfaces", list);
	}
	if (s->set & (1u << SF_KEY_PORTS)) {
		REQUIRE(sf_format_ports(s->ports, ports, sizeof(ports)) < sizeof(ports));
		o = put_list(out, o, len, "ports", ports);
	}
	for (int k = 0; k < SF_KEY_MAX; k++) {
		const struct sf_key_desc *d = &sf_keys[k];
		const void *f = (const char *)s + d->off;

		if (!(s->set & (1u << k)) || k == SF_KEY_INTERFACES || k == SF_KEY_PORTS)
			continue;
		o += (size_t)snprintf(out + o, len - o, "%s=%s\n", d->name, format_value(d, f));
		REQUIRE(o < len);
	}
	return o;
}

static bool same_settings(const struct sf_settings *a, const struct sf_settings *b)
{
	return a->set == b->set && !sf_settings_diff(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tiny[4];
	size_t n1, n2;
	int rc;

	if (size > 65536)
		return -1;
	set_file(data, size);
	memset(err1, 'x', sizeof(err1));
	rc = load(&s1, err1, sizeof(err1));
	REQUIRE(rc == 0 || rc == -EINVAL);
	REQUIRE(memchr(err1, 0, sizeof(err1)));
	/* deterministic, also with a tiny or no message buffer */
	REQUIRE(load(&s2, err2, sizeof(err2)) == rc && !strcmp(err1, err2));
	memset(tiny, 'x', sizeof(tiny));
	REQUIRE(load(&s3, tiny, sizeof(tiny)) == rc && memchr(tiny, 0, sizeof(tiny)));
	REQUIRE(load(&s3, NULL, 0) == rc);
	if (rc) {
		check_error(err1, data, size);
		return 0;
	}
	REQUIRE(!err1[0]);
	REQUIRE(!memchr(data, 0, size)); /* a NUL byte hid the rest of its line: refused */
	REQUIRE(same_settings(&s1, &s2));
	check_settings(&s1, data, size);
	check_reload(&s1);

	/* round trip through our formatter */
	n1 = format_conf(&s1, text1, sizeof(text1));
	set_file(text1, n1);
	rc = load(&s2, err2, sizeof(err2));
	if (rc || !same_settings(&s1, &s2)) {
		fprintf(stderr, "round trip: rc %d (%s); formatted:\n%s\n", rc, err2, text1);
		REQUIRE(0);
	}
	check_settings(&s2, (const uint8_t *)text1, n1);
	n2 = format_conf(&s2, text2, sizeof(text2));
	REQUIRE(n2 == n1 && !memcmp(text1, text2, n1));
	return 0;
}
