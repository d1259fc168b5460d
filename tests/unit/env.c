/* env.c - see env.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "env.h"
#include "sock.h"
#include "synfence.skel.h"

const struct env_opts env_fuzz_opts = {
	.lport = ENV_LPORT,
	.cport = ENV_CPORT,
	.backlog = 128,
	.protect_cport = 1,
	.protect = { { 80, 80 }, { 443, 443 }, { 8000, 8100 } },
};

const char *const env_cnt_names[SF_CNT_MAX] = {
#define SF_CNT_NAME(name, help) #name,
	SF_COUNTERS(SF_CNT_NAME)
#undef SF_CNT_NAME
};

const char *env_verdict_name(uint32_t v)
{
	static const char *const n[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					 "XDP_REDIRECT" };
	static char buf[24];

	if (v < sizeof(n) / sizeof(n[0]))
		return n[v];
	snprintf(buf, sizeof(buf), "verdict %d", (int)v);
	return buf;
}

void addf(char *why, size_t wl, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n + 3 >= wl)
		return;
	if (n) {
		strcpy(why + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + n, wl - n, fmt, ap);
	va_end(ap);
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int in_init_netns(void)
{
	struct stat a, b;

	if (stat("/proc/self/ns/net", &a) || stat("/proc/1/ns/net", &b))
		return 0;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int env_protected(const struct env *e, unsigned port)
{
	return port < 65536 && (e->prot[port / 64] >> (port % 64)) & 1;
}

int env_protect(struct env *e, unsigned lo, unsigned hi)
{
	unsigned p;
	__u32 w;

	for (p = lo; p <= hi && p < 65536; p++)
		e->prot[p / 64] |= 1ull << (p % 64);
	for (w = lo / 64; w <= hi / 64 && w < SF_PORT_WORDS; w++)
		if (bpf_map_update_elem(e->ports, &w, &e->prot[w], BPF_ANY)) {
			fprintf(stderr, "sf_ports: %s\n", strerror(errno));
			return -1;
		}
	return 0;
}

int env_set(struct env *e, const struct sf_config *c, const struct sf_secrets *s)
{
	__u32 k = 0;

	e->cfg_now = *c;
	e->sec_now = *s;
	if (bpf_map_update_elem(e->cfg, &k, c, BPF_ANY) || bpf_map_update_elem(e->sec, &k, s, BPF_ANY)) {
		fprintf(stderr, "cannot write the config maps: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int env_counters(struct env *e, uint64_t out[SF_CNT_MAX])
{
	__u32 key = ENV_SLOT;
	int i, j;

	memset(out, 0, sizeof(uint64_t) * SF_CNT_MAX);
	if (bpf_map_lookup_elem(e->cnt, &key, e->pcpu))
		return -1;
	for (i = 0; i < e->ncpu; i++)
		for (j = 0; j < SF_CNT_MAX; j++)
			out[j] += e->pcpu[i].c[j];
	return 0;
}

/* What every test run returns. */
static int run_done(int err, const struct bpf_test_run_opts *o, int metalen, struct xrun *r)
{
	r->err = err < 0 ? (errno ? -errno : err) : 0;
	r->ret = o->retval;
	r->outlen = r->err ? 0 : (int)o->data_size_out;
	r->metalen = metalen > 0 && metalen <= r->outlen ? metalen : 0;
	r->frame = r->out + r->metalen;
	r->framelen = r->outlen - r->metalen;
	r->duration = o->duration;
	return r->err;
}

int env_run_xdp(int prog, const uint8_t *in, int len, struct xrun *r, int repeat)
{
	struct xdp_md ctx_in = { .data = 0, .data_end = (__u32)len };
	struct xdp_md ctx_out;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out), .repeat = repeat);
	int err;

	memset(&ctx_out, 0, sizeof(ctx_out));
	err = bpf_prog_test_run_opts(prog, &o);
	return run_done(err, &o, (int)ctx_out.data, r);
}

