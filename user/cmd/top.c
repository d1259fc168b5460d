/* cmd/top.c - `synfence top`: the top SYN and bad-ACK sources (or ports) of the last interval, estimated from XDP's packet samples (view/top.c). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cmd/cmd.h"
#include "cmd/pindir.h"
#include "conf/settings.h"
#include "lib/log.h"
#include "lib/sample.h"
#include "lib/util.h"
#include "view/render.h"
#include "view/top.h"
#include "view/watch.h"

#define DEFAULT_INTERVAL 2.0
#define MIN_INTERVAL     0.1
#define MAX_INTERVAL     60.0
#define PROBE_S          0.25 /* the counters are read this long to choose the 1-in-N */
#define DEFAULT_RATE     20000
#define DEFAULT_ROWS     20
#define POLL_SLICE_MS    100

static void top_help(FILE *out)
{
	fprintf(out,
		"NAME\n"
		"    synfence top - the top sources and ports of SYNs and bad ACKs, estimated from samples\n"
		"\n"
		"SYNOPSIS\n"
		"    synfence top [-i IFACE] [--by src4|src6|dport] [--prefix4 BITS] [--prefix6 BITS]\n"
		"                 [-n ROWS] [--interval SECONDS] [-w] [--every N] [--rate N]\n"
		"                 [--pin-dir DIR] [--config FILE] [-j] [-p]\n"
		"\n"
		"DESCRIPTION\n"
		"    Switches on the packet sampling of the running synfence for --interval seconds,\n"
		"    reads the samples of SYNs to the protected ports (whatever XDP did with them) and of\n"
		"    ACKs dropped for a bad cookie (ack_bad_hash, ack_bad_epoch, ack_bad_malformed),\n"
		"    adds them up by source prefix or destination port, and shows the busiest keys: SYNs\n"
		"    per second, bad ACKs per second, their sum and its share of the total of all keys.\n"
		"    Sampling is switched off again on the way out (also on Ctrl-C).\n"
		"\n"
		"    The numbers are ESTIMATES: each sample stands for N packets (1 in N is drawn at\n"
		"    random), and when the per-CPU cap (--rate) or a full ring buffer left samples out\n"
		"    (the sample_capped and sample_lost counters), every sample is scaled up by\n"
		"    (taken + capped + lost) / taken. The header says so: the 1 in N, the samples read,\n"
		"    those missed, the scale. top sees only what XDP handles: TCP to the protected ports.\n"
		"\n"
		"    Unless --every is given, top chooses N itself: it reads the counters of what it\n"
		"    samples (syn_recv and ack_cookie_bad, of IFACE or all interfaces) for %gs first and\n"
		"    takes the smallest power of two >= rate / (%g x --rate), as if all the packets\n"
		"    landed on one CPU, so that the random draw, not the cap, thins the samples. The\n"
		"    draw is unbiased; the cap is not: it spaces the samples out and keeps the first\n"
		"    one after a gap, which favours the senders that lead bursts after idle gaps (paced\n"
		"    floods), so the total stays right but the shares do not. With --watch, N is chosen\n"
		"    again for each interval from the rate of the one before (and doubled at least when\n"
		"    more than 1 in 20 samples were missed).\n"
		"\n"
		"    Where the deny list exists (a synfence with lists runs), top prints the command\n"
		"    that would deny each of the top prefixes with >= %.0f%% of the total and >= %.0f/s\n"
		"    (at most %d, none already denied): `synfence deny add PREFIX`. It never runs it.\n"
		"\n"
		"    One process holds sampling at a time (top or capture): another one is refused\n"
		"    with the pid of the holder.\n"
		"\n"
		"OPTIONS\n"
		"    -i, --interface IFACE\n"
		"        Only packets that arrived on IFACE (one synfence protects). Default: all.\n"
		"    --by src4|src6|dport\n"
		"        The key: the IPv4 source cut to --prefix4 bits (default), the IPv6 source\n"
		"        cut to --prefix6 bits, or the destination port (IPv4 and IPv6).\n"
		"    --prefix4 BITS\n"
		"        IPv4 prefix length, 1-32 (default 24).\n"
		"    --prefix6 BITS\n"
		"        IPv6 prefix length, 1-128 (default 48).\n"
		"    -n, --rows ROWS\n"
		"        Show the ROWS busiest keys, 1-10000 (default %d).\n"
		"    --interval SECONDS\n"
		"        Sample for SECONDS, %g-%g (default %g), then print.\n"
		"    -w, --watch\n"
		"        Redraw every --interval like `stats --watch` (in place like top(1) on a\n"
		"        terminal; q or Ctrl-C quits). Not on a terminal, or with -j: one output per\n"
		"        interval (JSON: one document per line).\n"
		"    --every N\n"
		"        Sample 1 in N packets, 1-1000000 (default: chosen from the rate, see above).\n"
		"        An explicit N is kept however fast the packets come: when the cap thins the\n"
		"        samples the total is still scaled right, the shares are less certain.\n"
		"    --rate N\n"
		"        At most N samples a second on each CPU, 1-1000000 (default %d): at most\n"
		"        N samples of %d bytes a second per CPU. Spaced 1/N s apart with a burst of\n"
		"        N/100 + 1. While the cap leaves no sample out, a key's error is only the\n"
		"        sampling's, about 1/sqrt(samples) of its count.\n"
		"    --pin-dir DIR\n"
		"        Where `synfence run` pinned its maps. Default: the config file's pin_dir,\n"
		"        else %s.\n"
		"    --config FILE\n"
		"        Read pin_dir from FILE (default %s, when it exists).\n"
		"    -j, --json      JSON output (errors too): {\"estimate\":true, \"interval_s\", \"by\",\n"
		"                    \"every\", \"every_auto\", \"scale\", \"total\", \"rows\":[{\"key\",\n"
		"                    \"syn_per_s\", \"bad_ack_per_s\", \"per_s\", \"share\"}], \"suggest\":[...],\n"
		"                    ...}\n"
		"    -p, --pretty    indented JSON output\n"
		"\n"
		"EXIT STATUS\n"
		"    0 when the table was shown (or --watch ended with q or Ctrl-C); 1 when synfence\n"
		"    is not running, sampling is held by another process, IFACE is not protected, or\n"
		"    the maps cannot be read; 2 on a command-line or config file error.\n"
		"\n"
		"EXAMPLES\n"
		"    synfence top\n"
		"    synfence top --by dport -n 5\n"
		"    synfence top -i eth0 --by src6 --prefix6 56 --watch\n"
		"    synfence top -j --interval 5 | jq -r '.suggest[]'\n",
		PROBE_S, SF_TOP_EVERY_TARGET, SF_TOP_SUGGEST_SHARE, SF_ATTACK_MIN_RATE, SF_TOP_SUGGEST_MAX,
		DEFAULT_ROWS, MIN_INTERVAL, MAX_INTERVAL, DEFAULT_INTERVAL, DEFAULT_RATE,
		(int)sizeof(struct sf_sample), SF_DEFAULT_PIN_DIR, SF_DEFAULT_CONFIG);
}

