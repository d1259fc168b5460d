/* lib/sample.c - see sample.h: the pinned switch (sf_sample_ctl) and ring (sf_samples), one holder. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/mapio.h"
#include "lib/proc.h"
#include "lib/sample.h"
#include "lib/util.h"

/* Serializes claims of the switch (and the daemon's switching off for a dead holder). Not the pin
 * dir: the daemon holds an flock on it for its whole life. */
#define SF_SAMPLE_LOCK_DIR  "/run/synfence"
#define SF_SAMPLE_LOCK_FILE SF_SAMPLE_LOCK_DIR "/sampling.lock"

struct sf_sampler {
	int ctl_fd, ring_fd;
	struct ring_buffer *rb;
	__u32 pid;
	__u64 start;
	bool draining;       /* records are discarded, not handed to fn */
	int (*fn)(const struct sf_sample *smp, void *arg);
	void *arg;
	int handed;
};

static volatile sig_atomic_t *sf_signal_flag;

int sf_sample_lock(bool wait)
{
	int fd, ret;

	mkdir(SF_SAMPLE_LOCK_DIR, 0755);
	fd = open(SF_SAMPLE_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while ((ret = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) && errno == EINTR)
		;
	if (ret) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

void sf_sample_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

void sf_sample_holder_name(__u32 pid, char *who, size_t len)
{
	char cmd[256], *sp, *arg0;

	sf_proc_cmdline((pid_t)pid, cmd, sizeof(cmd));
	/* "/usr/sbin/synfence capture -i eth0" -> "synfence capture" */
	sp = strchr(cmd, ' ');
	if (sp)
		*sp = '\0';
	arg0 = basename(cmd);
	if (sp) {
		char *end = strchr(sp + 1, ' ');

		if (end)
			*end = '\0';
		snprintf(who, len, "%s %s", arg0, sp + 1);
	} else {
		snprintf(who, len, "%s", arg0);
	}
}

bool sf_sample_holder_alive(const struct sf_sample_ctl *c)
{
	return c->on && sf_proc_is((pid_t)c->owner_pid, c->owner_start);
}

static int ctl_read(int fd, struct sf_sample_ctl *c)
{
	__u32 zero = 0;

	return sf_map_read(fd, &zero, c, sizeof(*c));
}

static int ctl_write(int fd, const struct sf_sample_ctl *c)
{
	__u32 zero = 0;

	return sf_map_update(fd, &zero, c, BPF_ANY);
}

static int pin_get(const char *pin_dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	if (sf_path_join(path, sizeof(path), pin_dir, name))
		return sf_einval(err, errlen, "pin dir path too long: %s", pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0)
		return fd;
	fd = -errno;
	if (fd == -ENOENT)
		snprintf(err, errlen, "no synfence running in %s (%s is not pinned)", pin_dir, name);
	else if (fd == -EPERM || fd == -EACCES)
		snprintf(err, errlen, "cannot open %s: %s (run as root)", path, strerror(-fd));
	else
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-fd));
	return fd == -EACCES ? -EPERM : fd;
}

static int adapter(void *ctx, void *data, size_t len)
{
	struct sf_sampler *s = ctx;

	if (s->draining || len < sizeof(struct sf_sample) || !s->fn)
		return 0;
	s->handed++;
	return s->fn(data, s->arg) ? -ECANCELED : 0;
}

/* Refused while a live process other than us holds the switch. */
static int claim_check(const struct sf_sample_ctl *c, char *err, size_t errlen)
{
	char who[128];

	if (!sf_sample_holder_alive(c) || c->owner_pid == (__u32)getpid())
		return 0;
	sf_sample_holder_name(c->owner_pid, who, sizeof(who));
	snprintf(err, errlen, "sampling is in use by pid %u (%s)", c->owner_pid, who[0] ? who : "?");
	return -EBUSY;
}

