/* lib/pins.c - see pins.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lib/loader.h"
#include "lib/pins.h"
#include "lib/util.h"

#define SYS_BPFFS "/sys/fs/bpf"

const char *const sf_map_names[] = {
#define SF_X_NAME(id, name) [id] = (name),
	SF_PINNED_MAPS(SF_X_NAME)
#undef SF_X_NAME
};
_Static_assert(SF_ARRAY_SIZE(sf_map_names) == SF_N_MAPS, "sf_map_names: one name per pinned map");

static int mount_bpffs(const char *path)
{
	return mount("bpf", path, "bpf", 0, "mode=0700") ? -errno : 0;
}

void sf_bpffs_ensure_sys(void)
{
	if (sf_is_bpffs(SYS_BPFFS) == 0)
		mount_bpffs(SYS_BPFFS);
}

static bool dir_is_empty(const char *path)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(path);

	if (!d)
		return false;
	/* a fresh bpffs may show the kernel's maps.debug and progs.debug (bpf_preload) */
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
			!strcmp(de->d_name, "maps.debug") || !strcmp(de->d_name, "progs.debug");
	closedir(d);
	return empty;
}

static int lock_dir(struct sf_pins *p, bool lock, char *err, size_t errlen)
{
	p->lock_fd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->lock_fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "cannot open pin dir %s: %s", p->dir, strerror(-ret));
		return ret;
	}
	if (lock && flock(p->lock_fd, LOCK_EX | LOCK_NB)) {
		int ret = errno == EWOULDBLOCK ? -EBUSY : -errno;

		snprintf(err, errlen, "cannot lock pin dir %s: %s", p->dir, strerror(-ret));
		return ret;
	}
	return 0;
}

int sf_pins_prepare(struct sf_pins *p, const char *dir, char *err, size_t errlen)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->lock_fd = -1;
	if (snprintf(p->dir, sizeof(p->dir), "%s", dir) >= (int)sizeof(p->dir)) {
		ret = -ENAMETOOLONG;
		snprintf(err, errlen, "pin dir %s: %s", dir, strerror(-ret));
		goto out;
	}
	if (!strncmp(p->dir, SYS_BPFFS "/", strlen(SYS_BPFFS) + 1))
		sf_bpffs_ensure_sys();
	ret = sf_mkdir_p(p->dir, 0700, &p->dir_created);
	if (ret) {
		snprintf(err, errlen, "cannot create pin dir %s: %s", p->dir, strerror(-ret));
		goto out;
	}
	ret = sf_is_bpffs(p->dir);
	if (ret == 0) {
		/* never hide files (or a whole tree: --pin-dir /) under a new mount */
		if (!dir_is_empty(p->dir)) {
			ret = -ENOTEMPTY;
			snprintf(err, errlen, "pin dir %s is not on a bpffs and not empty: refusing to "
				 "mount a bpffs over it", p->dir);
			goto out;
		}
		ret = mount_bpffs(p->dir);
		if (ret) {
			snprintf(err, errlen, "cannot mount a bpffs on pin dir %s: %s", p->dir,
				 strerror(-ret));
			goto out;
		}
		p->mounted = true;
	} else if (ret < 0) {
		snprintf(err, errlen, "cannot check pin dir %s: %s", p->dir, strerror(-ret));
		goto out;
	}
	/* our state is for root only, whoever made the directory */
	if (chmod(p->dir, 0700)) {
		ret = -errno;
		snprintf(err, errlen, "cannot chmod pin dir %s: %s", p->dir, strerror(-ret));
		goto out;
	}
	ret = lock_dir(p, true, err, errlen);
out:
	return ret;
}

