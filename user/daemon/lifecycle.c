/* daemon/lifecycle.c - sf_daemon_run: event fds, timers, watchdog, sd_notify, the loop, stop. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "cmd/cmd.h"
#include "daemon/internal.h"
#include "lib/log.h"
#include "lib/preflight.h"
#include "synfence.skel.h"
#include "view/metrics.h"

int tick_arm(struct daemon *d)
{
	struct itimerspec its = { .it_interval = { .tv_sec = (time_t)d->set.sysctl_interval },
				  .it_value = { .tv_sec = (time_t)d->set.sysctl_interval } };

	return timerfd_settime(d->tick_fd, 0, &its, NULL) ? -errno : 0;
}

static int setup_signals(sigset_t *old)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	/* blocked from the start: a signal during setup is handled once setup is done or undone */
	if (sigprocmask(SIG_BLOCK, &set, old))
		return -errno;
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* Returns true to leave protection in place. */
static bool serve(struct daemon *d)
{
	for (;;) {
		struct pollfd pfd[6] = {
			{ .fd = d->sig_fd, .events = POLLIN }, { .fd = d->rot_fd, .events = POLLIN },
			{ .fd = d->tick_fd, .events = POLLIN }, { .fd = d->wd_fd, .events = POLLIN },
			{ .fd = d->nl_fd, .events = POLLIN }, { .fd = d->engage_fd, .events = POLLIN },
		};
		struct signalfd_siginfo si;
		__u64 exp;

		if (poll(pfd, 6, -1) < 0) {
			if (errno == EINTR)
				continue;
			report_problem(d, false, "poll: %s: stopping", strerror(errno));
			return d->set.keep_attached;
		}
		if (pfd[0].revents && read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				sf_info("got SIGHUP, reloading");
				daemon_reload(d);
			} else if (si.ssi_signo == SIGUSR2) {
				sf_info("got SIGUSR2: stopping, leaving protection in place");
				return true;
			} else {
				sf_info("got SIG%s, %s", sigabbrev_np(si.ssi_signo),
					d->set.keep_attached ? "stopping (keep_attached: protection stays)" :
					"detaching");
				return d->set.keep_attached;
			}
		}
		if (pfd[1].revents)
			rotate_secret(d);
		if (pfd[2].revents && read(d->tick_fd, &exp, sizeof(exp)) > 0) {
			check_links(d);
			check_pins(d);
			sysctl_sync(d, false);
			lists_tick(d);
			sampling_tick(d);
			publish_state(d);
		}
		if (pfd[3].revents && read(d->wd_fd, &exp, sizeof(exp)) > 0)
			sd_notify(0, "WATCHDOG=1");
		if (pfd[4].revents)
			netlink_event(d);
		if (pfd[5].revents)
			engage_tick(d);
	}
}

static void daemon_stop(struct daemon *d, bool leave)
{
	sd_notify(0, "STOPPING=1");
	if (leave) {
		for (int i = 0; i < d->n_ifs; i++)
			leave_if(d, &d->ifs[i]);
		d->st.pid = 0;
		d->st.flags |= SF_ST_LEFT_ATTACHED;
		publish_state(d);
		sf_info("protection left in place (maps and links pinned in %s): the next 'synfence "
			"run' takes it over, 'synfence detach IFACE' removes it", d->pins.dir);
		sf_pins_close(&d->pins, false);
		return;
	}
	/* XDP stops answering SYNs before the TC program that completes its handshakes goes */
	memset(&d->want, 0, sizeof(d->want));
	d->suspended = true;
	write_cfg(d);
	for (int i = 0; i < d->n_ifs; i++)
		detach_if(d, &d->ifs[i]);
	sf_pins_remove_all(&d->pins);
	sf_pins_close(&d->pins, true);
}

/* A daemon for o: nothing open yet (every fd -1). */
static struct daemon *daemon_new(struct sf_run_opts *o)
{
	struct daemon *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->o = o;
	d->set = o->set;
	d->sig_fd = d->rot_fd = d->tick_fd = d->wd_fd = d->nl_fd = d->engage_fd = -1;
	d->syncookies_found = -1;
	d->pins.lock_fd = -1;
	for (int i = 0; i < SF_N_MAPS; i++)
		d->map[i] = d->old_map[i] = -1;
	apply_log_level(&d->set);
	return d;
}

/* Before start: the checks, the master secret, the event fds (signals blocked from here on, the
 * old mask in *oldmask), the metrics port. Returns an exit code. */
