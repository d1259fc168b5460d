/* conf/settings.c - see settings.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "conf/settings.h"
#include "conf/listen_addr.h"
#include "conf/listfile.h"
#include "conf/ports.h"
#include "lib/util.h"


#define SF_STR_(x) #x
#define SF_STR(x)  SF_STR_(x)
#define FIELD(f)   .off = offsetof(struct sf_settings, f), .size = sizeof(((struct sf_settings *)0)->f)
/* interfaces: n_ifs and the names after it, one range */
#define IFS_SIZE   (offsetof(struct sf_settings, ifs) + sizeof(((struct sf_settings *)0)->ifs) - \
		    offsetof(struct sf_settings, n_ifs))
_Static_assert(offsetof(struct sf_settings, ifs) == offsetof(struct sf_settings, n_ifs) + sizeof(int),
	       "n_ifs and ifs are one range");

/* In the order of the documentation (and of run --help). */
const struct sf_key_desc sf_keys[SF_KEY_MAX] = {
	[SF_KEY_INTERFACES] = { .name = "interfaces", .arg = "IFACE...", .conf_arg = "IFACE ...",
		.type = SF_T_IFACES, .off = offsetof(struct sf_settings, n_ifs), .size = IFS_SIZE,
		.max = SF_MAX_RUN_IFACES, .reload = true,
		.help = "The interfaces to protect (at most {max})." },
	[SF_KEY_PORTS] = { .name = "ports", .flag = "ports", .arg = "LIST", .conf_arg = "LIST",
		.type = SF_T_PORTS, FIELD(ports), .reload = true,
		.help = "Ports to protect: comma-separated ports and inclusive ranges, e.g.\n"
			"80,443,8000-8100. Ports are 1-65535. Required (here or in the file)." },
	[SF_KEY_MODE] = { .name = "mode", .flag = "mode", .short_opt = 'm', .arg = "native|generic|auto",
		.type = SF_T_MODE, FIELD(mode), .def = "auto", .reload = true,
		.help = "XDP mode. auto (default) tries native and falls back to generic (skb) mode\n"
			"with a warning." },
	[SF_KEY_ROTATE] = { .name = "rotate", .flag = "rotate", .arg = "SECONDS", .type = SF_T_SECONDS,
		FIELD(rotate), .min = 1, .max = SF_MAX_ROTATE, .def = SF_STR(SF_DEFAULT_ROTATE),
		.what = "rotation period", .reload = true,
		.help = "Replace the cookie secret every SECONDS ({min}-{max}, default {default}). Cookies from\n"
			"the previous secret stay valid, so a cookie lives 1 to 2 periods." },
	[SF_KEY_SECRET_FILE] = { .name = "secret_file", .flag = "secret-file", .arg = "FILE",
		.type = SF_T_PATH, FIELD(secret_file), .what = "secret file", .reload = true,
		.help = "Derive the secrets from the master secret in FILE (32-128 hex digits; a\n"
			"regular file owned by root, mode 0600 or 0400) instead of random ones: the\n"
			"key of epoch e = floor(unix time / SECONDS) is BLAKE2b(master, e), so servers\n"
			"behind one anycast/ECMP address with the same file, the same --rotate and\n"
			"synced clocks accept each other's cookies. Clock skew: a cookie made by a\n"
			"server whose clock is s seconds ahead fails on the others when its ACK comes\n"
			"within s seconds after a period boundary of that server; otherwise cookies\n"
			"are accepted for 1 to 2 periods minus s. Keep s far below the period." },
	/* restart only: the pins and the lock live there */
	[SF_KEY_PIN_DIR] = { .name = "pin_dir", .flag = "pin-dir", .arg = "DIR", .type = SF_T_PATH,
		FIELD(pin_dir), .def = SF_DEFAULT_PIN_DIR, .what = "pin dir", .reload = false,
		.help = "Where the maps and links are pinned (default {default}); created (0700)\n"
			"and a bpffs mounted on it when needed. Other commands find run's state there.\n"
			"A bpffs mounted inside `ip netns exec` is private to that command: mount one\n"
			"beforehand for state that must outlive it." },
	[SF_KEY_LOG_LEVEL] = { .name = "log_level", .flag = "log-level", .arg = "error|warning|info|debug",
		.type = SF_T_LOG_LEVEL, FIELD(log_level), .def = "info", .reload = true,
		.help = "Default info. -v is debug (and libbpf messages), -q warning, -qq error;\n"
			"with another --log-level they are an error." },
	[SF_KEY_SYSCTL_CHANGES] = { .name = "sysctl_changes", .flag = "sysctl-changes", .type = SF_T_BOOL,
		FIELD(sysctl_changes), .def = "yes", .reload = true,
		.help = "Never change a sysctl (tcp_syncookies=0 is then refused)." },
	[SF_KEY_SYSCTL_INTERVAL] = { .name = "sysctl_interval", .flag = "sysctl-interval", .arg = "SECONDS",
		.type = SF_T_SECONDS, FIELD(sysctl_interval), .min = 1, .max = SF_MAX_SYSCTL_INTERVAL,
		.def = SF_STR(SF_DEFAULT_SYSCTL_INTERVAL), .what = "interval", .reload = true,
		.help = "How often the sysctls and the interfaces are re-checked ({min}-{max}, default {default})." },
	[SF_KEY_REATTACH] = { .name = "reattach", .flag = "reattach", .type = SF_T_BOOL,
		FIELD(reattach), .def = "yes", .reload = true,
		.help = "Whether an interface that disappeared is attached again when it comes back\n"
			"(and one that lost a link, at once)." },
	[SF_KEY_KEEP_ATTACHED] = { .name = "keep_attached", .flag = "keep-attached", .type = SF_T_BOOL,
		FIELD(keep_attached), .def = "no", .reload = true,
		.help = "SIGTERM leaves protection in place (as SIGUSR2); 'synfence detach' removes it." },
	/* restart only: the server is bound before anything is attached */
	[SF_KEY_METRICS] = { .name = "metrics", .flag = "metrics", .arg = "ADDR:PORT", .type = SF_T_LISTEN,
		FIELD(metrics), .reload = false,
		.help = "Serve the counters and a few gauges in the Prometheus text format at\n"
			"http://ADDR:PORT/metrics (off by default). ADDR is a literal IPv4 address or\n"
			"an IPv6 one in brackets: 127.0.0.1:9464, [::1]:9464. Prefer a loopback\n"
			"address: the endpoint has no authentication. A port in use is an error.\n"
			"A changed address takes effect only with a restart (SIGHUP logs a warning)." },
	[SF_KEY_MONITOR] = { .name = "monitor", .flag = "monitor", .type = SF_T_BOOL,
		FIELD(monitor), .def = "no", .reload = true,
		.help = "Monitor mode: attached and counting, but every packet passes to the kernel\n"
			"untouched: nothing is answered, dropped or handed off. The counters show\n"
			"what synfence would have done (synack_sent: SYN-ACKs it would have sent,\n"
			"ack_cookie_bad: ACKs it would have dropped); monitor_pass counts the packets\n"
			"it let through instead. For a first try on a production server; SIGHUP\n"
			"switches it on and off live." },
	[SF_KEY_ALLOW_FILE] = { .name = "allow_file", .flag = "allow-file", .arg = "FILE",
		.type = SF_T_PATH, FIELD(allow_file), .what = "allow file", .reload = true,
		.help = "Allow list: one IPv4 or IPv6 prefix (CIDR, or an address) per line, '#'\n"
			"starts a comment. SYNs from these prefixes go to the kernel unchallenged\n"
			"(pass_allowed). A bad line is refused as FILE:LINE. SIGHUP reloads the file\n"
			"(entries added with 'synfence allow add' stay)." },
	[SF_KEY_DENY_FILE] = { .name = "deny_file", .flag = "deny-file", .arg = "FILE",
		.type = SF_T_PATH, FIELD(deny_file), .what = "deny file", .reload = true,
		.help = "Deny list, as --allow-file: SYNs and would-be cookie ACKs from these\n"
			"prefixes are dropped (drop_denied). The allow list wins where both match." },
	[SF_KEY_SOURCE_SYN_RATE] = { .name = "source_syn_rate", .flag = "source-syn-rate", .arg = "N",
		.type = SF_T_NUMBER, FIELD(source_syn_rate), .min = 0, .max = SF_MAX_SOURCE_SYN_RATE,
		.def = "0", .what = "SYN rate", .reload = true,
		.help = "Per-source SYN limit: at most N SYNs a second from one source prefix (see\n"
			"--source-prefix4/6), above a burst of --source-syn-burst; more are dropped\n"
			"(drop_rate_limited). Stops a botnet's many SYNs per source and SYN-ACKs\n"
			"reflected to one spoofed victim. 0 (default): off. {min}-{max}." },
	[SF_KEY_SOURCE_SYN_BURST] = { .name = "source_syn_burst", .flag = "source-syn-burst", .arg = "N",
		.type = SF_T_NUMBER, FIELD(source_syn_burst), .min = 1, .max = SF_MAX_SOURCE_SYN_BURST,
		.def = SF_STR(SF_DEFAULT_SOURCE_SYN_BURST), .what = "SYN burst", .reload = true,
		.help = "SYNs one source prefix may send at once before --source-syn-rate applies\n"
			"({min}-{max}, default {default}: browsers open several connections at once)." },
	[SF_KEY_SOURCE_PREFIX4] = { .name = "source_prefix4", .flag = "source-prefix4", .arg = "BITS",
		.type = SF_T_NUMBER, FIELD(source_prefix4), .min = 1, .max = 32, .def = "32",
		.what = "IPv4 prefix length", .reload = true,
		.help = "IPv4 sources share one SYN rate per /BITS prefix ({min}-{max}, default {default})." },
	[SF_KEY_SOURCE_PREFIX6] = { .name = "source_prefix6", .flag = "source-prefix6", .arg = "BITS",
		.type = SF_T_NUMBER, FIELD(source_prefix6), .min = 1, .max = 128, .def = "64",
		.what = "IPv6 prefix length", .reload = true,
		.help = "IPv6 sources share one SYN rate per /BITS prefix ({min}-{max}, default {default})." },
	[SF_KEY_ENGAGE] = { .name = "engage", .flag = "engage", .arg = "always|auto", .conf_arg = "always|auto",
		.type = SF_T_ENGAGE, FIELD(engage), .def = "always", .reload = true,
		.help = "always (default): answer every SYN to a protected port; auto: only while\n"
			"an interface's SYN rate is above --engage-rate (calm: the kernel answers,\n"
			"exact MSS, Fast Open). No handshake in flight fails on a switch." },
	[SF_KEY_ENGAGE_RATE] = { .name = "engage_rate", .flag = "engage-rate", .arg = "SYNS", .conf_arg = "SYNS",
		.type = SF_T_RATE, FIELD(engage_rate), .min = 1, .max = 100000000,
		.def = SF_STR(SF_DEFAULT_ENGAGE_RATE), .what = "engage rate", .reload = true,
		.help = "engage = auto: engage within a second once SYNs to an interface's protected\n"
			"ports exceed SYNS per second ({min}-{max}, default {default}: far above the\n"
			"new connections of most servers, and a spoofed flood that fast fills the\n"
			"kernel's SYN backlog of 4096 in seconds)." },
	[SF_KEY_ENGAGE_HOLD] = { .name = "engage_hold", .flag = "engage-hold", .arg = "SECONDS",
		.type = SF_T_SECONDS, FIELD(engage_hold), .min = 1, .max = 86400, .def = "30",
		.what = "engage hold", .reload = true,
		.help = "engage = auto: disengage once the SYN rate has stayed below 3/4 of the\n"
			"engage rate for SECONDS ({min}-{max}, default {default}), so that a flood that\n"
			"pauses does not switch back and forth." },
};

