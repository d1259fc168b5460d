/* lib/clsact.c - the TC fallback before tcx: our filter in a clsact qdisc (declared in loader.h). */
#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "lib/loader.h"

/* Remove the clsact qdisc we created. libbpf only deletes the qdisc for INGRESS|EGRESS; with
 * INGRESS alone it would just flush the filters. */
static void destroy_clsact(unsigned int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	bpf_tc_hook_destroy(&hook);
}

int sf_clsact_attach(int prog_fd, unsigned int ifindex, struct sf_clsact *c)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = SF_CLSACT_HANDLE,
			    .priority = SF_CLSACT_PRIORITY);
	int err;

	memset(c, 0, sizeof(*c));
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		goto out;
	c->hook_created = !err;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		if (c->hook_created)
			destroy_clsact(ifindex);
		c->hook_created = false;
		goto out;
	}
	c->attached = true;
	c->handle = opts.handle;
	c->priority = opts.priority;
out:
	return err;
}

long sf_clsact_prog_id(unsigned int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SF_CLSACT_HANDLE,
			    .priority = SF_CLSACT_PRIORITY);
	int err = bpf_tc_query(&hook, &opts);

	if (err == -ENOENT || err == -EINVAL) /* no filter there, or no clsact qdisc at all */
		return 0;
	return err ? err : (long)opts.prog_id;
}

void sf_clsact_detach(unsigned int ifindex, struct sf_clsact *c)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = c->handle, .priority = c->priority);

	if (!c->attached)
		return;
	bpf_tc_detach(&hook, &opts);
	if (c->hook_created)
		destroy_clsact(ifindex);
	memset(c, 0, sizeof(*c));
}
