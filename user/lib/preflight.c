/* lib/preflight.c - see preflight.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "lib/loader.h" /* BPF_TCX_INGRESS, which libbpf 1.1 lacks */
#include "lib/log.h"
#include "lib/preflight.h"
#include "lib/sysctl.h"
#include "synfence.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

int sf_check_root(void)
{
	if (geteuid() != 0) {
		sf_err("must be run as root");
		return -EPERM;
	}
	return 0;
}

int sf_check_kernel(void)
{
	struct btf *btf = NULL;
	int err = 0;

	if (access(VMLINUX_BTF, R_OK)) {
		err = -errno;
		sf_err("no kernel BTF at %s (%s): synfence needs a kernel built with CONFIG_DEBUG_INFO_BTF",
		       VMLINUX_BTF, strerror(-err));
		goto out;
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		err = errno ? -errno : -EINVAL;
		sf_err("cannot load kernel BTF from %s: %s", VMLINUX_BTF, strerror(-err));
		goto out;
	}
	if (btf__find_by_name_kind(btf, SF_KFUNC_HANDOFF, BTF_KIND_FUNC) < 0) {
		err = -EOPNOTSUPP;
		sf_err("kernel lacks the kfunc %s: synfence needs Linux >= 6.9", SF_KFUNC_HANDOFF);
		goto out;
	}
out:
	btf__free(btf);
	return err;
}

int sf_check_syncookies(void)
{
	long v;
	int err = sf_sysctl_read_int("net.ipv4.tcp_syncookies", &v);

	if (err) {
		sf_err("cannot read sysctl net.ipv4.tcp_syncookies: %s", strerror(-err));
		return err;
	}
	if (v != 1 && v != 2) {
		sf_err("net.ipv4.tcp_syncookies is %ld: synfence needs 1 or 2 "
		       "(set it with: sysctl -w net.ipv4.tcp_syncookies=1)", v);
		return -EOPNOTSUPP;
	}
	return 0;
}

#define LOOPBACK_IFINDEX 1 /* every network namespace has lo, at ifindex 1 */

/* A tcx query on lo answers on kernels that have tcx (EINVAL: no such attach type); nothing is
 * attached. */
static bool tcx_available(void)
{
	__u32 ids[1], cnt = 1, flags = 0;

#ifdef SF_FAULT_INJECTION
	const char *hide = getenv("SF_FAULT_NO_TCX");

	if (hide && *hide && strcmp(hide, "0"))
		return false;
#endif
	return bpf_prog_query(LOOPBACK_IFINDEX, BPF_TCX_INGRESS, 0, &flags, ids, &cnt) == 0;
}

__u32 sf_probe_features(void)
{
	return SF_FEAT_HANDOFF_KFUNC | (tcx_available() ? SF_FEAT_TCX : 0);
}

void sf_features_text(__u32 features, char *buf, size_t len)
{
	snprintf(buf, len, "handoff in TC ingress (the cookie checked again from the packet, no XDP "
		 "metadata needed) by %s%s; TC attached as %s", SF_KFUNC_HANDOFF,
		 features & SF_FEAT_HANDOFF_KFUNC ? "" : " (MISSING)",
		 features & SF_FEAT_TCX ? "tcx links" : "clsact filters (no tcx: not kept across a restart)");
}
