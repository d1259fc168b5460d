/* lib/loader.h - the BPF object and its attachments, one header for four files: lib/bpfobj.c loads
 * the object (reusing pinned maps); lib/links.c attaches XDP and TC ingress as bpf_links (pinnable,
 * atomically replaceable); lib/clsact.c is TC's fallback on kernels without tcx; lib/holder.c finds
 * another process that holds our link or program. Functions return 0/-errno (or an fd) and put a
 * one-line message in err; they print nothing. */
#ifndef SF_LOADER_H
#define SF_LOADER_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <xdp/libxdp.h>

#include "lib/xdp_mode.h"
#include "synfence.h"

#define SF_PROG_XDP "synfence_xdp"
#define SF_PROG_TC  "synfence_tc"

/* libbpf 1.1's headers predate tcx (Linux 6.6). */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#endif
#define SF_LINK_TYPE_XDP 6
#define SF_LINK_TYPE_TCX 11

struct synfence_bpf;

/* Open the object (not loaded). */
int sf_obj_open(struct synfence_bpf **skel, char *err, size_t errlen);
/* Load it: maps given an fd with bpf_map__reuse_fd are reused, the others created. */
int sf_obj_load(struct synfence_bpf *skel, char *err, size_t errlen);

/* Attach prog_fd as an XDP bpf_link on ifindex. SF_MODE_AUTO tries native, then generic (*fell_back
 * is set then). Returns the link fd or -errno. */
int sf_xdp_link_create(int prog_fd, unsigned int ifindex, const char *ifname, enum sf_mode_req req,
		       enum sf_xdp_mode *mode, bool *fell_back, char *err, size_t errlen);
/* Attach prog_fd as a tcx ingress link; returns the link fd or -errno. */
int sf_tcx_link_create(int prog_fd, unsigned int ifindex, const char *ifname, char *err, size_t errlen);

/* clsact fallback (kernels before 6.6): not a link, cannot be pinned or taken over. Our filter has
 * a fixed handle and priority, so that status (another process) can find it. */
#define SF_CLSACT_HANDLE   0x5346 /* "SF" */
#define SF_CLSACT_PRIORITY 0x5346
struct sf_clsact {
	bool attached, hook_created;
	__u32 handle, priority;
};
int sf_clsact_attach(int prog_fd, unsigned int ifindex, struct sf_clsact *c);
/* The id of the program in our clsact filter on ifindex: 0 if there is none, or -errno. */
long sf_clsact_prog_id(unsigned int ifindex);
void sf_clsact_detach(unsigned int ifindex, struct sf_clsact *c);

/* Atomically replace the program of a link; with old_prog_fd >= 0 only if it still runs that one. */
int sf_link_update(int link_fd, int new_prog_fd, int old_prog_fd);

struct sf_link_info {
	__u32 type;    /* SF_LINK_TYPE_XDP, SF_LINK_TYPE_TCX, ... */
	__u32 id;
	__u32 prog_id;
	__u32 ifindex; /* 0: the interface is gone (the link is defunct) */
};
int sf_link_info(int link_fd, struct sf_link_info *li);

/* For each link of type (SF_LINK_TYPE_XDP or _TCX) attached to ifindex in our network namespace
 * (a link's info only has an ifindex, valid in some namespace: its program must also be one attached
 * here), call fn(fd, info, arg); a non-zero return stops the walk and is returned. */
int sf_for_links_on(unsigned int ifindex, __u32 type,
		    int (*fn)(int fd, const struct sf_link_info *li, void *arg), void *arg);

/* Detach a link from its interface (even if someone else holds it) and close the fd. */
void sf_link_destroy(int *fd);

/* The XDP program attached to ifindex and its mode (prog_id 0: none). */
int sf_xdp_query(unsigned int ifindex, __u32 *prog_id, enum sf_xdp_mode *mode);

/* Name of a program by id ("" if it cannot be read). */
void sf_prog_name(__u32 prog_id, char *name, size_t len);

/* A process other than us holding an fd of the link or of the program (a running synfence): its pid,
 * or 0. cmdline gets its command line (blank-separated, maybe cut). */
pid_t sf_find_holder(__u32 link_id, __u32 prog_id, char *cmdline, size_t len);

/* Name of an XDP mode as stats, status and the logs show it ("native", "generic"); the value of
 * sf_iface.xdp_mode. */
const char *sf_mode_name(enum sf_xdp_mode mode);

#endif
