/* conf/settings.h - the settings of `synfence run`: defaults, the config file (INI, parsed with libinih) and
 * the command-line flags that override it, all from one key table (sf_keys in settings.c); every
 * config key has a flag (interfaces: the IFACE arguments). */
#ifndef SF_CONF_H
#define SF_CONF_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "lib/xdp_mode.h"
#include "synfence.h"

#define SF_DEFAULT_CONFIG          "/etc/synfence/synfence.conf"
#define SF_DEFAULT_ROTATE          60
#define SF_DEFAULT_ENGAGE_RATE     1000 /* SYNs/s: see the engage_rate key */
#define SF_MAX_ROTATE              (7 * 24 * 3600)
#define SF_DEFAULT_SYSCTL_INTERVAL 5
#define SF_MAX_SYSCTL_INTERVAL     3600
#define SF_MAX_RUN_IFACES          (SF_MAX_IFACES - 1)
#define SF_MAX_SOURCE_SYN_RATE     10000000
#define SF_MAX_SOURCE_SYN_BURST    1000000
#define SF_DEFAULT_SOURCE_SYN_BURST 40

enum sf_log_level {
	SF_LOG_ERROR,
	SF_LOG_WARNING,
	SF_LOG_INFO,
	SF_LOG_DEBUG,
};

/* One per config key, in the order of the documentation. */
enum sf_key {
	SF_KEY_INTERFACES,
	SF_KEY_PORTS,
	SF_KEY_MODE,
	SF_KEY_ROTATE,
	SF_KEY_SECRET_FILE,
	SF_KEY_PIN_DIR,
	SF_KEY_LOG_LEVEL,
	SF_KEY_SYSCTL_CHANGES,
	SF_KEY_SYSCTL_INTERVAL,
	SF_KEY_REATTACH,
	SF_KEY_KEEP_ATTACHED,
	SF_KEY_METRICS,
	SF_KEY_MONITOR,
	SF_KEY_ALLOW_FILE,
	SF_KEY_DENY_FILE,
	/* per-source SYN limits (bpf/limit.h) */
	SF_KEY_SOURCE_SYN_RATE,
	SF_KEY_SOURCE_SYN_BURST,
	SF_KEY_SOURCE_PREFIX4,
	SF_KEY_SOURCE_PREFIX6,
	SF_KEY_ENGAGE,
	SF_KEY_ENGAGE_RATE,
	SF_KEY_ENGAGE_HOLD,
	SF_KEY_MAX,
};

/* engage: when synfence answers SYNs (attack mode, daemon/engage.c). */
enum sf_engage {
	SF_ENGAGE_ALWAYS = 0, /* every SYN to a protected port, always (the default) */
	SF_ENGAGE_AUTO,       /* only while an interface's SYN rate is above engage_rate */
};

/* "always" or "auto" */
const char *sf_engage_name(enum sf_engage e);

struct sf_settings {
	unsigned int set;      /* bit (1 << enum sf_key) per key given in this source */
	int line[SF_KEY_MAX];  /* config file line of each key (0: not from the file) */
	int n_ifs;
	char ifs[SF_MAX_RUN_IFACES][IF_NAMESIZE];
	__u64 ports[SF_PORT_WORDS];
	enum sf_mode_req mode;
	unsigned long rotate;
	char secret_file[PATH_MAX]; /* "" : random secrets */
	char pin_dir[PATH_MAX];
	enum sf_log_level log_level;
	bool sysctl_changes;
	unsigned long sysctl_interval;
	bool reattach;
	bool keep_attached;
	char metrics[sizeof(((struct sf_state *)0)->metrics)]; /* ADDR:PORT, "" : off */
	bool monitor;          /* count what synfence would do, pass every packet */
	char allow_file[PATH_MAX]; /* "" : none (the allow list's file entries) */
	char deny_file[PATH_MAX];  /* "" : none */
	/* per-source SYN limits */
	unsigned long source_syn_rate;  /* SYNs per second per source prefix, 0: off */
	unsigned long source_syn_burst; /* SYNs at once above the rate */
	unsigned long source_prefix4;   /* IPv4 prefix length a rate is counted per */
	unsigned long source_prefix6;   /* IPv6 prefix length */
	enum sf_engage engage; /* always: answer every SYN; auto: only under attack (daemon/engage.c) */
	unsigned long engage_rate; /* auto: engage above this many SYNs/s to an interface's ports */
	unsigned long engage_hold; /* auto: disengage after this many seconds below 3/4 of it */
};

