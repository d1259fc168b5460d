/* sf_flood.c - test tool: a flood of spoofed TCP SYNs or ACKs out of one interface, up to several
 * Mpps from one CPU, bounded by a packet count and a number of seconds.
 *
 *   sf_flood -i IFACE -M DSTMAC -D DSTADDR -p DPORT -m syn|ack -n COUNT [-T SECONDS] [-E ENGINE]
 *            [-s SRCPREFIX] [-K VALUE/MASK] [-r PPS] [-C CHUNK] [-c CPU] [-b BATCH] [-S SEED] [-j]
 *
 * Every engine sends the same frames (tests/bpf/sf_gen.h writes them). For those that send XDP
 * frames, IFACE's peer must have an XDP program (a veth only delivers XDP frames to such a peer):
 *   live     an XDP program run by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES returns
 *            XDP_TX: no socket, no skb, the receiver gets XDP frames. Needs a kernel that allows
 *            live frames (stricter builds refuse them with EPERM).
 *   loop     frames circulate through an XDP program on a veth pair of sf_flood's own (created in
 *            the current namespace, removed at exit): each pass broadcasts 8 copies through a
 *            devmap to IFACE, each rewritten into a flood frame of its own, and the frame back
 *            into the pair. The receiver gets XDP frames, as from a NIC; a few AF_PACKET seeds
 *            start the circulation.
 *   reflect  an XDP program on IFACE (in place of its own one until sf_flood exits) turns each
 *            answer to a spoofed source (SYN-ACK, RST) into the next flood frame and sends it
 *            back with XDP_TX; AF_PACKET seeds start it. The receiver gets XDP frames, but only as
 *            many as it answers: SYN floods against a receiver that answers them.
 *   afxdp    an AF_XDP socket on IFACE (copy mode: veth has no zero-copy): the receiver gets skbs.
 *   packet   AF_PACKET sendmmsg with PACKET_QDISC_BYPASS: the receiver gets skbs.
 *   auto     (default) the first of live, loop and packet that can run here; live is probed with
 *            one live test run that sends nothing (refused with EPERM by stricter kernels;
 *            SF_FLOOD_REFUSE_LIVE=1 in the environment makes the probe fail so, for tests).
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
 *            and SIGTERM also stop it.
 *   -r PPS   pace to an average of PPS frames per second; default: as fast as possible.
 *   -C N     frames per chunk (default 2000000 flat out, 128 with -r). Within a chunk the frames
 *            leave back to back at full speed; between chunks the pacing pause (live: each
 *            test-run call also waits for an RCU grace period, ~25 ms on the reference VM). So -r
 *            is an average, and for an exact count on a veth use chunks below its 256-frame ring
 *            (the -r default).
 *   -c CPU   run on this CPU (live: the test run executes on the calling CPU; loop: flat out its
 *            veth pair's NAPI thread too, paced it runs in the softirq of the CPU that seeds it;
 *            reflect runs in IFACE's receive processing, so give IFACE threaded NAPI pinned to
 *            this CPU, or it runs on the receiver's CPU).
 *   -b       frames per XDP_TX batch (live), per sendmmsg call (packet) or per AF_XDP kick
 *            (1..256, default 64).
 *   -S       seed (default: from the clock): the same seed gives the same frames.
 *   -j       print the result as one JSON object instead of "sent N".
 *
 * Output: "sent N" (N = frames generated and handed to the device; the device may still drop some
 * when its peer's ring is full: see the veth's xdp_xmit_err counters), and on stderr the engine,
 * time and rate. Exit status: 0 when all COUNT frames were sent, 3 when the time limit or a signal
 * stopped it first, 1 on error, 2 on usage error. Test tool only: run it inside a network namespace
 * you own. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "sf_gen.h"
#include "sf_gen.skel.h"
#include "sfi_common.h"

extern char **environ;

/* loop and reflect: frames circulating at once. Far below a veth's 256-frame ring, so that a
 * chunk of the -r default leaves without loss; the loop is CPU-bound long before this limits it. */
#define POPULATION 64

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

static void sleep_s(double d)
{
	struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };

	nanosleep(&ts, NULL);
}

