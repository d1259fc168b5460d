/* require.h - the property check of the libFuzzer targets: a failed one aborts with its text. */
#ifndef SF_FUZZ_REQUIRE_H
#define SF_FUZZ_REQUIRE_H
#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(c)                                                                              \
	do {                                                                                    \
		if (!(c)) {                                                                     \
			fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__);     \
			abort();                                                                \
		}                                                                               \
	} while (0)

#endif
