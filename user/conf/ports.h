/* conf/ports.h - the protected-port list: "80,443,8000-8100" <-> the SF_PORT_WORDS bitmap of sf_ports.
 * Pure functions (no I/O, no globals): usable from unit tests and fuzzers. */
#ifndef SF_PORTS_H
#define SF_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "synfence.h"

/* Parse a comma-separated list of ports (1-65535) and inclusive ranges "LO-HI" (LO <= HI) into
 * bitmap (cleared first; port p is word p/64, bit p%64). Blanks around items and around the '-' are
 * allowed. Returns 0, or -EINVAL with a message naming the bad item in err (if err != NULL).
 * Overlapping and repeated items are fine. */
int sf_parse_ports(const char *list, __u64 bitmap[SF_PORT_WORDS], char *err, size_t errlen);

/* Write the canonical form of bitmap ("22,80,8000-8100", ascending, ranges merged) to buf.
 * Returns the length of the full string (like snprintf: may be >= len when truncated). */
size_t sf_format_ports(const __u64 bitmap[SF_PORT_WORDS], char *buf, size_t len);

/* Number of ports set in bitmap. */
unsigned int sf_count_ports(const __u64 bitmap[SF_PORT_WORDS]);

static inline bool sf_port_is_set(const __u64 bitmap[SF_PORT_WORDS], unsigned int port)
{
	return port < 65536 && (bitmap[port / 64] >> (port % 64)) & 1;
}

#endif
