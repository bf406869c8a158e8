#include "authlog.h"

#include <stdio.h>
#include <string.h>

#include "append.h"
#include "buf.h"

/* The header is whatever the client (or a proxy) sent: keep printable ASCII
 * so the line stays one line of text. */
static void clean_forwarded(const char *in, char *out, size_t outsz)
{
	size_t i = 0;
	for (; in && in[i] && i + 1 < outsz; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[i] = '\0';
}

int authlog_append(int log_dir_fd, mode_t mode, time_t t,
                   const char *forwarded_for, const char *name,
                   const char *source)
{
	struct tm tm;
	char stamp[32], fwd[AUTHLOG_FORWARDED_MAX + 1];
	if (!localtime_r(&t, &tm) ||
	    strftime(stamp, sizeof stamp, "%Y-%m-%d_%H:%M:%S", &tm) == 0)
		return -1;
	clean_forwarded(forwarded_for, fwd, sizeof fwd);
	struct buf line;
	buf_init(&line, 0);
	int rc = -1;
	if (buf_append_str(&line, stamp) == 0 && buf_append(&line, " ", 1) == 0 &&
	    buf_append_str(&line, fwd) == 0 && buf_append(&line, " ", 1) == 0 &&
	    buf_append_str(&line, name) == 0 &&
	    (!source || (buf_append(&line, " ", 1) == 0 &&
	                 buf_append_str(&line, source) == 0)) &&
	    buf_append(&line, "\n", 1) == 0)
		rc = append_line(log_dir_fd, AUTHLOG_NAME, mode, line.data,
		                 line.len);
	buf_free(&line);
	return rc;
}
