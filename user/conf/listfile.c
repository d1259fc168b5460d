/* conf/listfile.c - see listfile.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/listfile.h"

void sf_list_key_mask(struct sf_list_key *k)
{
	for (int i = 0; i < 4; i++) {
		int bits = (int)k->prefixlen - i * 32;
		__u32 m = bits >= 32 ? 0xffffffffu : bits <= 0 ? 0 : ~0u << (32 - bits);

		k->addr[i] &= htonl(m);
	}
}

int sf_cidr_parse(const char *s, struct sf_list_key *k, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long plen, max;
	struct in_addr a4;
	char *end;

	memset(k, 0, sizeof(*k));
	if (!alen || alen >= sizeof(addr)) {
		snprintf(err, errlen, "bad prefix \"%.60s\": expected ADDR or ADDR/LEN", s);
		return -EINVAL;
	}
	memcpy(addr, s, alen);
	addr[alen] = 0;
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		max = 32;
		k->addr[2] = htonl(0xffff);
		k->addr[3] = a4.s_addr;
	} else if (inet_pton(AF_INET6, addr, k->addr) == 1) {
		max = 128;
	} else {
		snprintf(err, errlen, "bad prefix \"%.60s\": \"%s\" is not an IPv4 or IPv6 address", s, addr);
		return -EINVAL;
	}
	plen = max;
	if (slash) {
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || slash[1] == '-' || slash[1] == '+' || plen > max) {
			snprintf(err, errlen, "bad prefix \"%.60s\": prefix length must be 0-%lu", s, max);
			return -EINVAL;
		}
	}
	k->prefixlen = (__u32)(max == 32 ? plen + 96 : plen);
	sf_list_key_mask(k);
	return 0;
}

static bool key_is_v4(const struct sf_list_key *k)
{
	return k->prefixlen >= 96 && !k->addr[0] && !k->addr[1] && k->addr[2] == htonl(0xffff);
}

void sf_cidr_format(const struct sf_list_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (key_is_v4(k)) {
		inet_ntop(AF_INET, &k->addr[3], a, sizeof(a));
		snprintf(buf, len, "%s/%u", a, k->prefixlen - 96);
	} else {
		inet_ntop(AF_INET6, k->addr, a, sizeof(a));
		snprintf(buf, len, "%s/%u", a, k->prefixlen);
	}
}

int sf_list_key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sf_list_key));
}

int sf_list_file_read(const char *path, struct sf_list_key **keys, size_t *n, char *err, size_t errlen)
{
	struct sf_list_key *v = NULL;
	size_t cap = 0, cnt = 0, sz = 0;
	char *line = NULL, msg[256];
	int lineno = 0, ret = 0;
	FILE *f = fopen(path, "re");

	*keys = NULL;
	*n = 0;
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	while (getline(&line, &sz, f) >= 0) {
		char *p = line, *e;

		lineno++;
		p[strcspn(p, "#\r\n")] = 0;
		p += strspn(p, " \t");
		e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (!*p)
			continue;
		if (strpbrk(p, " \t")) {
			snprintf(err, errlen, "%s:%d: one prefix per line, got \"%.60s\"", path, lineno, p);
			ret = -EINVAL;
			break;
		}
		if (cnt == cap) {
			struct sf_list_key *nv = realloc(v, (cap = cap ? cap * 2 : 1024) * sizeof(*v));

			if (!nv) {
				ret = -ENOMEM;
				snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
				break;
			}
			v = nv;
		}
		if (sf_cidr_parse(p, &v[cnt], msg, sizeof(msg))) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			ret = -EINVAL;
			break;
		}
		if (++cnt > SF_LIST_MAX) {
			snprintf(err, errlen, "%s:%d: more than %u prefixes", path, lineno, SF_LIST_MAX);
			ret = -E2BIG;
			break;
		}
	}
	free(line);
	fclose(f);
	if (ret) {
		free(v);
		return ret;
	}
	if (cnt) {
		size_t o = 0;

		qsort(v, cnt, sizeof(*v), sf_list_key_cmp);
		for (size_t i = 0; i < cnt; i++)
			if (!o || sf_list_key_cmp(&v[o - 1], &v[i]))
				v[o++] = v[i];
		cnt = o;
	}
	*keys = v;
	*n = cnt;
	return 0;
}