/* How a key's value is parsed, compared and shown as a flag. */
enum sf_key_type {
	SF_T_IFACES,    /* interface names, blank- or comma-separated (a list: may continue, append) */
	SF_T_PORTS,     /* ports and ranges (a list) */
	SF_T_MODE,      /* enum sf_mode_req */
	SF_T_SECONDS,   /* unsigned long, min..max */
	SF_T_PATH,      /* an absolute path, with room for the pin names under it */
	SF_T_LOG_LEVEL, /* enum sf_log_level */
	SF_T_BOOL,      /* yes|no; flags --FLAG and --no-FLAG */
	SF_T_LISTEN,    /* ADDR:PORT (conf/listen_addr.h) */
	SF_T_NUMBER,    /* unsigned long, min..max (not seconds) */
	SF_T_ENGAGE,    /* enum sf_engage */
	SF_T_RATE,      /* unsigned long, min..max, per second */
};

/* One config key, written once: its flag, value, default, --help text and whether SIGHUP applies
 * it. The table drives run's getopt and --help (cmd/run.c), the config file, merge and reload. */
struct sf_key_desc {
	const char *name;     /* in the config file: "secret_file" */
	const char *flag;     /* long option without "--" (NULL: the IFACE arguments) */
	char short_opt;       /* 0: none */
	const char *arg;      /* the value as --help shows it after the flag ("LIST") */
	const char *conf_arg; /* "(config: key = CONF_ARG)" in --help; NULL: "(config: key)" */
	enum sf_key_type type;
	size_t off, size;     /* the field in struct sf_settings */
	unsigned long min, max; /* SF_T_SECONDS, SF_T_NUMBER: the range; SF_T_IFACES: max is the most names */
	const char *def;      /* default, parsed as a value (NULL: empty) */
	const char *what;     /* the value in messages ("rotation period") */
	const char *help;     /* --help text, '\n' between lines; {min} {max} {default} are replaced */
	bool reload;          /* SIGHUP applies it (else it changes only with a restart) */
};

extern const struct sf_key_desc sf_keys[SF_KEY_MAX];

/* The name of a key as written in the config file ("secret_file"). */
const char *sf_key_name(enum sf_key key);

/* run --help for one key: "    --flag ARG  (config: key)" and its indented help lines. */
void sf_key_help(FILE *out, enum sf_key key);
/* Help text lines ('\n'-separated), each indented by 8; with k, {min} {max} {default} replaced. */
void sf_help_lines(FILE *out, const char *text, const struct sf_key_desc *k);

void sf_settings_defaults(struct sf_settings *s);

/* Parse VALUE for KEY into s and mark the key set. append: add to the list keys (interfaces,
 * ports) instead of replacing them. Returns 0, or -EINVAL with a message (without the key's name)
 * in err. */
int sf_settings_set(struct sf_settings *s, enum sf_key key, const char *value, bool append,
		    char *err, size_t errlen);

/* Load a config file into s (cleared first): only the keys the file gives are marked set.
 * Returns 0, or -errno with "FILE:LINE: key: problem" (or "FILE: problem") in err. */
int sf_conf_load(const char *path, struct sf_settings *s, char *err, size_t errlen);

/* out = defaults, overridden by the keys file sets, overridden by the keys cli sets. */
void sf_settings_merge(struct sf_settings *out, const struct sf_settings *file,
		       const struct sf_settings *cli);

/* The checks that need the merged settings (an interface and ports are given, ...). Returns 0 or
 * -EINVAL with a message in err. */
int sf_settings_check(const struct sf_settings *s, char *err, size_t errlen);

/* Load CONFIG (when it exists; it must when config_given) and merge it with cli (not checked: see
 * sf_settings_check). On error err holds a one-line message and the result is -errno. */
int sf_settings_resolve(const char *config, bool config_given, const struct sf_settings *cli,
			struct sf_settings *out, bool *config_used, char *err, size_t errlen);

/* For the other commands (stats, status, detach): the pin dir, from --pin-dir (cli_pin_dir, NULL
 * when not given), else the config file's pin_dir (config: the --config FILE or NULL for the default
 * file, read when it exists), else the default. Returns 0, or -errno with "FILE:LINE: ..." in err. */
int sf_conf_pin_dir(const char *config, const char *cli_pin_dir, char *out, size_t len, char *err,
		    size_t errlen);

/* The keys (bit 1 << key) whose values differ between a and b. */
unsigned int sf_settings_diff(const struct sf_settings *a, const struct sf_settings *b);

/* SIGHUP: copy from next to live the value of every key sf_keys marks reloadable (today all but
 * pin_dir and metrics, which change only with a restart; tests/fuzz/fuzz_conf.c holds this);
 * live's set bits and lines stay. Returns the reloadable keys whose value changed (bit 1 << key). */
unsigned int sf_settings_apply_reloadable(struct sf_settings *live, const struct sf_settings *next);

/* Log level name ("info"). */
const char *sf_log_level_name(enum sf_log_level l);

#endif