#define SHOW_MAX 64 /* longest config value or name quoted back in an error message */

/* A value, key or section name from the user as quoted in an error (see sf_visible): a control
 * byte or an escape sequence in the config file must not make a multi-line or terminal-changing
 * message; "..." when cut. */
struct shown {
	char s[SHOW_MAX * 4 + 4];
};

static const char *show(struct shown *b, const char *v, size_t len)
{
	int o = sf_visible(b->s, sizeof(b->s) - 3, v, len > SHOW_MAX ? SHOW_MAX : len);

	if (len > SHOW_MAX)
		memcpy(b->s + o, "...", 4);
	return b->s;
}

#define SHOW(v) show(&(struct shown){ 0 }, (v), strlen(v))

static const char *const level_names[] = { "error", "warning", "info", "debug" };

const char *sf_key_name(enum sf_key key) { return sf_keys[key].name; }
const char *sf_log_level_name(enum sf_log_level l) { return level_names[l]; }

/* ---- --help ---------------------------------------------------------------------------------- */

/* {min}, {max}, {default} of k at p: prints the value and returns the length of the placeholder,
 * or 0 when there is none at p */
static size_t placeholder(FILE *out, const char *p, const struct sf_key_desc *k)
{
	if (!strncmp(p, "{min}", 5)) {
		fprintf(out, "%lu", k->min);
		return 5;
	}
	if (!strncmp(p, "{max}", 5)) {
		fprintf(out, "%lu", k->max);
		return 5;
	}
	if (!strncmp(p, "{default}", 9)) {
		fputs(k->def ? k->def : "", out);
		return 9;
	}
	return 0;
}

