/* decode: a client's line into a request (request.h), by protocol.
 *
 * Each connection speaks one protocol, chosen when it opens by the query
 * string websocketd passes as QUERY_STRING: "proto=json" among its
 * parameters selects JSON, anything else the legacy lines.
 *
 * Legacy: the line is the request.  It must be UTF-8; control characters
 * are removed; "/..." is a command, anything else chat text that routing
 * may find addressed to someone ("Bob: hi").
 * JSON: one object per line: {"type":"message","text":T},
 * {"type":"whisper","to":M,"text":T}, {"type":"signal","to":M,"data":{...}},
 * {"type":"command","text":"/dice 3 6 6"}; anything else is refused with a
 * code.  A message is never private nor a command, whatever its text. */
#ifndef CHAT_DECODE_H
#define CHAT_DECODE_H

#include <stddef.h>

#include "buf.h"
#include "request.h"

enum wire_proto {
	WIRE_LEGACY,
	WIRE_JSON,
};

/* The protocol a query string asks for. */
enum wire_proto decode_protocol(const char *query_string);

/* Decodes line[0..len) (NUL-terminated, may be changed in place) into rq.
 * rq->text points into line or into scratch, which holds what the decoder
 * had to build (a JSON request's "<to>: <text>").  Never fails: what is not
 * a request is REQUEST_REFUSED. */
void decode_request(enum wire_proto p, char *line, size_t len,
                    struct request *rq, struct buf *scratch);

#endif