static double deadline; /* the -T limit, as now() */
static int halted(void)
{
	return stop || now() >= deadline;
}

/* One's complement sum of native-order 16-bit words: sf_gen_write adds native words too, and a
 * checksum computed over native words and stored natively is the right one. */
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

/* ---- what every engine shares ---------------------------------------------------------------- */

struct flood {
	const char *ifname;
	int ifindex;
	int v6, ack, batch;
	int paced; /* -r given */
	struct sf_gen_bpf *skel;
	const volatile struct sf_gen_cfg *cfg; /* the template, as the XDP programs see it */
};

/* Writes the next flood frame at buf (8-byte aligned, at least cfg->len bytes). */
static void write_frame(struct flood *f, void *buf)
{
	sf_gen_write(buf, f->cfg, __atomic_fetch_add(&f->skel->bss->sent, 1, __ATOMIC_RELAXED), f->v6,
		     f->ack);
}

/* ip(8) with these arguments, for the loop engine's veth pair; 0 when it exits 0 */
static int run_ip(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, "ip", NULL, NULL, argv, environ) || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Switches IPv6 off on a device of ours (fine where the kernel has no IPv6). */
static int no_ipv6(const char *dev)
{
	char path[96];
	FILE *fp;

	snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", dev);
	fp = fopen(path, "w");
	if (!fp)
		return errno == ENOENT ? 0 : -1;
	fputs("1\n", fp);
	return fclose(fp) ? -1 : 0;
}

/* Threaded NAPI for a veth of ours, its kthread ("napi/DEV-ID", cut to 15 characters) on the CPUs
 * this process may use. */
static int threaded_napi(const char *dev)
{
	char path[64], want[32], comm[32];
	cpu_set_t cs;
	struct dirent *e;
	FILE *fp;
	DIR *d;

	snprintf(path, sizeof path, "/sys/class/net/%s/threaded", dev);
	fp = fopen(path, "w");
	if (!fp || fputs("1\n", fp) < 0 || fclose(fp) || sched_getaffinity(0, sizeof cs, &cs))
		return -1;
	snprintf(want, sizeof want, "napi/%s-", dev);
	want[15] = 0; /* TASK_COMM_LEN - 1 */
	d = opendir("/proc");
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		snprintf(path, sizeof path, "/proc/%.20s/comm", e->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		if (fgets(comm, sizeof comm, fp) && !strncmp(comm, want, strlen(want)))
			sched_setaffinity(atoi(e->d_name), sizeof cs, &cs);
		fclose(fp);
	}
	closedir(d);
	return 0;
}

/* AF_PACKET: a socket that only sends (protocol 0: nothing is received), bypassing the qdisc. */
static int pkt_open(int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex };
	int one = 1, fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof sll) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Sends frames[0..n) of len bytes with sendmmsg; returns how many were sent, or -1 (errno). */
static int pkt_send(int fd, uint8_t (*frames)[128], int n, int len)
{
	struct mmsghdr msg[256];
	struct iovec iov[256];

	for (int k = 0; k < n; k++) {
		iov[k] = (struct iovec){ frames[k], (size_t)len };
		msg[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[k], .msg_iovlen = 1 } };
	}
	return sendmmsg(fd, msg, (unsigned int)n, 0);
}

/* loop and reflect: the AF_PACKET frames that start (or restart) a circulation */
static uint8_t seeds[POPULATION][128] __attribute__((aligned(8)));

/* Sends seeds[0..k) out of dev; a full ring (ENOBUFS: the circulation is alive) is no error. */
static int seed_send(int fd, int k, struct flood *f, const char *dev)
{
	if (pkt_send(fd, seeds, k, (int)f->cfg->len) >= 0 || errno == ENOBUFS || errno == EAGAIN ||
	    errno == EINTR)
		return 0;
	fprintf(stderr, "sf_flood: seeding %s: %s\n", dev, strerror(errno));
	return -1;
}

/* ---- credit: how the loop and reflect engines are bounded ------------------------------------ */

