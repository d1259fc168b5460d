/* cmd/capture.c - `synfence capture`: hold XDP's packet sampling (lib/sample.h) and write the samples as a pcap file. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "cmd/cmd.h"
#include "cmd/pindir.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/preflight.h"
#include "lib/proc.h"
#include "lib/sample.h"
#include "lib/util.h"
#include "view/render.h"
#include "view/snapshot.h"

#define DEFAULT_RATE 1000
#define MAX_RATE     1000000
#define MAX_EVERY    1000000
#define MAX_COUNT    4000000000ul
#define POLL_MS      250
#define CHECK_NS     1000000000ull /* how often capture checks that sampling is still its own */

/* The names --verdict takes, indexed by enum sf_verdict_class. */
static const char *const vc_names[SF_VC_MAX] = { "tx", "drop", "pass" };

/* --reason ack_cookie_bad: the sum counter stands for its reasons (include/synfence.h) */
#define ACK_BAD_REASONS                                                                          \
	((1ull << SF_CNT_ack_cookie_bad) | (1ull << SF_CNT_ack_bad_hash) |                       \
	 (1ull << SF_CNT_ack_bad_epoch) | (1ull << SF_CNT_ack_bad_malformed))

static void capture_help(FILE *out)
{
	fprintf(out,
		"NAME\n"
		"    synfence capture - write packets XDP answered, dropped or passed to a pcap file\n"
		"\n"
		"SYNOPSIS\n"
		"    synfence capture -w FILE|- [-i IFACE] [--reason NAME,...] [--verdict CLASS,...]\n"
		"                     [-c COUNT] [--rate N] [--every N] [--pin-dir DIR] [--config FILE] [-j]\n"
		"\n"
		"DESCRIPTION\n"
		"    Switches on the packet sampling of a running synfence for itself, writes each\n"
		"    sample (the frame as it arrived, its first %d bytes: the snap length) to FILE in\n"
		"    the pcap format (Ethernet; tcpdump -r and Wireshark read it), and switches sampling\n"
		"    off again when it ends: after COUNT packets, on Ctrl-C (SIGINT), SIGTERM, SIGHUP,\n"
		"    or when the reader of standard output goes away; and by itself (exit 1) when\n"
		"    synfence run stops or switches sampling off. A sample of a SYN that was answered\n"
		"    (tx) is the SYN, not the SYN-ACK. Only one process holds sampling at a time: a\n"
		"    second capture (or top) is refused, naming the holder.\n"
		"\n"
		"    Sampling costs the programs a copy per sampled packet, at most N a second on each\n"
		"    CPU (--rate); samples over that cap are not taken, and samples the full ring\n"
		"    buffer refuses are lost (counters sample_capped and sample_lost). At the end a\n"
		"    summary line goes to standard error: captured N packets (tx A, drop B, pass C);\n"
		"    K lost, M over the rate cap.\n"
		"\n"
		"OPTIONS\n"
		"    -w, --write FILE|-\n"
		"        The pcap file (required; replaced). -: standard output, flushed after every\n"
		"        batch of samples, so that `synfence capture -w - | tcpdump -nr -` shows them\n"
		"        as they come (not to a terminal); every message then goes to standard error.\n"
		"    -i, --interface IFACE\n"
		"        Only packets that arrived on IFACE (default: every protected interface).\n"
		"    --reason NAME,...\n"
		"        Only verdicts whose reason is one of these counters (see synfence help\n"
		"        stats): e.g. ack_bad_hash, drop_syn_flags, synack_sent, est_pass;\n"
		"        ack_cookie_bad stands for all of ack_bad_hash, ack_bad_epoch and\n"
		"        ack_bad_malformed. Default: any reason.\n"
		"    --verdict CLASS,...\n"
		"        Only these verdict classes: tx (answered with a SYN-ACK), drop, pass.\n"
		"        Default: all three.\n"
		"    -c, --count COUNT\n"
		"        Stop after writing COUNT packets (default: until stopped).\n"
		"    --rate N\n"
		"        Take at most N samples a second on each CPU (1-%d, default %d).\n"
		"    --every N\n"
		"        Sample 1 in every N packets of each class (1-%d, default 1: each).\n",
		SF_SAMPLE_SNAP, MAX_RATE, DEFAULT_RATE, MAX_EVERY);
	sf_dir_opts_help(out);
	fprintf(out,
		"    -j, --json      the summary as a JSON object on standard output, and errors as\n"
		"                    JSON (not with -w -: standard output is the pcap)\n"
		"\n"
		"EXIT STATUS\n"
		"    0 when the capture ended as asked (COUNT reached, a signal, the reader gone).\n"
		"    1 when synfence is not running (or stopped during the capture), sampling is held\n"
		"    by another process, not root, no such interface, or FILE cannot be written.\n"
		"    2 on a command-line error.\n"
		"\n"
		"EXAMPLES\n"
		"    synfence capture --verdict drop -c 100 -w drops.pcap\n"
		"    synfence capture --reason ack_cookie_bad -w - | tcpdump -nr -\n"
		"    synfence capture -i eth0 --rate 100 --every 10 -w sample.pcap\n");
}

