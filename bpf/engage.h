/* engage.h - attack mode (engage = auto): an interface is calm or engaged, as the daemon decides
 * from its SYN rate (user/daemon/engage.c) and marks in sf_config.calm_slots. While calm, SYNs to
 * protected ports pass to the kernel, which answers them itself; while engaged (and always with
 * engage = always, calm_slots 0), synfence answers them with cookies. */
#ifndef SF_ENGAGE_H
#define SF_ENGAGE_H

/* 1 if the interface ifindex is calm. engage = always costs one test of a loaded config word. */
static __always_inline int sf_calm(const struct sf_config *cfg, __u32 ifindex)
{
	__u32 slot;

	if (__builtin_expect(!cfg->calm_slots, 1))
		return 0;
	slot = sf_slot_of(ifindex);
	return slot && slot < 64 && ((cfg->calm_slots >> slot) & 1); /* slot 0: never calm */
}

/* 1 if TC hands off only the cookies of an epoch <= *limit: in monitor mode (the SYN-ACKs XDP sent
 * before monitor mode began) and on a calm interface (those sent while it was engaged); 0: every
 * valid cookie. One mechanism for both switches: see sf_cookie_epoch_le (handoff.h). */
static __always_inline int sf_handoff_limited(const struct sf_config *cfg, __u32 ifindex, __u32 *limit)
{
	if (sf_monitor(cfg)) {
		*limit = cfg->monitor_epoch;
		return 1;
	}
	if (sf_calm(cfg, ifindex)) {
		*limit = cfg->engaged_epoch;
		return 1;
	}
	return 0;
}

#endif
