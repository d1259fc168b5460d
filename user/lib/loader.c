/* lib/loader.c - see loader.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/loader.h"
#include "lib/proc.h"

#define SF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#include "synfence.skel.h"

const char *sf_mode_name(enum sf_xdp_mode mode)
{
	switch (mode) {
	case SF_XDP_MODE_NONE:    return "none";
	case SF_XDP_MODE_NATIVE:  return "native";
	case SF_XDP_MODE_GENERIC: return "generic";
	case SF_XDP_MODE_OFFLOAD: return "offload";
	default:                  return "unknown";
	}
}

int sf_obj_open(struct synfence_bpf **skel, char *err, size_t errlen)
{
	int ret = 0;

	*skel = synfence_bpf__open();
	if (!*skel) {
		ret = errno ? -errno : -EINVAL;
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-ret));
	}
	return ret;
}

int sf_obj_load(struct synfence_bpf *skel, char *err, size_t errlen)
{
	int ret = synfence_bpf__load(skel);

	if (ret) {
		ret = ret < 0 ? ret : -EINVAL;
		snprintf(err, errlen, "cannot load the BPF programs: %s%s", strerror(-ret),
			 ret == -EPERM ? " (needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, or root)" :
			 " (run with -v for the verifier's log)");
	}
	return ret;
}

static int xdp_link(int prog_fd, unsigned int ifindex, __u32 flags)
{
	DECLARE_LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);

	return fd < 0 ? -errno : fd;
}

static void describe_busy(unsigned int ifindex, char *buf, size_t len)
{
	enum sf_xdp_mode mode;
	char name[32] = "";
	__u32 id = 0;

	buf[0] = '\0';
	if (sf_xdp_query(ifindex, &id, &mode) || !id)
		return;
	sf_prog_name(id, name, sizeof(name));
	snprintf(buf, len, " (XDP program %u%s%s%s is attached)", id, *name ? " \"" : "", name,
		 *name ? "\"" : "");
}

int sf_xdp_link_create(int prog_fd, unsigned int ifindex, const char *ifname, enum sf_mode_req req,
		       enum sf_xdp_mode *mode, bool *fell_back, char *err, size_t errlen)
{
	char busy[96];
	int fd;

	*fell_back = false;
	if (req == SF_MODE_GENERIC) {
		fd = xdp_link(prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
		*mode = SF_XDP_MODE_GENERIC;
		goto out;
	}
	fd = xdp_link(prog_fd, ifindex, XDP_FLAGS_DRV_MODE);
	*mode = SF_XDP_MODE_NATIVE;
	/* busy: another program holds the interface, and generic mode would not get past it */
	if (fd < 0 && req == SF_MODE_AUTO && fd != -EBUSY && fd != -EEXIST) {
		fd = xdp_link(prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
		*mode = SF_XDP_MODE_GENERIC;
		*fell_back = fd >= 0;
	}
out:
	if (fd < 0) {
		if (fd == -EBUSY || fd == -EEXIST)
			describe_busy(ifindex, busy, sizeof(busy));
		else
			busy[0] = '\0';
		snprintf(err, errlen, "cannot attach XDP to %s: %s%s", ifname, strerror(-fd), busy);
	}
	return fd;
}

int sf_tcx_link_create(int prog_fd, unsigned int ifindex, const char *ifname, char *err, size_t errlen)
{
	int fd = bpf_link_create(prog_fd, ifindex, BPF_TCX_INGRESS, NULL);

	if (fd < 0) {
		fd = -errno;
		snprintf(err, errlen, "cannot attach TC ingress (tcx) to %s: %s", ifname, strerror(-fd));
	}
	return fd;
}

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

int sf_link_update(int link_fd, int new_prog_fd, int old_prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_link_update_opts, opts);

	if (old_prog_fd >= 0) {
		opts.flags = BPF_F_REPLACE;
		opts.old_prog_fd = old_prog_fd;
	}
	return bpf_link_update(link_fd, new_prog_fd, &opts) ? -errno : 0;
}

