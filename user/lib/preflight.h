/* lib/preflight.h - what `run` checks before touching anything. Each prints one error line itself and
 * returns 0 or -errno. */
#ifndef SF_PREFLIGHT_H
#define SF_PREFLIGHT_H

#include <stddef.h>
#include <linux/types.h>

#define SF_KFUNC_HANDOFF "bpf_sk_assign_tcp_reqsk"

int sf_check_root(void);
/* Kernel BTF present and it has the handoff kfunc (kernel >= 6.9). */
int sf_check_kernel(void);
/* net.ipv4.tcp_syncookies is 1 or 2 (with 0 the kernel resets handed-off connections). */
int sf_check_syncookies(void);

/* The optional kernel features run picks a path by (enum sf_feature_flags of synfence.h): the
 * required ones (SF_FEAT_HANDOFF_KFUNC) after sf_check_kernel passed, tcx (Linux >= 6.6; else TC
 * is a clsact filter). Prints nothing. In the fault-injection test build, SF_FAULT_NO_TCX=1 in the
 * environment hides tcx, so that the clsact path is tested on kernels that have tcx. */
__u32 sf_probe_features(void);
/* One line for the log and for status: "handoff in TC ..., tcx" (the path, then the features). */
void sf_features_text(__u32 features, char *buf, size_t len);

#endif
