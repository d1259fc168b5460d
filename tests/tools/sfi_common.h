/* sfi_common.h - helpers the packet-crafting test tools share: Internet checksums, MAC parsing. */
#ifndef SFI_COMMON_H
#define SFI_COMMON_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One's complement sum of big-endian 16-bit words (an odd trailing byte is padded with zero). */
static inline uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* Folds and complements; returns the checksum in network byte order. */
static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Fill in the checksums of a frame's IPv4 header (IPv4 only; its checksum field must be 0) and of
 * its TCP segment of tcplen bytes at tcp (checksum field 0), over the pseudo header from the IP
 * header at ip (IPv6 when v6). */
static inline void ip_tcp_csum(uint8_t *ip, int v6, uint8_t *tcp, size_t tcplen)
{
	uint32_t sum;

	if (v6) {
		sum = csum_add(0, ip + 8, 32);
	} else {
		uint16_t ipsum = csum_fold(csum_add(0, ip, 20));

		memcpy(ip + 10, &ipsum, 2);
		sum = csum_add(0, ip + 12, 8);
	}
	sum += 6 + (uint32_t)tcplen;
	uint16_t tsum = csum_fold(csum_add(sum, tcp, tcplen));
	memcpy(tcp + 16, &tsum, 2);
}

static inline int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

#endif