/* The XDP programs take one credit per frame they emit (sf_gen.bpf.c: take_credit). */
static int64_t credit_take(struct flood *f, int64_t n)
{
	__s64 *c = &f->skel->bss->credit, have = __atomic_load_n(c, __ATOMIC_RELAXED);

	for (;;) {
		int64_t t = have < n ? have : n;

		if (t <= 0)
			return 0;
		if (__atomic_compare_exchange_n(c, &have, have - t, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			return t;
	}
}

/* Gives n credits, seeds the circulation with seed(f, k) and waits until the credit is spent (a
 * stalled circulation, all its frames lost, is seeded again), or until halted, when the rest is
 * taken back. Returns the frames emitted: exact, whatever was in flight. */
static uint64_t credit_run(struct flood *f, uint64_t n, int (*seed)(struct flood *, int))
{
	__s64 *c = &f->skel->bss->credit;
	uint64_t last = f->skel->bss->sent;
	double moved = now();

	__atomic_fetch_add(c, (int64_t)n, __ATOMIC_SEQ_CST);
	if (seed(f, n < POPULATION ? (int)n : POPULATION))
		return n - (uint64_t)credit_take(f, INT64_MAX);
	while (__atomic_load_n(c, __ATOMIC_SEQ_CST) > 0 && !halted()) {
		uint64_t s = __atomic_load_n(&f->skel->bss->sent, __ATOMIC_RELAXED);
		double t = now();

		if (s != last) {
			last = s;
			moved = t;
		} else if (t - moved > 0.01) { /* 10 ms without a frame: the circulation died */
			int64_t left = __atomic_load_n(c, __ATOMIC_SEQ_CST);

			if (left > 0 && seed(f, left < POPULATION ? (int)left : POPULATION))
				break;
			moved = t;
		}
		sleep_s(n > 100000 ? 1e-3 : 50e-6); /* short chunks (paced) end soon */
	}
	return n - (uint64_t)credit_take(f, INT64_MAX);
}

/* ---- the engines ----------------------------------------------------------------------------- */

struct engine {
	const char *name;
	const char *progs; /* the XDP programs of sf_gen.bpf.c it loads, space-separated */
	int (*open)(struct flood *f); /* 0, or -1 with errno (EPERM, EINVAL: not on this kernel) */
	uint64_t (*send)(struct flood *f, uint64_t n, int *err); /* emits n frames unless halted */
	void (*close)(struct flood *f);
};

/* live: BPF_PROG_TEST_RUN with live frames */
static struct xdp_md live_ctx;
static struct bpf_test_run_opts live_opts;

static int live_open(struct flood *f)
{
	static uint8_t probe[SF_GEN_MAX_LEN];

	if (getenv("SF_FLOOD_REFUSE_LIVE")) { /* tests: as on a kernel that refuses live frames */
		errno = EPERM;
		return -1;
	}
	live_ctx = (struct xdp_md){ .data_end = f->cfg->len, .ingress_ifindex = (__u32)f->ifindex };
	live_opts = (struct bpf_test_run_opts){ .sz = sizeof live_opts, .data_in = probe,
		.data_size_in = f->cfg->len, .ctx_in = &live_ctx, .ctx_size_in = sizeof live_ctx,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = (__u32)f->batch, .repeat = 1 };
	/* the probe program drops its one frame: nothing is sent */
	if (bpf_prog_test_run_opts(bpf_program__fd(f->skel->progs.sf_probe), &live_opts))
		return -1;
	live_opts.data_in = (const void *)f->cfg->tmpl;
	return 0;
}

static uint64_t live_send(struct flood *f, uint64_t n, int *err)
{
	uint64_t before = f->skel->bss->sent;

	live_opts.repeat = (__u32)n;
	if (bpf_prog_test_run_opts(bpf_program__fd(f->skel->progs.sf_gen), &live_opts) &&
	    errno != EINTR) {
		fprintf(stderr, "sf_flood: BPF_PROG_TEST_RUN (live frames) on %s: %s\n", f->ifname,
			strerror(errno));
		*err = 1;
	}
	return f->skel->bss->sent - before;
}

/* packet: AF_PACKET sendmmsg, qdisc bypassed */
static int pkt_fd = -1;
static uint8_t (*pkt_frames)[128]; /* 256 frames, 8-byte aligned */

static int packet_open(struct flood *f)
{
	pkt_frames = aligned_alloc(64, 256 * sizeof *pkt_frames);
	pkt_fd = pkt_open(f->ifindex);
	return pkt_frames && pkt_fd >= 0 ? 0 : -1;
}

static uint64_t packet_send(struct flood *f, uint64_t n, int *err)
{
	uint64_t done = 0;
	int ready = 0; /* frames written and not sent yet, from pkt_frames[0] */

	while (done < n && !halted()) {
		int want = n - done < (uint64_t)f->batch ? (int)(n - done) : f->batch;

		for (; ready < want; ready++)
			write_frame(f, pkt_frames[ready]);
		int r = pkt_send(pkt_fd, pkt_frames, want, (int)f->cfg->len);
		if (r < 0) {
			if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
				continue;
			fprintf(stderr, "sf_flood: sendmmsg on %s: %s\n", f->ifname, strerror(errno));
			*err = 1;
			break;
		}
		memmove(pkt_frames[0], pkt_frames[r], (size_t)(ready - r) * sizeof *pkt_frames);
		ready -= r;
		done += (uint64_t)r;
	}
	return done;
}

static void packet_close(struct flood *f)
{
	(void)f;
	if (pkt_fd >= 0)
		close(pkt_fd);
	free(pkt_frames);
}

/* afxdp: an AF_XDP socket in copy mode, TX ring only */
#define XSK_FRAMES 2048
#define XSK_FRAME_SIZE 2048
static struct xsk_umem *xsk_umem;
static struct xsk_socket *xsk;
static struct xsk_ring_prod xsk_fill, xsk_tx;
static struct xsk_ring_cons xsk_comp;
static void *xsk_area = MAP_FAILED;

static int afxdp_open(struct flood *f)
{
	struct xsk_umem_config uc = { .fill_size = XSK_FRAMES, .comp_size = XSK_FRAMES,
				      .frame_size = XSK_FRAME_SIZE };
	/* no RX ring and no XDP program of libxdp's: IFACE keeps its own */
	struct xsk_socket_config sc = { .tx_size = XSK_FRAMES,
					.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
					.bind_flags = XDP_COPY };
	int e;

	xsk_area = mmap(NULL, (size_t)XSK_FRAMES * XSK_FRAME_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (xsk_area == MAP_FAILED)
		return -1;
	e = xsk_umem__create(&xsk_umem, xsk_area, (__u64)XSK_FRAMES * XSK_FRAME_SIZE, &xsk_fill,
			     &xsk_comp, &uc);
	if (!e)
		e = xsk_socket__create(&xsk, f->ifname, 0, xsk_umem, NULL, &xsk_tx, &sc);
	if (e) {
		errno = -e;
		return -1;
	}
	return 0;
}

static uint64_t afxdp_send(struct flood *f, uint64_t n, int *err)
{
	uint64_t queued = 0, done = 0;
	uint32_t idx, got;

	/* copy mode: frames leave in sendto's context, a few dozen per call, and complete there; once
	 * halted, what is queued still goes out, nothing more is queued */
	while (done < n && !(halted() && done == queued)) {
		got = xsk_ring_cons__peek(&xsk_comp, XSK_FRAMES, &idx);
		xsk_ring_cons__release(&xsk_comp, got);
		done += got;
		uint64_t want = n - queued < (uint64_t)f->batch ? n - queued : (uint64_t)f->batch;
		if (!halted() && want && xsk_ring_prod__reserve(&xsk_tx, (uint32_t)want, &idx) == want) {
			for (uint32_t k = 0; k < want; k++) {
				struct xdp_desc *d = xsk_ring_prod__tx_desc(&xsk_tx, idx + k);

				d->addr = (uint64_t)((idx + k) % XSK_FRAMES) * XSK_FRAME_SIZE;
				d->len = f->cfg->len;
				write_frame(f, (uint8_t *)xsk_area + d->addr);
			}
			xsk_ring_prod__submit(&xsk_tx, (uint32_t)want);
			queued += want;
		}
		if (queued > done && sendto(xsk_socket__fd(xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != EINTR) {
			fprintf(stderr, "sf_flood: AF_XDP send on %s: %s\n", f->ifname, strerror(errno));
			*err = 1;
			break;
		}
	}
	return done;
}

static void afxdp_close(struct flood *f)
{
	(void)f;
	if (xsk)
		xsk_socket__delete(xsk);
	if (xsk_umem)
		xsk_umem__delete(xsk_umem);
	if (xsk_area != MAP_FAILED)
		munmap(xsk_area, (size_t)XSK_FRAMES * XSK_FRAME_SIZE);
}

/* loop: frames circulating through an XDP program on a veth pair of our own (b runs sf_loop) */
static char loop_a[IF_NAMESIZE], loop_b[IF_NAMESIZE];
static int loop_fd = -1;

static int loop_seed(struct flood *f, int k)
{
	/* carriers, never changed: sf_fan writes each copy of them into a flood frame of its own */
	for (int i = 0; i < k; i++)
		memcpy(seeds[i], (const void *)f->cfg->tmpl, f->cfg->len);
	return seed_send(loop_fd, k, f, loop_a);
}

static int loop_open(struct flood *f)
{
	char *add[] = { "ip", "link", "add", loop_a, "type", "veth", "peer", "name", loop_b, NULL };
	char *up_a[] = { "ip", "link", "set", loop_a, "up", NULL };
	char *up_b[] = { "ip", "link", "set", loop_b, "up", NULL };
	int ia, ib, e;

	snprintf(loop_a, sizeof loop_a, "sfl%da", (int)getpid() % 1000000);
	snprintf(loop_b, sizeof loop_b, "sfl%db", (int)getpid() % 1000000);
	/* no IPv6 on the pair: its neighbour discovery frames would join the circulation */
	if (run_ip(add) || no_ipv6(loop_a) || no_ipv6(loop_b) || run_ip(up_a) || run_ip(up_b)) {
		fprintf(stderr, "sf_flood: cannot create the veth pair %s/%s (ip link add)\n", loop_a,
			loop_b);
		errno = EIO;
		return -1;
	}
	ia = (int)if_nametoindex(loop_a);
	ib = (int)if_nametoindex(loop_b);
	/* LOOP_FAN copies out to IFACE, each rewritten by sf_fan; then the frame out of a, which
	 * delivers it to b again (a needs no program: XDP frames are delivered to a peer that has one) */
	struct bpf_devmap_val out = { .ifindex = (__u32)f->ifindex,
				      .bpf_prog.fd = bpf_program__fd(f->skel->progs.sf_fan) },
			      back = { .ifindex = (__u32)ia };
	int ports = bpf_map__fd(f->skel->maps.loop_ports);
	__u32 k, fan = bpf_map__max_entries(f->skel->maps.loop_ports) - 1;
	for (k = 0, e = 0; k < fan && !e; k++)
		e = bpf_map_update_elem(ports, &k, &out, 0);
	if (!e)
		e = bpf_map_update_elem(ports, &fan, &back, 0);
	if (!e)
		e = bpf_xdp_attach(ib, bpf_program__fd(f->skel->progs.sf_loop), XDP_FLAGS_DRV_MODE, NULL);
	if (e || !ia || !ib)
		return -1;
	/* Flat out, the circulation would take its whole CPU in softirq, which runs wherever BHs are
	 * enabled: the client veth's NAPI and real clients on that CPU starve (the bench's legitimate
	 * clients failed), so it gets a NAPI thread of its own, which the scheduler shares fairly.
	 * Paced, it stays in softirq: a chunk then reaches an unthreaded receiver without ring loss,
	 * which it did not from the thread (a third of the frames lost). */
	if (!f->paced && threaded_napi(loop_b))
		return -1;
	loop_fd = pkt_open(ia);
	return loop_fd < 0 ? -1 : 0;
}

static uint64_t loop_send(struct flood *f, uint64_t n, int *err)
{
	(void)err;
	return credit_run(f, n, loop_seed);
}

static void loop_close(struct flood *f)
{
	char *del[] = { "ip", "link", "del", loop_a, NULL };

	(void)f;
	if (loop_fd >= 0)
		close(loop_fd);
	if (loop_a[0] && if_nametoindex(loop_a))
		run_ip(del);
}

/* reflect: IFACE's XDP program answers the receiver's answers */
static int refl_fd = -1, refl_attached;
static int refl_old = -1;  /* IFACE's own program: held open, or it would be freed when replaced */
static __u32 refl_mode;    /* its attach mode, which ours takes over */

static int reflect_seed(struct flood *f, int k)
{
	/* flood frames already, each on a credit of its own */
	k = (int)credit_take(f, k);
	for (int i = 0; i < k; i++)
		write_frame(f, seeds[i]);
	return k ? seed_send(refl_fd, k, f, f->ifname) : 0;
}

static int reflect_open(struct flood *f)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, a);

	if (bpf_xdp_query(f->ifindex, 0, &q))
		return -1;
	refl_mode = q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	if (q.prog_id) {
		refl_old = bpf_prog_get_fd_by_id(q.prog_id);
		if (refl_old < 0)
			return -1;
		a.old_prog_fd = refl_old;
	}
	if (bpf_xdp_attach(f->ifindex, bpf_program__fd(f->skel->progs.sf_reflect),
			   refl_mode | (refl_old >= 0 ? XDP_FLAGS_REPLACE : 0), &a))
		return -1;
	refl_attached = 1;
	refl_fd = pkt_open(f->ifindex);
	return refl_fd < 0 ? -1 : 0;
}

static uint64_t reflect_send(struct flood *f, uint64_t n, int *err)
{
	(void)err;
	return credit_run(f, n, reflect_seed);
}

static void reflect_close(struct flood *f)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, a, .old_prog_fd = bpf_program__fd(f->skel->progs.sf_reflect));

	if (refl_fd >= 0)
		close(refl_fd);
	if (refl_attached &&
	    (refl_old >= 0 ? bpf_xdp_attach(f->ifindex, refl_old, refl_mode | XDP_FLAGS_REPLACE, &a)
			   : bpf_xdp_detach(f->ifindex, refl_mode, &a)))
		fprintf(stderr, "sf_flood: could not put %s's own XDP program back: %s\n", f->ifname,
			strerror(errno));
	if (refl_old >= 0)
		close(refl_old);
}

static const struct engine engines[] = {
	{ "live", "sf_gen sf_probe", live_open, live_send, NULL },
	{ "loop", "sf_loop sf_fan", loop_open, loop_send, loop_close },
	{ "reflect", "sf_reflect", reflect_open, reflect_send, reflect_close },
	{ "afxdp", "", afxdp_open, afxdp_send, afxdp_close },
	{ "packet", "", packet_open, packet_send, packet_close },
};
/* -E auto: the first of these that opens. The README's "Flood generator engines" has the
 * measurements behind the order; packet, the slowest, works wherever AF_PACKET does. */
static const char *const auto_order[] = { "live", "loop", "packet" };
#define N_AUTO (sizeof auto_order / sizeof auto_order[0])

static const struct engine *engine_named(const char *name)
{
	for (size_t k = 0; k < sizeof engines / sizeof engines[0]; k++)
		if (!strcmp(engines[k].name, name))
			return &engines[k];
	return NULL;
}

/* Loads the programs engine e uses (only those: a kernel may refuse a kind it does not need), with
 * the template g; the socket engines take the template and the frame counter from it too. */
static int engine_load(struct flood *f, const struct engine *e, const struct sf_gen_cfg *g)
{
	struct bpf_program *p;
	char list[128];

	f->skel = sf_gen_bpf__open();
	if (!f->skel)
		return -1;
	memcpy((void *)&f->skel->rodata->gen_cfg, g, sizeof *g);
	snprintf(list, sizeof list, " %s ", e->progs);
	bpf_object__for_each_program(p, f->skel->obj) {
		char name[40];

		snprintf(name, sizeof name, " %s ", bpf_program__name(p));
		bpf_program__set_autoload(p, strstr(list, name) != NULL);
	}
	f->cfg = &f->skel->rodata->gen_cfg;
	return sf_gen_bpf__load(f->skel);
}

/* The engine -E names, loaded and opened; NULL after a message when it cannot run here. */
static const struct engine *engine_open(struct flood *f, const char *want,
					const struct sf_gen_cfg *g)
{
	int is_auto = !strcmp(want, "auto");

	for (size_t k = 0; k < (is_auto ? N_AUTO : 1); k++) {
		const struct engine *e = engine_named(is_auto ? auto_order[k] : want);
		int err;

		if (engine_load(f, e, g) == 0 && e->open(f) == 0)
			return e;
		err = errno;
		if (e->close)
			e->close(f);
		sf_gen_bpf__destroy(f->skel);
		f->skel = NULL;
		if (is_auto && k + 1 < N_AUTO)
			fprintf(stderr, "sf_flood: engine %s cannot run here (%s): trying %s\n", e->name,
				strerror(err), auto_order[k + 1]);
		else
			fprintf(stderr, "sf_flood: engine %s on %s: %s\n", e->name, f->ifname,
				strerror(err));
	}
	return NULL;
}

/* ---- the frame template, the command line ---------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: sf_flood -i IFACE -M DSTMAC -D DSTADDR -p DPORT -m syn|ack -n COUNT "
			"[-T SECONDS] [-E auto|live|loop|reflect|afxdp|packet] [-s SRCPREFIX] "
			"[-K VALUE/MASK] [-r PPS] [-C CHUNK] [-c CPU] [-b BATCH] [-S SEED] [-j]\n");
	exit(2);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* The template frame and its partial checksums (sf_gen.h's struct sf_gen_cfg) for frames from
 * smac to dmac/dst:dport, sources in s (prefix length plen), v6 or not, SYN or ACK. */
static void make_template(struct sf_gen_cfg *g, const uint8_t dmac[6], const uint8_t smac[6],
			  const void *dst, const void *src, int plen, int v6, int ack, int dport)
{
	uint8_t *t = g->tmpl;
	const int l4 = 14 + (v6 ? 40 : 20), tcplen = ack ? 32 : 40;
	uint32_t ip_sum = 0, tcp_sum, mask[4] = { 0, 0, 0, 0 };
	uint16_t w;

	memset(t, 0, sizeof g->tmpl);
	memcpy(t, dmac, 6);
	memcpy(t + 6, smac, 6);
	t[12] = v6 ? 0x86 : 0x08;
	t[13] = v6 ? 0xdd : 0x00;
	uint8_t *ip = t + 14, *tcp = t + l4;
	if (v6) {
		const uint8_t *s6 = src;

		ip[0] = 0x60;
		w = htons((uint16_t)tcplen);
		memcpy(ip + 4, &w, 2);
		ip[6] = 6;
		ip[7] = 64;
		uint8_t m[16];
		for (int b = 0; b < 16; b++) {
			int bits = plen - b * 8;
			m[b] = bits >= 8 ? 0 : bits <= 0 ? 0xff : (uint8_t)(0xff >> bits);
			ip[8 + b] = s6[b] & (uint8_t)~m[b];
		}
		memcpy(mask, m, 16);
		memcpy(ip + 24, dst, 16);
		tcp_sum = nsum(ip + 24, 16); /* daddr; saddr is added per frame */
	} else {
		uint32_t hm = plen == 0 ? 0xffffffffu : plen == 32 ? 0 : 0xffffffffu >> plen, sa;

		ip[0] = 0x45;
		w = htons((uint16_t)(20 + tcplen));
		memcpy(ip + 2, &w, 2);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(&sa, src, 4);
		sa &= htonl(~hm);
		memcpy(ip + 12, &sa, 4);
		memcpy(ip + 16, dst, 4);
		mask[0] = htonl(hm);
		/* without id (0 here) and saddr, which each frame adds in full */
		ip_sum = nsum(ip, 12) + nsum(ip + 16, 4);
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
	g->len = (uint32_t)SF_GEN_LEN(v6, ack);
	g->ipv6 = (uint32_t)v6;
	g->ack = (uint32_t)ack;
	g->ip_sum = ip_sum;
	g->tcp_sum = tcp_sum;
	memcpy(g->src_mask, mask, sizeof mask);
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *dmac_s = NULL, *dst_s = NULL, *mode = NULL, *src_s = NULL;
	const char *engine = "auto";
	long long count = -1;
	long dport = -1, cpu = -1, batch = 64;
	long long chunk_opt = 0;
	unsigned long ack_value = 0, ack_mask = 0;
	char *kend;
	double pps = 0, maxsec = 10;
	uint64_t seed = 0;
	int opt, json = 0;

	while ((opt = getopt(argc, argv, "i:M:D:p:n:m:r:T:S:s:c:b:C:K:E:jh")) != -1) {
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
		case 'E': engine = optarg; break;
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
	    chunk_opt > 0xffffffffLL || (strcmp(engine, "auto") && !engine_named(engine)))
		usage();
	int ack;
	if (!strcmp(mode, "syn"))
		ack = 0;
	else if (!strcmp(mode, "ack"))
		ack = 1;
	else
		usage();
	if (ack && !strcmp(engine, "reflect")) {
		fprintf(stderr, "sf_flood: engine reflect: SYN floods only (forged ACKs get no answer)\n");
		return 2;
	}

	uint8_t dmac[6], smac[6];
	if (parse_mac(dmac_s, dmac)) {
		fprintf(stderr, "sf_flood: bad MAC %s\n", dmac_s);
		return 2;
	}
	uint8_t dst[16], src[16];
	int v6, plen;
	char sbuf[INET6_ADDRSTRLEN + 8];
	if (inet_pton(AF_INET, dst_s, dst) == 1)
		v6 = 0;
	else if (inet_pton(AF_INET6, dst_s, dst) == 1)
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
	if (v6 ? inet_pton(AF_INET6, sbuf, src) != 1 || plen < 64 || plen > 128
	       : inet_pton(AF_INET, sbuf, src) != 1 || plen < 0 || plen > 32) {
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

	struct sf_gen_cfg g = { 0 };
	make_template(&g, dmac, smac, dst, src, plen, v6, ack, (int)dport);
	g.seed = seed;
	g.ack_mask = (uint32_t)ack_mask;
	g.ack_value = (uint32_t)ack_value;
	struct flood f = { .ifname = ifname, .ifindex = ifindex, .v6 = v6, .ack = ack,
			   .batch = (int)batch, .paced = pps > 0 };

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: a signal interrupts the running send */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	libbpf_set_print(libbpf_quiet);
	const struct engine *e = engine_open(&f, engine, &g);
	if (!e)
		return 1;
	double t0 = now(), t1; /* the flood's time, without setting up the engine */
	deadline = t0 + maxsec;
	/* flat out: ~0.3 s per chunk at 6 Mpps, so the time limit and signals are seen often enough */
	uint64_t chunk = chunk_opt ? (uint64_t)chunk_opt : pps > 0 ? 128 : 2000000, sent = 0;
	int err = 0, why = 0; /* why: 0 count reached, 1 time limit, 2 signal */
	for (;;) {
		if (sent >= (uint64_t)count)
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
		uint64_t c = (uint64_t)count - sent < chunk ? (uint64_t)count - sent : chunk;
		if (pps > 0) {
			double due = sent / pps;
			if (due > t1) {
				sleep_s(due - t1 < maxsec - t1 ? due - t1 : maxsec - t1);
				continue;
			}
		}
		sent += e->send(&f, c, &err);
		if (err)
			break;
	}
	t1 = now() - t0;
	if (e->close)
		e->close(&f);
	sf_gen_bpf__destroy(f.skel);
	if (json)
		printf("{\"mode\":\"%s\",\"ipv6\":%s,\"engine\":\"%s\",\"sent\":%llu,\"seconds\":%.6f,"
		       "\"pps\":%.0f,\"stopped_by\":\"%s\",\"seed\":%llu}\n",
		       mode, v6 ? "true" : "false", e->name, (unsigned long long)sent, t1,
		       t1 > 0 ? sent / t1 : 0.0,
		       err ? "error" : why == 0 ? "count" : why == 1 ? "time" : "signal",
		       (unsigned long long)seed);
	else
		printf("sent %llu\n", (unsigned long long)sent);
	fprintf(stderr, "sf_flood: %llu %s frames in %.3f s (%.2f Mpps) on %s, engine %s\n",
		(unsigned long long)sent, mode, t1, t1 > 0 ? sent / t1 / 1e6 : 0.0, ifname, e->name);
	if (err)
		return 1;
	return why ? 3 : 0;
}
