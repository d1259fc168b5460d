/* lib/json.h - a minimal streaming JSON writer (compact or pretty), with full string escaping.
 *
 * Usage: jw_init(); jw_start_object(); jw_uint_field(..); ...; jw_end_object(); jw_finish().
 * Nesting deeper than JW_MAX_DEPTH is ignored (not needed by synfence). */
#ifndef SF_JSON_H
#define SF_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 16

struct json_writer {
	FILE *out;
	bool pretty;
	int depth;
	bool after_name;          /* a "name": was just written: the value follows inline */
	bool has_items[JW_MAX_DEPTH]; /* per open container: needs a comma before the next item */
};

void jw_init(struct json_writer *jw, FILE *out, bool pretty);
/* Ends the document with a newline and flushes. */
void jw_finish(struct json_writer *jw);

void jw_start_object(struct json_writer *jw);
void jw_end_object(struct json_writer *jw);
void jw_start_array(struct json_writer *jw);
void jw_end_array(struct json_writer *jw);

/* Object member name; the next call writes its value. */
void jw_name(struct json_writer *jw, const char *name);

void jw_string(struct json_writer *jw, const char *s);
void jw_uint(struct json_writer *jw, uint64_t v);
void jw_int(struct json_writer *jw, int64_t v);
void jw_bool(struct json_writer *jw, bool v);
/* A value written as is (a number the caller formatted). */
void jw_raw(struct json_writer *jw, const char *text);
void jw_null(struct json_writer *jw);

void jw_string_field(struct json_writer *jw, const char *name, const char *s);
void jw_uint_field(struct json_writer *jw, const char *name, uint64_t v);
void jw_int_field(struct json_writer *jw, const char *name, int64_t v);
void jw_bool_field(struct json_writer *jw, const char *name, bool v);
/* s, or null when s is NULL. */
void jw_string_or_null(struct json_writer *jw, const char *s);
void jw_string_or_null_field(struct json_writer *jw, const char *name, const char *s);

/* Write s as a quoted JSON string (escapes quotes, backslashes, control characters; invalid UTF-8
 * bytes become U+FFFD). Exposed for tests. */
void jw_quote(FILE *out, const char *s);

#endif
