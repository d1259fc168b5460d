/* sfi_flood.c - test tool: send a bounded number of crafted TCP packets out of one interface.
 *
 *   sfi_flood -i IFACE -M DSTMAC -D DSTADDR -p DPORT -n COUNT -m syn|ack|frag
 *             [-r PPS] [-T MAXSECONDS] [-S SEED]
 *
 * Builds Ethernet + IPv4/IPv6 + TCP frames itself (full IP and TCP checksums) and sends them with an
 * AF_PACKET socket bound to IFACE, so the source addresses can be spoofed:
 *   IPv4: a random source in 198.18.1.0/24, IPv6: a random source in fd00:1::/64,
 *   random source port (1024..65535), random sequence number.
 *   -m syn: a SYN with the options a Linux client sends (MSS 1460/1440, SACK-permitted, timestamps,
 *           NOP, window scale 7).
 *   -m ack: a bare ACK (no options) with random seq and ack numbers.
 *   -m frag: IPv4 only: the SYN of -m syn as the first fragment of a larger datagram (MF set, offset
 *           0; the rest never comes).
 * Sending is paced at PPS packets per second (default 20000) in small bursts, so that a veth's
 * 256-slot ring is not overrun; it stops after COUNT packets or MAXSECONDS seconds (default 30),
 * whichever comes first. Prints "sent N" and exits 0 only if all COUNT packets were handed to the
 * kernel. Test tool only: run it inside a network namespace you own. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sfi_common.h"

#define BURST 16

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: sfi_flood -i IFACE -M DSTMAC -D DSTADDR -p DPORT -n COUNT -m syn|ack|frag "
			"[-r PPS] [-T MAXSECONDS] [-S SEED]\n");
	exit(2);
}

enum mode { M_ACK, M_SYN, M_FRAG };

/* Build one frame into buf, return its length. */
static size_t build(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6], int v6,
		    const struct in_addr *d4, const struct in6_addr *d6, uint16_t dport, enum mode mode)
{
	int syn = mode != M_ACK;
	uint8_t *eth = buf, *ip = buf + 14, *tcp;
	size_t iphl = v6 ? 40 : 20;
	size_t optlen = syn ? 20 : 0;
	size_t tcplen = 20 + optlen;

	memcpy(eth, dmac, 6);
	memcpy(eth + 6, smac, 6);
	eth[12] = v6 ? 0x86 : 0x08;
	eth[13] = v6 ? 0xdd : 0x00;

	tcp = ip + iphl;
	memset(tcp, 0, tcplen);
	uint16_t sport = htons((uint16_t)(1024 + rnd() % (65536 - 1024)));
	uint16_t dp = htons(dport);
	uint32_t seq = htonl((uint32_t)rnd()), ack = htonl(syn ? 0 : (uint32_t)rnd());
	memcpy(tcp + 0, &sport, 2);
	memcpy(tcp + 2, &dp, 2);
	memcpy(tcp + 4, &seq, 4);
	memcpy(tcp + 8, &ack, 4);
	tcp[12] = (uint8_t)((tcplen / 4) << 4);
	tcp[13] = syn ? 0x02 : 0x10; /* SYN : ACK */
	uint16_t win = htons(syn ? 64240 : 502);
	memcpy(tcp + 14, &win, 2);
	if (syn) {
		uint8_t *o = tcp + 20;
		uint16_t mss = htons(v6 ? 1440 : 1460);
		uint32_t tsval = htonl((uint32_t)rnd());
		o[0] = 2; o[1] = 4; memcpy(o + 2, &mss, 2);       /* MSS */
		o[4] = 4; o[5] = 2;                               /* SACK permitted */
		o[6] = 8; o[7] = 10; memcpy(o + 8, &tsval, 4);    /* timestamps, ecr 0 */
		memset(o + 12, 0, 4);
		o[16] = 1;                                        /* NOP */
		o[17] = 3; o[18] = 3; o[19] = 7;                  /* window scale 7 */
	}

	if (v6) {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		uint16_t plen = htons((uint16_t)tcplen);
		memcpy(ip + 4, &plen, 2);
		ip[6] = 6;  /* TCP */
		ip[7] = 64; /* hop limit */
		/* source fd00:1::/64, random interface id */
		static const uint8_t pfx[8] = { 0xfd, 0x00, 0x00, 0x01, 0, 0, 0, 0 };
		uint64_t iid = rnd() | 1;
		memcpy(ip + 8, pfx, 8);
		memcpy(ip + 16, &iid, 8);
		memcpy(ip + 24, d6, 16);
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		uint16_t tot = htons((uint16_t)(20 + tcplen));
		memcpy(ip + 2, &tot, 2);
		uint16_t id = htons((uint16_t)rnd());
		memcpy(ip + 4, &id, 2);
		ip[6] = mode == M_FRAG ? 0x20 : 0x40; /* MF (offset 0) : DF */
		ip[7] = 0;
		ip[8] = 64;
		ip[9] = 6;
		ip[10] = ip[11] = 0;
		ip[12] = 198; ip[13] = 18; ip[14] = 1;
		ip[15] = (uint8_t)(1 + rnd() % 254);
		memcpy(ip + 16, d4, 4);
	}
	ip_tcp_csum(ip, v6, tcp, tcplen);
	return 14 + iphl + tcplen;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *dmac_s = NULL, *dst_s = NULL, *mode = NULL;
	long count = -1, dport = -1;
	double pps = 20000, maxsec = 30;
	uint64_t seed = 0;
	int opt;

	while ((opt = getopt(argc, argv, "i:M:D:p:n:m:r:T:S:h")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'M': dmac_s = optarg; break;
		case 'D': dst_s = optarg; break;
		case 'p': dport = strtol(optarg, NULL, 10); break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'm': mode = optarg; break;
		case 'r': pps = strtod(optarg, NULL); break;
		case 'T': maxsec = strtod(optarg, NULL); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (!ifname || !dmac_s || !dst_s || !mode || count < 0 || dport <= 0 || dport > 65535 ||
	    pps <= 0 || maxsec <= 0)
		usage();
	enum mode m;
	if (!strcmp(mode, "syn"))
		m = M_SYN;
	else if (!strcmp(mode, "ack"))
		m = M_ACK;
	else if (!strcmp(mode, "frag"))
		m = M_FRAG;
	else
		usage();

	uint8_t dmac[6], smac[6];
	if (parse_mac(dmac_s, dmac)) {
		fprintf(stderr, "sfi_flood: bad MAC %s\n", dmac_s);
		return 2;
	}
	struct in_addr d4;
	struct in6_addr d6;
	int v6 = -1;
	if (inet_pton(AF_INET, dst_s, &d4) == 1)
		v6 = 0;
	else if (inet_pton(AF_INET6, dst_s, &d6) == 1)
		v6 = 1;
	if (v6 < 0) {
		fprintf(stderr, "sfi_flood: bad address %s\n", dst_s);
		return 2;
	}
	if (v6 && m == M_FRAG) {
		fprintf(stderr, "sfi_flood: -m frag is IPv4 only\n");
		return 2;
	}

	int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receive nothing */
	if (fd < 0) {
		perror("sfi_flood: socket(AF_PACKET)");
		return 1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "sfi_flood: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	sll.sll_protocol = 0;
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
		fprintf(stderr, "sfi_flood: bind %s: %s\n", ifname, strerror(errno));
		return 1;
	}

	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng_state = seed ? seed : 1;

	uint8_t frame[128];
	long sent = 0;
	int err = 0;
	double t0 = now();
	while (sent < count) {
		double t = now() - t0;
		if (t > maxsec) {
			fprintf(stderr, "sfi_flood: time limit of %.1f s reached\n", maxsec);
			break;
		}
		/* pacing: never be ahead of the schedule by more than one burst */
		double due = (double)sent / pps;
		if (due > t) {
			double d = due - t;
			struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };
			nanosleep(&ts, NULL);
		}
		for (int b = 0; b < BURST && sent < count; b++) {
			size_t len = build(frame, dmac, smac, v6, &d4, &d6, (uint16_t)dport, m);
			if (send(fd, frame, len, 0) != (ssize_t)len) {
				if (errno == ENOBUFS || errno == EAGAIN) {
					usleep(1000); /* queue full: back off, re-check the time limit */
					break;
				}
				perror("sfi_flood: send");
				err = 1;
				break;
			}
			sent++;
		}
		if (err)
			break;
	}
	close(fd);
	printf("sent %ld\n", sent);
	return sent == count ? 0 : 1;
}