/* Under the lock: off, what an earlier holder left in the ring discarded, on with req as ours. */
static int claim(struct sf_sampler *s, const struct sf_sample_req *req, char *err, size_t errlen)
{
	struct sf_sample_ctl c, off = { 0 };
	int ret;

	if ((ret = ctl_read(s->ctl_fd, &c))) {
		snprintf(err, errlen, "cannot read %s: %s", SF_MAP_SAMPLE_CTL, strerror(-ret));
		return ret;
	}
	if ((ret = claim_check(&c, err, errlen)) || (c.on && (ret = ctl_write(s->ctl_fd, &off))))
		goto out;
	s->draining = true;
	ring_buffer__consume(s->rb);
	s->draining = false;
	c = (struct sf_sample_ctl){ .on = 1, .ifindex = req->ifindex, .per_cpu_sec = req->per_cpu_sec,
				    .reasons = req->reasons, .owner_pid = s->pid, .owner_start = s->start };
	memcpy(c.every, req->every, sizeof(c.every));
	ret = ctl_write(s->ctl_fd, &c);
out:
	if (ret && ret != -EBUSY)
		snprintf(err, errlen, "cannot write %s: %s", SF_MAP_SAMPLE_CTL, strerror(-ret));
	return ret;
}

static int sampler_new(const char *pin_dir, struct sf_sampler **out, char *err, size_t errlen)
{
	struct sf_sampler *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->ctl_fd = s->ring_fd = -1;
	*out = s;
	s->pid = (__u32)getpid();
	if ((ret = sf_proc_start_time((pid_t)s->pid, &s->start))) {
		snprintf(err, errlen, "cannot read /proc/self/stat: %s", strerror(-ret));
		return ret;
	}
	if ((s->ctl_fd = pin_get(pin_dir, SF_MAP_SAMPLE_CTL, err, errlen)) < 0)
		return s->ctl_fd;
	if ((s->ring_fd = pin_get(pin_dir, SF_MAP_SAMPLES, err, errlen)) < 0)
		return s->ring_fd;
	s->rb = ring_buffer__new(s->ring_fd, adapter, s, NULL);
	if (!s->rb) {
		ret = -errno;
		snprintf(err, errlen, "cannot map the ring %s: %s", SF_MAP_SAMPLES, strerror(-ret));
		return ret;
	}
	return 0;
}

static void sampler_free(struct sf_sampler *s)
{
	ring_buffer__free(s->rb);
	if (s->ring_fd >= 0)
		close(s->ring_fd);
	if (s->ctl_fd >= 0)
		close(s->ctl_fd);
	free(s);
}

int sf_sampler_open(const char *pin_dir, const struct sf_sample_req *req, struct sf_sampler **out,
		    char *err, size_t errlen)
{
	struct sf_sampler *s = NULL;
	int ret, lock = -1;

	*out = NULL;
	if (req->per_cpu_sec < 1) {
		ret = sf_einval(err, errlen, "the per-CPU cap must be at least 1 sample a second");
		goto out;
	}
	if ((ret = sampler_new(pin_dir, &s, err, errlen)))
		goto out;
	if ((lock = sf_sample_lock(true)) < 0) {
		ret = lock;
		snprintf(err, errlen, "cannot lock %s: %s", SF_SAMPLE_LOCK_FILE, strerror(-ret));
		goto out;
	}
	ret = claim(s, req, err, errlen);
out:
	sf_sample_unlock(lock);
	if (ret && s)
		sampler_free(s);
	else
		*out = s;
	return ret;
}

int sf_sampler_set_every(struct sf_sampler *s, const __u32 every[SF_VC_MAX])
{
	struct sf_sample_ctl c;
	int ret, lock = sf_sample_lock(true);

	if (lock < 0)
		return lock;
	ret = ctl_read(s->ctl_fd, &c);
	if (!ret && (!c.on || c.owner_pid != s->pid || c.owner_start != s->start))
		ret = -EBUSY;
	if (!ret) {
		memcpy(c.every, every, sizeof(c.every));
		ret = ctl_write(s->ctl_fd, &c);
	}
	sf_sample_unlock(lock);
	return ret;
}

