/* lib/lists.c - see lists.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "lib/lists.h"
#include "lib/mapio.h"

static const char *const kind_names[SF_LIST_KINDS] = { "allow", "deny" };

const char *sf_list_kind_name(enum sf_list_kind kind) { return kind_names[kind]; }

__u64 sf_list_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int entry_cmp(const void *a, const void *b)
{
	return sf_list_key_cmp(&((const struct sf_list_entry *)a)->key, &((const struct sf_list_entry *)b)->key);
}

int sf_list_dump(int fd, struct sf_list_entry **out, size_t *n)
{
	struct sf_list_entry *v = NULL;
	struct sf_list_key k, next;
	size_t cap = 0, cnt = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (cnt == cap) {
			struct sf_list_entry *nv = realloc(v, (cap = cap ? cap * 2 : 1024) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v[cnt].val))
			continue; /* deleted meanwhile */
		v[cnt++].key = k;
	}
	if (errno != ENOENT && cnt == 0 && prev == NULL && errno) {
		int ret = -errno;

		free(v);
		return ret;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), entry_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

/* Update n entries: one batch when the kernel has it for LPM tries, else one by one. */
static int update_many(int fd, struct sf_list_key *keys, struct sf_list_val *vals, size_t n)
{
	int ret;

	if (!n)
		return 0;
#ifndef SF_FAULT_INJECTION /* the test build: every element through sf_map_update */
	__u32 count = (__u32)n;

	ret = bpf_map_update_batch(fd, keys, vals, &count, NULL);
	if (!ret)
		return 0;
	if (errno != EINVAL && errno != EOPNOTSUPP && errno != 524 /* ENOTSUPP */) /* (ENOTSUP == EOPNOTSUPP) */
		return -errno;
#endif
	for (size_t i = 0; i < n; i++)
		if ((ret = sf_map_update(fd, &keys[i], &vals[i], BPF_ANY)))
			return ret;
	return 0;
}

int sf_list_replace_file(int fd, const struct sf_list_key *keys, size_t n, size_t *added,
			 size_t *removed)
{
	struct sf_list_entry *cur = NULL;
	struct sf_list_key *uk = NULL;
	struct sf_list_val *uv = NULL;
	size_t ncur = 0, nu = 0;
	int ret;

	*added = *removed = 0;
	if ((ret = sf_list_dump(fd, &cur, &ncur)))
		return ret;
	uk = malloc((n ? n : 1) * sizeof(*uk));
	uv = malloc((n ? n : 1) * sizeof(*uv));
	if (!uk || !uv) {
		ret = -ENOMEM;
		goto out;
	}
	/* 1: every prefix of the file in, with the file origin */
	for (size_t i = 0; i < n; i++) {
		struct sf_list_entry *e = ncur ? bsearch(&keys[i], cur, ncur, sizeof(*cur), entry_cmp) : NULL;
		struct sf_list_val v = { .origin = SF_LIST_FILE };

		if (e) {
			if (e->val.origin & SF_LIST_FILE)
				continue;
			v = e->val;
			v.origin |= SF_LIST_FILE;
		}
		uk[nu] = keys[i];
		uv[nu++] = v;
	}
	if ((ret = update_many(fd, uk, uv, nu)))
		goto out;
	*added = nu;
	/* 2: the file entries no longer in the file out (a live one stays, live only) */
	for (size_t i = 0; i < ncur; i++) {
		struct sf_list_entry *e = &cur[i];

		if (!(e->val.origin & SF_LIST_FILE) ||
		    (n && bsearch(&e->key, keys, n, sizeof(*keys), sf_list_key_cmp)))
			continue;
		if (e->val.origin & SF_LIST_LIVE) {
			e->val.origin = SF_LIST_LIVE;
			ret = sf_map_update(fd, &e->key, &e->val, BPF_EXIST);
		} else {
			ret = bpf_map_delete_elem(fd, &e->key) ? -errno : 0;
		}
		if (ret && ret != -ENOENT)
			goto out;
		ret = 0;
		(*removed)++;
	}
out:
	free(cur);
	free(uk);
	free(uv);
	return ret;
}

int sf_list_add_live(int fd, const struct sf_list_key *k, unsigned long ttl_s)
{
	struct sf_list_val v = { 0 };

	if (bpf_map_lookup_elem(fd, k, &v))
		memset(&v, 0, sizeof(v));
	v.origin |= SF_LIST_LIVE;
	v.expires_ns = ttl_s ? sf_list_now_ns() + (__u64)ttl_s * 1000000000ull : 0;
	return sf_map_update(fd, k, &v, BPF_ANY);
}

int sf_list_del_live(int fd, const struct sf_list_key *k)
{
	struct sf_list_val v;

	if (bpf_map_lookup_elem(fd, k, &v))
		return -ENOENT;
	if (!(v.origin & SF_LIST_LIVE))
		return -EPERM;
	if (v.origin & SF_LIST_FILE) {
		v.origin = SF_LIST_FILE;
		v.expires_ns = 0;
		return sf_map_update(fd, k, &v, BPF_EXIST);
	}
	return bpf_map_delete_elem(fd, k) && errno != ENOENT ? -errno : 0;
}

size_t sf_list_sweep(int fd)
{
	struct sf_list_entry *cur = NULL;
	__u64 now = sf_list_now_ns();
	size_t n = 0, swept = 0;

	if (sf_list_dump(fd, &cur, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct sf_list_entry *e = &cur[i];

		if (!(e->val.origin & SF_LIST_LIVE) || !e->val.expires_ns || e->val.expires_ns > now)
			continue;
		if (e->val.origin & SF_LIST_FILE) {
			e->val.origin = SF_LIST_FILE;
			e->val.expires_ns = 0;
			sf_map_update(fd, &e->key, &e->val, BPF_EXIST);
		} else {
			bpf_map_delete_elem(fd, &e->key);
		}
		swept++;
	}
	free(cur);
	return swept;
}

static bool trie_empty(int fd)
{
	struct sf_list_key k;

	return bpf_map_get_next_key(fd, NULL, &k) != 0;
}

int sf_lists_sync_flags(int lists_fd, int allow_fd, int deny_fd)
{
	struct sf_lists l = { 0 }, cur = { 0 };
	__u32 zero = 0;

	if (!trie_empty(allow_fd))
		l.flags |= SF_LISTS_ALLOW;
	if (!trie_empty(deny_fd))
		l.flags |= SF_LISTS_DENY;
	if (!bpf_map_lookup_elem(lists_fd, &zero, &cur) && cur.flags == l.flags)
		return 0;
	return sf_map_update(lists_fd, &zero, &l, BPF_ANY);
}
