/* fuzz_ports.c - libFuzzer target: the protected-port list parser (user/conf/ports.c).
 * Properties checked on every input, beyond "no crash, no ASan/UBSan report":
 *  - sf_parse_ports returns 0 or -EINVAL; on error the message is one non-empty line;
 *  - on success the canonical form (sf_format_ports) parses back to the same bitmap, formats to
 *    the same string, and sf_count_ports agrees with the bitmap; port 0 is never set;
 *  - a truncated sf_format_ports returns the full length and leaves a terminated prefix that
 *    ends at an item boundary; a tiny error buffer is still terminated. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/ports.h"
#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static __u64 bm[SF_PORT_WORDS], bm2[SF_PORT_WORDS];
static char canon[400000], canon2[400000];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[160], tiny[4];
	size_t n, n2, cut;
	unsigned cnt = 0;
	int rc, i;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	memset(err, 'x', sizeof(err));
	rc = sf_parse_ports(s, bm, err, sizeof(err));
	REQUIRE(rc == 0 || rc == -EINVAL);
	REQUIRE(memchr(err, 0, sizeof(err)));
	if (rc) {
		REQUIRE(err[0] && !strchr(err, '\n'));
		REQUIRE(sf_parse_ports(s, bm2, tiny, sizeof(tiny)) == rc && memchr(tiny, 0, sizeof(tiny)));
		REQUIRE(sf_parse_ports(s, bm2, NULL, 0) == rc);
		free(s);
		return 0;
	}
	REQUIRE(!(bm[0] & 1));
	for (i = 0; i < SF_PORT_WORDS; i++)
		cnt += (unsigned)__builtin_popcountll(bm[i]);
	REQUIRE(cnt == sf_count_ports(bm) && cnt > 0);
	n = sf_format_ports(bm, canon, sizeof(canon));
	REQUIRE(n < sizeof(canon) && strlen(canon) == n);
	REQUIRE(sf_parse_ports(canon, bm2, err, sizeof(err)) == 0);
	REQUIRE(!memcmp(bm, bm2, sizeof(bm)));
	n2 = sf_format_ports(bm2, canon2, sizeof(canon2));
	REQUIRE(n2 == n && !strcmp(canon, canon2));
	/* truncation: full length returned, a terminated prefix made of whole items */
	cut = size % (n + 1);
	if (cut) {
		char *t = malloc(cut);

		REQUIRE(t && sf_format_ports(bm, t, cut) == n);
		REQUIRE(strlen(t) < cut && !strncmp(t, canon, strlen(t)));
		REQUIRE(!t[0] || canon[strlen(t)] == ',' || canon[strlen(t)] == 0);
		free(t);
	}
	free(s);
	return 0;
}
