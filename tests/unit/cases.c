/* cases.c - test_xdp's case table (types and shorthands in cases.h), the default configuration the
 * cases change, and the frames a case sends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cases.h"
#include "expect.h"
#include "oracle.h"

/* raw option blocks for the malformed cases */
static const uint8_t opt_len0[] = { 2, 4, 0x05, 0xb4, 3, 0, 7, 1 };
static const uint8_t opt_len1[] = { 2, 4, 0x05, 0xb4, 4, 1, 1, 1 };
static const uint8_t opt_ts_overrun[] = { 2, 4, 0x05, 0xb4, 8, 10, 0, 0 };
static const uint8_t opt_mss_overrun[] = { 1, 1, 2, 4 };
static const uint8_t opt_unknown_overrun[] = { 2, 4, 0x05, 0xb4, 254, 40, 0, 0 };
static const uint8_t opt_kind_at_end[] = { 2, 4, 0x05, 0xb4, 1, 1, 1, 3 };
/* options after EOL must be ignored: MSS 1460, EOL, then a SACK_PERM and junk */
static const uint8_t opt_after_eol[] = { 2, 4, 0x05, 0xb4, 0, 4, 2, 0xff };

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
const struct tcase cases[] = {
	{ "oracle_selftest", S_ORACLE },

	/* --- SYN -> SYN-ACK, IPv4 --- */
	{ "syn4_linux", S_FRAME, SYN4(), SYNACK_OK },
	{ "syn4_no_options", S_FRAME, SYN4(.opts = NULL), SYNACK_OK },
	{ "syn4_mss_only", S_FRAME, SYN4(.opts = "M"), SYNACK_OK },
	{ "syn4_no_ts_sack_ws", S_FRAME, SYN4(.opts = "MNNSNW"), SYNACK_OK },
	{ "syn4_windows_order", S_FRAME, SYN4(.opts = "MNWNNS"), SYNACK_OK },
	{ "syn4_ts_only", S_FRAME, SYN4(.opts = "NNT"), SYNACK_OK },
	{ "syn4_ts_nonzero_ecr", S_FRAME, SYN4(.tsecr = 0x55aa55aa), SYNACK_OK },
	{ "syn4_ecn_setup", S_FRAME, SYN4(.flags = TF_SYN | TF_ECE | TF_CWR), SYNACK_OK },
	{ "syn4_ece_without_cwr", S_FRAME, SYN4(.flags = TF_SYN | TF_ECE), SYNACK_OK },
	{ "syn4_mss_1400", S_FRAME, SYN4(.mss = 1400), SYNACK_OK },
	{ "syn4_mss_1459", S_FRAME, SYN4(.mss = 1459), SYNACK_OK },
	{ "syn4_mss_9000", S_FRAME, SYN4(.mss = 9000), SYNACK_OK },
	{ "syn4_mss_1220", S_FRAME, SYN4(.mss = 1220), SYNACK_OK },
	{ "syn4_mss_536", S_FRAME, SYN4(.mss = 536), SYNACK_OK },
	{ "syn4_mss_500_below_table", S_FRAME, SYN4(.mss = 500), SYNACK_OK },
	{ "syn4_ws_0", S_FRAME, SYN4(.ws = 0), SYNACK_OK },
	{ "syn4_ws_14", S_FRAME, SYN4(.ws = 14), SYNACK_OK },
	{ "syn4_isn_wraps", S_FRAME, SYN4(.seq = 0xffffffff), SYNACK_OK },
	{ "syn4_ws_15_clamped_to_14", S_FRAME, SYN4(.ws = 15), SYNACK_OK },
	{ "syn4_ws_255_clamped_to_14", S_FRAME, SYN4(.ws = 255), SYNACK_OK },
	{ "syn4_mss_0", S_FRAME, SYN4(.mss = 0), SYNACK_OK },
	{ "syn4_with_payload", S_FRAME, SYN4(.paylen = 100), SYNACK_OK },
	{ "syn4_large_frame_shrinks", S_FRAME, SYN4(.paylen = 1400), SYNACK_OK },
	{ "syn4_psh_urg_flags", S_FRAME, SYN4(.flags = TF_SYN | TF_PSH | TF_URG), SYNACK_OK },
	{ "syn4_epoch_1", S_FRAME, SYN4(), SYNACK_OK, .epoch = 1 },
	{ "syn4_epoch_large", S_FRAME, SYN4(), SYNACK_OK, .epoch = 0xfffffff2u },
	{ "syn4_unknown_option", S_FRAME, SYN4(.opts = "MSTNWU"), SYNACK_OK },
	{ "syn4_options_after_eol_ignored", S_FRAME,
	  SYN4(.rawopt = opt_after_eol, .rawoptlen = sizeof(opt_after_eol)), SYNACK_OK },
	{ "syn4_port_8000", S_FRAME, SYN4(.dport = 8000), SYNACK_OK },
	{ "syn4_port_8050", S_FRAME, SYN4(.dport = 8050), SYNACK_OK },
	{ "syn4_port_8100", S_FRAME, SYN4(.dport = 8100), SYNACK_OK },
	{ "syn4_padded_to_60", S_FRAME, SYN4(.opts = NULL, .pad_to = 60), SYNACK_OK },
	{ "syn4_ip_options_ihl6", S_FRAME, SYN4(.ipoptlen = 4), SYNACK_OK },
	{ "syn4_ip_options_ihl8", S_FRAME, SYN4(.ipoptlen = 12), SYNACK_OK },
	{ "syn4_ip_options_ihl15", S_FRAME, SYN4(.ipoptlen = 40), SYNACK_OK },
	{ "syn4_vlan", S_FRAME, SYN4(VLAN1), SYNACK_OK },
	{ "syn4_qinq", S_FRAME, SYN4(QINQ), SYNACK_OK },
	{ "syn4_qinq_ip_options", S_FRAME, SYN4(QINQ, .ipoptlen = 8), SYNACK_OK },
	{ "syn4_to_listener", S_FRAME, LSYN4(), SYNACK_OK },

	/* --- SYN -> SYN-ACK, IPv6 --- */
	{ "syn6_linux", S_FRAME, SYN6(), SYNACK_OK },
	{ "syn6_no_options", S_FRAME, SYN6(.opts = NULL), SYNACK_OK },
	{ "syn6_mss_536_raised_to_1220", S_FRAME, SYN6(.mss = 536), SYNACK_OK },
	{ "syn6_mss_1300", S_FRAME, SYN6(.mss = 1300), SYNACK_OK },
	{ "syn6_with_payload", S_FRAME, SYN6(.paylen = 64), SYNACK_OK },
	{ "syn6_windows_order", S_FRAME, SYN6(.opts = "MNWNNS"), SYNACK_OK },
	{ "syn6_ecn_setup", S_FRAME, SYN6(.flags = TF_SYN | TF_ECE | TF_CWR), SYNACK_OK },
	{ "syn6_ext_hbh_dstopts", S_FRAME, SYN6(.v6ext = V6X_HBH | V6X_DST), SYNACK_OK },
	{ "syn6_vlan", S_FRAME, SYN6(VLAN1), SYNACK_OK },
	{ "syn6_qinq", S_FRAME, SYN6(QINQ), SYNACK_OK },
	{ "syn6_qinq_ext_hbh", S_FRAME, SYN6(QINQ, .v6ext = V6X_HBH), SYNACK_OK },
	{ "syn6_ext_routing_srh", S_FRAME, SYN6(.v6ext = V6X_RH), SYNACK_OK },
	{ "syn6_ext_hbh_dst_srh", S_FRAME, SYN6(.v6ext = V6X_HBH | V6X_DST | V6X_RH), SYNACK_OK },
	/* segments left: a hop on the route, not for us (the kernel forwards or refuses it) */
	{ "syn6_srh_segments_left_passes", S_FRAME, SYN6(.v6ext = V6X_RH, .v6rh_left = 1),
	  PASS_QUIET },
	{ "ack6_srh_segments_left_passes", S_FRAME,
	  SYN6(.v6ext = V6X_RH, .v6rh_left = 2, .flags = TF_ACK), PASS_QUIET },
	{ "syn6_ext_4_dstopts_walked", S_FRAME, SYN6(.v6ext = V6X_DST, .v6ndst = 4), SYNACK_OK },
	{ "syn6_to_listener", S_FRAME, LSYN6(), SYNACK_OK },

	/* --- config switched --- */
	{ "cfg_no_timestamps", S_FRAME, SYN4(), SYNACK_OK, .cfg_clear = SF_CFG_TIMESTAMPS },
	{ "cfg_no_sack", S_FRAME, SYN4(), SYNACK_OK, .cfg_clear = SF_CFG_SACK },
	{ "cfg_no_wscale", S_FRAME, SYN4(), SYNACK_OK, .cfg_clear = SF_CFG_WSCALE },
	{ "cfg_no_ecn", S_FRAME, SYN4(.flags = TF_SYN | TF_ECE | TF_CWR), SYNACK_OK,
	  .cfg_clear = SF_CFG_ECN },
	{ "cfg_all_off_v6", S_FRAME, SYN6(.flags = TF_SYN | TF_ECE | TF_CWR), SYNACK_OK,
	  .cfg_clear = SF_CFG_TIMESTAMPS | SF_CFG_SACK | SF_CFG_WSCALE | SF_CFG_ECN },
	{ "cfg_disabled_passes", S_FRAME, SYN4(), .verdicts = V_PASS, .cfg_clear = SF_CFG_ENABLED,
	  .dontcare = DC(syn_recv) },
	{ "cfg_disabled_syn_fin_passes", S_FRAME, SYN4(.flags = TF_SYN | TF_FIN), .verdicts = V_PASS,
	  .cfg_clear = SF_CFG_ENABLED, .dontcare = DC(syn_recv) },
	{ "cfg_disabled_malformed_passes", S_FRAME, SYN4(.opts = NULL, .doff = 15),
	  .verdicts = V_PASS, .cfg_clear = SF_CFG_ENABLED, .dontcare = DC(syn_recv) },
	{ "cfg_disabled_forged_ack_passes", S_ACK, LSYN4(), .verdicts = V_PASS,
	  .cfg_clear = SF_CFG_ENABLED, .am = { .flip = 1u << 12 } },
	{ "no_secret_syn_passes", S_FRAME, SYN4(), .verdicts = V_PASS, .no_secret = 1,
	  .delta = { D(pass_no_secret) }, .dontcare = DC(syn_recv) },
	{ "no_secret_ack_passes", S_ACK, LSYN4(), .verdicts = V_PASS, .no_secret = 1,
	  .delta = { D(pass_no_secret) } },

	/* --- the final ACK (to a real listener on lo, so the socket lookup finds it) --- */
	{ "ack4_valid", S_ACK, LSYN4(), ACK_OK },
	{ "ack4_valid_no_ts", S_ACK, LSYN4(.opts = "MNNSNW"), ACK_OK },
	{ "ack4_valid_no_options", S_ACK, LSYN4(.opts = NULL), ACK_OK },
	{ "ack4_valid_ecn", S_ACK, LSYN4(.flags = TF_SYN | TF_ECE | TF_CWR), ACK_OK },
	{ "ack4_valid_mss_9000_ws_14", S_ACK, LSYN4(.mss = 9000, .ws = 14), ACK_OK },
	{ "ack4_valid_ws_0", S_ACK, LSYN4(.ws = 0, .mss = 1300), ACK_OK },
	{ "ack4_valid_with_data", S_ACK, LSYN4(), ACK_OK,
	  .am = { .paylen = 100, .flags = TF_ACK | TF_PSH } },
	{ "ack4_valid_vlan", S_ACK, LSYN4(VLAN1), ACK_OK },
	{ "ack4_valid_qinq", S_ACK, LSYN4(QINQ), ACK_OK },
	{ "ack4_valid_ip_options", S_ACK, LSYN4(.ipoptlen = 8), ACK_OK },
	{ "ack4_valid_qinq_ip_options_ihl15", S_ACK, LSYN4(QINQ, .ipoptlen = 40), ACK_OK },
	{ "ack4_valid_prev_epoch", S_ACK, LSYN4(), ACK_OK, .am = { .epoch_delta = -1 } },
	{ "ack4_epoch_minus_2", S_ACK, LSYN4(), ACK_BAD_EPOCH, .am = { .epoch_delta = -2 } },
	{ "ack4_epoch_plus_1", S_ACK, LSYN4(), ACK_BAD_EPOCH, .am = { .epoch_delta = 1 } },
	{ "ack4_hash_bit_11_flipped", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .flip = 1u << 11 } },
	{ "ack4_hash_bit_31_flipped", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .flip = 1u << 31 } },
	{ "ack4_mss_bits_altered", S_ACK, LSYN4(), ACK_BAD_HASH,
	  .am = { .flip = 1u << SF_COOKIE_MSS_SHIFT } },
	{ "ack4_ws_bits_altered", S_ACK, LSYN4(), ACK_BAD_HASH,
	  .am = { .flip = 1u << SF_COOKIE_WS_SHIFT } },
	{ "ack4_sack_bit_altered", S_ACK, LSYN4(), ACK_BAD_HASH,
	  .am = { .flip = 1u << SF_COOKIE_SACK_SHIFT } },
	{ "ack4_tsecr_altered", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .tsecr_delta = 1 } },
	{ "ack4_ts_missing", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .no_ts = 1 } },
	{ "ack4_other_source_port", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .sport_delta = 1 } },
	{ "ack4_other_source_address", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .saddr_delta = 1 } },
	/* the wildcard listener on wport takes ACKs to any address: a valid one to 127.0.0.3 passes,
	 * one whose SYN went to 127.0.0.1 (or to lport) reaches the cookie check and is dropped */
	{ "ack4_valid_wildcard_listener", S_ACK, LSYN4(.dport = WPORT, .daddr = { 127, 0, 0, 3 }),
	  ACK_OK },
	{ "ack4_other_destination_address", S_ACK, LSYN4(.dport = WPORT), ACK_BAD_HASH,
	  .am = { .daddr_delta = 2 } },
	{ "ack4_other_destination_port", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .to_wport = 1 } },
	{ "ack4_wrong_seq", S_ACK, LSYN4(), ACK_BAD_HASH, .am = { .seq_delta = 1 } },
	{ "ack4_malformed_options", S_ACK, LSYN4(), ACK_MALFORMED,
	  .am = { .rawopt = opt_len0, .rawoptlen = sizeof(opt_len0) } },
	{ "ack4_option_overruns_header", S_ACK, LSYN4(), ACK_MALFORMED,
	  .am = { .rawopt = opt_ts_overrun, .rawoptlen = sizeof(opt_ts_overrun) } },
	{ "ack4_doff_beyond_frame", S_ACK, LSYN4(), ACK_MALFORMED, .am = { .doff = 15 } },
	{ "ack4_doff_4", S_ACK, LSYN4(), ACK_MALFORMED, .am = { .doff = 4 } },
	{ "ack6_malformed_options", S_ACK, LSYN6(), ACK_MALFORMED,
	  .am = { .rawopt = opt_len1, .rawoptlen = sizeof(opt_len1) } },
	{ "ack4_no_listener_passes", S_ACK, LSYN4(), .verdicts = V_PASS,
	  .delta = { D(ack_no_listener) }, .am = { .to_nowhere = 1 } },
	{ "ack4_forged_no_listener_passes", S_ACK, LSYN4(), .verdicts = V_PASS,
	  .delta = { D(ack_no_listener) }, .am = { .to_nowhere = 1, .flip = 1u << 20 } },
	{ "ack4_epoch_1_valid", S_ACK, LSYN4(), ACK_OK, .epoch = 1 },
	{ "ack4_epoch_1_prev_is_no_secret", S_ACK, LSYN4(), ACK_BAD_EPOCH, .epoch = 1,
	  .am = { .epoch_delta = -1 } },
	{ "ack4_epoch_bits_wrap_prev_valid", S_ACK, LSYN4(), ACK_OK, .epoch = 4,
	  .am = { .epoch_delta = -1 } },
	{ "ack4_epoch_bits_wrap_minus_2", S_ACK, LSYN4(), ACK_BAD_EPOCH, .epoch = 4,
	  .am = { .epoch_delta = -2 } },
	{ "ack6_no_listener_passes", S_ACK, LSYN6(), .verdicts = V_PASS,
	  .delta = { D(ack_no_listener) }, .am = { .to_nowhere = 1 } },
	{ "ack6_valid", S_ACK, LSYN6(), ACK_OK },
	{ "ack6_valid_no_options", S_ACK, LSYN6(.opts = NULL), ACK_OK },
	{ "ack6_valid_ecn", S_ACK, LSYN6(.flags = TF_SYN | TF_ECE | TF_CWR), ACK_OK },
	{ "ack6_valid_no_ts", S_ACK, LSYN6(.opts = "MNNSNW"), ACK_OK },
	{ "ack6_valid_prev_epoch", S_ACK, LSYN6(), ACK_OK, .am = { .epoch_delta = -1 } },
	{ "ack6_epoch_minus_2", S_ACK, LSYN6(), ACK_BAD_EPOCH, .am = { .epoch_delta = -2 } },
	{ "ack6_hash_bit_flipped", S_ACK, LSYN6(), ACK_BAD_HASH, .am = { .flip = 1u << 15 } },
	{ "ack6_tsecr_altered", S_ACK, LSYN6(), ACK_BAD_HASH, .am = { .tsecr_delta = -1 } },
	{ "ack6_other_source_port", S_ACK, LSYN6(), ACK_BAD_HASH, .am = { .sport_delta = 1 } },
	{ "ack6_other_source_address", S_ACK, LSYN6(), ACK_BAD_HASH, .am = { .saddr_delta = 1 } },
	{ "ack6_valid_wildcard_listener", S_ACK, LSYN6(.dport = WPORT), ACK_OK },
	{ "ack6_other_destination_address", S_ACK, LSYN6(.dport = WPORT), ACK_BAD_HASH,
	  .am = { .daddr_delta = 2 } },
	{ "ack6_other_destination_port", S_ACK, LSYN6(), ACK_BAD_HASH, .am = { .to_wport = 1 } },
	{ "ack6_valid_ext_hbh_dstopts", S_ACK, LSYN6(.v6ext = V6X_HBH | V6X_DST), ACK_OK },
	{ "ack6_valid_ext_routing_srh", S_ACK, LSYN6(.v6ext = V6X_RH), ACK_OK },
	{ "ack6_valid_qinq_ext_hbh_dst", S_ACK, LSYN6(QINQ, .v6ext = V6X_HBH | V6X_DST), ACK_OK },
	{ "roundtrip4", S_RT, LSYN4(),
	  .delta = { D(syn_recv), D(synack_sent), D(ack_cookie_ok) } },
	{ "roundtrip4_no_ts_ecn", S_RT, LSYN4(.opts = "MNWNNS", .flags = TF_SYN | TF_ECE | TF_CWR),
	  .delta = { D(syn_recv), D(synack_sent), D(ack_cookie_ok) } },
	{ "roundtrip6", S_RT, LSYN6(),
	  .delta = { D(syn_recv), D(synack_sent), D(ack_cookie_ok) } },
	{ "roundtrip6_ext_routing_srh", S_RT, LSYN6(.v6ext = V6X_RH),
	  .delta = { D(syn_recv), D(synack_sent), D(ack_cookie_ok) } },
	{ "established_ack_passes", S_EST, .verdicts = V_PASS, .delta = { D(est_pass) } },

	/* --- TC alone: it checks every cookie itself, whatever XDP did or did not see --- */
	{ "tc_ack4_valid", S_ACK, LSYN4(), TC_HANDOFF },
	{ "tc_ack4_valid_no_ts", S_ACK, LSYN4(.opts = "MNNSNW"), TC_HANDOFF },
	{ "tc_ack4_valid_ecn_ws_14", S_ACK, LSYN4(.flags = TF_SYN | TF_ECE | TF_CWR, .ws = 14),
	  TC_HANDOFF },
	{ "tc_ack4_valid_no_options", S_ACK, LSYN4(.opts = NULL), TC_HANDOFF },
	{ "tc_ack4_valid_with_data", S_ACK, LSYN4(), TC_HANDOFF,
	  .am = { .paylen = 100, .flags = TF_ACK | TF_PSH } },
	{ "tc_ack4_valid_vlan", S_ACK, LSYN4(VLAN1), TC_HANDOFF },
	{ "tc_ack4_valid_qinq_ip_options", S_ACK, LSYN4(QINQ, .ipoptlen = 8), TC_HANDOFF },
	{ "tc_ack4_valid_prev_epoch", S_ACK, LSYN4(), TC_HANDOFF, .am = { .epoch_delta = -1 } },
	{ "tc_ack4_valid_wildcard_listener", S_ACK, LSYN4(.dport = WPORT, .daddr = { 127, 0, 0, 3 }),
	  TC_HANDOFF },
	{ "tc_ack6_valid", S_ACK, LSYN6(), TC_HANDOFF },
	{ "tc_ack6_valid_ext_hbh_dstopts", S_ACK, LSYN6(.v6ext = V6X_HBH | V6X_DST), TC_HANDOFF },
	{ "tc_ack6_valid_qinq_ext_hbh_dst", S_ACK, LSYN6(QINQ, .v6ext = V6X_HBH | V6X_DST),
	  TC_HANDOFF },
	{ "tc_ack4_forged_hash", S_ACK, LSYN4(), TC_REFUSED, .am = { .flip = 1u << 20 } },
	{ "tc_ack4_forged_tsecr", S_ACK, LSYN4(), TC_REFUSED, .am = { .tsecr_delta = 1 } },
	{ "tc_ack4_forged_mss_bits", S_ACK, LSYN4(), TC_REFUSED,
	  .am = { .flip = 1u << SF_COOKIE_MSS_SHIFT } },
	{ "tc_ack4_expired_epoch", S_ACK, LSYN4(), TC_REFUSED, .am = { .epoch_delta = -2 } },
	{ "tc_ack4_other_source_port", S_ACK, LSYN4(), TC_REFUSED, .am = { .sport_delta = 1 } },
	{ "tc_ack4_malformed_options", S_ACK, LSYN4(), TC_REFUSED,
	  .am = { .rawopt = opt_len0, .rawoptlen = sizeof(opt_len0) } },
	{ "tc_ack4_doff_beyond_frame", S_ACK, LSYN4(), TC_REFUSED, .am = { .doff = 15 } },
	{ "tc_ack6_forged_hash", S_ACK, LSYN6(), TC_REFUSED, .am = { .flip = 1u << 15 } },
	{ "tc_ack6_forged_ext_hbh_dst", S_ACK, LSYN6(.v6ext = V6X_HBH | V6X_DST), TC_REFUSED,
	  .am = { .flip = 1u << 25 } },
	{ "tc_ack4_forged_qinq", S_ACK, LSYN4(QINQ), TC_REFUSED, .am = { .flip = 1u << 30 } },
	{ "tc_ack4_no_secret", S_ACK, LSYN4(), TC_QUIET, .no_secret = 1 },
	/* monitor mode (every case also runs as its twin "monitor:NAME", see monitor_twin): TC
	 * still hands off the final ACK of a SYN-ACK XDP sent before the switch (cookie epoch <=
	 * monitor_epoch), and nothing else */
	{ "monitor_tc_ack4_cookie_from_before_switch", S_ACK, LSYN4(), TC_HANDOFF,
	  .cfg_set = SF_CFG_MONITOR, .monitor_epoch = TEST_EPOCH },
	{ "monitor_tc_ack4_prev_epoch_from_before_switch", S_ACK, LSYN4(), TC_HANDOFF,
	  .cfg_set = SF_CFG_MONITOR, .monitor_epoch = TEST_EPOCH - 1, .am = { .epoch_delta = -1 } },
	{ "monitor_tc_ack4_cookie_after_switch", S_ACK, LSYN4(), TC_QUIET,
	  .cfg_set = SF_CFG_MONITOR, .monitor_epoch = TEST_EPOCH - 1 },
	{ "monitor_tc_ack6_forged_not_counted", S_ACK, LSYN6(), TC_QUIET,
	  .cfg_set = SF_CFG_MONITOR, .monitor_epoch = TEST_EPOCH, .am = { .flip = 1u << 15 } },
	{ "monitor_ack4_cookie_from_before_switch", S_ACK, LSYN4(), ACK_OK,
	  .cfg_set = SF_CFG_MONITOR, .monitor_epoch = TEST_EPOCH },
	{ "monitor_ack4_forged_passes", S_ACK, LSYN4(), .verdicts = V_PASS,
	  .delta = { D(ack_cookie_bad), D(ack_bad_hash), D(monitor_pass) },
	  .cfg_set = SF_CFG_MONITOR, .monitor_epoch = TEST_EPOCH, .am = { .flip = 1u << 20 } },
	/* attack mode (engage = auto): a calm interface's SYNs pass to the kernel; an engaged one
	 * answers as always; TC hands off the cookies of SYN-ACKs sent while engaged (epoch <=
	 * engaged_epoch) in both states */
	{ "calm_syn4_passes_to_kernel", S_FRAME, SYN4(), .verdicts = V_PASS,
	  .delta = { D(syn_recv), D(syn_pass_calm) }, CALM },
	{ "calm_syn6_passes_to_kernel", S_FRAME, SYN6(), .verdicts = V_PASS,
	  .delta = { D(syn_recv), D(syn_pass_calm) }, CALM },
	{ "calm_syn4_fin_passes_to_kernel", S_FRAME, SYN4(.flags = TF_SYN | TF_FIN), .verdicts = V_PASS,
	  .delta = { D(syn_recv), D(syn_pass_calm) }, CALM },
	{ "engaged_syn4_synack", S_FRAME, SYN4(), SYNACK_OK, OTHER_CALM, .engaged_epoch = TEST_EPOCH },
	{ "engaged_syn6_synack", S_FRAME, SYN6(), SYNACK_OK, OTHER_CALM },
	{ "calm_ack4_cookie_from_engaged", S_ACK, LSYN4(), ACK_OK, CALM, .engaged_epoch = TEST_EPOCH },
	{ "engaged_ack4_cookie", S_ACK, LSYN4(), ACK_OK, OTHER_CALM },
	{ "calm_tc_ack4_cookie_from_engaged", S_ACK, LSYN4(), TC_HANDOFF, CALM,
	  .engaged_epoch = TEST_EPOCH },
	{ "calm_tc_ack6_cookie_from_engaged", S_ACK, LSYN6(), TC_HANDOFF, CALM,
	  .engaged_epoch = TEST_EPOCH },
	{ "calm_tc_ack4_prev_epoch_from_engaged", S_ACK, LSYN4(), TC_HANDOFF, CALM,
	  .engaged_epoch = TEST_EPOCH - 1, .am = { .epoch_delta = -1 } },
	{ "calm_tc_ack4_cookie_after_disengage", S_ACK, LSYN4(), TC_QUIET, CALM,
	  .engaged_epoch = TEST_EPOCH - 1 },
	{ "engaged_tc_ack4_cookie", S_ACK, LSYN4(), TC_HANDOFF, OTHER_CALM, .engaged_epoch = 0 },
	{ "calm_tc_ack4_forged_not_counted", S_ACK, LSYN4(), TC_QUIET, CALM,
	  .engaged_epoch = TEST_EPOCH, .am = { .flip = 1u << 15 } },
	{ "calm_ack4_forged_passes", S_ACK, LSYN4(), .verdicts = V_PASS,
	  .delta = { D(ack_cookie_bad), D(ack_bad_hash) }, CALM, .engaged_epoch = TEST_EPOCH,
	  .am = { .flip = 1u << 20 } },
	{ "engaged_ack4_forged_dropped", S_ACK, LSYN4(), .verdicts = V_DROP,
	  .delta = { D(ack_cookie_bad), D(ack_bad_hash) }, OTHER_CALM, .am = { .flip = 1u << 20 } },
	{ "tc_ack4_disabled", S_ACK, LSYN4(), TC_QUIET, .cfg_clear = SF_CFG_ENABLED },
	{ "tc_ack4_no_socket", S_ACK, LSYN4(), TC_QUIET, .am = { .to_nowhere = 1 } },
	{ "tc_ack4_rst", S_ACK, LSYN4(), TC_QUIET, .am = { .flags = TF_ACK | TF_RST } },
	{ "tc_established", S_EST, TC_QUIET },
	{ "tc_syn4", S_FRAME, LSYN4(), TC_QUIET },
	{ "tc_synack4", S_FRAME, LSYN4(.flags = TF_SYN | TF_ACK), TC_QUIET },
	{ "tc_ack4_unprotected_port", S_FRAME, SYN4(.dport = 81, .flags = TF_ACK, .opts = "NNT"),
	  TC_QUIET },
	{ "tc_ack6_unprotected_port", S_FRAME, SYN6(.dport = 81, .flags = TF_ACK, .opts = "NNT"),
	  TC_QUIET },
	{ "tc_arp", S_ARP, TC_QUIET },
	/* cut at every length: never a handoff; a listener-bound segment whose options are cut
	 * is refused (handoff_cookie_bad), one cut before its TCP header is left alone */
	{ "tc_trunc_ack4_valid", S_ACK, LSYN4(), .tc_only = 1, .sweep = 1 },
	{ "tc_trunc_ack4_valid_qinq_ip_options", S_ACK, LSYN4(QINQ, .ipoptlen = 8), .tc_only = 1,
	  .sweep = 1 },
	{ "tc_trunc_ack6_valid_ext", S_ACK, LSYN6(.v6ext = V6X_HBH | V6X_DST), .tc_only = 1,
	  .sweep = 1 },
	{ "tc_trunc_ack6_valid_vlan", S_ACK, LSYN6(VLAN1), .tc_only = 1, .sweep = 1 },
	{ "tc_trunc_ack4_forged", S_ACK, LSYN4(), .tc_only = 1, .sweep = 1,
	  .am = { .flip = 1u << 20 } },
	{ "tc_trunc_established", S_EST, .tc_only = 1, .sweep = 1 },
	{ "tc_trunc_ack4_unprotected", S_FRAME, SYN4(.dport = 81, .flags = TF_ACK, .opts = "NNT"),
	  .tc_only = 1, .sweep = 1 },

	/* --- pass-through --- */
	{ "syn4_port_81_unprotected", S_FRAME, SYN4(.dport = 81), PASS_UNPROT },
	{ "syn4_port_7999_unprotected", S_FRAME, SYN4(.dport = 7999), PASS_UNPROT },
	{ "syn4_port_8101_unprotected", S_FRAME, SYN4(.dport = 8101), PASS_UNPROT },
	{ "syn6_port_81_unprotected", S_FRAME, SYN6(.dport = 81), PASS_UNPROT },
	{ "synack4_to_protected_port", S_FRAME, SYN4(.flags = TF_SYN | TF_ACK, .ack = 1),
	  .verdicts = V_PASS, .delta = { D(pass_other) } },
	{ "rst4_to_protected_port", S_FRAME, SYN4(.flags = TF_RST | TF_ACK, .ack = 1, .opts = NULL),
	  .verdicts = V_PASS, .delta = { D(pass_other) } },
	{ "fin_without_ack_to_protected_port", S_FRAME, SYN4(.flags = TF_FIN, .opts = NULL),
	  .verdicts = V_PASS, .delta = { D(pass_other) } },
	{ "cfg_disabled_unprotected_uncounted", S_FRAME, SYN4(.dport = 81), PASS_QUIET,
	  .cfg_clear = SF_CFG_ENABLED },
	{ "cfg_disabled_fragment_uncounted", S_FRAME, SYN4(.frag_set = 1, .frag = 0x2000),
	  PASS_QUIET, .cfg_clear = SF_CFG_ENABLED },
	{ "udp4_port_80", S_FRAME, SYN4(.l4 = L4_UDP, .paylen = 20), PASS_QUIET },
	{ "udp6_port_80", S_FRAME, SYN6(.l4 = L4_UDP, .paylen = 20), PASS_QUIET },
	{ "icmp4_echo", S_FRAME, SYN4(.l4 = L4_ICMP, .paylen = 32), PASS_QUIET },
	{ "icmp6_echo", S_FRAME, SYN6(.l4 = L4_ICMP, .paylen = 32), PASS_QUIET },
	{ "arp_request", S_ARP, PASS_QUIET },
	{ "frag4_mf_syn", S_FRAME, SYN4(.frag_set = 1, .frag = 0x2000), .verdicts = V_PASS,
	  .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },
	{ "frag4_offset_syn", S_FRAME, SYN4(.frag_set = 1, .frag = 0x0003), .verdicts = V_PASS,
	  .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },
	{ "frag4_mf_vlan_syn", S_FRAME, SYN4(VLAN1, .frag_set = 1, .frag = 0x2000),
	  .verdicts = V_PASS, .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },
	{ "frag6_first_fragment_syn", S_FRAME, SYN6(.v6ext = V6X_FRAG, .v6frag = 0x0001),
	  .verdicts = V_PASS, .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },
	{ "frag6_after_hbh_syn", S_FRAME, SYN6(.v6ext = V6X_HBH | V6X_FRAG, .v6frag = 0x0001),
	  .verdicts = V_PASS, .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },
	{ "frag6_later_fragment", S_FRAME, SYN6(.v6ext = V6X_FRAG, .v6frag = 0x0010),
	  .verdicts = V_PASS, .delta = { D(pass_fragment) }, .dontcare = DC(syn_recv) },

	/* --- malformed --- */
	{ "trunc_syn4", S_FRAME, SYN4(), .sweep = 1 },
	{ "trunc_syn6", S_FRAME, SYN6(), .sweep = 1 },
	{ "trunc_syn4_vlan", S_FRAME, SYN4(VLAN1), .sweep = 1 },
	{ "trunc_syn6_qinq_ext", S_FRAME, SYN6(QINQ, .v6ext = V6X_HBH | V6X_DST), .sweep = 1 },
	{ "trunc_syn6_srh", S_FRAME, SYN6(.v6ext = V6X_RH), .sweep = 1 },
	{ "ipv4_ihl_4", S_FRAME, SYN4(.ihl = 4), PASS_UNPARSED },
	{ "ipv4_version_6", S_FRAME, SYN4(), PASS_UNPARSED, .npoke = 1, .poke = { { 14, 0x65 } } },
	{ "ipv6_version_4", S_FRAME, SYN6(), PASS_UNPARSED, .npoke = 1, .poke = { { 14, 0x40 } } },
	{ "three_vlan_tags", S_FRAME, SYN4(VLAN3), PASS_QUIET },
	{ "ipv4_ihl_0", S_FRAME, SYN4(.ihl = -1), PASS_UNPARSED },
	{ "ipv4_ihl_1", S_FRAME, SYN4(.ihl = 1), PASS_UNPARSED },
	{ "ipv4_ihl_15_beyond_frame", S_FRAME, SYN4(.opts = NULL, .ihl = 15), PASS_UNPARSED },
	{ "ipv6_5_dstopts_unparsed", S_FRAME, SYN6(.v6ext = V6X_DST, .v6ndst = 5), PASS_UNPARSED },
	{ "ipv6_hbh_4_dstopts_unparsed", S_FRAME, SYN6(.v6ext = V6X_HBH | V6X_DST, .v6ndst = 4),
	  PASS_UNPARSED },
	{ "ipv6_4_dstopts_then_frag_unparsed", S_FRAME,
	  SYN6(.v6ext = V6X_DST | V6X_FRAG, .v6ndst = 4, .v6frag = 0x0001), PASS_UNPARSED },
	{ "ipv6_5_dstopts_ack_unparsed", S_FRAME,
	  SYN6(.v6ext = V6X_DST, .v6ndst = 5, .flags = TF_ACK, .ack = 1, .opts = NULL),
	  PASS_UNPARSED },
	{ "udp6_after_4_dstopts_not_unparsed", S_FRAME,
	  SYN6(.l4 = L4_UDP, .paylen = 20, .v6ext = V6X_DST, .v6ndst = 4), PASS_QUIET },
	{ "cfg_disabled_unparsed_uncounted", S_FRAME, SYN4(.ihl = 4), PASS_QUIET,
	  .cfg_clear = SF_CFG_ENABLED },
	{ "tcp_doff_4_protected", S_FRAME, SYN4(.opts = NULL, .doff = 4), MALFORMED },
	{ "tcp_doff_0_protected", S_FRAME, SYN4(.opts = NULL, .doff = -1),
	  MALFORMED },
	{ "tcp_doff_4_unprotected", S_FRAME, SYN4(.opts = NULL, .doff = 4, .dport = 81), PASS_UNPROT },
	{ "tcp_doff_15_beyond_frame", S_FRAME, SYN4(.opts = NULL, .doff = 15), MALFORMED },
	{ "tcp_doff_beyond_frame_v6", S_FRAME, SYN6(.opts = "M", .doff = 12), MALFORMED },
	{ "tcp_opt_len_0", S_FRAME, SYN4(.rawopt = opt_len0, .rawoptlen = sizeof(opt_len0)),
	  MALFORMED },
	{ "tcp_opt_len_1", S_FRAME, SYN4(.rawopt = opt_len1, .rawoptlen = sizeof(opt_len1)),
	  MALFORMED },
	{ "tcp_opt_ts_overruns_header", S_FRAME,
	  SYN4(.rawopt = opt_ts_overrun, .rawoptlen = sizeof(opt_ts_overrun)), MALFORMED },
	{ "tcp_opt_mss_overruns_header", S_FRAME,
	  SYN4(.rawopt = opt_mss_overrun, .rawoptlen = sizeof(opt_mss_overrun)), MALFORMED },
	{ "tcp_opt_unknown_overruns_header", S_FRAME,
	  SYN4(.rawopt = opt_unknown_overrun, .rawoptlen = sizeof(opt_unknown_overrun)), MALFORMED },
	{ "tcp_opt_kind_without_length", S_FRAME,
	  SYN4(.rawopt = opt_kind_at_end, .rawoptlen = sizeof(opt_kind_at_end)), MALFORMED },
	{ "tcp_opt_len_0_v6", S_FRAME, SYN6(.rawopt = opt_len0, .rawoptlen = sizeof(opt_len0)),
	  MALFORMED },
	{ "syn_fin", S_FRAME, SYN4(.flags = TF_SYN | TF_FIN), .verdicts = V_DROP,
	  .delta = { D(drop_syn_flags) }, .dontcare = DC(syn_recv) },
	{ "syn_rst", S_FRAME, SYN4(.flags = TF_SYN | TF_RST), .verdicts = V_DROP,
	  .delta = { D(drop_syn_flags) }, .dontcare = DC(syn_recv) },
	{ "syn_fin_v6", S_FRAME, SYN6(.flags = TF_SYN | TF_FIN | TF_PSH), .verdicts = V_DROP,
	  .delta = { D(drop_syn_flags) }, .dontcare = DC(syn_recv) },
	{ "syn_fin_unprotected", S_FRAME, SYN4(.flags = TF_SYN | TF_FIN, .dport = 81), PASS_UNPROT },
};
#pragma GCC diagnostic pop