int env_run_tc(int prog, const uint8_t *in, int len, struct xrun *r, int repeat)
{
	struct __sk_buff ctx_in = { .ingress_ifindex = ENV_IFINDEX };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog, &o);

	return run_done(err, &o, 0, r);
}

/* One run of prog with the counter deltas around it. */
static int env_run(struct env *e, int tc, const uint8_t *in, int len, struct xrun *r)
{
	uint64_t before[SF_CNT_MAX], after[SF_CNT_MAX];
	int i;

	memset(r->d, 0, sizeof(r->d));
	if (env_counters(e, before))
		return -EIO;
	if (tc)
		env_run_tc(e->tc, in, len, r, 1);
	else
		env_run_xdp(e->xdp, in, len, r, 1);
	if (env_counters(e, after))
		return -EIO;
	for (i = 0; i < SF_CNT_MAX; i++)
		r->d[i] = (int64_t)(after[i] - before[i]);
	return r->err;
}

int env_xdp(struct env *e, const uint8_t *in, int len, struct xrun *r)
{
	return env_run(e, 0, in, len, r);
}

int env_tc(struct env *e, const uint8_t *in, int len, struct xrun *r)
{
	struct sf_handoff_attrs *last = &e->skel->bss->sf_last_handoff;
	int rc;

	memset(last, 0, sizeof(*last));
	rc = env_run(e, 1, in, len, r);
	r->handoff = *last;
	return rc;
}

