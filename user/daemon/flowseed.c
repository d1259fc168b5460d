/* daemon/flowseed.c - see flowseed.h. The sockets come from the kernel's sock_diag netlink interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <bpf/bpf.h>

#include "daemon/flowseed.h"
#include "lib/mapio.h"
#include "synfence.h"

/* Every state but LISTEN (and CLOSE, which has no peer; SYN_SENT is an outgoing connect). The
 * BPF_TCP_* numbers are the kernel's TCP states. */
#define SEED_STATES ((1u << BPF_TCP_ESTABLISHED) | (1u << BPF_TCP_SYN_RECV) |                   \
		     (1u << BPF_TCP_FIN_WAIT1) | (1u << BPF_TCP_FIN_WAIT2) |                     \
		     (1u << BPF_TCP_TIME_WAIT) | (1u << BPF_TCP_CLOSE_WAIT) |                    \
		     (1u << BPF_TCP_LAST_ACK) | (1u << BPF_TCP_CLOSING))

struct seed {
	int flows_fd;
	struct sf_flow_tags *tags;
	const __u64 *ports;
	unsigned int n;
	int write_err; /* a map write failed (not the listing) */
};

static int port_protected(const __u64 *ports, __u16 port)
{
	return (ports[port / 64] >> (port % 64)) & 1;
}

/* One socket: the flow as its client's packets carry it (source = the peer). */
static int add(struct seed *sd, const struct inet_diag_msg *m)
{
	const struct inet_diag_sockid *id = &m->id;
	struct sf_flow f = { 0 };
	__u32 h, slot;
	int ret;

	if (!port_protected(sd->ports, ntohs(id->idiag_sport)))
		return 0;
	/* an IPv4 client of a dual-stack socket: IPv4 on the wire */
	if (m->idiag_family == AF_INET6 && id->idiag_src[0] == 0 && id->idiag_src[1] == 0 &&
	    id->idiag_src[2] == htonl(0xffff)) {
		f.saddr[0] = id->idiag_dst[3];
		f.daddr[0] = id->idiag_src[3];
		f.family = 4;
	} else if (m->idiag_family == AF_INET6) {
		memcpy(f.saddr, id->idiag_dst, sizeof(f.saddr));
		memcpy(f.daddr, id->idiag_src, sizeof(f.daddr));
		f.family = 6;
	} else {
		f.saddr[0] = id->idiag_dst[0];
		f.daddr[0] = id->idiag_src[0];
		f.family = 4;
	}
	/* the first 4 bytes of the client's TCP header: its port, then ours (network order) */
	memcpy((char *)&f.ports, &id->idiag_dport, 2);
	memcpy((char *)&f.ports + 2, &id->idiag_sport, 2);
	h = sf_flow_hash(f.saddr, f.daddr, f.ports);
	slot = sf_flow_hash_slot(h);
	ret = sf_map_update(sd->flows_fd, &slot, &f, BPF_ANY);
	if (ret) {
		sd->write_err = ret;
		return ret;
	}
	sd->tags->tag[slot] = sf_flow_hash_tag(h);
	sd->n++;
	return 0;
}

static int dump(int nl, int family, struct seed *sd)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = (__u8)family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = SEED_STATES },
	};
	static char buf[32768];
	int ret;

	if (send(nl, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		int len = (int)recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0)
			return -errno;
		if (len == 0)
			return -EPROTO; /* the kernel closed the dump without NLMSG_DONE */
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : -EPROTO;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				continue;
			ret = add(sd, NLMSG_DATA(h));
			if (ret)
				return ret;
		}
	}
}

int sf_flow_seed(int flows_fd, int tags_fd, const __u64 *ports, unsigned int *n, char *err,
		 size_t errlen)
{
	struct seed sd = { .flows_fd = flows_fd, .ports = ports };
	__u32 zero = 0;
	int nl = -1, ret;

	*n = 0;
	sd.tags = calloc(1, sizeof(*sd.tags));
	if (!sd.tags) {
		ret = -ENOMEM;
		snprintf(err, errlen, "cannot seed the flow cache: %s", strerror(-ret));
		goto out;
	}
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot list the kernel's TCP sockets (sock_diag): %s",
			 strerror(-ret));
		goto out;
	}
	ret = dump(nl, AF_INET, &sd);
	if (!ret)
		ret = dump(nl, AF_INET6, &sd);
	if (ret) {
		if (sd.write_err)
			snprintf(err, errlen, "cannot write the flow cache (map sf_flows): %s",
				 strerror(-ret));
		else
			snprintf(err, errlen, "cannot list the kernel's TCP sockets (sock_diag): %s",
				 strerror(-ret));
		goto out;
	}
	ret = sf_map_update(tags_fd, &zero, sd.tags, BPF_ANY);
	if (ret)
		snprintf(err, errlen, "cannot write the flow cache tags (map sf_flow_tags): %s",
			 strerror(-ret));
	else
		*n = sd.n;
out:
	if (nl >= 0)
		close(nl);
	free(sd.tags);
	return ret;
}
