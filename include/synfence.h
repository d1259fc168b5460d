/* synfence.h - the one header shared by the BPF programs and userspace: maps, config, counters, cookie layout. */
#ifndef SYNFENCE_H
#define SYNFENCE_H

/* Only __u32-style types here: this file is included by BPF C (after vmlinux.h) and by userspace
 * (after <linux/types.h>). */

#define SF_DEFAULT_PIN_DIR "/sys/fs/bpf/synfence"

/* Names of the pinned maps under the pin directory (also the BPF map names). */
#define SF_MAP_CONFIG   "sf_config"
#define SF_MAP_SECRETS  "sf_secrets"
#define SF_MAP_PORTS    "sf_ports"
#define SF_MAP_IF_SLOT  "sf_if_slot"
#define SF_MAP_IFACES   "sf_ifaces"
#define SF_MAP_COUNTERS "sf_counters"

/* Interfaces get a counter slot 1..SF_MAX_IFACES-1 from userspace; slot 0 counts traffic seen on an
 * interface without a slot (cannot normally happen). Interfaces with an ifindex >= SF_MAX_IFINDEX
 * also land in slot 0. */
#define SF_MAX_IFACES  64
#define SF_MAX_IFINDEX 65536

/* The protected-port set: a 65536-bit bitmap stored as SF_PORT_WORDS __u64 words (array map). */
#define SF_PORT_WORDS (65536 / 64)

/* --- Counters -------------------------------------------------------------------------------
 * X(name, help). The order is the layout of struct sf_counters; names are a stable contract
 * (stats text and JSON keys, Prometheus synfence_<name>_total). Append only.
 * Invariants (with the programs enabled): ack_cookie_bad = ack_bad_hash + ack_bad_epoch +
 * ack_bad_malformed; handoff_err = handoff_err_einval + handoff_err_enomem + handoff_err_other;
 * every SYN to a protected port ends in exactly one of synack_sent, drop_syn_flags, drop_malformed,
 * drop_no_room, pass_no_secret, syn_pass_existing, drop_rate_limited; every TCP segment XDP sees is counted once in syn_recv, est_pass,
 * ack_no_listener, pass_no_secret (ACKs), ack_cookie_ok, ack_cookie_bad,
 * pass_unprotected, pass_fragment or pass_other; every IPv4/IPv6 frame whose IP or TCP header it
 * cannot read, in pass_unparsed (other ethertypes and protocols pass uncounted). TC (the handoff)
 * counts only the handoff_* outcomes of the segments it checks itself (bpf/handoff.h).
 * Monitor mode (SF_CFG_MONITOR): the same counters count what synfence would have done, and every
 * verdict that would have been XDP_TX or XDP_DROP is XDP_PASS and also counted in monitor_pass:
 * monitor_pass = synack_sent + drop_syn_flags + drop_malformed + ack_cookie_bad + drop_rate_limited (drop_no_room is
 * never counted there: a SYN that would have been answered counts as synack_sent). An ACK that
 * meets the kernel's request socket (a handshake the kernel made in synfence's place) counts as
 * ack_cookie_ok there, not est_pass: an ACK synfence would have accepted. TC hands nothing off
 * but the final ACKs of SYN-ACKs sent before the switch (sf_config.monitor_epoch).
 * Lists (bpf/lists.h): a SYN from an allowed prefix ends in pass_allowed, one from a denied prefix
 * in drop_denied (both after syn_recv); an ACK that would be checked as a cookie ACK (the kernel
 * has only the listener) ends in pass_allowed or drop_denied instead of ack_cookie_ok/_bad. In
 * monitor mode drop_denied also counts in monitor_pass.
 * Sampling (bpf/sample.h): the sample_* counters count samples, not packets; no invariant above
 * includes them. */
