/* sfi_sample.c - test tool: hold packet sampling through user/lib/sample.c and print the samples.
 *
 *   sfi_sample PIN_DIR COUNT TIMEOUT_MS [EVERY_TX EVERY_DROP EVERY_PASS [PER_CPU_SEC [IFINDEX]]]
 *
 * Claims sampling in PIN_DIR (every 1 1 1, 1000/s per CPU, any interface by default), prints
 * "holding" on stderr once it is on, then one JSON line per sample ({"ifindex":N,"class":"tx",
 * "reason":"synack_sent","frame_len":N,"cap_len":N,"every":N,"data":"HEX"}) until COUNT samples
 * (0: until a signal), TIMEOUT_MS or SIGINT/SIGTERM; switches sampling off on its way out.
 * Exit 0, 1 when sampling cannot be claimed (the library's message on stderr), 3 on a timeout
 * before COUNT samples. Test tool only: `synfence capture` and `top` are the real holders. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lib/sample.h"

static const char *const reason_names[SF_CNT_MAX] = {
#define SFI_NAME(name, help) #name,
	SF_COUNTERS(SFI_NAME)
#undef SFI_NAME
};
static const char *const class_names[SF_VC_MAX] = { "tx", "drop", "pass" };

static int print_sample(const struct sf_sample *s, void *arg)
{
	long *left = arg;

	printf("{\"ifindex\":%u,\"class\":\"%s\",\"reason\":\"%s\",\"frame_len\":%u,\"cap_len\":%u,"
	       "\"every\":%u,\"data\":\"", s->ifindex, s->vclass < SF_VC_MAX ? class_names[s->vclass] : "?",
	       s->reason < SF_CNT_MAX ? reason_names[s->reason] : "?", s->frame_len, s->cap_len,
	       s->every);
	for (int i = 0; i < s->cap_len && i < SF_SAMPLE_SNAP; i++)
		printf("%02x", s->data[i]);
	printf("\"}\n");
	fflush(stdout);
	return *left > 0 && --*left == 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct sf_sample_req req = { .every = { 1, 1, 1 }, .per_cpu_sec = 1000 };
	static volatile sig_atomic_t stop;
	struct sf_sampler *s;
	long long deadline;
	char err[256];
	long left;
	int rc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: sfi_sample PIN_DIR COUNT TIMEOUT_MS [EVERY_TX EVERY_DROP "
			"EVERY_PASS [PER_CPU_SEC [IFINDEX]]]\n");
		return 1;
	}
	left = atol(argv[2]);
	deadline = now_ms() + atol(argv[3]);
	for (int c = 0; c < SF_VC_MAX && argc > 4 + c; c++)
		req.every[c] = (__u32)atol(argv[4 + c]);
	if (argc > 7)
		req.per_cpu_sec = (__u32)atol(argv[7]);
	if (argc > 8)
		req.ifindex = (__u32)atol(argv[8]);
	sf_sampler_catch_signals(&stop);
	if (sf_sampler_open(argv[1], &req, &s, err, sizeof(err))) {
		fprintf(stderr, "sfi_sample: %s\n", err);
		return 1;
	}
	fprintf(stderr, "holding\n");
	while (!stop) {
		long long t = deadline - now_ms();
		int n;

		if (t <= 0) {
			rc = 3;
			break;
		}
		n = sf_sampler_poll(s, t > 200 ? 200 : (int)t, print_sample, &left);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "sfi_sample: poll: %d\n", n);
			rc = 1;
			break;
		}
		if (argv[2][0] != '0' && left == 0)
			break;
	}
	sf_sampler_close(s);
	return rc;
}
