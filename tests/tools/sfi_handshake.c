/* sfi_handshake.c - test tool: a TCP handshake by hand, from a spoofed source address, with a
 * chosen delay before the final ACK.
 *
 *   sfi_handshake -i IFACE -M DSTMAC -s SRCADDR -D DSTADDR -p DPORT [-P SPORT] [-d DELAY_MS]
 *                 [-x TSECR_XOR] [-a ACK_XOR] [-T] [-w TIMEOUT_MS] [-I IFACE2 -N DSTMAC2]
 *                 [-n COPIES] [-G]
 *
 * Sends a SYN (MSS 1460/1440, SACK-permitted, timestamps unless -T, window scale 7) from
 * SRCADDR:SPORT out of IFACE (AF_PACKET, so SRCADDR need not be local: the SYN-ACK is read from the
 * wire on IFACE), waits for the SYN-ACK, sleeps DELAY_MS, then sends the final ACK with
 * ack = SYN-ACK seq + 1 (XOR ACK_XOR) and, when the SYN-ACK had timestamps, TSecr = its TSval
 * (XOR TSECR_XOR). With -I/-N the final ACK leaves through IFACE2 to DSTMAC2 instead (another
 * server behind the same address: anycast/ECMP tests). Prints the SYN-ACK it got ("synack seq=... ts=yes|no tsval=... wscale=...
 * sack=yes|no mss=...") and "ack sent". With -n the final ACK is sent COPIES times, COPY_GAP_MS
 * apart (duplicates, each meeting what the one before made). With -G a "GET / HTTP/1.0" follows and
 * the first line of the server's first data segment is printed ("reply HTTP/1.1 200 OK").
 * Exit 0 when the ACK was sent (and with -G a reply came), 1 when no SYN-ACK (or reply) came within
 * TIMEOUT_MS (default 3000), 2 on usage errors. Test tool only. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sfi_common.h"

#define COPY_GAP_MS 100 /* between copies of the final ACK (-n) */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void usage(void)
{
	fprintf(stderr, "usage: sfi_handshake -i IFACE -M DSTMAC -s SRCADDR -D DSTADDR -p DPORT [-P SPORT] "
			"[-d DELAY_MS] [-x TSECR_XOR] [-a ACK_XOR] [-T] [-w TIMEOUT_MS] [-I IFACE2 -N DSTMAC2] "
			"[-n COPIES] [-G]\n");
	exit(2);
}

struct ctx {
	int v6;
	uint8_t smac[6], dmac[6];
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport; /* host order */
};

/* Build a frame with TCP flags, options and payload (pl, pllen); returns its length. */
static size_t build(const struct ctx *c, uint8_t *buf, uint32_t seq, uint32_t ack, uint8_t flags,
		    const uint8_t *opt, size_t optlen, const void *pl, size_t pllen)
{
	size_t iphl = c->v6 ? 40 : 20, hdrlen = 20 + optlen, tcplen = hdrlen + pllen;
	uint8_t *ip = buf + 14, *tcp = ip + iphl;

	memcpy(buf, c->dmac, 6);
	memcpy(buf + 6, c->smac, 6);
	buf[12] = c->v6 ? 0x86 : 0x08;
	buf[13] = c->v6 ? 0xdd : 0x00;
	memset(tcp, 0, tcplen);
	uint16_t sp = htons(c->sport), dp = htons(c->dport), win = htons(64240);
	uint32_t s = htonl(seq), a = htonl(ack);
	memcpy(tcp, &sp, 2);
	memcpy(tcp + 2, &dp, 2);
	memcpy(tcp + 4, &s, 4);
	memcpy(tcp + 8, &a, 4);
	tcp[12] = (uint8_t)((hdrlen / 4) << 4);
	tcp[13] = flags;
	memcpy(tcp + 14, &win, 2);
	memcpy(tcp + 20, opt, optlen);
	if (pllen)
		memcpy(tcp + hdrlen, pl, pllen);
	if (c->v6) {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		uint16_t plen = htons((uint16_t)tcplen);
		memcpy(ip + 4, &plen, 2);
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, c->saddr, 16);
		memcpy(ip + 24, c->daddr, 16);
	} else {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		uint16_t tot = htons((uint16_t)(20 + tcplen));
		memcpy(ip + 2, &tot, 2);
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, c->saddr, 4);
		memcpy(ip + 16, c->daddr, 4);
	}
	ip_tcp_csum(ip, c->v6, tcp, tcplen);
	return 14 + iphl + tcplen;
}

/* The next TCP segment of this connection from the server seen on fd before deadline: its TCP
 * header (in rb) and the length from there to the end of the IP payload; NULL at the deadline. */
