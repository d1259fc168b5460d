/* lib/bpfobj.c - the BPF object: open and load the skeleton (declared in loader.h). */
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "lib/loader.h"

#include "synfence.skel.h"

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