enum { OPT_BY = 256, OPT_PREFIX4, OPT_PREFIX6, OPT_INTERVAL, OPT_EVERY, OPT_RATE };

struct top_args {
	struct sf_dir_args d; /* --pin-dir, --config: the pin dir */
	const char *ifname;
	enum sf_top_by by;
	unsigned long prefix4, prefix6, rows, every, rate; /* every 0: chosen from the rate */
	double interval;
	bool watch;
};

/* A number option in [min, max]. */
static int num_opt(const char *name, unsigned long min, unsigned long max, unsigned long *v)
{
	if (sf_parse_uint(optarg, min, max, v))
		return sf_usage_err(&sf_cmd_top, "bad %s '%s': expected %lu-%lu", name, optarg, min, max);
	return SF_EXIT_OK;
}

static int top_opt(int c, struct top_args *a)
{
	switch (c) {
	case SF_OPT_PIN_DIR:
	case SF_OPT_CONFIG: /* top's own wording for an empty value */
		if (!*optarg)
			return sf_usage_err(&sf_cmd_top, "%s needs a value", c == SF_OPT_PIN_DIR ? "--pin-dir" : "--config");
		sf_dir_set(c, &a->d);
		return SF_EXIT_OK;
	case 'i':
		if (!*optarg || strlen(optarg) >= 16)
			return sf_usage_err(&sf_cmd_top, "bad interface name '%s'", optarg);
		a->ifname = optarg;
		return SF_EXIT_OK;
	case OPT_BY:
		if (sf_top_by_parse(optarg, &a->by))
			return sf_usage_err(&sf_cmd_top, "bad --by '%s': expected src4, src6 or dport", optarg);
		return SF_EXIT_OK;
	case OPT_PREFIX4: return num_opt("--prefix4", 1, 32, &a->prefix4);
	case OPT_PREFIX6: return num_opt("--prefix6", 1, 128, &a->prefix6);
	case 'n':         return num_opt("-n", 1, 10000, &a->rows);
	case OPT_EVERY:   return num_opt("--every", 1, 1000000, &a->every);
	case OPT_RATE:    return num_opt("--rate", 1, 1000000, &a->rate);
	case OPT_INTERVAL:
		if (sf_parse_seconds(optarg, MIN_INTERVAL, MAX_INTERVAL, &a->interval))
			return sf_usage_err(&sf_cmd_top, "bad --interval '%s': expected seconds, %g-%g",
					    optarg, MIN_INTERVAL, MAX_INTERVAL);
		return SF_EXIT_OK;
	case 'w':
		a->watch = true;
		return SF_EXIT_OK;
	}
	return sf_usage_err(&sf_cmd_top, "unexpected option");
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct top_args *a)
{
	static const struct option long_opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "by", required_argument, NULL, OPT_BY },
		{ "prefix4", required_argument, NULL, OPT_PREFIX4 },
		{ "prefix6", required_argument, NULL, OPT_PREFIX6 },
		{ "rows", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "watch", no_argument, NULL, 'w' },
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "rate", required_argument, NULL, OPT_RATE },
		SF_DIR_LONGOPTS,
		SF_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	*a = (struct top_args){ .by = SF_TOP_SRC4, .prefix4 = 24, .prefix6 = 48, .rows = DEFAULT_ROWS,
				.rate = DEFAULT_RATE, .interval = DEFAULT_INTERVAL };
	while ((c = sf_getopt(argc, argv, ":" SF_GLOBAL_SHORTOPTS "i:n:w", long_opts, &sf_cmd_top)) >= 0) {
		ret = top_opt(c, a);
		if (ret)
			return ret;
	}
	ret = sf_opts_no_args(&sf_cmd_top, c, argc, argv, NULL);
	if (ret != SF_OPTS_END)
		return ret;
	ret = sf_dir_resolve(&sf_cmd_top, &a->d, SF_DIR_STRICT | SF_DIR_CHECKED);
	return ret ? ret : -1;
}

