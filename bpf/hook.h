/* hook.h - what differs between the XDP and the TC context: where the frame is, how to copy from it. */
#ifndef SF_HOOK_H
#define SF_HOOK_H

/* The packet code shared by both programs takes the context as void * plus one of these; every
 * caller passes a constant, so after inlining only the right context fields and helpers remain
 * (an XDP helper in the TC program would not get past the verifier, nor the reverse). */
enum sf_hook {
	SF_HOOK_XDP, /* struct xdp_md */
	SF_HOOK_TC,  /* struct __sk_buff */
};

static __always_inline void *sf_hook_data(void *ctx, enum sf_hook hook)
{
	if (hook == SF_HOOK_TC)
		return (void *)(long)((struct __sk_buff *)ctx)->data;
	return (void *)(long)((struct xdp_md *)ctx)->data;
}

static __always_inline void *sf_hook_data_end(void *ctx, enum sf_hook hook)
{
	if (hook == SF_HOOK_TC)
		return (void *)(long)((struct __sk_buff *)ctx)->data_end;
	return (void *)(long)((struct xdp_md *)ctx)->data_end;
}

static __always_inline long sf_hook_load_bytes(void *ctx, enum sf_hook hook, __u32 off, void *to,
					       __u32 len)
{
	if (hook == SF_HOOK_TC)
		return bpf_skb_load_bytes(ctx, off, to, len);
	return bpf_xdp_load_bytes(ctx, off, to, len);
}

#endif
