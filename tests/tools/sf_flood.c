/* sf_flood.c - test tool: a Mpps-class flood of spoofed TCP SYNs or ACKs out of one interface,
 * bounded by a packet count and a number of seconds.
 *
 *   sf_flood -i IFACE -M DSTMAC -D DSTADDR -p DPORT -m syn|ack -n COUNT [-T SECONDS]
 *            [-s SRCPREFIX] [-K VALUE/MASK] [-r PPS] [-C CHUNK] [-c CPU] [-b BATCH] [-S SEED] [-j]
 *
 * The frames are written by an XDP program (tests/bpf/sf_gen.bpf.c, embedded as a skeleton) that
 * runs through BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES and returns XDP_TX: the kernel
 * transmits each frame on IFACE (on a veth it arrives at the peer, which must have an XDP program
 * attached for XDP frames to be delivered). No socket, no skb: several Mpps from one CPU.
 *
 *   -m syn   SYN with the options a Linux client sends: MSS 1460 (1440 over IPv6), SACK-permitted,
 *            timestamps (random TSval, ecr 0), NOP, window scale 7; window 64240; IPv4 DF, TTL 64.
 *   -m ack   ACK as a Linux client's final handshake ACK looks: NOP NOP timestamps (random TSval
 *            and TSecr), random seq and ack numbers, window 502: a forged cookie ACK.
 *   -K V/M   ACKs: (ack number - 1) & M = V, the other bits random (hex or decimal); e.g. a
 *            synfence cookie's epoch bits, -K 0x200/0x600 for epoch 1: forged ACKs that pass the
 *            cheap epoch test and cost the full hash, as from an attacker who has seen a SYN-ACK.
 *   -s       source prefix; each frame gets random host bits (default 198.19.0.0/16 for an IPv4
 *            DSTADDR, fd00:19::/64 for IPv6; IPv6 prefixes must be /64 or longer). Source ports are
 *            random in 1024..65535, sequence numbers, IPv4 ids and timestamps random.
 *   -n/-T    stop after COUNT frames or SECONDS seconds (default 10), whichever comes first; SIGINT
 *            and SIGTERM also stop it (after the running test-run call returns).
 *   -r PPS   pace to an average of PPS frames per second; default: as fast as possible.
 *   -C N     frames per test-run call (default 2000000 flat out, 128 with -r). Within a call the
 *            frames leave back to back at full speed; between calls there is a pause (each call
 *            waits for an RCU grace period: ~25 ms on the reference VM). So -r is an average, and
 *            for an exact count on a veth use chunks below its 256-frame ring (the -r default),
 *            which caps the rate near 128 frames per call pause (a few kpps).
 *   -c CPU   run on this CPU (the test run executes on the calling CPU).
 *   -b       frames per XDP_TX batch (1..256, default 64).
 *   -S       seed (default: from the clock): the same seed gives the same frames.
 *   -j       print the result as one JSON object instead of "sent N".
 *
 * Output: "sent N" (N = frames generated and handed to the device; the device may still drop some
 * when its peer's ring is full: see the veth's xdp_xmit_err counters), and on stderr the time and
 * rate. Exit status: 0 when all COUNT frames were sent, 3 when the time limit or a signal stopped it
 * first, 1 on error, 2 on usage error. Test tool only: run it inside a network namespace you own. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sf_gen.skel.h"
#include "sfi_common.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One's complement sum of native-order 16-bit words: the XDP program adds native words too, and
 * a checksum computed over native words and stored natively is the right one. */
static uint32_t nsum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	uint16_t w;

	for (; len >= 2; b += 2, len -= 2) {
		memcpy(&w, b, 2);
		s += w;
	}
	return s;
}