#define SF_COUNTERS(X)                                                                           \
	X(syn_recv,            "SYNs to protected ports")                                            \
	X(synack_sent,         "SYN-ACKs with a cookie sent back (XDP_TX)")                          \
	X(ack_cookie_ok,       "ACKs with a valid cookie, passed on to TC for the handoff")          \
	X(ack_cookie_bad,      "ACKs with an invalid cookie, dropped (sum of the ack_bad_* reasons)") \
	X(ack_bad_hash,        "ACKs dropped: cookie or timestamp authenticator mismatch")           \
	X(ack_bad_epoch,       "ACKs dropped: cookie from an expired secret epoch")                  \
	X(handoff_ok,          "valid cookie ACKs TC turned into kernel connections")               \
	X(handoff_err,         "valid cookie ACKs the kernel refused to turn into connections")      \
	X(handoff_no_listener, "valid cookie ACKs for which TC found no listening socket")           \
	X(est_pass,            "packets of existing connections passed")                             \
	X(ack_no_listener,     "ACKs to a protected port with no socket at all, passed to the kernel") \
	X(pass_fragment,       "TCP in IP fragments, passed to the kernel (never answered)")         \
	X(pass_no_secret,      "SYNs/ACKs passed to the kernel because no secret is loaded yet")     \
	X(drop_syn_flags,      "SYNs dropped: SYN together with FIN or RST")                        \
	X(drop_malformed,      "SYNs to protected ports dropped: bad data offset or options")        \
	X(drop_no_room,        "SYNs dropped: the frame could not be resized for the SYN-ACK")     \
	X(ack_bad_malformed,   "ACKs dropped: a would-be cookie ACK with a bad data offset or options") \
	X(handoff_err_einval,  "handoff_err with EINVAL: attributes refused (e.g. an option the sysctls switched off)") \
	X(handoff_err_enomem,  "handoff_err with ENOMEM: no memory for the request socket")         \
	X(handoff_err_other,   "handoff_err for any other reason (ENETUNREACH, EOPNOTSUPP, not a TCP listener)") \
	X(handoff_dup,         "valid cookie ACKs whose connection already existed or was being made when TC saw them, passed on") \
	X(pass_unprotected,    "TCP segments to unprotected ports, passed untouched")                \
	X(pass_other,          "TCP segments to protected ports passed unchecked: RST, SYN-ACK, no ACK flag") \
	X(syn_pass_existing,   "SYNs for a tuple the kernel still has a socket for (TIME_WAIT reuse), passed to it") \
	X(pass_unparsed,       "IPv4/IPv6 frames passed unexamined: IP/TCP header truncated, bad version or IHL, or more than 4 IPv6 extension headers") \
	X(handoff_cookie_bad,  "segments a listener would get that reached TC without a valid cookie (not checked by XDP), passed on unhanded") \
	X(monitor_pass,        "monitor mode: packets passed to the kernel untouched instead of answered (SYN-ACK) or dropped") \
	X(pass_allowed,        "SYNs and would-be cookie ACKs from an allowed prefix (allow list), passed to the kernel unchallenged") \
	X(drop_denied,         "SYNs and would-be cookie ACKs from a denied prefix (deny list), dropped") \
	X(drop_rate_limited,   "SYNs dropped: their source prefix was over source_syn_rate (per-source SYN limits)") \
	X(syn_pass_calm,       "engage auto, interface calm: SYNs to protected ports passed to the kernel, which answers them itself") \
	X(sample_tx,           "sampling: samples taken of packets answered with XDP_TX (capture, top)") \
	X(sample_drop,         "sampling: samples taken of packets dropped") \
	X(sample_pass,         "sampling: samples taken of packets passed") \
	X(sample_lost,         "sampling: samples lost because the ring buffer was full") \
	X(sample_capped,       "sampling: samples not taken because the per-CPU per-second cap was reached")

enum sf_counter {
#define SF_COUNTER_ENUM(name, help) SF_CNT_##name,
	SF_COUNTERS(SF_COUNTER_ENUM)
#undef SF_COUNTER_ENUM
	SF_CNT_MAX
};

/* Value of the per-CPU counters map: one per interface slot. */
struct sf_counters {
	__u64 c[SF_CNT_MAX];
};