static int daemon_prepare(struct daemon *d, sigset_t *oldmask)
{
	if (sf_check_root() || sf_check_kernel())
		return SF_EXIT_FAIL;
	d->features = sf_probe_features();
	if (load_master(d, &d->set, &d->master)) {
		sf_err("%s", d->err);
		return SF_EXIT_USAGE;
	}
	d->shared = d->set.secret_file[0] != '\0';
	d->sig_fd = setup_signals(oldmask);
	if (d->sig_fd < 0) {
		sf_err("cannot set up signal handling: %s", strerror(-d->sig_fd));
		return SF_EXIT_FAIL;
	}
	d->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->wd_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->nl_fd = netlink_open();
	engage_open(d);
	if (d->tick_fd < 0 || d->wd_fd < 0 || d->nl_fd < 0 || d->engage_fd < 0) {
		sf_err("cannot create timers or the netlink socket: %s",
		       strerror(d->nl_fd < 0 ? -d->nl_fd : errno));
		return SF_EXIT_FAIL;
	}
	/* a taken metrics port fails here, before anything is attached */
	if (d->set.metrics[0] && sf_metrics_bind(&d->metrics, d->set.metrics))
		return SF_EXIT_FAIL;
	return SF_EXIT_OK;
}

/* Once started: the metrics server, the rotation and tick timers, systemd's watchdog. Returns 0 or
 * -errno (logged). */
static int daemon_go_live(struct daemon *d)
{
	uint64_t wd_usec = 0;
	int ret;

	if (d->metrics) {
		struct sf_maps maps = { .counters = d->map[SF_M_COUNTERS], .ifaces = d->map[SF_M_IFACES],
					.state = d->map[SF_M_STATE], .ports = d->map[SF_M_PORTS],
					.config = d->map[SF_M_CONFIG] };

		snprintf(d->st.metrics, sizeof(d->st.metrics), "%s", d->set.metrics);
		publish_state(d);
		if ((ret = sf_metrics_start(d->metrics, &maps)))
			return ret < 0 ? ret : -EIO;
		sf_info("metrics at http://%s/metrics", d->set.metrics);
	}
	if ((ret = rot_arm(d, false)) || (ret = tick_arm(d)) || (ret = engage_arm(d))) {
		sf_err("cannot arm the timers: %s", strerror(-ret));
		return -1;
	}
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec) {
		struct itimerspec its;

		wd_usec /= 2;
		its.it_value.tv_sec = its.it_interval.tv_sec = (time_t)(wd_usec / 1000000);
		its.it_value.tv_nsec = its.it_interval.tv_nsec = (long)(wd_usec % 1000000 * 1000);
		timerfd_settime(d->wd_fd, 0, &its, NULL);
	}
	return 0;
}

/* Everything d holds goes (the signal mask is put back). */
static void daemon_free(struct daemon *d, const sigset_t *oldmask)
{
	sf_metrics_stop(d->metrics);
	if (d->sig_fd >= 0) {
		close(d->sig_fd);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
	}
	for (int i = 0; i < SF_N_MAPS; i++)
		if (d->old_map[i] >= 0)
			close(d->old_map[i]);
	if (d->rot_fd >= 0)
		close(d->rot_fd);
	if (d->tick_fd >= 0)
		close(d->tick_fd);
	if (d->wd_fd >= 0)
		close(d->wd_fd);
	if (d->nl_fd >= 0)
		close(d->nl_fd);
	engage_close(d);
	synfence_bpf__destroy(d->skel);
	sf_master_clear(&d->master);
	free(d);
}

int sf_daemon_run(struct sf_run_opts *o)
{
	struct daemon *d = daemon_new(o);
	sigset_t oldmask;
	bool leave;
	int code;

	if (!d) {
		sf_err("%s", strerror(ENOMEM));
		return SF_EXIT_FAIL;
	}
	sigemptyset(&oldmask);
	code = daemon_prepare(d, &oldmask);
	if (!code)
		code = daemon_start(d);
	if (code)
		goto out;
	if (daemon_go_live(d)) {
		daemon_stop(d, false);
		code = SF_EXIT_FAIL;
		goto out;
	}
	sd_notifyf(0, "READY=1\nSTATUS=protecting %d interface%s\nMAINPID=%d", d->n_ifs,
		   d->n_ifs == 1 ? "" : "s", (int)getpid());

	leave = serve(d);
	sf_metrics_stop(d->metrics); /* its thread reads the maps: stop it first */
	d->metrics = NULL;
	daemon_stop(d, leave);
	sf_info("stopped");
out:
	daemon_free(d, &oldmask);
	return code;
}