int env_flows_clear(struct env *e)
{
	static const struct sf_flow_tags empty;
	__u32 zero = 0;

	_Static_assert(SF_FLOW_TAG_EMPTY == 0, "a zeroed tag array is an empty cache");

	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.sf_flow_tags), &zero, &empty, BPF_ANY)) {
		fprintf(stderr, "sf_flow_tags: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int env_syn_checks_refill(struct env *e)
{
	struct sf_syn_checks *v;
	__u32 zero = 0;
	int ret = 0;

	v = calloc((size_t)e->ncpu, sizeof(*v));
	if (!v || bpf_map_update_elem(e->syn_checks, &zero, v, BPF_ANY)) {
		fprintf(stderr, "sf_syn_checks: %s\n", strerror(errno));
		ret = -1;
	}
	free(v);
	return ret;
}

/* An IPv4 listener (on port first, if free, else on a free port) and, if IPv6 works, an IPv6 one
 * on the same port, made by mk (listen_on or listen_any). Returns 1 with both, 0 with the IPv4
 * one only, -1 on error. */
static int listen_pair(int (*mk)(int, uint16_t, int), uint16_t first, int backlog, int *fd4,
		       int *fd6, uint16_t *port)
{
	int tries;

	for (tries = 0; tries < 50; tries++) {
		*fd4 = mk(AF_INET, tries ? 0 : first, backlog);
		if (*fd4 < 0)
			return -1;
		*port = sock_port(*fd4);
		*fd6 = mk(AF_INET6, *port, backlog);
		if (*fd6 >= 0)
			return 1;
		close(*fd4);
	}
	/* no IPv6 at all: keep an IPv4 listener only */
	*fd4 = mk(AF_INET, 0, backlog);
	if (*fd4 < 0)
		return -1;
	*port = sock_port(*fd4);
	return 0;
}

/* An established connection through the kernel (no XDP is attached to lo), from port (0: an
 * ephemeral one) to the listener. Leaves e->cport 0 when there is none. */
static void connect_client(struct env *e, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) }, b;
	int one = 1;

	e->cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (e->cfd < 0)
		return;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (port) {
		setsockopt(e->cfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* the port if it is free, else connect() picks an ephemeral one */
		(void)bind(e->cfd, (struct sockaddr *)&a, sizeof(a));
	}
	b = a;
	b.sin_port = htons(e->lport);
	if (connect(e->cfd, (struct sockaddr *)&b, sizeof(b)) == 0) {
		e->afd = accept(e->lfd4, NULL, NULL);
		if (e->afd >= 0)
			e->cport = sock_port(e->cfd);
	}
}

static int setup_sockets(struct env *e, const struct env_opts *o)
{
	e->have6 = listen_pair(listen_on, o->lport, o->backlog, &e->lfd4, &e->lfd6, &e->lport);
	if (e->have6 < 0 || !e->lport)
		return -1;
	if (o->wildcard &&
	    listen_pair(listen_any, 0, o->backlog, &e->wfd4, &e->wfd6, &e->wport) < 0)
		return -1;
	connect_client(e, o->cport);
	return 0;
}

static int protect_ports(struct env *e, const struct env_opts *o)
{
	int i;

	for (i = 0; i < 4 && o->protect[i][1]; i++)
		if (env_protect(e, o->protect[i][0], o->protect[i][1]))
			return -1;
	if (env_protect(e, e->lport, e->lport) || (e->wport && env_protect(e, e->wport, e->wport)))
		return -1;
	return o->protect_cport && e->cport ? env_protect(e, e->cport, e->cport) : 0;
}

static int load(struct env *e)
{
	__u32 k = ENV_IFINDEX, slot = ENV_SLOT;

	e->skel = synfence_bpf__open_and_load();
	if (!e->skel) {
		fprintf(stderr, "cannot load the synfence BPF object: %s (root needed)\n", strerror(errno));
		return -1;
	}
	e->xdp = bpf_program__fd(e->skel->progs.synfence_xdp);
	e->tc = bpf_program__fd(e->skel->progs.synfence_tc);
	e->cfg = bpf_map__fd(e->skel->maps.sf_config);
	e->sec = bpf_map__fd(e->skel->maps.sf_secrets);
	e->ports = bpf_map__fd(e->skel->maps.sf_ports);
	e->slot = bpf_map__fd(e->skel->maps.sf_if_slot);
	e->cnt = bpf_map__fd(e->skel->maps.sf_counters);
	e->syn_checks = bpf_map__fd(e->skel->maps.sf_syn_checks);
	if (bpf_map_update_elem(e->slot, &k, &slot, BPF_ANY)) {
		fprintf(stderr, "sf_if_slot: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int env_setup(struct env *e, const struct env_opts *o)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	const char *any = getenv("SF_FUZZ_ANY_NETNS");

	memset(e, 0, sizeof(*e));
	e->lfd4 = e->lfd6 = e->wfd4 = e->wfd6 = e->cfd = e->afd = -1;
	if (!o->any_netns && in_init_netns() && !(any && !strcmp(any, "1"))) {
		fprintf(stderr, "refusing to run in the initial network namespace (it opens listeners "
			"on lo): run it through tests/fuzz/run-in-netns.sh or `ip netns exec`, or set "
			"SF_FUZZ_ANY_NETNS=1\n");
		return -1;
	}
	setrlimit(RLIMIT_MEMLOCK, &rl);
	libbpf_set_print(quiet_libbpf);
	e->ncpu = libbpf_num_possible_cpus();
	if (e->ncpu <= 0 || !(e->pcpu = calloc((size_t)e->ncpu, sizeof(*e->pcpu))))
		return -1;
	if (load(e))
		return -1;
	if (setup_sockets(e, o)) {
		fprintf(stderr, "cannot open the listeners on lo (is lo up?): %s\n", strerror(errno));
		return -1;
	}
	return protect_ports(e, o);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void env_close(struct env *e)
{
	close_fd(&e->cfd);
	close_fd(&e->afd);
	close_fd(&e->lfd4);
	close_fd(&e->lfd6);
	close_fd(&e->wfd4);
	close_fd(&e->wfd6);
	if (e->skel)
		synfence_bpf__destroy(e->skel);
	e->skel = NULL;
	free(e->pcpu);
	e->pcpu = NULL;
}