const size_t ncases = sizeof(cases) / sizeof(cases[0]);

static struct sf_config cfg_default;
static struct sf_secrets sec_default;

int monitor_twin(const struct tcase *tc, struct tcase *t, char *name)
{
	if (tc->sweep || tc->scen == S_RT || tc->scen == S_ORACLE || (tc->cfg_set & SF_CFG_MONITOR))
		return 0;
	*t = *tc;
	snprintf(name, 128, "monitor:%s", tc->name);
	t->name = name;
	t->cfg_set |= SF_CFG_MONITOR;
	t->monitor_epoch = 0;
	t->chk = CHK_AUTO; /* TC: nothing handed off, nothing counted */
	if (tc->tc_only) {
		memset(t->delta, 0, sizeof(t->delta));
		return 1;
	}
	t->verdicts = V_PASS;
	if (tc->verdicts & (V_TX | V_DROP))
		t->delta[SF_CNT_monitor_pass]++;
	return 1;
}

int cases_config_init(void)
{
	int i;

	cfg_default.flags = SF_CFG_ENABLED | SF_CFG_TIMESTAMPS | SF_CFG_SACK | SF_CFG_WSCALE |
			    SF_CFG_ECN;
	cfg_default.mss4 = 1460;
	cfg_default.mss6 = 1440;
	cfg_default.window = 65535;
	cfg_default.rcv_wscale = 7;
	cfg_default.ttl = 64;
	sec_default.epoch = TEST_EPOCH;
	for (i = 0; i < SF_EPOCH_SLOTS; i++)
		randombytes_buf(sec_default.key[i], sizeof(sec_default.key[i]));
	return env_set(&E, &cfg_default, &sec_default);
}

