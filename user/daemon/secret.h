/* daemon/secret.h - the SipHash keys in sf_secrets: random keys rotated by a counter, or keys derived from a
 * master secret shared by several servers. Never logs key material. */
#ifndef SF_SECRET_H
#define SF_SECRET_H

#include <stddef.h>
#include <linux/types.h>

struct sf_settings; /* conf/settings.h */

/* Epoch 1 with a fresh random key (key[1]); all other slots zero. Returns 0 or -errno. */
int sf_secret_init(int map_fd);

/* Rotate: first write a fresh key for epoch+1 (epoch unchanged), then advance the epoch in a second
 * update, so the BPF side never sees an epoch whose key is not in place. Cookies of the previous
 * epoch stay valid (the BPF side accepts current and current-1). *epoch gets the new epoch. */
int sf_secret_rotate(int map_fd, __u32 *epoch);

/* The epoch currently in the map (0: no secret). */
int sf_secret_epoch(int map_fd, __u32 *epoch);

/* --- Shared secret (secret_file) --------------------------------------------------------------
 * key(e) = BLAKE2b-128 keyed with the master secret over "synfence-epoch-key-v1" || le64(e), and
 * e = floor(unix time / period): every server with the same master secret, the same period and a
 * synchronised clock computes the same keys without talking to the others. */
struct sf_master {
	unsigned char key[64];
	size_t len; /* 16..64 */
};

/* Read the master secret from a file: 32 to 128 hex digits (16 to 64 bytes), blanks and newlines
 * around them allowed. The file must be a regular file owned by root (or by us), with no access for
 * group or others, in a directory others cannot write to. Returns 0, or -errno with a one-line
 * message in err. */
int sf_master_read(const char *path, struct sf_master *m, char *err, size_t errlen);
/* sf_master_read of the secret_file of s (nothing to read: 0, m cleared). When the setting came
 * from the config file, the error starts with "CONFIG:LINE: secret_file: " like the file's other
 * errors. */
int sf_master_load(const struct sf_settings *s, const char *config, struct sf_master *m, char *err,
		   size_t errlen);
void sf_master_clear(struct sf_master *m);

/* The epoch of unix time t for a rotation period (never 0). */
__u32 sf_shared_epoch(__u64 unix_s, unsigned long period);

/* Install the derived keys of epoch-1 and epoch, then switch to epoch (two map updates, keys
 * first). Used at start, at each period boundary and when the master secret changes. */
int sf_secret_shared_set(int map_fd, const struct sf_master *m, __u32 epoch);

#endif
