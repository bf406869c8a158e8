/* stream_id: the id of an entry in a Redis stream, "<ms>-<seq>": two
 * 64-bit numbers, growing along the stream.  A reader's place in a stream
 * is the id of the last entry it read, and 0-0 before the first.  Plain
 * values and text, no I/O: the connection's reader (redis_stream.h) and
 * the archiver's record (archive_state.h) share them. */
#ifndef CHAT_STREAM_ID_H
#define CHAT_STREAM_ID_H

#include <stdbool.h>
#include <stddef.h>

#define STREAM_ID_MAX 42 /* two 20-digit numbers, '-' and NUL */

struct stream_id {
	unsigned long long ms, seq;
};

/* "ms-seq" into out (STREAM_ID_MAX bytes). */
void stream_id_format(const struct stream_id *id, char *out);
/* text[0..len) into id: decimal, no sign, no space; false when it is not
 * an id. */
bool stream_id_parse(const char *text, size_t len, struct stream_id *id);
/* <0, 0, >0 as a is before, equal to or after b. */
int stream_id_cmp(const struct stream_id *a, const struct stream_id *b);
/* The greatest id before id (which is not 0-0). */
struct stream_id stream_id_before(const struct stream_id *id);

#endif