void sf_help_lines(FILE *out, const char *text, const struct sf_key_desc *k)
{
	fputs("        ", out);
	for (const char *p = text; *p; p++) {
		size_t n = k && *p == '{' ? placeholder(out, p, k) : 0;

		if (n) {
			p += n - 1;
			continue;
		}
		fputc(*p, out);
		if (*p == '\n')
			fputs("        ", out);
	}
	fputc('\n', out);
}

void sf_key_help(FILE *out, enum sf_key key)
{
	const struct sf_key_desc *k = &sf_keys[key];
	/* a bool's flag that changes the default comes first: "--no-reattach, --reattach" */
	bool on = k->type == SF_T_BOOL && k->def && !strcmp(k->def, "yes");

	fputs("    ", out);
	if (k->type == SF_T_BOOL)
		fprintf(out, "--%s%s, --%s%s  (config: %s = %s)\n", on ? "no-" : "", k->flag,
			on ? "" : "no-", k->flag, k->name, on ? "no|yes" : "yes|no");
	else if (!k->flag)
		fprintf(out, "%s  (config: %s = %s)\n", k->arg, k->name, k->conf_arg);
	else {
		if (k->short_opt)
			fprintf(out, "-%c, ", k->short_opt);
		fprintf(out, "--%s %s  (config: %s%s%s)\n", k->flag, k->arg, k->name,
			k->conf_arg ? " = " : "", k->conf_arg ? k->conf_arg : "");
	}
	sf_help_lines(out, k->help, k);
}