/* --- Config (array map, one entry; userspace may rewrite it at any time) ------------------- */
enum sf_config_flags {
	SF_CFG_ENABLED    = 1 << 0, /* 0: everything passes untouched */
	SF_CFG_TIMESTAMPS = 1 << 1, /* net.ipv4.tcp_timestamps != 0 */
	SF_CFG_SACK       = 1 << 2, /* net.ipv4.tcp_sack != 0 */
	SF_CFG_WSCALE     = 1 << 3, /* net.ipv4.tcp_window_scaling != 0 */
	SF_CFG_ECN        = 1 << 4, /* net.ipv4.tcp_ecn != 0 (the server accepts ECN) */
	SF_CFG_MONITOR    = 1 << 5, /* monitor mode: count what synfence would do, pass everything */
};

struct sf_config {
	__u32 flags;       /* enum sf_config_flags */
	__u16 mss4;        /* MSS our SYN-ACK advertises over IPv4 */
	__u16 mss6;        /* ... over IPv6 */
	__u16 window;      /* window field of the SYN-ACK (never scaled) */
	__u8 rcv_wscale;   /* window scale the server kernel would pick (tcp_rmem/rmem_max) */
	__u8 ttl;          /* TTL / hop limit of the SYN-ACK */
	/* Monitor mode: TC still hands off a valid cookie ACK whose cookie's epoch is <= this one
	 * (the secret epoch when monitor mode was switched on: SYN-ACKs XDP sent before the switch),
	 * nothing else; 0: nothing. Cookies live two epochs, so TC hands off nothing two rotations
	 * after the switch. */
	__u32 monitor_epoch;
	/* Per-source SYN limits (bpf/limit.h; source_syn_rate, source_syn_burst, source_prefix4/6):
	 * a GCRA per source prefix, T = 1 s / rate, tau = (burst - 1) * T. limit_t_ns == 0: off. */
	__u32 limit_mask4;    /* IPv4 source prefix mask (network order) */
	__u32 limit_mask6[4]; /* IPv6 source prefix mask (network order) */
	__u32 limit_pad;
	__u64 limit_t_ns;     /* ns between SYNs at the rate; 0: the limiter is off */
	__u64 limit_tau_ns;   /* (burst - 1) * limit_t_ns */
	__u64 limit_seed[2];  /* odd multipliers of the sketch rows' hashes (random per run) */
	/* Attack mode (engage = auto; user/daemon/engage.c, bpf/engage.h): bit s set = the
	 * interface in counter slot s is calm: its SYNs pass to the kernel (syn_pass_calm), ACKs that
	 * carry no valid cookie pass to the kernel too (its own syncookies), and TC hands off only
	 * cookies of an epoch <= engaged_epoch (SYN-ACKs XDP sent while engaged), the same test as
	 * monitor_epoch. 0 (engage = always): every interface engaged, as before. */
	__u64 calm_slots;
	__u32 engaged_epoch; /* the secret epoch when an interface last stopped being engaged */
	__u32 engage_pad;
};

/* --- Allow and deny lists (bpf/lists.h, user/lib/lists.c) ----------------------------------------
 * Two LPM tries, one per list, keyed by prefix: IPv4 prefixes as IPv4-mapped IPv6 (::ffff:a.b.c.d,
 * prefixlen + 96), so that one trie holds both families. The value records the entry's origin (file,
 * live or both) and the expiry of a live entry with a TTL (CLOCK_MONOTONIC ns, bpf_ktime_get_ns;
 * 0: none): BPF ignores an expired live-only entry, the daemon deletes it. sf_lists (array, one
 * entry) says which lists are non-empty: an empty list costs no lookup. */
#define SF_MAP_ALLOW     "sf_allow"
#define SF_MAP_DENY      "sf_deny"
#define SF_MAP_LISTS     "sf_lists"
#define SF_LIST_MAX      (1u << 20)

struct sf_list_key {
	__u32 prefixlen; /* 0..128 (IPv4: 96 + 0..32) */
	__u32 addr[4];   /* network order; IPv4 as ::ffff:a.b.c.d */
};

enum sf_list_origin {
	SF_LIST_FILE = 1 << 0, /* from allow_file/deny_file: replaced on reload */
	SF_LIST_LIVE = 1 << 1, /* from `synfence allow|deny add`: kept on reload and restart */
};

struct sf_list_val {
	__u64 expires_ns; /* live entry's expiry (bpf_ktime_get_ns clock), 0: never */
	__u32 origin;     /* enum sf_list_origin */
	__u32 pad;
};

