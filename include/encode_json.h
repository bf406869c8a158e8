/* encode_json: the JSON half of encode.h, which is the contract; encode.c
 * calls these for a JSON connection.  Internal to the encoder.
 *
 * Every event is one compact object ending in '\n', "type" first and
 * "time" second.  Strings are the bytes of the lines (UTF-8 is checked;
 * a byte that is not, from an older program's log, becomes U+FFFD), never
 * HTML-escaped.  See docs/protocol.md for each event. */
#ifndef CHAT_ENCODE_JSON_H
#define CHAT_ENCODE_JSON_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "encode.h"
#include "event.h"
#include "refusal.h"

/* encode_line for JSON: always 1 (*data is out->data), or -1. */
int json_encode_line(struct encoder *e, const char *line, size_t len,
                     const struct line_context *ctx, struct buf *out,
                     const char **data, size_t *n);

int json_encode_welcome(time_t now, const struct welcome *w,
                        struct buf *out);
int json_encode_history_end(time_t now, struct buf *out);
int json_encode_error(time_t now, enum refusal r, const char *message,
                      struct buf *out);

#endif
