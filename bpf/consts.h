/* consts.h - protocol constants (Ethernet, IP, TCP) that vmlinux.h does not carry as macros. */
#ifndef SF_CONSTS_H
#define SF_CONSTS_H

#define SF_ETH_ALEN     6
#define SF_ETH_P_IP     0x0800
#define SF_ETH_P_IPV6   0x86DD
#define SF_ETH_P_8021Q  0x8100
#define SF_ETH_P_8021AD 0x88A8
#define SF_MAX_VLAN_TAGS 2 /* 802.1ad outer + 802.1Q inner (QinQ) */

#define SF_IPV4_HDR_LEN   20 /* without options: what the SYN-ACK carries */
#define SF_IPV4_VERSION_IHL5 0x45
#define SF_IP_DF       0x4000
#define SF_IP_FRAGMASK 0x3fff /* MF | fragment offset */
#define SF_IPV6_HDR_LEN 40
#define SF_IPV6_VERSION_WORD 0x60000000 /* version 6, traffic class 0, flow label 0 */

/* IPv6 extension headers we walk (and one we never answer through). */
#define SF_NEXTHDR_HOP      0
#define SF_NEXTHDR_ROUTING  43
#define SF_NEXTHDR_FRAGMENT 44
#define SF_NEXTHDR_DEST     60
#define SF_MAX_EXT_HDRS     4
#define SF_IPV6_MAX_EXT_LEN 2048 /* (hdrlen 255 + 1) * 8 */
/* The furthest a TCP header sf_parse accepts can start: Ethernet, two VLAN tags, IPv6 and its
 * longest extension headers (IPv4 with options stays far below). */
#define SF_MAX_L4_OFF (14 + SF_MAX_VLAN_TAGS * 4 + SF_IPV6_HDR_LEN + SF_MAX_EXT_HDRS * SF_IPV6_MAX_EXT_LEN)
#define SF_L4_OFF_MASK 0x3fff /* >= SF_MAX_L4_OFF: see sf_l4_off() */

#define SF_TCP_HDR_LEN   20 /* without options */
#define SF_TCP_MAX_OPT_LEN 40
#define SF_TCP_FLAGS_OFF 13 /* byte offset of the flag bits in the TCP header */
#define SF_TCPF_FIN 0x01
#define SF_TCPF_SYN 0x02
#define SF_TCPF_RST 0x04
#define SF_TCPF_ACK 0x10
#define SF_TCPF_ECE 0x40
#define SF_TCPF_CWR 0x80

#define SF_TCPOPT_EOL       0
#define SF_TCPOPT_NOP       1
#define SF_TCPOPT_MSS       2
#define SF_TCPOPT_WSCALE    3
#define SF_TCPOPT_SACK_PERM 4
#define SF_TCPOPT_TS        8
#define SF_TCPOLEN_MSS       4
#define SF_TCPOLEN_WSCALE    3
#define SF_TCPOLEN_SACK_PERM 2
#define SF_TCPOLEN_TS        10
#define SF_TCP_MAX_WSCALE    14

/* 32-bit option words as they appear on the wire (host order here). */
#define SF_OPTW_MSS           0x02040000 /* | mss */
#define SF_OPTW_SACKPERM_TS   0x0402080a /* SACK_PERM, then TS kind/len: Linux's SYN-ACK layout */
#define SF_OPTW_NOP_NOP_TS    0x0101080a
#define SF_OPTW_NOP_NOP_SACKPERM 0x01010402
#define SF_OPTW_NOP_WSCALE    0x01030300 /* | shift */

/* TC's only verdict, TC_ACT_UNSPEC (TCX_NEXT for tcx): TC never decides a packet's fate, so the
 * programs and filters after it (of other tools) still run; with none, the packet goes on. */
#define SF_TC_ACT_NEXT (-1)

/* errno values returned by the handoff kfunc (vmlinux.h has no errno macros) */
#define SF_ENOMEM 12
#define SF_EINVAL 22

#endif
