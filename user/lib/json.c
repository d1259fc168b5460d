/* lib/json.c - see json.h. */
#include <inttypes.h>
#include <string.h>

#include "lib/json.h"

void jw_init(struct json_writer *jw, FILE *out, bool pretty)
{
	memset(jw, 0, sizeof(*jw));
	jw->out = out;
	jw->pretty = pretty;
}

void jw_finish(struct json_writer *jw)
{
	fputc('\n', jw->out);
	fflush(jw->out);
}

static void indent(struct json_writer *jw)
{
	if (!jw->pretty)
		return;
	fputc('\n', jw->out);
	for (int i = 0; i < jw->depth; i++)
		fputs("    ", jw->out);
}

/* Separator and indentation before any value or name. */
static void begin_item(struct json_writer *jw)
{
	if (jw->after_name) {
		jw->after_name = false;
		return;
	}
	if (jw->depth > 0 && jw->depth <= JW_MAX_DEPTH) {
		if (jw->has_items[jw->depth - 1])
			fputc(',', jw->out);
		jw->has_items[jw->depth - 1] = true;
		indent(jw);
	}
}

static void open_container(struct json_writer *jw, char c)
{
	begin_item(jw);
	fputc(c, jw->out);
	jw->depth++;
	if (jw->depth <= JW_MAX_DEPTH)
		jw->has_items[jw->depth - 1] = false;
}

static void close_container(struct json_writer *jw, char c)
{
	bool had_items = jw->depth > 0 && jw->depth <= JW_MAX_DEPTH && jw->has_items[jw->depth - 1];

	if (jw->depth > 0)
		jw->depth--;
	if (had_items)
		indent(jw);
	fputc(c, jw->out);
}

void jw_start_object(struct json_writer *jw) { open_container(jw, '{'); }
void jw_end_object(struct json_writer *jw) { close_container(jw, '}'); }
void jw_start_array(struct json_writer *jw) { open_container(jw, '['); }
void jw_end_array(struct json_writer *jw) { close_container(jw, ']'); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there are not valid UTF-8. */
static int utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	int len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void jw_quote(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	fputc('"', out);
	while (*s) {
		int len;

		switch (*s) {
		case '"':  fputs("\\\"", out); s++; continue;
		case '\\': fputs("\\\\", out); s++; continue;
		case '\b': fputs("\\b", out); s++; continue;
		case '\f': fputs("\\f", out); s++; continue;
		case '\n': fputs("\\n", out); s++; continue;
		case '\r': fputs("\\r", out); s++; continue;
		case '\t': fputs("\\t", out); s++; continue;
		default: break;
		}
		if (*s < 0x20) {
			fprintf(out, "\\u%04x", *s);
			s++;
			continue;
		}
		len = utf8_seq_len(s);
		if (!len) {
			fputs("\\ufffd", out);
			s++;
			continue;
		}
		fwrite(s, 1, len, out);
		s += len;
	}
	fputc('"', out);
}

void jw_name(struct json_writer *jw, const char *name)
{
	begin_item(jw);
	jw_quote(jw->out, name);
	fputs(jw->pretty ? ": " : ":", jw->out);
	jw->after_name = true;
}

void jw_string(struct json_writer *jw, const char *s)
{
	begin_item(jw);
	jw_quote(jw->out, s);
}

void jw_uint(struct json_writer *jw, uint64_t v)
{
	begin_item(jw);
	fprintf(jw->out, "%" PRIu64, v);
}

void jw_int(struct json_writer *jw, int64_t v)
{
	begin_item(jw);
	fprintf(jw->out, "%" PRId64, v);
}

void jw_raw(struct json_writer *jw, const char *text)
{
	begin_item(jw);
	fputs(text, jw->out);
}

void jw_bool(struct json_writer *jw, bool v)
{
	begin_item(jw);
	fputs(v ? "true" : "false", jw->out);
}

void jw_null(struct json_writer *jw)
{
	begin_item(jw);
	fputs("null", jw->out);
}

void jw_string_field(struct json_writer *jw, const char *name, const char *s)
{
	jw_name(jw, name);
	jw_string(jw, s);
}

void jw_string_or_null(struct json_writer *jw, const char *s)
{
	if (s)
		jw_string(jw, s);
	else
		jw_null(jw);
}

void jw_string_or_null_field(struct json_writer *jw, const char *name, const char *s)
{
	jw_name(jw, name);
	jw_string_or_null(jw, s);
}

void jw_uint_field(struct json_writer *jw, const char *name, uint64_t v)
{
	jw_name(jw, name);
	jw_uint(jw, v);
}

void jw_int_field(struct json_writer *jw, const char *name, int64_t v)
{
	jw_name(jw, name);
	jw_int(jw, v);
}

void jw_bool_field(struct json_writer *jw, const char *name, bool v)
{
	jw_name(jw, name);
	jw_bool(jw, v);
}
