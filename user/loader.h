/* loader.h - load the BPF object, attach/detach XDP (via libxdp) and TC ingress (tcx link, or
 * clsact on kernels without tcx). */
#ifndef SF_LOADER_H
#define SF_LOADER_H

#include <net/if.h>
#include <stdbool.h>

#include <xdp/libxdp.h>

#include "synfence.h"

enum sf_mode_req {
	SF_MODE_AUTO,    /* native, falling back to generic with a warning */
	SF_MODE_NATIVE,
	SF_MODE_GENERIC,
};

/* What is attached to one interface. */
struct sf_ifstate {
	char name[IF_NAMESIZE];
	unsigned int ifindex;
	unsigned int mtu;
	enum xdp_attach_mode mode; /* mode XDP got attached in */
	bool xdp_attached;
	int tc_link_fd;            /* tcx link, -1 if none */
	bool tc_clsact;            /* attached as a clsact filter instead */
	bool tc_hook_created;      /* we created the clsact qdisc */
	__u32 tc_handle, tc_priority;
};

struct synfence_bpf;

struct sf_loader {
	struct synfence_bpf *skel;
	struct xdp_program *xdp;   /* one libxdp program, attached to every interface */
	struct sf_ifstate ifs[SF_MAX_IFACES - 1];
	int n_ifs;
};

/* Open the BPF object (not loaded: libxdp loads it on the first attach). Returns 0 or -errno;
 * prints its errors. */
int sf_loader_open(struct sf_loader *ld);

/* Attach the XDP program to ifs[i]; in SF_MODE_AUTO a native failure is retried in generic mode.
 * The first successful attach loads the whole object (maps and the TC program get fds). */
int sf_loader_attach_xdp(struct sf_loader *ld, int i, enum sf_mode_req req);
/* Attach the TC program at ingress of ifs[i] (object must be loaded). */
int sf_loader_attach_tc(struct sf_loader *ld, int i);

/* Detach whatever is attached to ifs[i]; safe to call on partial state. */
void sf_loader_detach(struct sf_loader *ld, int i);
/* Detach everything and free the object. */
void sf_loader_close(struct sf_loader *ld);

const char *sf_mode_name(enum xdp_attach_mode mode);

#endif