/* One top session: the maps for the sample_* counters, the sampler, the interval's aggregate. */
struct top_run {
	struct top_args a;
	struct sf_maps maps;
	struct sf_snap *snaps; /* [2]: the interval's start and end, in turn */
	int start;             /* index of the start snapshot */
	__u32 ifindex;         /* -i IFACE, 0: all */
	__u32 every;           /* the 1-in-N sampling runs with (--every, or sf_top_every) */
	struct sf_sampler *sampler;
	struct sf_top top;
	struct sf_top_view view;
	volatile sig_atomic_t stop;
};

/* Read the samples waiting, for up to ms. 0 or -errno (printed); a signal is not an error. */
static int read_samples(void *arg, int ms)
{
	struct top_run *r = arg;
	int ret = sf_sampler_poll(r->sampler, ms, sf_top_add, &r->top);

	if (ret >= 0 || ret == -EINTR)
		return 0;
	sf_err("cannot read the samples: %s", strerror(-ret));
	return ret;
}

/* --watch without --every: the next interval's 1-in-N from this one's rate, and at least twice this
 * one's when the cap or the ring left out more than 1 in 20 samples. */
static int repick_every(struct top_run *r, double rate)
{
	__u32 every = sf_top_every(rate, (__u32)r->a.rate);
	const __u64 taken = r->view.taken, missed = r->view.missed;
	int err;

	if (missed * 20 > taken + missed && every <= r->every)
		every = r->every < SF_TOP_EVERY_MAX / 2 ? r->every * 2 : SF_TOP_EVERY_MAX;
	if (every == r->every)
		return 0;
	err = sf_sampler_set_every(r->sampler, (const __u32[SF_VC_MAX]){ every, every, every });
	if (err) {
		sf_err("cannot change the sampling: %s", strerror(-err));
		return err;
	}
	r->every = r->view.every = every;
	return 0;
}

/* The interval ends: the samples still waiting, the counters, the table; the next one begins. */
static int show_interval(FILE *out, void *arg)
{
	struct top_run *r = arg;
	struct sf_snap *a = &r->snaps[r->start], *b = &r->snaps[!r->start];
	int err = read_samples(r, 0);

	if (!err)
		err = sf_snap_read(&r->maps, b, false);
	if (err)
		return err;
	r->view.interval_s = sf_snap_interval(a, b);
	r->view.scale = sf_top_scale(a, b, r->ifindex, &r->view.taken, &r->view.missed);
	err = sf_top_render(out, &r->top, &r->view);
	sf_top_reset(&r->top);
	r->start = !r->start;
	if (!err && r->a.watch && !r->a.every)
		err = repick_every(r, sf_top_rate(a, b, r->ifindex));
	return err;
}

/* One interval, then the table (Ctrl-C ends the interval early: the table covers what was read). */
static int top_once(struct top_run *r)
{
	struct timespec t0, now;
	double left;
	int err = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = r->a.interval - (now.tv_sec - t0.tv_sec) - (now.tv_nsec - t0.tv_nsec) / 1e9;
		if (left <= 0 || r->stop)
			break;
		err = read_samples(r, left * 1000 < POLL_SLICE_MS ? (int)(left * 1000) + 1 : POLL_SLICE_MS);
		if (err)
			return err;
	}
	err = show_interval(stdout, r);
	if (!err && (fflush(stdout) || ferror(stdout)))
		err = -EPIPE;
	return err;
}

