/* lib/xdp_mode.h - the XDP mode run asks for (auto, native, generic): its name and its parsing,
 * apart from loader.h so that the config parser needs no libxdp. */
#ifndef SF_XDP_MODE_H
#define SF_XDP_MODE_H

#include <errno.h>
#include <string.h>

enum sf_mode_req {
	SF_MODE_AUTO,    /* native, falling back to generic with a warning */
	SF_MODE_NATIVE,
	SF_MODE_GENERIC,
};

static inline const char *sf_mode_req_name(enum sf_mode_req m)
{
	return m == SF_MODE_NATIVE ? "native" : m == SF_MODE_GENERIC ? "generic" : "auto";
}

/* "auto", "native" (or ip-link's "drv"), "generic" (or "skb"). Returns 0 or -EINVAL. */
static inline int sf_mode_req_parse(const char *v, enum sf_mode_req *m)
{
	if (!strcmp(v, "auto"))
		*m = SF_MODE_AUTO;
	else if (!strcmp(v, "native") || !strcmp(v, "drv"))
		*m = SF_MODE_NATIVE;
	else if (!strcmp(v, "generic") || !strcmp(v, "skb"))
		*m = SF_MODE_GENERIC;
	else
		return -EINVAL;
	return 0;
}

#endif