enum { OPT_REASON = 256, OPT_VERDICT, OPT_RATE, OPT_EVERY };

struct cap_args {
	struct sf_dir_args d; /* --pin-dir, --config: the pin dir */
	const char *out, *ifname;
	unsigned long count; /* 0: until stopped */
	unsigned long every, rate;
	unsigned int classes; /* bit 1 << enum sf_verdict_class */
	__u64 reasons;
};

/* One capture: where it writes, what it wrote. */
struct cap_run {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	__u64 real_off_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC: added to a sample's time, its wall time */
	unsigned long count, n, n_class[SF_VC_MAX];
};

/* NAME,... each looked up with find (0 and its bits, or -ENOENT); their bits in *mask. An unknown
 * NAME (or none at all: "") in bad. */
static int parse_list(const char *arg, int (*find)(const char *name, __u64 *bits), __u64 *mask,
		      char *bad, size_t badlen)
{
	char *copy = strdup(arg), *save = NULL, *name;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		__u64 bits = 0;

		if (find(name, &bits)) {
			sf_visible(bad, badlen, name, strlen(name));
			ret = -EINVAL;
			goto out;
		}
		*mask |= bits;
	}
	if (!*mask) {
		snprintf(bad, badlen, "%s", "");
		ret = -EINVAL;
	}
out:
	free(copy);
	return ret;
}

static int find_reason(const char *name, __u64 *bits)
{
	if (!strcmp(name, sf_counter_names[SF_CNT_ack_cookie_bad])) {
		*bits = ACK_BAD_REASONS;
		return 0;
	}
	for (int i = 0; i < SF_CNT_MAX; i++) {
		if (!strcmp(name, sf_counter_names[i])) {
			*bits = 1ull << i;
			return 0;
		}
	}
	return -ENOENT;
}

static int find_class(const char *name, __u64 *bits)
{
	for (int c = 0; c < SF_VC_MAX; c++) {
		if (!strcmp(name, vc_names[c])) {
			*bits = 1ull << c;
			return 0;
		}
	}
	return -ENOENT;
}

static int parse_num(const struct sf_cmd *cmd, const char *opt, unsigned long max, unsigned long *val)
{
	if (sf_parse_uint(optarg, 1, max, val))
		return sf_usage_err(cmd, "bad %s '%s': expected a number, 1-%lu", opt, optarg, max);
	return SF_EXIT_OK;
}