enum sf_lists_flags {
	SF_LISTS_ALLOW = 1 << 0, /* sf_allow may have entries */
	SF_LISTS_DENY  = 1 << 1, /* sf_deny may have entries */
};

struct sf_lists {
	__u32 flags; /* enum sf_lists_flags */
	__u32 pad;
};
/* The limit_* fields of c for rate (SYNs/s, 0: off), burst and the prefix lengths; seed: the
 * rows' multipliers (made odd). The daemon's and the unit tests' one way to fill them. */
static inline __u32 sf_limit_mask(unsigned long bits) /* a prefix mask of 0..32 bits, wire order */
{
	__u32 m = bits >= 32 ? 0xffffffffu : bits ? ~((1u << (32 - bits)) - 1) : 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	m = __builtin_bswap32(m);
#endif
	return m;
}

static inline void sf_limit_fill(struct sf_config *c, unsigned long rate, unsigned long burst,
				 unsigned long prefix4, unsigned long prefix6, const __u64 seed[2])
{
	int i;

	c->limit_mask4 = 0;
	for (i = 0; i < 4; i++)
		c->limit_mask6[i] = 0;
	c->limit_pad = 0;
	c->limit_t_ns = c->limit_tau_ns = 0;
	c->limit_seed[0] = c->limit_seed[1] = 0;
	if (!rate)
		return;
	c->limit_mask4 = sf_limit_mask(prefix4);
	for (i = 0; i < 4; i++)
		c->limit_mask6[i] = sf_limit_mask(prefix6 > 32ul * i ? prefix6 - 32ul * i : 0);
	c->limit_t_ns = 1000000000ull / rate;
	if (!c->limit_t_ns)
		c->limit_t_ns = 1;
	c->limit_tau_ns = (__u64)(burst ? burst - 1 : 0) * c->limit_t_ns;
	c->limit_seed[0] = seed[0] | 1;
	c->limit_seed[1] = seed[1] | 1;
}

/* --- Packet sampling (bpf/sample.h, user/lib/sample.c; `synfence capture`, `synfence top`) ------
 * While sampling is on, XDP copies 1 in every[class] packets of each verdict class, as they arrived
 * (a tx sample is the SYN that was answered, before it became the SYN-ACK), into the ring buffer
 * sf_samples, at most per_cpu_sec a second on each CPU: those over the cap count in sample_capped,
 * those the full ring refused in sample_lost. sf_sample_ctl (array, one entry) is the switch. It is
 * written by the one process that holds sampling (capture or top, owner_pid), and by the daemon
 * only to switch off sampling whose owner is gone. Off (on == 0) costs a test per verdict. */
#define SF_MAP_SAMPLES    "sf_samples"
#define SF_MAP_SAMPLE_CTL "sf_sample_ctl"
#define SF_SAMPLE_SNAP    128         /* bytes of a frame a sample holds, at most */
#define SF_SAMPLES_RING   (1u << 22)  /* bytes in the ring buffer (a power of 2, pages) */
#define SF_SAMPLE_WAKE_BYTES (SF_SAMPLES_RING / 16) /* XDP wakes the reader once this much waits */
#define SF_SAMPLE_POLL_MS 100        /* ... and the reader looks at least this often */

/* What XDP did with a packet: the verdict classes sampling rates and capture --verdict name. */
enum sf_verdict_class {
	SF_VC_TX,   /* answered: XDP_TX (a SYN-ACK) */
	SF_VC_DROP, /* XDP_DROP */
	SF_VC_PASS, /* XDP_PASS (in monitor mode, everything) */
	SF_VC_MAX
};

struct sf_sample_ctl {
	__u32 on;                /* 0: sampling off: the only field read while off */
	__u32 every[SF_VC_MAX];  /* 1 in every[c] packets of class c is sampled (1: each; 0: none) */
	__u32 ifindex;           /* only packets that arrived on this interface (0: any) */
	__u32 per_cpu_sec;       /* at most this many samples per CPU per second */
	__u64 reasons;           /* only verdicts whose reason counter r has bit 1 << r (0: any) */
	__u32 owner_pid;         /* the process that switched sampling on */
	__u32 pad;
	__u64 owner_start;       /* its start time (field 22 of /proc/PID/stat): a reused pid is not it */
};