void apply_case_config(const struct tcase *tc)
{
	struct sf_config c = cfg_default;
	struct sf_secrets s = sec_default;

	c.flags &= ~tc->cfg_clear;
	c.flags |= tc->cfg_set;
	c.monitor_epoch = tc->monitor_epoch;
	c.calm_slots = tc->calm_slots;
	c.engaged_epoch = tc->engaged_epoch;
	if (tc->epoch)
		s.epoch = tc->epoch;
	if (tc->no_secret)
		s.epoch = 0;
	if (env_set(&E, &c, &s))
		exit(1);
}

void spec_fixup(struct pkt_spec *s)
{
	if (s->dport == 0)
		s->dport = E.lport;
	else if (s->dport == WPORT)
		s->dport = E.wport;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
int build_frame(const struct tcase *tc, uint8_t *buf)
{
	struct pkt_spec s = tc->pkt;
	int n, i;

	if (tc->scen == S_ARP)
		return pkt_build_arp(buf, PKT_MAX);
	if (tc->scen == S_EST) {
		struct pkt_spec e = LSYN4(.saddr = LO4, .sport = E.cport, .seq = 12345, .ack = 67890,
					  .flags = TF_ACK, .opts = NULL, .window = 512);

		spec_fixup(&e);
		return pkt_build(&e, buf, PKT_MAX);
	}
	spec_fixup(&s);
	n = pkt_build(&s, buf, PKT_MAX);
	for (i = 0; n > 0 && i < tc->npoke; i++)
		buf[tc->poke[i].off] = tc->poke[i].val;
	return n;
}
#pragma GCC diagnostic pop

/* The ACK's addresses and ports: the SYN's, then tc->am's changes. */
static void ack_addressing(const struct tcase *tc, const struct pkt_spec *syn, struct pkt_spec *ack)
{
	int alen = syn->family == 4 ? 4 : 16;

	ack->sport = (uint16_t)(syn->sport + tc->am.sport_delta);
	ack->saddr[alen - 1] = (uint8_t)(ack->saddr[alen - 1] + tc->am.saddr_delta);
	ack->daddr[alen - 1] = (uint8_t)(ack->daddr[alen - 1] + tc->am.daddr_delta);
	if (tc->am.to_wport)
		ack->dport = E.wport;
	if (tc->am.to_nowhere) {
		uint8_t a4[4] = SRV4, a6[16] = SRV6;

		memcpy(ack->daddr, syn->family == 4 ? a4 : a6, (size_t)alen);
		ack->dport = 80;
	}
}

int build_ack(const struct tcase *tc, uint8_t *buf, struct sf_handoff_attrs *m, char *why,
	      size_t wl)
{
	struct pkt_spec syn = tc->pkt, ack;
	uint8_t synf[PKT_MAX];
	struct synack_expect x;
	uint32_t epoch = (E.sec_now.epoch ? E.sec_now.epoch : TEST_EPOCH) +
			 (uint32_t)tc->am.epoch_delta;
	int n, ts;

	spec_fixup(&syn);
	n = pkt_build(&syn, synf, sizeof(synf));
	if (n < 0 || syn_expect(synf, n, epoch, &x, why, wl) < 0)
		return -1;
	ack = syn;
	ack_addressing(tc, &syn, &ack);
	ack.seq = syn.seq + 1 + (uint32_t)tc->am.seq_delta;
	ack.ack = (x.cookie ^ tc->am.flip) + 1;
	ack.flags = tc->am.flags ? tc->am.flags : TF_ACK;
	ack.window = 502;
	ack.paylen = tc->am.paylen;
	ts = x.cp.ts && !tc->am.no_ts;
	ack.opts = ts ? "NNT" : NULL;
	ack.tsval = syn.tsval + 1000;
	ack.tsecr = x.tsval + (uint32_t)tc->am.tsecr_delta;
	if (tc->am.rawopt) {
		ack.rawopt = tc->am.rawopt;
		ack.rawoptlen = tc->am.rawoptlen;
	}
	if (tc->am.doff)
		ack.doff = tc->am.doff;
	oc_handoff_attrs(&x.cp, ts, ack.tsval, ack.tsecr, E.cfg_now.rcv_wscale, m);
	return pkt_build(&ack, buf, PKT_MAX);
}