static int capture_opt(int c, struct cap_args *a)
{
	const struct sf_cmd *cmd = &sf_cmd_capture;
	char bad[64] = "";
	__u64 mask = 0;
	int ret = sf_dir_opt(cmd, c, &a->d);

	if (ret != SF_DIR_NOT_MINE)
		return ret;
	switch (c) {
	case 'w':
		if (!*optarg)
			return sf_usage_err(cmd, "-w needs a file (or - for standard output)");
		a->out = optarg;
		return SF_EXIT_OK;
	case 'i':
		if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
			return sf_usage_err(cmd, "bad --interface '%s': expected an interface name", optarg);
		a->ifname = optarg;
		return SF_EXIT_OK;
	case 'c':
		return parse_num(cmd, "--count", MAX_COUNT, &a->count);
	case OPT_RATE:
		return parse_num(cmd, "--rate", MAX_RATE, &a->rate);
	case OPT_EVERY:
		return parse_num(cmd, "--every", MAX_EVERY, &a->every);
	case OPT_REASON:
		if (parse_list(optarg, find_reason, &mask, bad, sizeof(bad)))
			return bad[0] ? sf_usage_err(cmd, "unknown --reason '%s': expected counter names, as in stats", bad)
				      : sf_usage_err(cmd, "--reason needs counter names");
		a->reasons |= mask;
		return SF_EXIT_OK;
	case OPT_VERDICT:
		if (parse_list(optarg, find_class, &mask, bad, sizeof(bad)))
			return sf_usage_err(cmd, "bad --verdict '%s': expected tx, drop or pass (or a list)", bad);
		a->classes |= mask;
		return SF_EXIT_OK;
	}
	return sf_usage_err(cmd, "unexpected option");
}

static int parse_args(int argc, char **argv, struct cap_args *a, bool *done)
{
	static const struct option long_opts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "interface", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "verdict", required_argument, NULL, OPT_VERDICT },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "every", required_argument, NULL, OPT_EVERY },
		SF_DIR_LONGOPTS,
		SF_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const struct sf_cmd *cmd = &sf_cmd_capture;
	int c, ret;

	a->rate = DEFAULT_RATE;
	a->every = 1;
	while ((c = sf_getopt(argc, argv, ":" SF_GLOBAL_SHORTOPTS "w:i:c:", long_opts, cmd)) >= 0) {
		ret = capture_opt(c, a);
		if (ret)
			return ret;
	}
	ret = sf_opts_no_args(cmd, c, argc, argv, done);
	if (ret != SF_OPTS_END)
		return ret;
	if (!a->out)
		return sf_usage_err(cmd, "-w FILE is required (-w - for standard output)");
	if (sf_opts.json && !strcmp(a->out, "-"))
		return sf_usage_err(cmd, "-j is not for -w -: standard output is the pcap");
	if (!strcmp(a->out, "-") && isatty(STDOUT_FILENO))
		return sf_usage_err(cmd, "-w -: standard output is a terminal (pipe it to tcpdump -r -)");
	if (!a->classes)
		a->classes = (1u << SF_VC_MAX) - 1;
	return sf_dir_resolve(cmd, &a->d, 0);
}

/* What capture asks the programs for. */
static int make_req(const struct cap_args *a, struct sf_sample_req *req)
{
	memset(req, 0, sizeof(*req));
	for (int c = 0; c < SF_VC_MAX; c++)
		req->every[c] = (a->classes & (1u << c)) ? a->every : 0;
	req->per_cpu_sec = a->rate;
	req->reasons = a->reasons;
	if (!a->ifname)
		return 0;
	req->ifindex = if_nametoindex(a->ifname);
	if (!req->ifindex) {
		sf_err("no such interface: %s", a->ifname);
		return -ENODEV;
	}
	return 0;
}