/* The interface -i names among those run protects: its ifindex. */
static int find_iface(struct top_run *r)
{
	const struct sf_snap *s = &r->snaps[r->start];

	for (int i = 0; i < s->n_ifs; i++) {
		if (!strcmp(s->ifs[i].name, r->a.ifname)) {
			r->ifindex = s->ifs[i].ifindex;
			return 0;
		}
	}
	sf_err("%s is not an interface synfence protects (see synfence status)", r->a.ifname);
	return -ENODEV;
}

/* The maps, the interface, the first snapshot, the deny list (when there is one). */
static int open_maps(struct top_run *r)
{
	char path[PATH_MAX + 16];
	int err;

	r->snaps = calloc(2, sizeof(*r->snaps));
	if (!r->snaps) {
		sf_err("out of memory");
		return -ENOMEM;
	}
	err = sf_maps_open_pinned(&r->maps, r->a.d.dir);
	if (!err)
		err = sf_snap_read(&r->maps, &r->snaps[r->start], false);
	if (!err && r->a.ifname)
		err = find_iface(r);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s", r->a.d.dir, SF_MAP_DENY);
	r->view.deny_fd = bpf_obj_get(path); /* -1: no deny list, no suggestions */
	return 0;
}

/* The 1-in-N: --every, else chosen from the rate of the counters over PROBE_S (sf_top_every). */
static int choose_every(struct top_run *r)
{
	struct sf_snap *a = &r->snaps[r->start], *b = &r->snaps[!r->start];
	int err;

	r->every = (__u32)r->a.every;
	if (r->every)
		return 0;
	nanosleep(&(struct timespec){ .tv_nsec = (long)(PROBE_S * 1e9) }, NULL);
	err = sf_snap_read(&r->maps, b, false);
	if (!err)
		r->every = sf_top_every(sf_top_rate(a, b, r->ifindex), (__u32)r->a.rate);
	return err;
}

static int start_sampling(struct top_run *r)
{
	struct sf_sample_req req = {
		.every = { r->every, r->every, r->every },
		.ifindex = r->ifindex,
		.per_cpu_sec = r->a.rate,
		.reasons = sf_top_reasons(),
	};
	char err[256];
	int ret;

	sf_sampler_catch_signals(&r->stop);
	ret = sf_sampler_open(r->a.d.dir, &req, &r->sampler, err, sizeof(err));
	if (ret) {
		sf_err("%s", err);
		return ret;
	}
	/* the interval's counters start once sampling is on */
	ret = sf_snap_read(&r->maps, &r->snaps[r->start], false);
	if (!ret)
		ret = sf_top_init(&r->top, r->a.by, r->a.prefix4, r->a.prefix6);
	if (ret == -ENOMEM)
		sf_err("out of memory");
	return ret;
}

static int top_run(struct top_run *r)
{
	struct sf_watch_ops ops = { .frame = show_interval, .idle = read_samples, .arg = r,
				    .json = sf_opts.json, .wait_first = true };
	int err = open_maps(r);

	if (!err)
		err = choose_every(r);
	if (!err)
		err = start_sampling(r);
	if (err)
		return err;
	r->view = (struct sf_top_view){ .every = r->every, .every_auto = !r->a.every,
					.per_cpu_sec = r->a.rate,
					.ifname = r->a.ifname, .rows = (int)r->a.rows,
					.deny_fd = r->view.deny_fd, .json = sf_opts.json,
					.pretty = sf_opts.pretty };
	return r->a.watch ? sf_watch_run(&ops, r->a.interval) : top_once(r);
}

static int top_cmd(int argc, char **argv)
{
	struct top_run *r = calloc(1, sizeof(*r));
	int ret;

	if (!r) {
		sf_err("out of memory");
		return SF_EXIT_FAIL;
	}
	sf_maps_init(&r->maps);
	r->view.deny_fd = -1;
	ret = parse_args(argc, argv, &r->a);
	if (ret < 0)
		ret = top_run(r) ? SF_EXIT_FAIL : SF_EXIT_OK;
	sf_sampler_close(r->sampler);
	sf_top_free(&r->top);
	if (r->view.deny_fd >= 0)
		close(r->view.deny_fd);
	sf_maps_close(&r->maps);
	free(r->snaps);
	free(r);
	return ret;
}

const struct sf_cmd sf_cmd_top = {
	.name = "top",
	.summary = "the top sources and ports of SYNs and bad ACKs (estimates from samples)",
	.run = top_cmd,
	.help = top_help,
};