/* The per-CPU cap's state (bpf/sample.h, a GCRA): when the next sample is due, bpf_ktime_get_ns
 * clock. At most per_cpu_sec / SF_SAMPLE_BURST_DIV + 1 samples at once, per_cpu_sec a second. */
#define SF_SAMPLE_BURST_DIV 10
struct sf_sample_win {
	__u64 tat;
};

/* One ring-buffer record. */
struct sf_sample {
	__u64 ts_ns;      /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex;    /* the interface the frame arrived on */
	__u32 frame_len;  /* the frame's whole length */
	__u32 every;      /* its class's 1-in-N when taken: how many packets this sample stands for */
	__u16 cap_len;    /* bytes in data: min(frame_len, SF_SAMPLE_SNAP) */
	__u8 vclass;      /* enum sf_verdict_class */
	__u8 reason;      /* enum sf_counter: the reason counter of the verdict */
	__u8 data[SF_SAMPLE_SNAP];
};

/* --- Secrets (array map, one entry) ----------------------------------------------------------
 * key[e & 3] is the SipHash key of epoch e. A cookie carries the low two bits of its epoch; ACKs are
 * accepted for the current epoch and the one before it. Rotation (userspace): write the key of
 * epoch+1 first, then, in a second update, advance epoch. epoch == 0 means "no secret yet". */
#define SF_EPOCH_SLOTS 4
struct sf_secrets {
	__u32 epoch;
	__u32 pad;
	__u64 key[SF_EPOCH_SLOTS][2];
};

/* --- Daemon state (array map, one entry), written by `synfence run` for `status`, `stats` and the
 * metrics: what another process cannot learn from the kernel. Never holds key material. */
#define SF_MAP_STATE "sf_state"
/* The server namespace's TCP sysctls that run mirrors into sf_config (and re-checks every few
 * seconds), in the order of sf_state.sysctl[]; all under net.ipv4. */
#define SF_SYSCTLS(X) X(tcp_syncookies) X(tcp_timestamps) X(tcp_sack) X(tcp_window_scaling) X(tcp_ecn)
enum sf_sysctl {
#define SF_SYSCTL_ENUM(name) SF_SYSCTL_##name,
	SF_SYSCTLS(SF_SYSCTL_ENUM)
#undef SF_SYSCTL_ENUM
	SF_SYSCTL_MAX
};
struct sf_state {
	__u64 start_boot_ns;   /* CLOCK_BOOTTIME when run finished attaching (0: not yet) */
	__u64 start_real_ns;   /* the same moment in CLOCK_REALTIME (for display) */
	__u64 rotated_boot_ns; /* CLOCK_BOOTTIME of the last secret change (first key or rotation) */
	__u32 pid;             /* of `synfence run` */
	__u32 epoch;           /* current secret epoch: the number only */
	__u32 rotate_s;        /* rotation period, seconds */
	__u32 xdp_prog_id;     /* the synfence XDP program (behind libxdp's dispatcher) */
	__u32 tc_prog_id;      /* the TC ingress program */
	__u32 netns_ino;       /* inode of run's network namespace: ifindexes are only valid there */
	char metrics[64];      /* the --metrics ADDR:PORT being served, "" when off */
	/* Lifecycle (written by run's daemon loop): */
	__u32 flags;           /* enum sf_state_flags */
	__u32 takeovers;       /* how many times a run took over the pins of an earlier one */
	__u64 sysctl_boot_ns;  /* CLOCK_BOOTTIME of the last sysctl check */
	__u64 reload_boot_ns;  /* CLOCK_BOOTTIME of the last successful SIGHUP reload (0: none) */
	__u64 error_boot_ns;   /* CLOCK_BOOTTIME of last_error (0: none yet) */
	__s32 sysctl[SF_SYSCTL_MAX]; /* the sysctls of SF_SYSCTLS as last read (-1: unreadable) */
	char last_error[160];  /* the daemon's last runtime error or warning, "" if none */
	__u32 features;        /* enum sf_feature_flags: what run found in the kernel at start */
	__u32 pad;
	char version[32];      /* synfence --version of run ("" from a run older than the field) */
};

