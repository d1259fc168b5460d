/* conf/ports.c - see ports.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf/ports.h"
#include "lib/util.h"

#define ITEM_SHOW_MAX 40 /* longest item quoted back in an error message */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse one port number from [*p, end): digits only; leaves *p after the digits.
 * Returns the value, -1 when there are no digits, or 65536+ when it is too large. */
static long parse_num(const char **p, const char *end)
{
	long v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v <= 65535)
			v = v * 10 + (*s - '0'); /* stays far below LONG_MAX: capped once > 65535 */
		s++;
	}
	*p = s;
	return v;
}

static void set_range(__u64 bitmap[SF_PORT_WORDS], unsigned int lo, unsigned int hi)
{
	for (unsigned int p = lo; p <= hi; p++)
		bitmap[p / 64] |= 1ULL << (p % 64);
}

/* Parse the item [start, end) (already trimmed, non-empty). */
static int parse_item(const char *start, const char *end, __u64 bitmap[SF_PORT_WORDS], char *err,
		      size_t errlen)
{
	char vis[ITEM_SHOW_MAX * 4 + 1];
	/* quoted with sf_visible: a newline or an escape sequence in --ports stays one line */
	int show = sf_visible(vis, sizeof(vis), start,
			      end - start > ITEM_SHOW_MAX ? ITEM_SHOW_MAX : (size_t)(end - start));
	const char *more = (int)(end - start) > ITEM_SHOW_MAX ? "..." : "";
	const char *p = start;
	long lo, hi;

	lo = parse_num(&p, end);
	if (lo < 0)
		return sf_einval(err, errlen, "bad port list item \"%.*s%s\": expected a port number or a range LO-HI",
			    show, vis, more);
	while (p < end && is_blank(*p))
		p++;
	if (p == end) {
		hi = lo;
	} else if (*p == '-') {
		p++;
		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			return sf_einval(err, errlen, "bad port list item \"%.*s%s\": range without an end",
				    show, vis, more);
		hi = parse_num(&p, end);
		if (hi < 0 || p != end)
			return sf_einval(err, errlen, "bad port list item \"%.*s%s\": expected a port number or a range LO-HI",
				    show, vis, more);
	} else {
		return sf_einval(err, errlen, "bad port list item \"%.*s%s\": expected a port number or a range LO-HI",
			    show, vis, more);
	}

	if (lo == 0 || hi == 0)
		return sf_einval(err, errlen, "bad port list item \"%.*s%s\": port 0 is not a valid port",
			    show, vis, more);
	if (lo > 65535 || hi > 65535)
		return sf_einval(err, errlen, "bad port list item \"%.*s%s\": ports are 1-65535",
			    show, vis, more);
	if (lo > hi)
		return sf_einval(err, errlen, "bad port list item \"%.*s%s\": reversed range (%ld > %ld)",
			    show, vis, more, lo, hi);
	set_range(bitmap, (unsigned int)lo, (unsigned int)hi);
	return 0;
}

int sf_parse_ports(const char *list, __u64 bitmap[SF_PORT_WORDS], char *err, size_t errlen)
{
	const char *item, *end;
	int n = 0, err_;

	memset(bitmap, 0, SF_PORT_WORDS * sizeof(bitmap[0]));
	if (err && errlen)
		err[0] = '\0';
	if (!list)
		return sf_einval(err, errlen, "empty port list");

	for (item = list;; item = end + 1) {
		const char *s, *e;

		end = strchr(item, ',');
		if (!end)
			end = item + strlen(item);
		n++;

		for (s = item; s < end && is_blank(*s); s++)
			;
		for (e = end; e > s && is_blank(e[-1]); e--)
			;
		if (s == e) {
			if (n == 1 && !*end)
				return sf_einval(err, errlen, "empty port list");
			return sf_einval(err, errlen, "bad port list: item %d is empty", n);
		}
		err_ = parse_item(s, e, bitmap, err, errlen);
		if (err_)
			return err_;
		if (!*end)
			break;
	}
	return 0;
}

size_t sf_format_ports(const __u64 bitmap[SF_PORT_WORDS], char *buf, size_t len)
{
	size_t off = 0;
	unsigned int p = 0;

	if (len)
		buf[0] = '\0';
	while (p < 65536) {
		unsigned int lo, hi;
		char tmp[16];
		int n;

		if (!sf_port_is_set(bitmap, p)) {
			p++;
			continue;
		}
		lo = p;
		while (p + 1 < 65536 && sf_port_is_set(bitmap, p + 1))
			p++;
		hi = p++;
		if (lo == hi)
			n = snprintf(tmp, sizeof(tmp), "%s%u", off ? "," : "", lo);
		else
			n = snprintf(tmp, sizeof(tmp), "%s%u-%u", off ? "," : "", lo, hi);
		if (off + n < len) /* else: truncated, buf stays terminated after the last full item */
			memcpy(buf + off, tmp, n + 1);
		off += n;
	}
	return off;
}

unsigned int sf_count_ports(const __u64 bitmap[SF_PORT_WORDS])
{
	unsigned int n = 0;

	for (int i = 0; i < SF_PORT_WORDS; i++)
		n += __builtin_popcountll(bitmap[i]);
	return n;
}
