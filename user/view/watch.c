/* view/watch.c - see watch.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "lib/log.h"
#include "view/watch.h"

#define ALT_SCREEN_ON  "\033[?1049h\033[?25l" /* alternate screen, cursor hidden */
#define ALT_SCREEN_OFF "\033[?25h\033[?1049l"
#define IDLE_SLICE_MS  100 /* with an idle hook: how often keys and signals are looked at */

struct term {
	bool screen;       /* full-screen redraws on a terminal */
	bool changed;      /* stdin switched to non-canonical, no echo: restore saved on leave */
	bool keys;         /* keys are read from stdin (off after EOF; the settings stay changed) */
	struct termios saved;
};

static void term_enter(struct term *t)
{
	struct termios raw;

	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &t->saved)) {
		raw = t->saved;
		/* keys arrive one by one and are not echoed; ISIG stays on: Ctrl-C is a SIGINT */
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		t->changed = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		t->keys = t->changed;
	}
	fputs(ALT_SCREEN_ON, stdout);
	fflush(stdout);
}

static void term_leave(struct term *t)
{
	fputs(ALT_SCREEN_OFF, stdout);
	fflush(stdout);
	if (t->changed)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	t->changed = t->keys = false;
}

/* Draw buf from the top-left corner, each line cleared to its end, clipped to the window. */
static void draw(const char *buf, const char *footer)
{
	struct winsize ws = { 0 };
	int rows = 24, cols = 80, row = 0;
	const char *p = buf;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	fputs("\033[H", stdout);
	while (*p && row < rows - 1) {
		size_t n = strcspn(p, "\n");

		fwrite(p, 1, n < (size_t)cols ? n : (size_t)cols, stdout);
		fputs("\033[K\n", stdout);
		row++;
		p += n + (p[n] == '\n');
	}
	fputs("\033[J", stdout);
	/* the footer on the last line */
	printf("\033[%d;1H%.*s\033[K", rows, cols, footer);
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One --watch session: what it draws, the signals it waits for, the terminal. */
struct watch {
	const struct sf_watch_ops *ops;
	struct term t;
	int sfd;          /* signalfd of the signals blocked below */
	sigset_t oldset;  /* the signal mask to restore */
	char footer[128];
};

/* Block the signals that end (or resize) the session and read them from a signalfd instead. */
static int signals_open(struct watch *w)
{
	sigset_t set;
	int err = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT); /* Ctrl-\: quit through term_leave too, not with echo off */
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, &set, &w->oldset)) {
		err = -errno;
		sf_err("cannot block signals: %s", strerror(-err));
		goto out;
	}
	w->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (w->sfd < 0) {
		err = -errno;
		sf_err("cannot create a signalfd: %s", strerror(-err));
		sigprocmask(SIG_SETMASK, &w->oldset, NULL);
	}
out:
	return err;
}

static void signals_close(struct watch *w)
{
	close(w->sfd);
	sigprocmask(SIG_SETMASK, &w->oldset, NULL);
}

/* Render one frame: drawn over the screen, or appended to stdout (a pipe, or -j). */
static int show_frame(struct watch *w)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int err;

	if (!w->t.screen) {
		err = w->ops->frame(stdout, w->ops->arg);
		if (!err && !w->ops->json)
			fputc('\n', stdout);
		return err ? err : fflush(stdout) || ferror(stdout) ? -EPIPE : 0;
	}
	mem = open_memstream(&buf, &len);
	if (!mem) {
		sf_err("out of memory");
		return -ENOMEM;
	}
	err = w->ops->frame(mem, w->ops->arg);
	fclose(mem);
	if (!err)
		draw(buf, w->footer);
	free(buf);
	return err;
}

/* Keys typed: q quits. EOF or a lasting error stops reading keys. */
static void read_keys(struct watch *w, bool *quit)
{
	char keys[16];
	ssize_t got = read(STDIN_FILENO, keys, sizeof(keys));

	if (got <= 0)
		w->t.keys = got < 0 && (errno == EINTR || errno == EAGAIN);
	else if (memchr(keys, 'q', got) || memchr(keys, 'Q', got))
		*quit = true;
}

/* Wait until next (now_s() time), a signal (SIGWINCH: redraw now; the others quit) or q. */
static int wait_frame(struct watch *w, double next, bool *quit)
{
	for (;;) {
		struct pollfd pfd[2] = { { .fd = w->sfd, .events = POLLIN },
					 { .fd = STDIN_FILENO, .events = POLLIN } };
		int left = (int)((next - now_s()) * 1000 + 0.5), r;

		if (left <= 0)
			return 0;
		r = poll(pfd, w->t.keys ? 2 : 1, w->ops->idle ? 0 : left);
		if (!r && w->ops->idle) {
			r = w->ops->idle(w->ops->arg, left < IDLE_SLICE_MS ? left : IDLE_SLICE_MS);
			if (r < 0) {
				*quit = true;
				return r;
			}
			continue;
		}
		if (r < 0 && errno != EINTR) {
			int err = -errno;

			sf_err("poll: %s", strerror(-err));
			*quit = true;
			return err;
		}
		if (r > 0 && pfd[0].revents) {
			struct signalfd_siginfo si;

			/* SIGINT, SIGTERM, SIGQUIT, SIGHUP quit */
			*quit = !(read(w->sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGWINCH);
			return 0;
		}
		if (r > 0 && w->t.keys && pfd[1].revents) {
			read_keys(w, quit);
			if (*quit)
				return 0;
		}
	}
}

int sf_watch_run(const struct sf_watch_ops *ops, double period)
{
	struct watch w = { .ops = ops, .t = { .screen = !ops->json && isatty(STDOUT_FILENO) } };
	double next = now_s() + (ops->wait_first ? period : 0);
	bool quit = false;
	int err;

	err = signals_open(&w);
	if (err)
		goto out;
	snprintf(w.footer, sizeof(w.footer), "every %gs - q or Ctrl-C quits", period);
	if (w.t.screen) {
		term_enter(&w.t);
		sf_err_defer(true); /* an error now would vanish with the alternate screen */
	}
	while (!err) {
		err = wait_frame(&w, next, &quit);
		if (err || quit)
			break;
		next = now_s() + period;
		err = show_frame(&w);
	}
	if (w.t.screen) {
		term_leave(&w.t);
		sf_err_defer(false);
	}
	signals_close(&w);
out:
	return err;
}

/* stats --watch: two snapshots read in turn, each frame with the rates since the one before. */
struct stats_watch {
	const struct sf_maps *m;
	const struct sf_render_opts *o;
	struct sf_snap snaps[2];
	int n;
};

static int stats_frame(FILE *out, void *arg)
{
	struct stats_watch *sw = arg;
	struct sf_snap *cur = &sw->snaps[sw->n % 2];
	int err = sf_snap_read(sw->m, cur, true);

	if (err)
		return err;
	sf_render(out, cur, sw->n ? &sw->snaps[(sw->n + 1) % 2] : NULL, sw->o);
	sw->n++;
	return 0;
}

int sf_watch(const struct sf_maps *m, const struct sf_render_opts *o, double period)
{
	struct stats_watch *sw = calloc(1, sizeof(*sw));
	struct sf_watch_ops ops = { .frame = stats_frame, .arg = sw, .json = o->json };
	int err;

	if (!sw) {
		sf_err("out of memory");
		return -ENOMEM;
	}
	sw->m = m;
	sw->o = o;
	err = sf_watch_run(&ops, period);
	free(sw);
	return err;
}