/* sf_state.features: the kernel features run probed at start, which pick its paths. The handoff
 * always runs in TC, which checks the cookie itself (no XDP metadata: some kernels refuse
 * bpf_xdp_adjust_meta, many NIC drivers do not support it). */
enum sf_feature_flags {
	SF_FEAT_HANDOFF_KFUNC = 1 << 0, /* bpf_sk_assign_tcp_reqsk (Linux >= 6.9): required */
	SF_FEAT_TCX           = 1 << 1, /* tcx links (Linux >= 6.6); without: clsact filters */
};

/* sf_state.flags */
enum sf_state_flags {
	SF_ST_SHARED_SECRET = 1 << 0, /* keys derived from a secret_file (same on every server) */
	SF_ST_KEEP_ATTACHED = 1 << 1, /* run exits leaving protection attached (--keep-attached) */
	SF_ST_SUSPENDED     = 1 << 2, /* protection suspended (everything passes): see last_error */
	SF_ST_LEFT_ATTACHED = 1 << 3, /* run exited and left protection in place (pid is stale) */
	SF_ST_MONITOR       = 1 << 4, /* monitor mode: counting only, everything passes (--monitor) */
	SF_ST_ENGAGE_AUTO   = 1 << 5, /* engage = auto: SYNs pass to the kernel while calm */
};

/* Per-interface info written by userspace (array map indexed by slot), for stats and status. */
struct sf_iface {
	__u32 ifindex; /* 0: slot unused */
	__u32 xdp_mode; /* enum sf_xdp_mode actually used */
	char name[16];
	__u32 flags;   /* enum sf_iface_flags */
	/* engage = auto (written by run's engage timer, for status; XDP reads sf_config.calm_slots) */
	__u64 engaged_since_boot_ns; /* CLOCK_BOOTTIME of the last switch (0: none yet, since start) */
	__u32 engage_switches;       /* switches (either way) since start */
	__u32 engage_rate;           /* SYNs/s to protected ports at the last sample */
};

/* sf_iface.xdp_mode: the one encoding of the XDP attach mode, for the writer (run) and the readers
 * (stats, status, metrics). The values are those of libxdp's enum xdp_attach_mode, so that maps
 * pinned by an earlier version read the same. */
enum sf_xdp_mode {
	SF_XDP_MODE_NONE    = 0, /* not attached (yet) */
	SF_XDP_MODE_NATIVE  = 1, /* driver mode */
	SF_XDP_MODE_GENERIC = 2, /* skb mode */
	SF_XDP_MODE_OFFLOAD = 3, /* hardware offload */
};

/* sf_iface.flags */
enum sf_iface_flags {
	SF_IF_GONE = 1 << 0, /* the interface disappeared; run re-attaches when it comes back */
	SF_IF_ENGAGED = 1 << 1, /* engage = auto: synfence answers this interface's SYNs (else calm) */
};

/* --- Flow cache (bpf/flowcache.h) ------------------------------------------------------------
 * Flows the kernel has a socket for, in a slot picked by a hash of the tuple as the client's
 * packets carry it (saddr = the client, ports = the first 4 bytes of the TCP header), and a tag
 * byte per slot (0: empty). The programs fill it; `synfence run` seeds it at start with the
 * connections that already exist (user/daemon/flowseed.c), so both compute the same hash. */
#define SF_FLOW_SLOTS_BITS 16
#define SF_FLOW_SLOTS      (1u << SF_FLOW_SLOTS_BITS)
#define SF_FLOW_TAG_EMPTY  0

struct sf_flow {
	__u32 saddr[4]; /* IPv4 in [0], the rest 0 */
	__u32 daddr[4];
	__u32 ports;
	__u32 family;   /* 4 or 6; 0 marks an empty slot */
};

struct sf_flow_tags {
	__u8 tag[SF_FLOW_SLOTS];
};

/* Per-CPU budget of kernel socket checks for SYNs whose tuple is not cached (bpf/flowcache.h);
 * here for the BPF fuzzer, which refills it to make that check independent of the clock. */
struct sf_syn_checks {
	__u64 jiffy; /* when used was last reset */
	__u32 used;
	__u32 pad;
};

