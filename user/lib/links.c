/* lib/links.c - XDP and tcx links: create, update, inspect, destroy; XDP queries (declared in loader.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/loader.h"

#define SF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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
