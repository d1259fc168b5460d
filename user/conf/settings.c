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
#include "conf/ports.h"
#include "lib/util.h"


static const struct {
	const char *name, *flag;
} keys[SF_KEY_MAX] = {
	[SF_KEY_INTERFACES]      = { "interfaces", "IFACE arguments" },
	[SF_KEY_PORTS]           = { "ports", "--ports" },
	[SF_KEY_MODE]            = { "mode", "--mode" },
	[SF_KEY_ROTATE]          = { "rotate", "--rotate" },
	[SF_KEY_SECRET_FILE]     = { "secret_file", "--secret-file" },
	[SF_KEY_PIN_DIR]         = { "pin_dir", "--pin-dir" },
	[SF_KEY_LOG_LEVEL]       = { "log_level", "--log-level" },
	[SF_KEY_SYSCTL_CHANGES]  = { "sysctl_changes", "--no-sysctl-changes" },
	[SF_KEY_SYSCTL_INTERVAL] = { "sysctl_interval", "--sysctl-interval" },
	[SF_KEY_REATTACH]        = { "reattach", "--no-reattach" },
	[SF_KEY_KEEP_ATTACHED]   = { "keep_attached", "--keep-attached" },
	[SF_KEY_METRICS]         = { "metrics", "--metrics" },
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

const char *sf_key_name(enum sf_key key) { return keys[key].name; }
const char *sf_key_flag(enum sf_key key) { return keys[key].flag; }
const char *sf_log_level_name(enum sf_log_level l) { return level_names[l]; }

void sf_settings_defaults(struct sf_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->mode = SF_MODE_AUTO;
	s->rotate = SF_DEFAULT_ROTATE;
	snprintf(s->pin_dir, sizeof(s->pin_dir), "%s", SF_DEFAULT_PIN_DIR);
	s->log_level = SF_LOG_INFO;
	s->sysctl_changes = true;
	s->sysctl_interval = SF_DEFAULT_SYSCTL_INTERVAL;
	s->reattach = true;
}

static int parse_bool(const char *v, bool *out)
{
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

/* interfaces: names separated by blanks or commas */
static int set_ifaces(struct sf_settings *s, const char *v, bool append, char *err, size_t errlen)
{
	const char *p = v;

	if (!append)
		s->n_ifs = 0;
	for (;;) {
		size_t len;

		p += strspn(p, " \t,");
		if (!*p)
			break;
		len = strcspn(p, " \t,");
		if (!ifname_ok(p, len))
			return sf_einval(err, errlen, "bad interface name \"%s\"",
					 show(&(struct shown){ 0 }, p, len));
		for (int i = 0; i < s->n_ifs; i++)
			if (strlen(s->ifs[i]) == len && !strncmp(s->ifs[i], p, len))
				return sf_einval(err, errlen, "interface %s given twice",
						 show(&(struct shown){ 0 }, p, len));
		if (s->n_ifs >= SF_MAX_RUN_IFACES)
			return sf_einval(err, errlen, "too many interfaces (at most %d)", SF_MAX_RUN_IFACES);
		memcpy(s->ifs[s->n_ifs], p, len);
		s->ifs[s->n_ifs][len] = '\0';
		s->n_ifs++;
		p += len;
	}
	if (!s->n_ifs)
		return sf_einval(err, errlen, "no interface given");
	return 0;
}

static int set_path(char *dst, size_t len, const char *v, const char *what, char *err, size_t errlen)
{
	if (!*v)
		return sf_einval(err, errlen, "%s needs a path", what);
	if (v[0] != '/')
		return sf_einval(err, errlen, "%s \"%s\" is not an absolute path", what, SHOW(v));
	/* room for the pin names under it */
	if (strlen(v) >= len - 64)
		return sf_einval(err, errlen, "%s is too long", what);
	snprintf(dst, len, "%s", v);
	return 0;
}

int sf_settings_set(struct sf_settings *s, enum sf_key key, const char *v, bool append, char *err,
		    size_t errlen)
{
	__u64 bitmap[SF_PORT_WORDS];
	unsigned long n;
	int ret = 0;

	switch (key) {
	case SF_KEY_INTERFACES:
		ret = set_ifaces(s, v, append, err, errlen);
		break;
	case SF_KEY_PORTS:
		ret = sf_parse_ports(v, bitmap, err, errlen);
		if (ret)
			break;
		if (!sf_count_ports(bitmap)) {
			ret = sf_einval(err, errlen, "no port given");
			break;
		}
		if (!append)
			memset(s->ports, 0, sizeof(s->ports));
		for (int w = 0; w < SF_PORT_WORDS; w++)
			s->ports[w] |= bitmap[w];
		break;
	case SF_KEY_MODE:
		if (sf_mode_req_parse(v, &s->mode))
			ret = sf_einval(err, errlen, "bad mode \"%s\": expected native, generic or auto",
					SHOW(v));
		break;
	case SF_KEY_ROTATE:
		if (sf_parse_uint(v, 1, SF_MAX_ROTATE, &n))
			ret = sf_einval(err, errlen, "bad rotation period \"%s\": expected seconds, 1-%d",
					SHOW(v), SF_MAX_ROTATE);
		else
			s->rotate = n;
		break;
	case SF_KEY_SECRET_FILE:
		ret = set_path(s->secret_file, sizeof(s->secret_file), v, "secret file", err, errlen);
		break;
	case SF_KEY_PIN_DIR:
		ret = set_path(s->pin_dir, sizeof(s->pin_dir), v, "pin dir", err, errlen);
		break;
	case SF_KEY_LOG_LEVEL:
		ret = sf_einval(err, errlen, "bad log level \"%s\": expected error, warning, info or debug",
				SHOW(v));
		for (size_t i = 0; i < SF_ARRAY_SIZE(level_names); i++) {
			if (!strcasecmp(v, level_names[i]) ||
			    (i == SF_LOG_WARNING && !strcasecmp(v, "warn"))) {
				s->log_level = (enum sf_log_level)i;
				ret = 0;
			}
		}
		break;
	case SF_KEY_SYSCTL_CHANGES:
	case SF_KEY_REATTACH:
	case SF_KEY_KEEP_ATTACHED: {
		bool b;

		if (parse_bool(v, &b)) {
			ret = sf_einval(err, errlen, "bad value \"%s\": expected yes or no", SHOW(v));
			break;
		}
		if (key == SF_KEY_SYSCTL_CHANGES)
			s->sysctl_changes = b;
		else if (key == SF_KEY_REATTACH)
			s->reattach = b;
		else
			s->keep_attached = b;
		break;
	}
	case SF_KEY_SYSCTL_INTERVAL:
		if (sf_parse_uint(v, 1, SF_MAX_SYSCTL_INTERVAL, &n))
			ret = sf_einval(err, errlen, "bad interval \"%s\": expected seconds, 1-%d", SHOW(v),
					SF_MAX_SYSCTL_INTERVAL);
		else
			s->sysctl_interval = n;
		break;
	case SF_KEY_METRICS: {
		struct sockaddr_storage sa;
		socklen_t salen;
		char why[128];

		if (sf_metrics_parse(v, &sa, &salen, why, sizeof(why)))
			ret = sf_einval(err, errlen, "bad address \"%s\": %s", SHOW(v), why);
		else if (strlen(v) >= sizeof(s->metrics))
			ret = sf_einval(err, errlen, "bad address \"%s\": too long", SHOW(v));
		else
			snprintf(s->metrics, sizeof(s->metrics), "%s", v);
		break;
	}
	default:
		ret = sf_einval(err, errlen, "unknown key");
	}
	if (!ret)
		s->set |= 1u << key;
	return ret;
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
		if (!strcmp(name, keys[k].name))
			key = k;
	if (key < 0) {
		const char *best = NULL;
		int bd = 3;

		for (int k = 0; k < SF_KEY_MAX; k++) {
			int d = edit_distance(name, keys[k].name);

			if (d < bd) {
				bd = d;
				best = keys[k].name;
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
	if (c->continuation && key != SF_KEY_INTERFACES && key != SF_KEY_PORTS) {
		snprintf(c->err, c->errlen, "%s:%d: %s: a value on more than one line (only interfaces and "
			 "ports may continue on indented lines)", c->path, c->line, name);
		goto bad;
	}
	if (key == SF_KEY_PORTS || key == SF_KEY_INTERFACES) {
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
		switch ((enum sf_key)k) {
		case SF_KEY_INTERFACES:
			out->n_ifs = src->n_ifs;
			memcpy(out->ifs, src->ifs, sizeof(out->ifs));
			break;
		case SF_KEY_PORTS:
			memcpy(out->ports, src->ports, sizeof(out->ports));
			break;
		case SF_KEY_MODE: out->mode = src->mode; break;
		case SF_KEY_ROTATE: out->rotate = src->rotate; break;
		case SF_KEY_SECRET_FILE:
			memcpy(out->secret_file, src->secret_file, sizeof(out->secret_file));
			break;
		case SF_KEY_PIN_DIR: memcpy(out->pin_dir, src->pin_dir, sizeof(out->pin_dir)); break;
		case SF_KEY_LOG_LEVEL: out->log_level = src->log_level; break;
		case SF_KEY_SYSCTL_CHANGES: out->sysctl_changes = src->sysctl_changes; break;
		case SF_KEY_SYSCTL_INTERVAL: out->sysctl_interval = src->sysctl_interval; break;
		case SF_KEY_REATTACH: out->reattach = src->reattach; break;
		case SF_KEY_KEEP_ATTACHED: out->keep_attached = src->keep_attached; break;
		case SF_KEY_METRICS: memcpy(out->metrics, src->metrics, sizeof(out->metrics)); break;
		case SF_KEY_MAX: break;
		}
	}
}

int sf_settings_check(const struct sf_settings *s, char *err, size_t errlen)
{
	if (!s->n_ifs)
		return sf_einval(err, errlen, "no interface given (IFACE arguments or 'interfaces' in the "
			    "config file)");
	if (!sf_count_ports(s->ports))
		return sf_einval(err, errlen, "no port to protect given (--ports or 'ports' in the config file)");
	return 0;
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
			snprintf(err, errlen, "--pin-dir: %s", msg);
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
