/* secret.h - the SipHash keys in sf_secrets: initial key and rotation. Never logs key material. */
#ifndef SF_SECRET_H
#define SF_SECRET_H

#include <linux/types.h>

/* Epoch 1 with a fresh random key (key[1]); all other slots zero. Returns 0 or -errno. */
int sf_secret_init(int map_fd);

/* Rotate: first write a fresh key for epoch+1 (epoch unchanged), then advance the epoch in a second
 * update, so the BPF side never sees an epoch whose key is not in place. Cookies of the previous
 * epoch stay valid (the BPF side accepts current and current-1). *epoch gets the new epoch. */
int sf_secret_rotate(int map_fd, __u32 *epoch);

#endif