/* The pcap header on FILE or standard output. */
static int open_output(const char *out, struct cap_run *r)
{
	int ret = 0;

	r->pcap = pcap_open_dead(DLT_EN10MB, SF_SAMPLE_SNAP);
	if (!r->pcap) {
		sf_err("cannot start a pcap: out of memory");
		ret = -ENOMEM;
		goto out;
	}
	r->dumper = strcmp(out, "-") ? pcap_dump_open(r->pcap, out) : pcap_dump_fopen(r->pcap, stdout);
	if (!r->dumper || pcap_dump_flush(r->dumper)) {
		sf_err("cannot write %s: %s", strcmp(out, "-") ? out : "to standard output",
		       r->dumper ? strerror(errno) : pcap_geterr(r->pcap));
		ret = -EIO;
		goto out;
	}
	r->real_off_ns = sf_clock_ns(CLOCK_REALTIME) - sf_clock_ns(CLOCK_MONOTONIC);
out:
	return ret;
}

static void close_output(struct cap_run *r)
{
	if (r->dumper)
		pcap_dump_close(r->dumper); /* also closes stdout: nothing is written there after it */
	if (r->pcap)
		pcap_close(r->pcap);
}

static int write_sample(const struct sf_sample *smp, void *arg)
{
	struct cap_run *r = arg;
	__u64 ns = smp->ts_ns + r->real_off_ns;
	struct pcap_pkthdr h = {
		.ts = { .tv_sec = ns / 1000000000, .tv_usec = ns % 1000000000 / 1000 },
		.caplen = smp->cap_len < SF_SAMPLE_SNAP ? smp->cap_len : SF_SAMPLE_SNAP,
		.len = smp->frame_len,
	};

	pcap_dump((u_char *)r->dumper, &h, smp->data);
	r->n++;
	if (smp->vclass < SF_VC_MAX)
		r->n_class[smp->vclass]++;
	return r->count && r->n >= r->count;
}

/* Set by SIGINT, SIGTERM, SIGHUP and SIGPIPE (sf_sampler_catch_signals). */
static volatile sig_atomic_t stop;

/* Whether sampling is still ours: not when run stopped (its pins are gone) or switched it off (a
 * new run took the pins over, or it found us gone). Reported; other errors are not an answer. */