/* One wait of at most SF_SAMPLE_POLL_MS, then whatever is in the ring: XDP wakes the reader only
 * for a batch (SF_SAMPLE_WAKE_BYTES), so a few samples are read when the wait ends. */
static int poll_slice(struct sf_sampler *s, int ms)
{
	int ret = ring_buffer__poll(s->rb, ms);

	if (ret >= 0)
		ret = ring_buffer__consume(s->rb);
	return ret;
}

int sf_sampler_poll(struct sf_sampler *s, int timeout_ms,
		    int (*fn)(const struct sf_sample *smp, void *arg), void *arg)
{
	__u64 end = sf_clock_ns(CLOCK_MONOTONIC) + (__u64)(timeout_ms > 0 ? timeout_ms : 0) * 1000000;
	int ret;

	s->fn = fn;
	s->arg = arg;
	s->handed = 0;
	for (;;) {
		__u64 now = sf_clock_ns(CLOCK_MONOTONIC);
		int left = timeout_ms < 0 ? SF_SAMPLE_POLL_MS : now >= end ? 0 : (int)((end - now) / 1000000);

		ret = poll_slice(s, left < SF_SAMPLE_POLL_MS ? left : SF_SAMPLE_POLL_MS);
		if (ret < 0 || s->handed || (timeout_ms >= 0 && sf_clock_ns(CLOCK_MONOTONIC) >= end))
			break;
	}
	s->fn = NULL;
	return ret == -ECANCELED || ret >= 0 ? s->handed : ret;
}

void sf_sampler_close(struct sf_sampler *s)
{
	struct sf_sample_ctl c, off = { 0 };
	int lock;

	if (!s)
		return;
	lock = sf_sample_lock(true);
	/* switched off only while it is still ours: the daemon may have taken it back, a new holder
	 * claimed it since */
	if (!ctl_read(s->ctl_fd, &c) && c.on && c.owner_pid == s->pid && c.owner_start == s->start)
		ctl_write(s->ctl_fd, &off);
	sf_sample_unlock(lock);
	sampler_free(s);
}

static void on_signal(int sig)
{
	if (sf_signal_flag)
		*sf_signal_flag = sig;
}

void sf_sampler_catch_signals(volatile sig_atomic_t *flag)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a blocked poll returns EINTR */
	sigemptyset(&sa.sa_mask);
	sf_signal_flag = flag;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

int sf_sampler_holder(const char *pin_dir, __u32 *pid, char *who, size_t wholen, struct sf_sample_ctl *ctl)
{
	struct sf_sample_ctl c;
	char err[256];
	int fd, ret;

	*pid = 0;
	if (wholen)
		who[0] = '\0';
	if ((fd = pin_get(pin_dir, SF_MAP_SAMPLE_CTL, err, sizeof(err))) < 0)
		return fd;
	ret = ctl_read(fd, &c);
	close(fd);
	if (ret)
		return ret;
	if (ctl)
		*ctl = c;
	if (!c.on)
		return 0;
	*pid = c.owner_pid;
	if (sf_sample_holder_alive(&c))
		sf_sample_holder_name(c.owner_pid, who, wholen);
	else if (wholen)
		snprintf(who, wholen, "gone");
	return 0;
}

int sf_sample_reap(int ctl_fd, __u32 *gone_pid)
{
	struct sf_sample_ctl c, off = { 0 };
	int lock, ret;

	*gone_pid = 0;
	lock = sf_sample_lock(false); /* busy: someone is claiming or letting go right now */
	if (lock < 0)
		return 0;
	ret = ctl_read(ctl_fd, &c);
	if (ret || !c.on || sf_sample_holder_alive(&c))
		goto out;
	ret = ctl_write(ctl_fd, &off);
	if (!ret) {
		*gone_pid = c.owner_pid;
		ret = 1;
	}
out:
	sf_sample_unlock(lock);
	return ret;
}