static const uint8_t *wait_seg(int fd, const struct ctx *c, long long deadline, uint8_t *rb,
			       size_t rblen, size_t *seglen)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return NULL;
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		ssize_t n = recv(fd, rb, rblen, 0);
		if (n < 14)
			continue;
		uint16_t et = (uint16_t)(rb[12] << 8 | rb[13]);
		const uint8_t *ip = rb + 14, *tcp;
		size_t iplen;
		if (!c->v6 && et == 0x0800 && n >= 14 + 20 + 20) {
			size_t ihl = (ip[0] & 0xf) * 4u;
			if (ip[9] != 6 || memcmp(ip + 12, c->daddr, 4) || memcmp(ip + 16, c->saddr, 4) ||
			    (size_t)n < 14 + ihl + 20)
				continue;
			tcp = ip + ihl;
			iplen = (size_t)(ip[2] << 8 | ip[3]) - ihl;
		} else if (c->v6 && et == 0x86dd && n >= 14 + 40 + 20) {
			if (ip[6] != 6 || memcmp(ip + 8, c->daddr, 16) || memcmp(ip + 24, c->saddr, 16))
				continue;
			tcp = ip + 40;
			iplen = (size_t)(ip[4] << 8 | ip[5]);
		} else {
			continue;
		}
		if ((tcp[0] << 8 | tcp[1]) != c->dport || (tcp[2] << 8 | tcp[3]) != c->sport)
			continue;
		*seglen = iplen < (size_t)(rb + n - tcp) ? iplen : (size_t)(rb + n - tcp);
		return tcp;
	}
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *dmac_s = NULL, *src_s = NULL, *dst_s = NULL, *ifname2 = NULL,
		   *dmac2_s = NULL;
	long dport = -1, sport = 0, delay = 0, timeout = 3000, copies = 1;
	uint32_t tsecr_xor = 0, ack_xor = 0;
	int no_ts = 0, get = 0, opt;
	struct ctx c;

	memset(&c, 0, sizeof c);
	while ((opt = getopt(argc, argv, "i:M:s:D:p:P:d:x:a:Tw:I:N:n:Gh")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'M': dmac_s = optarg; break;
		case 's': src_s = optarg; break;
		case 'D': dst_s = optarg; break;
		case 'p': dport = strtol(optarg, NULL, 10); break;
		case 'P': sport = strtol(optarg, NULL, 10); break;
		case 'd': delay = strtol(optarg, NULL, 10); break;
		case 'x': tsecr_xor = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'a': ack_xor = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'T': no_ts = 1; break;
		case 'w': timeout = strtol(optarg, NULL, 10); break;
		case 'I': ifname2 = optarg; break;
		case 'N': dmac2_s = optarg; break;
		case 'n': copies = strtol(optarg, NULL, 10); break;
		case 'G': get = 1; break;
		default: usage();
		}
	}
	if (!ifname || !dmac_s || !src_s || !dst_s || dport <= 0 || dport > 65535 || sport < 0 ||
	    sport > 65535 || delay < 0 || timeout <= 0 || copies < 1 || copies > 100)
		usage();
	if (parse_mac(dmac_s, c.dmac) < 0 || !ifname2 != !dmac2_s)
		usage();
	if (inet_pton(AF_INET, src_s, c.saddr) == 1 && inet_pton(AF_INET, dst_s, c.daddr) == 1)
		c.v6 = 0;
	else if (inet_pton(AF_INET6, src_s, c.saddr) == 1 && inet_pton(AF_INET6, dst_s, c.daddr) == 1)
		c.v6 = 1;
	else {
		fprintf(stderr, "sfi_handshake: addresses must both be IPv4 or both IPv6\n");
		return 2;
	}
	srand((unsigned int)(time(NULL) ^ getpid()));
	c.sport = (uint16_t)(sport ? sport : 20000 + rand() % 40000);
	c.dport = (uint16_t)dport;

	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("sfi_handshake: socket(AF_PACKET)");
		return 1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "sfi_handshake: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	memcpy(c.smac, ifr.ifr_hwaddr.sa_data, 6);
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
		fprintf(stderr, "sfi_handshake: bind %s: %s\n", ifname, strerror(errno));
		return 1;
	}

	/* SYN */
	uint32_t isn = (uint32_t)rand() << 1 ^ (uint32_t)rand(), tsval = 1000000u + (uint32_t)(rand() % 1000);
	uint8_t o[20];
	size_t ol = 0;
	uint16_t mss = htons(c.v6 ? 1440 : 1460);
	o[ol++] = 2; o[ol++] = 4; memcpy(o + ol, &mss, 2); ol += 2;
	if (no_ts) {
		o[ol++] = 1; o[ol++] = 1; o[ol++] = 4; o[ol++] = 2; /* NOP NOP SACK-permitted */
	} else {
		uint32_t t = htonl(tsval);
		o[ol++] = 4; o[ol++] = 2; o[ol++] = 8; o[ol++] = 10;
		memcpy(o + ol, &t, 4); ol += 4;
		memset(o + ol, 0, 4); ol += 4;
	}
	o[ol++] = 1; o[ol++] = 3; o[ol++] = 3; o[ol++] = 7; /* NOP, wscale 7 */
	uint8_t frame[256];
	size_t len = build(&c, frame, isn, 0, 0x02, o, ol, NULL, 0);
	if (send(fd, frame, len, 0) != (ssize_t)len) {
		perror("sfi_handshake: send SYN");
		return 1;
	}

	/* wait for the SYN-ACK */
	long long deadline = now_ms() + timeout;
	uint32_t sa_seq = 0, sa_ack = 0, sa_tsval = 0;
	int got = 0, sa_ts = 0, sa_sack = 0, sa_ws = -1, sa_mss = -1;
	uint8_t rb[2048];
	const uint8_t *tcp;
	size_t seglen;
	while (!got && (tcp = wait_seg(fd, &c, deadline, rb, sizeof rb, &seglen))) {
		if ((tcp[13] & 0x12) != 0x12)
			continue;
		memcpy(&sa_seq, tcp + 4, 4);
		memcpy(&sa_ack, tcp + 8, 4);
		sa_seq = ntohl(sa_seq);
		sa_ack = ntohl(sa_ack);
		size_t doff = (tcp[12] >> 4) * 4u;
		const uint8_t *op = tcp + 20, *end = tcp + (doff < seglen ? doff : seglen);
		while (op < end) {
			if (op[0] == 0)
				break;
			if (op[0] == 1) {
				op++;
				continue;
			}
			if (op + 1 >= end || op[1] < 2 || op + op[1] > end)
				break;
			if (op[0] == 2 && op[1] == 4)
				sa_mss = op[2] << 8 | op[3];
			else if (op[0] == 3 && op[1] == 3)
				sa_ws = op[2];
			else if (op[0] == 4 && op[1] == 2)
				sa_sack = 1;
			else if (op[0] == 8 && op[1] == 10) {
				sa_ts = 1;
				memcpy(&sa_tsval, op + 2, 4);
				sa_tsval = ntohl(sa_tsval);
			}
			op += op[1];
		}
		got = 1;
	}
	if (!got) {
		printf("no synack within %ld ms\n", timeout);
		return 1;
	}
	printf("synack seq=%u ack_ok=%s ts=%s tsval=%u wscale=%d sack=%s mss=%d\n", sa_seq,
	       sa_ack == isn + 1 ? "yes" : "no", sa_ts ? "yes" : "no", sa_tsval, sa_ws, sa_sack ? "yes" : "no",
	       sa_mss);
	fflush(stdout);

	if (delay)
		usleep((useconds_t)delay * 1000);

	/* final ACK */
	ol = 0;
	if (sa_ts) {
		uint32_t t = htonl(tsval + 1 + (uint32_t)delay), e = htonl(sa_tsval ^ tsecr_xor);
		o[ol++] = 1; o[ol++] = 1; o[ol++] = 8; o[ol++] = 10;
		memcpy(o + ol, &t, 4); ol += 4;
		memcpy(o + ol, &e, 4); ol += 4;
	}
	if (ifname2) {
		/* the ACK goes to the other server */
		close(fd);
		fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
		memset(&ifr, 0, sizeof ifr);
		snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname2);
		if (fd < 0 || parse_mac(dmac2_s, c.dmac) < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
			fprintf(stderr, "sfi_handshake: %s: %s\n", ifname2, strerror(errno));
			return 1;
		}
		memcpy(c.smac, ifr.ifr_hwaddr.sa_data, 6);
		sll.sll_ifindex = (int)if_nametoindex(ifname2);
		if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
			fprintf(stderr, "sfi_handshake: bind %s: %s\n", ifname2, strerror(errno));
			return 1;
		}
	}
	len = build(&c, frame, isn + 1, (sa_seq + 1) ^ ack_xor, 0x10, o, ol, NULL, 0);
	for (long i = 0; i < copies; i++) {
		if (i)
			usleep(COPY_GAP_MS * 1000);
		if (send(fd, frame, len, 0) != (ssize_t)len) {
			perror("sfi_handshake: send ACK");
			return 1;
		}
	}
	printf("ack sent after %ld ms", delay);
	if (copies > 1)
		printf(", %ld copies %d ms apart", copies, COPY_GAP_MS);
	printf("\n");
	fflush(stdout);

	if (get) {
		static const char req[] = "GET / HTTP/1.0\r\n\r\n";
		len = build(&c, frame, isn + 1, sa_seq + 1, 0x18, o, ol, req, sizeof(req) - 1);
		if (send(fd, frame, len, 0) != (ssize_t)len) {
			perror("sfi_handshake: send request");
			return 1;
		}
		deadline = now_ms() + timeout;
		while ((tcp = wait_seg(fd, &c, deadline, rb, sizeof rb, &seglen))) {
			size_t doff = (tcp[12] >> 4) * 4u;
			if (seglen <= doff)
				continue;
			const char *d = (const char *)tcp + doff;
			int n = (int)strcspn(d, "\r\n");
			printf("reply %.*s\n", n < (int)(seglen - doff) ? n : (int)(seglen - doff), d);
			break;
		}
		if (!tcp) {
			printf("no reply within %ld ms\n", timeout);
			return 1;
		}
	}
	close(fd);
	return 0;
}