int sf_pins_open(struct sf_pins *p, const char *dir, bool lock, char *err, size_t errlen)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->lock_fd = -1;
	if (snprintf(p->dir, sizeof(p->dir), "%s", dir) >= (int)sizeof(p->dir)) {
		snprintf(err, errlen, "pin dir %s: %s", dir, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	ret = sf_is_bpffs(p->dir);
	if (ret != 1) {
		snprintf(err, errlen, "no synfence state in %s (%s)", p->dir,
			 ret == 0 ? "not a bpffs" : strerror(-ret));
		return -ENOENT;
	}
	return lock_dir(p, lock, err, errlen);
}

int sf_pins_path(const struct sf_pins *p, const char *name, char *buf, size_t len)
{
	return sf_path_join(buf, len, p->dir, name);
}

/* bpffs refuses names with a dot: a dot of the interface name (eth0.100) becomes a colon, which no
 * interface name has. */
void sf_pins_link_name(enum sf_link_kind kind, const char *ifname, char *buf, size_t len)
{
	snprintf(buf, len, SF_LINK_PIN_PREFIX "%s_%s", kind == SF_LINK_XDP ? "xdp" : "tc", ifname);
	for (char *c = buf; *c; c++)
		if (*c == '.')
			*c = ':';
}

int sf_pins_get(const struct sf_pins *p, const char *name)
{
	char path[PATH_MAX];
	int fd, ret = sf_pins_path(p, name, path, sizeof(path));

	if (ret)
		return ret;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int sf_pins_remove(const struct sf_pins *p, const char *name)
{
	char path[PATH_MAX];
	int ret = sf_pins_path(p, name, path, sizeof(path));

	if (ret)
		return ret;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

int sf_pins_put(const struct sf_pins *p, const char *name, int fd)
{
	char path[PATH_MAX];
	int ret = sf_pins_path(p, name, path, sizeof(path));

	if (ret)
		return ret;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	if (bpf_obj_pin(fd, path))
		return -errno;
	/* bpf_obj_pin honours the umask: make sure nobody else can read the secrets */
	if (chmod(path, 0600))
		return -errno;
	return 0;
}

bool sf_pins_drop_link(const struct sf_pins *p, enum sf_link_kind kind, const char *ifname, int *fd)
{
	struct sf_link_info li;
	char name[64];
	int pinned = -1, *link = fd ? fd : &pinned;
	bool was;

	sf_pins_link_name(kind, ifname, name, sizeof(name));
	if (!fd)
		pinned = sf_pins_get(p, name);
	was = *link >= 0 && !sf_link_info(*link, &li) && li.ifindex != 0;
	sf_link_destroy(link);
	sf_pins_remove(p, name);
	return was;
}

int sf_pins_for_links(const struct sf_pins *p,
		      int (*fn)(enum sf_link_kind kind, const char *ifname, void *arg), void *arg)
{
	static const char xdp[] = SF_LINK_PIN_PREFIX "xdp_", tc[] = SF_LINK_PIN_PREFIX "tc_";
	struct dirent *de;
	DIR *d = opendir(p->dir);
	int ret = 0;

	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		enum sf_link_kind kind;
		char ifname[64];
		const char *n;

		if (!strncmp(de->d_name, xdp, sizeof(xdp) - 1) && de->d_name[sizeof(xdp) - 1]) {
			kind = SF_LINK_XDP;
			n = de->d_name + sizeof(xdp) - 1;
		} else if (!strncmp(de->d_name, tc, sizeof(tc) - 1) && de->d_name[sizeof(tc) - 1]) {
			kind = SF_LINK_TC;
			n = de->d_name + sizeof(tc) - 1;
		} else {
			continue;
		}
		snprintf(ifname, sizeof(ifname), "%s", n);
		for (char *c = ifname; *c; c++)
			if (*c == ':')
				*c = '.';
		ret = fn(kind, ifname, arg);
	}
	closedir(d);
	return ret;
}

static int any_link(enum sf_link_kind kind, const char *ifname, void *arg)
{
	(void)kind;
	(void)ifname;
	(void)arg;
	return 1;
}

bool sf_pins_any_link(const struct sf_pins *p)
{
	return sf_pins_for_links(p, any_link, NULL) == 1;
}

bool sf_pins_any(const struct sf_pins *p)
{
	char path[PATH_MAX];
	struct stat st;

	for (int i = 0; i < SF_N_MAPS; i++)
		if (!sf_pins_path(p, sf_map_names[i], path, sizeof(path)) && !lstat(path, &st))
			return true;
	return sf_pins_any_link(p);
}

static int remove_link(enum sf_link_kind kind, const char *ifname, void *arg)
{
	char name[64];

	sf_pins_link_name(kind, ifname, name, sizeof(name));
	sf_pins_remove(arg, name);
	return 0;
}

void sf_pins_remove_all(const struct sf_pins *p)
{
	for (int i = 0; i < SF_N_MAPS; i++)
		sf_pins_remove(p, sf_map_names[i]);
	sf_pins_for_links(p, remove_link, (void *)p);
}

void sf_pins_close(struct sf_pins *p, bool remove_dir)
{
	if (p->lock_fd >= 0)
		close(p->lock_fd); /* drops the flock */
	p->lock_fd = -1;
	if (!remove_dir || !p->dir[0])
		return;
	if (p->mounted && dir_is_empty(p->dir)) {
		umount2(p->dir, MNT_DETACH);
		p->mounted = false;
	}
	/* not empty, or someone else's mount point (EBUSY): it stays */
	if (!p->mounted)
		rmdir(p->dir);
}