static int still_ours(const char *dir)
{
	char who[64];
	__u32 pid;
	int ret = sf_sampler_holder(dir, &pid, who, sizeof(who), NULL);

	if (ret == -ENOENT) {
		sf_err("synfence run stopped (nothing pinned in %s any more): capture ends", dir);
		goto out;
	}
	if (!ret && pid != (__u32)getpid()) {
		sf_err("sampling was switched off by synfence run or taken by pid %u: capture ends", pid);
		ret = -ECANCELED;
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* Samples to the pcap until COUNT, a signal or the reader of a pipe is gone (0), or sampling is no
 * longer ours (-errno). */
static int capture_loop(const char *dir, struct sf_sampler *s, struct cap_run *r)
{
	__u64 check = sf_clock_ns(CLOCK_MONOTONIC);
	int ret = 0;

	while (!stop && !(r->count && r->n >= r->count)) {
		if (sf_clock_ns(CLOCK_MONOTONIC) >= check) {
			check += CHECK_NS;
			if ((ret = still_ours(dir)))
				goto out;
		}
		ret = sf_sampler_poll(s, POLL_MS, write_sample, r);
		if (ret == -EINTR) {
			ret = 0;
			continue;
		}
		if (ret < 0) {
			sf_err("cannot read the samples: %s", strerror(-ret));
			goto out;
		}
		ret = 0;
		if (pcap_dump_flush(r->dumper)) {
			if (errno != EPIPE) { /* EPIPE: the reader is done, so is capture */
				ret = -errno;
				sf_err("cannot write the pcap: %s", strerror(errno));
			}
			goto out;
		}
	}
out:
	return ret;
}

/* The summary: what was written, and from the counters what the programs could not sample. */
static void summary(const struct cap_run *r, const struct sf_snap *s0, const struct sf_snap *s1)
{
	__u64 lost = s1->total[SF_CNT_sample_lost] - s0->total[SF_CNT_sample_lost];
	__u64 capped = s1->total[SF_CNT_sample_capped] - s0->total[SF_CNT_sample_capped];
	struct json_writer jw;

	if (!sf_opts.json) {
		fprintf(stderr, "captured %lu packet%s (tx %lu, drop %lu, pass %lu); %llu lost, %llu over the rate cap\n",
			r->n, r->n == 1 ? "" : "s", r->n_class[SF_VC_TX], r->n_class[SF_VC_DROP],
			r->n_class[SF_VC_PASS], (unsigned long long)lost, (unsigned long long)capped);
		return;
	}
	jw_init(&jw, stdout, sf_opts.pretty);
	jw_start_object(&jw);
	jw_uint_field(&jw, "packets", r->n);
	for (int c = 0; c < SF_VC_MAX; c++)
		jw_uint_field(&jw, vc_names[c], r->n_class[c]);
	jw_uint_field(&jw, "lost", lost);
	jw_uint_field(&jw, "capped", capped);
	jw_end_object(&jw);
	jw_finish(&jw);
}

static void announce(const struct cap_args *a)
{
	char classes[32] = "";

	if (sf_opts.json)
		return;
	for (int c = 0; c < SF_VC_MAX; c++)
		if (a->classes & (1u << c))
			snprintf(classes + strlen(classes), sizeof(classes) - strlen(classes), "%s%s",
				 classes[0] ? "," : "", vc_names[c]);
	fprintf(stderr, "capturing %s on %s (1 in %lu, at most %lu/s per CPU) to %s; Ctrl-C stops\n",
		classes, a->ifname ? a->ifname : "every interface", a->every, a->rate,
		strcmp(a->out, "-") ? a->out : "standard output");
}

/* Sampling held from sf_sampler_open to sf_sampler_close, whatever happens in between. */
static int capture(const struct cap_args *a, const struct sf_maps *m, struct sf_snap *snaps)
{
	struct cap_run r = { .count = a->count };
	struct sf_sampler *s = NULL;
	struct sf_sample_req req;
	char err[256] = "";
	int ret;

	ret = make_req(a, &req);
	if (ret)
		goto out;
	sf_sampler_catch_signals(&stop); /* before sampling is on: no signal may end us while it is */
	ret = sf_sampler_open(a->d.dir, &req, &s, err, sizeof(err));
	if (ret) {
		sf_err("%s", err[0] ? err : strerror(-ret));
		goto out;
	}
	ret = open_output(a->out, &r);
	if (ret || (ret = sf_snap_read(m, &snaps[0], false)))
		goto out;
	announce(a);
	ret = capture_loop(a->d.dir, s, &r);
	if (ret || (ret = sf_snap_read(m, &snaps[1], false)))
		goto out;
	summary(&r, &snaps[0], &snaps[1]);
out:
	sf_sampler_close(s);
	close_output(&r);
	return ret;
}

static int capture_cmd(int argc, char **argv)
{
	struct cap_args a = { 0 };
	struct sf_snap *snaps = NULL;
	struct sf_maps maps;
	bool done = false;
	int ret;

	sf_maps_init(&maps);
	ret = parse_args(argc, argv, &a, &done);
	if (ret || done || !a.out) /* (no -w is refused there: for the analyzer) */
		return ret;
	ret = SF_EXIT_FAIL;
	if (sf_check_root())
		goto out;
	snaps = calloc(2, sizeof(*snaps));
	if (!snaps) {
		sf_err("out of memory");
		goto out;
	}
	if (sf_maps_open_pinned(&maps, a.d.dir) || sf_snap_read(&maps, &snaps[0], true) ||
	    sf_check_running(a.d.dir, &snaps[0]) || capture(&a, &maps, snaps))
		goto out;
	ret = SF_EXIT_OK;
out:
	sf_maps_close(&maps);
	free(snaps);
	return ret;
}

const struct sf_cmd sf_cmd_capture = {
	.name = "capture",
	.summary = "write the packets XDP answers, drops or passes to a pcap (sampled)",
	.run = capture_cmd,
	.help = capture_help,
};
