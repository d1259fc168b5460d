/* preflight.h - what `run` checks before touching anything. Each prints one error line itself and
 * returns 0 or -errno. */
#ifndef SF_PREFLIGHT_H
#define SF_PREFLIGHT_H

#define SF_KFUNC_HANDOFF "bpf_sk_assign_tcp_reqsk"

int sf_check_root(void);
/* Kernel BTF present and it has the handoff kfunc (kernel >= 6.9). */
int sf_check_kernel(void);
/* net.ipv4.tcp_syncookies is 1 or 2 (with 0 the kernel resets handed-off connections). */
int sf_check_syncookies(void);

#endif