static void usage(void)
{
	fprintf(stderr, "usage: sf_flood -i IFACE -M DSTMAC -D DSTADDR -p DPORT -m syn|ack -n COUNT "
			"[-T SECONDS] [-s SRCPREFIX] [-K VALUE/MASK] [-r PPS] [-C CHUNK] [-c CPU] [-b BATCH] [-S SEED] [-j]\n");
	exit(2);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *dmac_s = NULL, *dst_s = NULL, *mode = NULL, *src_s = NULL;
	long long count = -1;
	long dport = -1, cpu = -1, batch = 64;
	long long chunk_opt = 0;
	unsigned long ack_value = 0, ack_mask = 0;
	char *kend;
	double pps = 0, maxsec = 10;
	uint64_t seed = 0;
	int opt, json = 0;

	while ((opt = getopt(argc, argv, "i:M:D:p:n:m:r:T:S:s:c:b:C:K:jh")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'M': dmac_s = optarg; break;
		case 'D': dst_s = optarg; break;
		case 'p': dport = strtol(optarg, NULL, 10); break;
		case 'n': count = strtoll(optarg, NULL, 10); break;
		case 'm': mode = optarg; break;
		case 'r': pps = strtod(optarg, NULL); break;
		case 'T': maxsec = strtod(optarg, NULL); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 's': src_s = optarg; break;
		case 'c': cpu = strtol(optarg, NULL, 10); break;
		case 'b': batch = strtol(optarg, NULL, 10); break;
		case 'C': chunk_opt = strtoll(optarg, NULL, 10); break;
		case 'K':
			ack_value = strtoul(optarg, &kend, 0);
			if (*kend != '/')
				usage();
			ack_mask = strtoul(kend + 1, NULL, 0);
			if (ack_mask > 0xffffffffUL || (ack_value & ~ack_mask))
				usage();
			break;
		case 'j': json = 1; break;
		default: usage();
		}
	}
	if (!ifname || !dmac_s || !dst_s || !mode || count < 0 || dport <= 0 || dport > 65535 ||
	    pps < 0 || maxsec <= 0 || batch < 1 || batch > 256 || chunk_opt < 0 ||
	    chunk_opt > 0xffffffffLL)
		usage();
	int ack;
	if (!strcmp(mode, "syn"))
		ack = 0;
	else if (!strcmp(mode, "ack"))
		ack = 1;
	else
		usage();

	uint8_t dmac[6], smac[6];
	if (parse_mac(dmac_s, dmac)) {
		fprintf(stderr, "sf_flood: bad MAC %s\n", dmac_s);
		return 2;
	}
	struct in6_addr d6, s6;
	struct in_addr d4, s4;
	int v6, plen;
	char sbuf[INET6_ADDRSTRLEN + 8];
	if (inet_pton(AF_INET, dst_s, &d4) == 1)
		v6 = 0;
	else if (inet_pton(AF_INET6, dst_s, &d6) == 1)
		v6 = 1;
	else {
		fprintf(stderr, "sf_flood: bad address %s\n", dst_s);
		return 2;
	}
	snprintf(sbuf, sizeof sbuf, "%s", src_s ? src_s : v6 ? "fd00:19::/64" : "198.19.0.0/16");
	char *slash = strchr(sbuf, '/');
	if (!slash) {
		fprintf(stderr, "sf_flood: source prefix %s: need ADDR/LEN\n", sbuf);
		return 2;
	}
	*slash = 0;
	plen = atoi(slash + 1);
	if (v6 ? inet_pton(AF_INET6, sbuf, &s6) != 1 || plen < 64 || plen > 128
	       : inet_pton(AF_INET, sbuf, &s4) != 1 || plen < 0 || plen > 32) {
		fprintf(stderr, "sf_flood: bad source prefix %s/%d for %s (IPv6: /64../128)\n", sbuf,
			plen, dst_s);
		return 2;
	}

	int ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "sf_flood: no interface %s\n", ifname);
		return 1;
	}
	{
		struct ifreq ifr;
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		memset(&ifr, 0, sizeof ifr);
		snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
		if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
			fprintf(stderr, "sf_flood: %s: %s\n", ifname, strerror(errno));
			return 1;
		}
		memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
		close(fd);
	}
	if (cpu >= 0) {
		cpu_set_t cs;

		CPU_ZERO(&cs);
		CPU_SET((int)cpu, &cs);
		if (sched_setaffinity(0, sizeof cs, &cs)) {
			fprintf(stderr, "sf_flood: cannot run on CPU %ld: %s\n", cpu, strerror(errno));
			return 1;
		}
	}
	if (!seed)
		seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)getpid() << 32);

	/* ---- the template frame ---- */
	uint8_t t[96];
	const int l4 = 14 + (v6 ? 40 : 20), tcplen = ack ? 32 : 40, len = l4 + tcplen;
	uint32_t ip_sum = 0, tcp_sum, mask[4] = { 0, 0, 0, 0 };
	uint16_t w;

	memset(t, 0, sizeof t);
	memcpy(t, dmac, 6);
	memcpy(t + 6, smac, 6);
	t[12] = v6 ? 0x86 : 0x08;
	t[13] = v6 ? 0xdd : 0x00;
	uint8_t *ip = t + 14, *tcp = t + l4;
	if (v6) {
		ip[0] = 0x60;
		w = htons((uint16_t)tcplen);
		memcpy(ip + 4, &w, 2);
		ip[6] = 6;
		ip[7] = 64;
		uint8_t m[16];
		for (int b = 0; b < 16; b++) {
			int bits = plen - b * 8;
			m[b] = bits >= 8 ? 0 : bits <= 0 ? 0xff : (uint8_t)(0xff >> bits);
			ip[8 + b] = s6.s6_addr[b] & (uint8_t)~m[b];
		}
		memcpy(mask, m, 16);
		memcpy(ip + 24, &d6, 16);
		tcp_sum = nsum(ip + 24, 16); /* daddr; saddr is added per frame */
	} else {
		uint32_t hm = plen == 0 ? 0xffffffffu : plen == 32 ? 0 : 0xffffffffu >> plen;

		ip[0] = 0x45;
		w = htons((uint16_t)(20 + tcplen));
		memcpy(ip + 2, &w, 2);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = 6;
		uint32_t sa = s4.s_addr & htonl(~hm);
		memcpy(ip + 12, &sa, 4);
		memcpy(ip + 16, &d4, 4);
		mask[0] = htonl(hm);
		ip_sum = nsum(ip, 12) + nsum(ip + 16, 4); /* without id (0 here) and saddr */
		tcp_sum = nsum(ip + 16, 4);
	}
	w = htons(6);
	tcp_sum += w;
	w = htons((uint16_t)tcplen);
	tcp_sum += w;
	w = htons((uint16_t)dport);
	memcpy(tcp + 2, &w, 2);
	tcp[12] = (uint8_t)((tcplen / 4) << 4);
	if (ack) {
		tcp[13] = 0x10;
		w = htons(502);
		memcpy(tcp + 14, &w, 2);
		uint8_t *o = tcp + 20;
		o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10; /* NOP NOP TS (TSval, TSecr per frame) */
	} else {
		tcp[13] = 0x02;
		w = htons(64240);
		memcpy(tcp + 14, &w, 2);
		uint8_t *o = tcp + 20;
		w = htons(v6 ? 1440 : 1460);
		o[0] = 2; o[1] = 4; memcpy(o + 2, &w, 2);   /* MSS */
		o[4] = 4; o[5] = 2;                         /* SACK permitted */
		o[6] = 8; o[7] = 10;                        /* TS: TSval per frame, ecr 0 */
		o[16] = 1;                                  /* NOP */
		o[17] = 3; o[18] = 3; o[19] = 7;            /* window scale 7 */
	}
	/* the template's TCP header (sport, seq, ack, TS values and checksum still 0) */
	tcp_sum += nsum(tcp, (size_t)tcplen);
	if (!v6) {
		/* saddr's prefix bits are in the template: the program adds the full address, so the
		 * template sums must not count them twice. They are not in ip_sum/tcp_sum: fine. */
	}

	/* ---- load ---- */
	libbpf_set_print(libbpf_quiet);
	struct sf_gen_bpf *skel = sf_gen_bpf__open();
	if (!skel) {
		fprintf(stderr, "sf_flood: cannot open the generator program\n");
		return 1;
	}
	memcpy((void *)skel->rodata->gen_cfg.tmpl, t, sizeof t);
	skel->rodata->gen_cfg.len = (uint32_t)len;
	skel->rodata->gen_cfg.ipv6 = (uint32_t)v6;
	skel->rodata->gen_cfg.ack = (uint32_t)ack;
	skel->rodata->gen_cfg.ip_sum = ip_sum;
	skel->rodata->gen_cfg.tcp_sum = tcp_sum;
	memcpy((void *)skel->rodata->gen_cfg.src_mask, mask, sizeof mask);
	skel->rodata->gen_cfg.seed = seed;
	skel->rodata->gen_cfg.ack_mask = (uint32_t)ack_mask;
	skel->rodata->gen_cfg.ack_value = (uint32_t)ack_value;
	if (sf_gen_bpf__load(skel)) {
		fprintf(stderr, "sf_flood: cannot load the generator program (root? kernel >= 5.18?)\n");
		return 1;
	}
	int prog = bpf_program__fd(skel->progs.sf_gen);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: a signal interrupts the running test run */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct xdp_md ctx_in = { .data = 0, .data_end = (__u32)len, .ingress_ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = t, .data_size_in = (__u32)len,
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof ctx_in,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = (__u32)batch);
	/* flat out: ~0.3 s per call at 6 Mpps, so the time limit and signals are seen often enough */
	uint64_t chunk = chunk_opt ? (uint64_t)chunk_opt : pps > 0 ? 128 : 2000000;
	int err = 0, why = 0; /* why: 0 count reached, 1 time limit, 2 signal */
	double t0 = now(), t1;
	for (;;) {
		uint64_t n = skel->bss->sent;

		if (n >= (uint64_t)count)
			break;
		t1 = now() - t0;
		if (stop) {
			why = 2;
			break;
		}
		if (t1 >= maxsec) {
			why = 1;
			break;
		}
		uint64_t c = (uint64_t)count - n < chunk ? (uint64_t)count - n : chunk;
		if (pps > 0) {
			double due = n / pps;
			if (due > t1) {
				double d = due - t1;
				struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };
				nanosleep(&ts, NULL);
				continue;
			}
		}
		o.repeat = (__u32)c;
		if (bpf_prog_test_run_opts(prog, &o)) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sf_flood: BPF_PROG_TEST_RUN (live frames) on %s: %s\n", ifname,
				strerror(errno));
			err = 1;
			break;
		}
	}
	t1 = now() - t0;
	unsigned long long sent = (unsigned long long)skel->bss->sent;
	sf_gen_bpf__destroy(skel);
	if (json)
		printf("{\"mode\":\"%s\",\"ipv6\":%s,\"sent\":%llu,\"seconds\":%.6f,\"pps\":%.0f,"
		       "\"stopped_by\":\"%s\",\"seed\":%llu}\n",
		       mode, v6 ? "true" : "false", sent, t1, t1 > 0 ? sent / t1 : 0.0,
		       err ? "error" : why == 0 ? "count" : why == 1 ? "time" : "signal",
		       (unsigned long long)seed);
	else
		printf("sent %llu\n", sent);
	fprintf(stderr, "sf_flood: %llu %s frames in %.3f s (%.2f Mpps) on %s\n", sent, mode, t1,
		t1 > 0 ? sent / t1 / 1e6 : 0.0, ifname);
	if (err)
		return 1;
	return why ? 3 : 0;
}
