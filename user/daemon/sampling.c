/* daemon/sampling.c - packet sampling seen from `synfence run`: switched off when its holder is gone. */
#include "daemon/internal.h"
#include "lib/log.h"
#include "lib/sample.h"

/* Every tick: a holder that died (kill -9) or whose pid now names another process left sampling
 * on; nobody reads the ring, so it is switched off. */
void sampling_tick(struct daemon *d)
{
	__u32 pid;

	if (sf_sample_reap(d->map[SF_M_SAMPLE_CTL], &pid) == 1)
		sf_info("sampling switched off: its holder (pid %u) is gone", pid);
}
