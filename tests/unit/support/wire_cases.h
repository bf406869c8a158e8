/* wire_cases: the case files of tests/unit/wire_cases/, read for the
 * drivers test_decode.c and test_encode.c.  The format is described in
 * tests/unit/wire_cases/README.md; in short:
 *
 *     # a comment
 *     proto: json               fields before the first case: defaults
 *     case: a name              starts a case
 *     in: {"type":"message"}    key: value, the value byte for byte
 *     out*: \xff\t              key*: the value with \xHH \t \r \n \0 \\
 *
 * A case is its fields in file order, the file's defaults first. */
#ifndef CHAT_TEST_WIRE_CASES_H
#define CHAT_TEST_WIRE_CASES_H

#include <stddef.h>

struct wire_field {
	char *key;
	char *value;   /* NUL-terminated; may hold NUL (see len) */
	size_t len;
	unsigned line; /* where it is in its file */
};

struct wire_case {
	char *where;   /* "file:line" of its "case:" line, and its name */
	struct wire_field *fields;
	size_t n;
};

/* Reads every file in dir whose name starts with prefix and ends in
 * ".cases", in name order.  Returns how many cases (*cases is then
 * allocated), or 0 after printing why on stderr: no such file, no case, or
 * a line that is not "key: value" or has a bad escape.  A driver that gets
 * 0 must fail: a test that runs nothing passes nothing. */
size_t wire_cases_load(const char *dir, const char *prefix,
                       struct wire_case **cases);

void wire_cases_free(struct wire_case *cases, size_t n);

/* The value of the last field named key, or NULL; *len its length when
 * len is not NULL. */
const char *wire_case_get(const struct wire_case *c, const char *key,
                          size_t *len);

#endif