static inline __u32 sf_flow_hash(const __u32 saddr[4], const __u32 daddr[4], __u32 ports)
{
	__u32 a = saddr[0] ^ saddr[1] ^ saddr[2] ^ saddr[3];
	__u32 b = daddr[0] ^ daddr[1] ^ daddr[2] ^ daddr[3];

	return (a ^ b * 0x9e3779b1u ^ ports * 0x85ebca6bu) * 0xc2b2ae35u;
}

static inline __u32 sf_flow_hash_slot(__u32 h) { return h >> (32 - SF_FLOW_SLOTS_BITS); }
static inline __u8 sf_flow_hash_tag(__u32 h) { return (__u8)(h >> (24 - SF_FLOW_SLOTS_BITS)) | 1; }

/* --- Cookie layout ----------------------------------------------------------------------------
 * h = SipHash-2-4(key[epoch & 3], msg), 64 bits, where msg is, byte for byte:
 *   IPv4 (23 bytes): saddr[4] daddr[4] sport[2] dport[2] client_isn[4]  tail[7]
 *   IPv6 (47 bytes): saddr[16] daddr[16] sport[2] dport[2] client_isn[4] tail[7]
 * addresses, ports and client_isn as on the wire (network order) of the client's SYN; tail is the
 * 56-bit little-endian number info | epoch << 12, where info = (ISN & SF_COOKIE_INFO_MASK) |
 * (SF_COOKIE_TS_BIT if timestamps were negotiated). (7 bytes, so that the tail shares SipHash's
 * final block with the length byte.)
 *   ISN (our SYN-ACK sequence number) = (h & 0x1fffff) << 11 | epoch&3 << 9 | mss_idx << 6
 *                                       | wscale << 2 | sack << 1 | ecn
 *   TSval (only when timestamps are negotiated) = h >> 32: 32 more authenticator bits.
 * wscale is the client's shift (0..14), or 15 when window scaling was not negotiated. */
#define SF_COOKIE_HASH_SHIFT  11
#define SF_COOKIE_HASH_BITS   21
#define SF_COOKIE_EPOCH_SHIFT 9
#define SF_COOKIE_MSS_SHIFT   6
#define SF_COOKIE_WS_SHIFT    2
#define SF_COOKIE_SACK_SHIFT  1
#define SF_COOKIE_ECN_SHIFT   0
#define SF_COOKIE_INFO_MASK   0x7ffu
#define SF_COOKIE_TS_BIT      (1u << 11)
#define SF_COOKIE_MSG_EPOCH_SHIFT 12 /* the epoch's place in the message tail, above info */
#define SF_COOKIE_MSG_LEN_V4  23
#define SF_COOKIE_MSG_LEN_V6  47
#define SF_COOKIE_WS_NONE     15

/* MSS values a cookie can carry, X(index, mss) in ascending order: the client's MSS is rounded
 * down to one of these (536 when it sent none; at least 1220 over IPv6). */
#define SF_MSS_VALUES(X) X(0, 536) X(1, 1220) X(2, 1300) X(3, 1380) X(4, 1420) X(5, 1440) \
			 X(6, 1460) X(7, 8960)
#define SF_MSS_IDX_MIN_V6 1

/* --- The last handoff TC attempted (the program's global sf_last_handoff) ---------------------
 * The layout of the kernel's struct bpf_tcp_req_attrs (the kfunc's argument), which bpftool 7.1's
 * skeletons cannot describe to userspace; bpf/handoff.h checks that the two agree. */
struct sf_handoff_attrs {
	__u32 rcv_tsval;  /* the client's TSval from the ACK */
	__u32 rcv_tsecr;  /* our SYN-ACK's TSval, echoed by the client */
	__u16 mss;        /* the client's MSS, decoded from the cookie */
	__u8 rcv_wscale;  /* ours, as advertised in the SYN-ACK */
	__u8 snd_wscale;  /* the client's */
	__u8 ecn_ok;
	__u8 wscale_ok;
	__u8 sack_ok;
	__u8 tstamp_ok;
	__u8 usec_ts_ok;
	__u8 reserved[3];
};

#endif /* SYNFENCE_H */
