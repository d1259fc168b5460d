/* log.c - see log.h. */
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "json.h"
#include "log.h"

struct sf_opts sf_opts;

static bool err_printed;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (sf_opts.verbose < 1 || (level == LIBBPF_DEBUG && sf_opts.verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_log(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (sf_opts.verbose < 1 || (level == LIBXDP_DEBUG && sf_opts.verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void sf_log_init(void)
{
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
}

void sf_err(const char *fmt, ...)
{
	char msg[8192]; /* room for a PATH_MAX path and its reason */
	va_list ap;

	if (err_printed)
		return;
	err_printed = true;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (sf_opts.json) {
		struct json_writer jw;

		jw_init(&jw, stdout, sf_opts.pretty);
		jw_start_object(&jw);
		jw_string_field(&jw, "error", msg);
		jw_end_object(&jw);
		jw_finish(&jw);
	} else {
		fprintf(stderr, "synfence: %s\n", msg);
	}
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "synfence: %s%s\n", prefix, msg);
}

void sf_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void sf_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void sf_dbg(const char *fmt, ...)
{
	va_list ap;

	if (sf_opts.verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}
