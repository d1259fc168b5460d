/* pins.c - see pins.h. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "log.h"
#include "pins.h"
#include "util.h"

#define SYS_BPFFS "/sys/fs/bpf"

const char *const sf_map_names[SF_N_MAPS] = {
	SF_MAP_CONFIG, SF_MAP_SECRETS, SF_MAP_PORTS, SF_MAP_IF_SLOT, SF_MAP_IFACES, SF_MAP_COUNTERS,
};

static int mount_bpffs(const char *path)
{
	return mount("bpf", path, "bpf", 0, "mode=0700") ? -errno : 0;
}

void sf_bpffs_ensure_sys(void)
{
	int r = sf_is_bpffs(SYS_BPFFS);

	if (r == 1)
		return;
	if (r == 0)
		r = mount_bpffs(SYS_BPFFS);
	if (r)
		sf_warn("cannot mount a bpffs at %s (%s): libxdp will attach without its dispatcher",
			SYS_BPFFS, strerror(-r));
	else
		sf_dbg("mounted a bpffs at %s", SYS_BPFFS);
}

static bool dir_is_empty(const char *path)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(path);

	if (!d)
		return false;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

int sf_pins_prepare(struct sf_pins *p, const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	int err;

	memset(p, 0, sizeof(*p));
	if (snprintf(p->dir, sizeof(p->dir), "%s", dir) >= (int)sizeof(p->dir)) {
		err = -ENAMETOOLONG;
		sf_err("pin dir %s: %s", dir, strerror(-err));
		goto out;
	}
	err = sf_mkdir_p(p->dir, 0700, &p->dir_created);
	if (err) {
		sf_err("cannot create pin dir %s: %s", p->dir, strerror(-err));
		goto out;
	}
	err = sf_is_bpffs(p->dir);
	if (err == 0) {
		/* never hide files (or a whole tree: --pin-dir /) under a new mount */
		if (!dir_is_empty(p->dir)) {
			err = -ENOTEMPTY;
			sf_err("pin dir %s is not on a bpffs and not empty: refusing to mount a bpffs over it",
			       p->dir);
			goto out;
		}
		err = mount_bpffs(p->dir);
		if (err) {
			sf_err("cannot mount a bpffs on pin dir %s: %s", p->dir, strerror(-err));
			goto out;
		}
		p->mounted = true;
		sf_dbg("mounted a bpffs at %s", p->dir);
	} else if (err < 0) {
		sf_err("cannot check pin dir %s: %s", p->dir, strerror(-err));
		goto out;
	}
	err = 0;

	for (int i = 0; i < SF_N_MAPS; i++) {
		err = sf_path_join(path, sizeof(path), p->dir, sf_map_names[i]);
		if (err) {
			sf_err("pin dir %s: %s", p->dir, strerror(-err));
			goto out;
		}
		if (lstat(path, &st) == 0) {
			err = -EEXIST;
			sf_err("pin dir %s already holds synfence maps: is another synfence running? "
			       "remove them or choose --pin-dir", p->dir);
			goto out;
		}
	}
out:
	return err;
}

int sf_pins_pin(struct sf_pins *p, struct bpf_object *obj)
{
	char path[PATH_MAX];
	int err = 0;

	for (int i = 0; i < SF_N_MAPS; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, sf_map_names[i]);

		if (!map) {
			err = -ENOENT;
			sf_err("the BPF object has no map %s", sf_map_names[i]);
			goto out;
		}
		err = sf_path_join(path, sizeof(path), p->dir, sf_map_names[i]);
		if (!err)
			err = bpf_map__pin(map, path);
		if (err) {
			sf_err("cannot pin map %s in %s: %s", sf_map_names[i], p->dir, strerror(-err));
			goto out;
		}
		p->pinned[i] = true;
	}
out:
	return err;
}

void sf_pins_cleanup(struct sf_pins *p)
{
	char path[PATH_MAX];

	for (int i = 0; i < SF_N_MAPS; i++) {
		if (!p->pinned[i])
			continue;
		if (sf_path_join(path, sizeof(path), p->dir, sf_map_names[i]) == 0 && unlink(path))
			sf_warn("cannot remove %s: %s", path, strerror(errno));
		p->pinned[i] = false;
	}
	if (p->mounted) {
		if (umount2(p->dir, MNT_DETACH))
			sf_warn("cannot unmount %s: %s", p->dir, strerror(errno));
		p->mounted = false;
	}
	/* A directory we did not create stays, and so does one that is not empty (EBUSY: someone
	 * else's mount point). */
	if (p->dir_created && rmdir(p->dir) && errno != ENOTEMPTY && errno != EBUSY)
		sf_warn("cannot remove pin dir %s: %s", p->dir, strerror(errno));
	p->dir_created = false;
	p->dir[0] = '\0';
}