/* ---- values ---------------------------------------------------------------------------------- */

void sf_settings_defaults(struct sf_settings *s)
{
	memset(s, 0, sizeof(*s));
	/* the defaults are values like any other: parsed, so they cannot be out of range */
	for (int k = 0; k < SF_KEY_MAX; k++)
		if (sf_keys[k].def)
			sf_settings_set(s, (enum sf_key)k, sf_keys[k].def, false, NULL, 0);
	s->set = 0;
}

static void *field(struct sf_settings *s, const struct sf_key_desc *k)
{
	return (char *)s + k->off;
}

static int parse_bool(const char *v, void *field)
{
	bool *out = field;
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < SF_ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_mode(const char *v, void *field)
{
	return sf_mode_req_parse(v, field);
}

static int parse_level(const char *v, void *field)
{
	enum sf_log_level *l = field;

	for (size_t i = 0; i < SF_ARRAY_SIZE(level_names); i++) {
		if (!strcasecmp(v, level_names[i]) || (i == SF_LOG_WARNING && !strcasecmp(v, "warn"))) {
			*l = (enum sf_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const engage_names[] = { [SF_ENGAGE_ALWAYS] = "always", [SF_ENGAGE_AUTO] = "auto" };

const char *sf_engage_name(enum sf_engage e)
{
	return (unsigned int)e < SF_ARRAY_SIZE(engage_names) ? engage_names[e] : "?";
}

static int parse_engage(const char *v, void *field)
{
	enum sf_engage *e = field;

	for (size_t i = 0; i < SF_ARRAY_SIZE(engage_names); i++) {
		if (!strcasecmp(v, engage_names[i])) {
			*e = (enum sf_engage)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* the types whose value is one word of a few */
static const struct {
	int (*parse)(const char *v, void *field);
	const char *what, *expected;
} words[] = {
	[SF_T_MODE] = { parse_mode, "mode", "native, generic or auto" },
	[SF_T_LOG_LEVEL] = { parse_level, "log level", "error, warning, info or debug" },
	[SF_T_BOOL] = { parse_bool, "value", "yes or no" },
	[SF_T_ENGAGE] = { parse_engage, "engage", "always or auto" },
};

static bool ifname_ok(const char *n, size_t len)
{
	if (len == 0 || len >= IF_NAMESIZE || (len == 1 && n[0] == '.') ||
	    (len == 2 && n[0] == '.' && n[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (n[i] == '/' || n[i] == ':' || (unsigned char)n[i] <= ' ' || n[i] == 0x7f)
			return false;
	return true;
}

/* one name of a list, p[0..len) */
static int add_iface(struct sf_settings *s, const char *p, size_t len, char *err, size_t errlen)
{
	if (!ifname_ok(p, len))
		return sf_einval(err, errlen, "bad interface name \"%s\"", show(&(struct shown){ 0 }, p, len));
	for (int i = 0; i < s->n_ifs; i++)
		if (strlen(s->ifs[i]) == len && !strncmp(s->ifs[i], p, len))
			return sf_einval(err, errlen, "interface %s given twice",
					 show(&(struct shown){ 0 }, p, len));
	if (s->n_ifs >= SF_MAX_RUN_IFACES)
		return sf_einval(err, errlen, "too many interfaces (at most %d)", SF_MAX_RUN_IFACES);
	memcpy(s->ifs[s->n_ifs], p, len);
	s->ifs[s->n_ifs][len] = '\0';
	s->n_ifs++;
	return 0;
}

/* interfaces: names separated by blanks or commas */
static int set_ifaces(struct sf_settings *s, const struct sf_key_desc *k, const char *v, bool append,
		      char *err, size_t errlen)
{
	const char *p = v;
	int ret;

	(void)k;
	if (!append)
		s->n_ifs = 0;
	for (;;) {
		size_t len;

		p += strspn(p, " \t,");
		if (!*p)
			break;
		len = strcspn(p, " \t,");
		ret = add_iface(s, p, len, err, errlen);
		if (ret)
			return ret;
		p += len;
	}
	if (!s->n_ifs)
		return sf_einval(err, errlen, "no interface given");
	return 0;
}

static int set_ports(struct sf_settings *s, const struct sf_key_desc *k, const char *v, bool append,
		     char *err, size_t errlen)
{
	__u64 bitmap[SF_PORT_WORDS], *ports = field(s, k);
	int ret = sf_parse_ports(v, bitmap, err, errlen);

	if (ret)
		return ret;
	if (!sf_count_ports(bitmap))
		return sf_einval(err, errlen, "no port given");
	if (!append)
		memset(ports, 0, k->size);
	for (int w = 0; w < SF_PORT_WORDS; w++)
		ports[w] |= bitmap[w];
	return 0;
}

static int set_uint(struct sf_settings *s, const struct sf_key_desc *k, const char *v, bool append,
		       char *err, size_t errlen)
{
	(void)append;
	if (sf_parse_uint(v, k->min, k->max, field(s, k)))
		return sf_einval(err, errlen, "bad %s \"%s\": expected %s, %lu-%lu", k->what, SHOW(v),
				 k->type == SF_T_NUMBER ? "a number" : k->type == SF_T_RATE ? "SYNs per second" : "seconds",
				 k->min, k->max);
	return 0;
}

static int set_path(struct sf_settings *s, const struct sf_key_desc *k, const char *v, bool append,
		    char *err, size_t errlen)
{
	(void)append;
	if (!*v)
		return sf_einval(err, errlen, "%s needs a path", k->what);
	if (v[0] != '/')
		return sf_einval(err, errlen, "%s \"%s\" is not an absolute path", k->what, SHOW(v));
	/* room for the pin names under it */
	if (strlen(v) >= k->size - 64)
		return sf_einval(err, errlen, "%s is too long", k->what);
	snprintf(field(s, k), k->size, "%s", v);
	return 0;
}

static int set_word(struct sf_settings *s, const struct sf_key_desc *k, const char *v, bool append,
		    char *err, size_t errlen)
{
	(void)append;
	if (words[k->type].parse(v, field(s, k)))
		return sf_einval(err, errlen, "bad %s \"%s\": expected %s", words[k->type].what, SHOW(v),
				 words[k->type].expected);
	return 0;
}

static int set_listen(struct sf_settings *s, const struct sf_key_desc *k, const char *v, bool append,
		      char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	char why[128];

	(void)append;
	if (sf_metrics_parse(v, &sa, &salen, why, sizeof(why)))
		return sf_einval(err, errlen, "bad address \"%s\": %s", SHOW(v), why);
	if (strlen(v) >= k->size)
		return sf_einval(err, errlen, "bad address \"%s\": too long", SHOW(v));
	snprintf(field(s, k), k->size, "%s", v);
	return 0;
}

typedef int set_fn(struct sf_settings *s, const struct sf_key_desc *k, const char *v, bool append,
		   char *err, size_t errlen);

static set_fn *const setters[] = {
	[SF_T_IFACES] = set_ifaces,   [SF_T_PORTS] = set_ports, [SF_T_MODE] = set_word,
	[SF_T_SECONDS] = set_uint, [SF_T_PATH] = set_path,   [SF_T_LOG_LEVEL] = set_word,
	[SF_T_BOOL] = set_word,       [SF_T_LISTEN] = set_listen,
	[SF_T_NUMBER] = set_uint,
	[SF_T_ENGAGE] = set_word,     [SF_T_RATE] = set_uint,
};

int sf_settings_set(struct sf_settings *s, enum sf_key key, const char *v, bool append, char *err,
		    size_t errlen)
{
	int ret;

	if ((unsigned int)key >= SF_KEY_MAX)
		return sf_einval(err, errlen, "unknown key");
	ret = setters[sf_keys[key].type](s, &sf_keys[key], v, append, err, errlen);
	if (!ret)
		s->set |= 1u << key;
	return ret;
}

static bool same_value(const struct sf_settings *a, const struct sf_settings *b, const struct sf_key_desc *k)
{
	const char *fa = (const char *)a + k->off, *fb = (const char *)b + k->off;

	switch (k->type) {
	case SF_T_IFACES:
		/* the names in use only: a shorter list leaves old bytes behind */
		if (a->n_ifs != b->n_ifs)
			return false;
		for (int i = 0; i < a->n_ifs; i++)
			if (strcmp(a->ifs[i], b->ifs[i]))
				return false;
		return true;
	case SF_T_PATH:
	case SF_T_LISTEN:
		return !strcmp(fa, fb);
	default:
		return !memcmp(fa, fb, k->size);
	}
}

unsigned int sf_settings_diff(const struct sf_settings *a, const struct sf_settings *b)
{
	unsigned int diff = 0;

	for (int k = 0; k < SF_KEY_MAX; k++)
		if (!same_value(a, b, &sf_keys[k]))
			diff |= 1u << k;
	return diff;
}

unsigned int sf_settings_apply_reloadable(struct sf_settings *live, const struct sf_settings *next)
{
	unsigned int changed = 0;

	for (int k = 0; k < SF_KEY_MAX; k++) {
		const struct sf_key_desc *d = &sf_keys[k];

		if (!d->reload)
			continue;
		if (!same_value(live, next, d))
			changed |= 1u << k;
		memcpy((char *)live + d->off, (const char *)next + d->off, d->size);
	}
	return changed;
}

/* ---- the config file ------------------------------------------------------------------------ */

struct parse_ctx {
	FILE *f;
	const char *path;
	int line;             /* line being parsed */
	bool continuation;    /* inih hands this line over as more of the last key's value */
	bool have_prev;       /* a key was seen since the start or the last [section] (inih's prev_name) */
	int too_long;         /* a line longer than this was found (0: none) */
	bool nul;             /* the line has a NUL byte */
	int section_line;     /* line of the last [section] header */
	struct sf_settings *s;
	int err_line;         /* line of the first error our handler reported (0: none) */
	char *err;
	size_t errlen;
};

/* fgets, but byte by byte: a NUL byte would hide the rest of its line from libinih (and from a
 * strlen-based length check, so that the tail of a long line was parsed as a line of its own) */
static char *reader(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	size_t len = 0;
	const char *p;
	int ch;

	while (len < (size_t)num - 1 && (ch = getc(c->f)) != EOF) {
		str[len++] = (char)ch;
		if (ch == '\0')
			c->nul = true;
		if (ch == '\n')
			break;
	}
	if (!len)
		return NULL;
	str[len] = '\0';
	c->line++;
	if (c->nul)
		return NULL; /* stops the parse; reported by sf_conf_load */
	/* libinih's line buffer is fixed (200 bytes in Debian's build): longer lines are an error, not
	 * silently cut */
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(c->f)) {
		c->too_long = num - 2;
		return NULL; /* stops the parse; reported by sf_conf_load */
	}
	/* libinih's own rule: an indented line continues the last key only when there is one since
	 * the start or the last [section] (otherwise it is an ordinary line); it skips a UTF-8 BOM on
	 * line 1 and isspace() characters, not just blanks */
	p = str;
	if (c->line == 1 && !strncmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (isspace((unsigned char)*p))
		p++;
	c->continuation = p > str && c->have_prev && *p;
	if (!c->continuation && *p == '[') {
		c->section_line = c->line;
		c->have_prev = false;
	}
	return str;
}

static int edit_distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b), d[32][32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (int i = 0; i <= la; i++)
		d[i][0] = i;
	for (int j = 0; j <= lb; j++)
		d[0][j] = j;
	for (int i = 1; i <= la; i++) {
		for (int j = 1; j <= lb; j++) {
			int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]), del = d[i - 1][j] + 1,
			    ins = d[i][j - 1] + 1;

			d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	}
	return d[la][lb];
}

/* a key whose value may go on over indented lines */
static bool is_list(int key)
{
	return sf_keys[key].type == SF_T_IFACES || sf_keys[key].type == SF_T_PORTS;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	char msg[512], list[256];
	int key = -1;

	c->have_prev = true;

	if (*section && strcmp(section, "synfence")) {
		snprintf(c->err, c->errlen, "%s:%d: unknown section [%s] (keys go at the top of the file "
			 "or under [synfence])", c->path, c->section_line, SHOW(section));
		goto bad;
	}
	for (int k = 0; k < SF_KEY_MAX; k++)
		if (!strcmp(name, sf_keys[k].name))
			key = k;
	if (key < 0) {
		const char *best = NULL;
		int bd = 3;

		for (int k = 0; k < SF_KEY_MAX; k++) {
			int d = edit_distance(name, sf_keys[k].name);

			if (d < bd) {
				bd = d;
				best = sf_keys[k].name;
			}
		}
		if (best)
			snprintf(c->err, c->errlen, "%s:%d: unknown key '%s' (did you mean '%s'?)", c->path,
				 c->line, SHOW(name), best);
		else
			snprintf(c->err, c->errlen, "%s:%d: unknown key '%s'", c->path, c->line, SHOW(name));
		goto bad;
	}
	if (!c->continuation && (c->s->set & (1u << key))) {
		snprintf(c->err, c->errlen, "%s:%d: key '%s' given twice (first on line %d)", c->path,
			 c->line, name, c->s->line[key]);
		goto bad;
	}
	if (c->continuation && !is_list(key)) {
		snprintf(c->err, c->errlen, "%s:%d: %s: a value on more than one line (only interfaces and "
			 "ports may continue on indented lines)", c->path, c->line, name);
		goto bad;
	}
	if (is_list(key)) {
		/* a list over several lines: "80,\n  443" and "80\n  ,443" are fine */
		size_t len;

		snprintf(list, sizeof(list), "%s", value + strspn(value, ", \t"));
		len = strlen(list);
		while (len && strchr(", \t", list[len - 1]))
			list[--len] = '\0';
		value = list;
	}
	if (!*value) {
		snprintf(c->err, c->errlen, "%s:%d: %s: empty value", c->path, c->line, name);
		goto bad;
	}
	if (sf_settings_set(c->s, (enum sf_key)key, value, c->continuation, msg, sizeof(msg))) {
		snprintf(c->err, c->errlen, "%s:%d: %s: %s", c->path, c->line, name, msg);
		goto bad;
	}
	if (!c->continuation)
		c->s->line[key] = c->line;
	return 1;
bad:
	c->err_line = c->line;
	return 0;
}

int sf_conf_load(const char *path, struct sf_settings *s, char *err, size_t errlen)
{
	struct parse_ctx c = { .path = path, .s = s, .err = err, .errlen = errlen };
	struct stat st;
	int ret, r, fd;

	memset(s, 0, sizeof(*s));
	sf_settings_defaults(s);
	s->set = 0;
	if (err && errlen)
		err[0] = '\0';
	/* O_NONBLOCK: a FIFO must not hang us before the regular-file check */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "config file %s: %s", path, strerror(-ret));
		goto out;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "config file %s: not a regular file", path);
		goto out;
	}
	c.f = fdopen(fd, "r");
	if (!c.f) {
		ret = -errno;
		snprintf(err, errlen, "config file %s: %s", path, strerror(-ret));
		goto out;
	}
	fd = -1;
	/* Debian's libinih makes these run-time settings */
	ini_stop_on_first_error = true;
	ini_allow_multiline = true;
	ini_inline_comment_prefixes = (char *)";#";

	r = ini_parse_stream(reader, &c, handler, &c);
	ret = 0;
	if (c.nul) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s:%d: NUL byte (not a text file?)", path, c.line);
	} else if (c.too_long) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s:%d: line longer than %d characters (a long list of ports or "
			 "interfaces can go on over indented lines)", path, c.line, c.too_long);
	} else if (r == -2) {
		ret = -ENOMEM;
		snprintf(err, errlen, "config file %s: %s", path, strerror(ENOMEM));
	} else if (r > 0 && r != c.err_line) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s:%d: syntax error: expected 'key = value', '[synfence]' or a "
			 "comment", path, r);
	} else if (r != 0 || c.err_line) {
		ret = -EINVAL; /* the handler's message is in err */
	} else if (ferror(c.f)) {
		ret = -EIO;
		snprintf(err, errlen, "config file %s: read error", path);
	}
out:
	if (c.f)
		fclose(c.f);
	if (fd >= 0)
		close(fd);
	return ret;
}

void sf_settings_merge(struct sf_settings *out, const struct sf_settings *file,
		       const struct sf_settings *cli)
{
	struct sf_settings def;

	sf_settings_defaults(&def);
	*out = def;
	out->set = 0;
	for (int k = 0; k < SF_KEY_MAX; k++) {
		const struct sf_settings *src = &def;

		if (cli && (cli->set & (1u << k)))
			src = cli;
		else if (file && (file->set & (1u << k)))
			src = file;
		out->set |= src->set & (1u << k);
		out->line[k] = src == file ? file->line[k] : 0;
		memcpy((char *)out + sf_keys[k].off, (const char *)src + sf_keys[k].off, sf_keys[k].size);
	}
}

/* allow_file and deny_file, when given, are read and every line checked (FILE:LINE: problem). */
static int sf_list_files_check(const struct sf_settings *s, char *err, size_t errlen)
{
	const char *files[] = { s->allow_file, s->deny_file };

	for (size_t i = 0; i < SF_ARRAY_SIZE(files); i++) {
		struct sf_list_key *keys;
		size_t n;
		int ret;

		if (!files[i][0])
			continue;
		if ((ret = sf_list_file_read(files[i], &keys, &n, err, errlen)))
			return ret;
		free(keys);
	}
	return 0;
}

int sf_settings_check(const struct sf_settings *s, char *err, size_t errlen)
{
	if (!s->n_ifs)
		return sf_einval(err, errlen, "no interface given (IFACE arguments or 'interfaces' in the "
			    "config file)");
	if (!sf_count_ports(s->ports))
		return sf_einval(err, errlen, "no port to protect given (--ports or 'ports' in the config file)");
	return sf_list_files_check(s, err, errlen);
}

int sf_settings_resolve(const char *config, bool config_given, const struct sf_settings *cli,
			struct sf_settings *out, bool *config_used, char *err, size_t errlen)
{
	struct sf_settings *file = malloc(sizeof(*file));
	int ret = 0;

	if (config_used)
		*config_used = false;
	if (!file) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	sf_settings_defaults(file);
	file->set = 0;
	if (config_given || access(config, F_OK) == 0) {
		ret = sf_conf_load(config, file, err, errlen);
		if (ret)
			goto out;
		if (config_used)
			*config_used = true;
	}
	sf_settings_merge(out, file, cli);
out:
	free(file);
	return ret;
}

int sf_conf_pin_dir(const char *config, const char *cli_pin_dir, char *out, size_t len, char *err,
		    size_t errlen)
{
	struct sf_settings *cli = calloc(1, sizeof(*cli)), *set = calloc(1, sizeof(*set));
	int ret = -ENOMEM;

	if (!cli || !set) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	sf_settings_defaults(cli);
	cli->set = 0;
	if (cli_pin_dir) {
		char msg[256];

		ret = sf_settings_set(cli, SF_KEY_PIN_DIR, cli_pin_dir, false, msg, sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "--%s: %s", sf_keys[SF_KEY_PIN_DIR].flag, msg);
			goto out;
		}
	}
	ret = sf_settings_resolve(config ? config : SF_DEFAULT_CONFIG, config != NULL, cli, set, NULL,
				  err, errlen);
	if (!ret && snprintf(out, len, "%s", set->pin_dir) >= (int)len) {
		ret = -ENAMETOOLONG;
		snprintf(err, errlen, "pin dir %s: %s", set->pin_dir, strerror(ENAMETOOLONG));
	}
out:
	free(cli);
	free(set);
	return ret;
}