int sf_link_info(int link_fd, struct sf_link_info *li)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(li, 0, sizeof(*li));
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	li->type = info.type;
	li->id = info.id;
	li->prog_id = info.prog_id;
	/* xdp.ifindex and tcx.ifindex are both the first word of the union */
	li->ifindex = info.xdp.ifindex;
	return 0;
}

int sf_for_links_on(unsigned int ifindex, __u32 type,
		    int (*fn)(int fd, const struct sf_link_info *li, void *arg), void *arg)
{
	__u32 ids[64], cnt = 0, id = 0, flags = 0;
	int ret = 0;

	if (type == SF_LINK_TYPE_XDP) {
		enum sf_xdp_mode mode;

		if (!sf_xdp_query(ifindex, &ids[0], &mode) && ids[0])
			cnt = 1;
	} else {
		cnt = SF_ARRAY_LEN(ids);
		if (bpf_prog_query((int)ifindex, BPF_TCX_INGRESS, 0, &flags, ids, &cnt))
			cnt = 0;
	}
	if (!cnt)
		return 0;
	while (!ret && !bpf_link_get_next_id(id, &id)) {
		struct sf_link_info li;
		bool here = false;
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!sf_link_info(fd, &li) && li.type == type && li.ifindex == ifindex)
			for (__u32 i = 0; i < cnt && i < SF_ARRAY_LEN(ids); i++)
				here |= ids[i] == li.prog_id;
		if (here)
			ret = fn(fd, &li, arg);
		close(fd);
	}
	return ret;
}

void sf_link_destroy(int *fd)
{
	if (*fd < 0)
		return;
	bpf_link_detach(*fd);
	close(*fd);
	*fd = -1;
}

int sf_xdp_query(unsigned int ifindex, __u32 *prog_id, enum sf_xdp_mode *mode)
{
	DECLARE_LIBBPF_OPTS(bpf_xdp_query_opts, q);

	*prog_id = 0;
	if (bpf_xdp_query((int)ifindex, 0, &q))
		return -errno;
	*prog_id = q.prog_id;
	*mode = q.attach_mode == XDP_ATTACHED_SKB ? SF_XDP_MODE_GENERIC :
		q.attach_mode == XDP_ATTACHED_HW ? SF_XDP_MODE_OFFLOAD : SF_XDP_MODE_NATIVE;
	if (q.attach_mode == XDP_ATTACHED_MULTI) {
		*prog_id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
		*mode = q.drv_prog_id ? SF_XDP_MODE_NATIVE : SF_XDP_MODE_GENERIC;
	}
	return 0;
}

void sf_prog_name(__u32 prog_id, char *name, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(prog_id);

	name[0] = '\0';
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%.*s", (int)sizeof(info.name), info.name);
	close(fd);
}

/* fdinfo of one fd names link_id or prog_id */
static bool fdinfo_matches(const char *path, __u32 link_id, __u32 prog_id)
{
	char line[128];
	bool hit = false;
	FILE *f = fopen(path, "re");
	unsigned int v;

	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f)) {
		if (link_id && sscanf(line, "link_id: %u", &v) == 1 && v == link_id)
			hit = true;
		else if (prog_id && sscanf(line, "prog_id: %u", &v) == 1 && v == prog_id)
			hit = true;
	}
	fclose(f);
	return hit;
}

pid_t sf_find_holder(__u32 link_id, __u32 prog_id, char *cmdline, size_t len)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid(), found = 0;

	if (cmdline && len)
		cmdline[0] = '\0';
	if (!proc)
		return 0;
	while (!found && (de = readdir(proc))) {
		char path[300];
		struct dirent *fe;
		DIR *fds;
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			if (!isdigit((unsigned char)fe->d_name[0]))
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, fe->d_name);
			if (fdinfo_matches(path, link_id, prog_id)) {
				found = pid;
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	if (found && cmdline && len)
		sf_proc_cmdline(found, cmdline, len);
	return found;
}
