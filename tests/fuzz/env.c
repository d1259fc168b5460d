/* env.c - see env.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

const char *const env_cnt_names[SF_CNT_MAX] = {
#define SF_CNT_NAME(name, help) #name,
	SF_COUNTERS(SF_CNT_NAME)
#undef SF_CNT_NAME
};

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

static void protect(struct env *e, unsigned port)
{
	e->prot[port / 64] |= 1ull << (port % 64);
}

int env_protected(const struct env *e, unsigned port)
{
	return port < 65536 && (e->prot[port / 64] >> (port % 64)) & 1;
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

/* The run with the counter deltas around it. */
static int env_run(struct env *e, int prog, struct bpf_test_run_opts *o, struct xrun *r)
{
	uint64_t before[SF_CNT_MAX], after[SF_CNT_MAX];
	int i;

	o->data_out = r->out;
	o->data_size_out = sizeof(r->out);
	o->repeat = 1;
	if (env_counters(e, before))
		return -EIO;
	r->err = bpf_prog_test_run_opts(prog, o) < 0 ? -errno : 0;
	r->ret = o->retval;
	r->outlen = r->err ? 0 : (int)o->data_size_out;
	if (env_counters(e, after))
		return -EIO;
	for (i = 0; i < SF_CNT_MAX; i++)
		r->d[i] = (int64_t)(after[i] - before[i]);
	return r->err;
}

int env_xdp(struct env *e, const uint8_t *in, int len, struct xrun *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len);

	return env_run(e, e->xdp, &o, r);
}

int env_tc(struct env *e, const uint8_t *in, int len, struct xrun *r)
{
	struct __sk_buff ctx = { .ingress_ifindex = ENV_IFINDEX };
	struct sf_handoff_attrs *last = &e->skel->bss->sf_last_handoff;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	int rc;

	memset(last, 0, sizeof(*last));
	rc = env_run(e, e->tc, &o, r);
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

static int setup_sockets(struct env *e)
{
	int tries;

	for (tries = 0; tries < 50 && !e->have6; tries++) {
		if (e->lfd4 >= 0)
			close(e->lfd4);
		/* fixed ports first, so that the frames of the corpus keep hitting the listener */
		e->lfd4 = listen_on(AF_INET, tries ? 0 : ENV_LPORT, 128);
		if (e->lfd4 < 0)
			return -1;
		e->lport = sock_port(e->lfd4);
		e->lfd6 = listen_on(AF_INET6, e->lport, 128);
		e->have6 = e->lfd6 >= 0;
	}
	e->cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (e->cfd >= 0) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(ENV_CPORT) }, b;
		int one = 1;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		setsockopt(e->cfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		bind(e->cfd, (struct sockaddr *)&a, sizeof(a)); /* else an ephemeral port */
		b = a;
		b.sin_port = htons(e->lport);
		if (connect(e->cfd, (struct sockaddr *)&b, sizeof(b)) == 0) {
			e->afd = accept(e->lfd4, NULL, NULL);
			if (e->afd >= 0)
				e->cport = sock_port(e->cfd);
		}
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

int env_setup(struct env *e)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	__u32 k = ENV_IFINDEX, slot = ENV_SLOT, w;
	const char *any = getenv("SF_FUZZ_ANY_NETNS");
	unsigned p;

	memset(e, 0, sizeof(*e));
	e->lfd4 = e->lfd6 = e->cfd = e->afd = -1;
	if (in_init_netns() && !(any && !strcmp(any, "1"))) {
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
	if (setup_sockets(e) || !e->lport) {
		fprintf(stderr, "cannot open the listeners on lo (is lo up?): %s\n", strerror(errno));
		return -1;
	}
	protect(e, 80);
	protect(e, 443);
	for (p = 8000; p <= 8100; p++)
		protect(e, p);
	protect(e, e->lport);
	if (e->cport)
		protect(e, e->cport); /* segments to the client side of the connection: est path too */
	for (w = 0; w < SF_PORT_WORDS; w++)
		if (bpf_map_update_elem(e->ports, &w, &e->prot[w], BPF_ANY)) {
			fprintf(stderr, "sf_ports: %s\n", strerror(errno));
			return -1;
		}
	return 0;
}

void env_close(struct env *e)
{
	int *fds[] = { &e->cfd, &e->afd, &e->lfd4, &e->lfd6 };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	if (e->skel)
		synfence_bpf__destroy(e->skel);
	e->skel = NULL;
	free(e->pcpu);
	e->pcpu = NULL;
}
