#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "signalling.h"

/* A Chromium-style description: "\r\n" written as "zalomeni". */
#define SDP "v=0zalomenio=- 4611731400430051336 2 IN IP4 127.0.0.1zalomeni" \
            "s=-zalomenit=0 0zalomenia=group:BUNDLE 0zalomeni" \
            "m=audio 9 UDP/TLS/RTP/SAVPF 111zalomeni" \
            "a=rtpmap:111 opus/48000/2zalomenia=ice-ufrag:sXfDzalomeni"

#define CANDIDATE "{\"candidate\":\"candidate:842163049 1 udp 1677729535 " \
                  "203.0.113.5 46154 typ srflx raddr 0.0.0.0 rport 0 " \
                  "generation 0 ufrag sXfD network-cost 999\",\"sdpMid\":\"0\"," \
                  "\"sdpMLineIndex\":0,\"usernameFragment\":\"sXfD\"}"

/* Checks text, expects kind, and for signalling the exact relay text. */
static void expect(const char *text, enum signalling_kind kind,
                   const char *relay)
{
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(buf_append_str(&out, "left over"), 0);
	assert_int_equal(signalling_check(text, strlen(text), &out), kind);
	if (relay) {
		assert_int_equal(out.len, strlen(relay));
		assert_memory_equal(out.data, relay, out.len);
	}
	buf_free(&out);
}

static void expect_malformed(const char *text)
{
	expect(text, SIGNALLING_MALFORMED, NULL);
}

static void test_offer_sdp_first_is_reordered(void **state)
{
	(void)state;
	expect("{\"sdp\":\"" SDP "\",\"type\":\"offer\"}", SIGNALLING_DESCRIPTION,
	       "{\"type\":\"offer\",\"sdp\":\"" SDP "\"}");
}

static void test_offer_type_first_is_kept(void **state)
{
	(void)state;
	expect("{\"type\":\"offer\",\"sdp\":\"" SDP "\"}", SIGNALLING_DESCRIPTION,
	       "{\"type\":\"offer\",\"sdp\":\"" SDP "\"}");
}

static void test_answer_both_orders(void **state)
{
	(void)state;
	expect("{\"sdp\":\"" SDP "\",\"type\":\"answer\"}", SIGNALLING_DESCRIPTION,
	       "{\"type\":\"answer\",\"sdp\":\"" SDP "\"}");
	expect("{\"type\":\"answer\",\"sdp\":\"" SDP "\"}", SIGNALLING_DESCRIPTION,
	       "{\"type\":\"answer\",\"sdp\":\"" SDP "\"}");
}

/* The old client looks for this substring. */
static void test_relay_has_legacy_substring(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, 0);
	const char *in = "{\"sdp\":\"v=0zalomeni\",\"type\":\"offer\"}";
	assert_int_equal(signalling_check(in, strlen(in), &out),
	                 SIGNALLING_DESCRIPTION);
	assert_non_null(strstr(out.data, "\"type\":\"offer\",\"sdp\""));
	buf_free(&out);
}

static void test_extra_keys_follow_in_order(void **state)
{
	(void)state;
	expect("{\"foo\":1,\"sdp\":\"x\",\"bar\":[1,{\"a\":null}],"
	       "\"type\":\"answer\",\"baz\":\"q\"}",
	       SIGNALLING_DESCRIPTION,
	       "{\"type\":\"answer\",\"sdp\":\"x\",\"foo\":1,"
	       "\"bar\":[1,{\"a\":null}],\"baz\":\"q\"}");
}

static void test_whitespace_is_compacted(void **state)
{
	(void)state;
	expect("{ \"sdp\" : \"v=0\" ,\n\t\"type\" : \"offer\" , \"x\" : [ 1 , 2 ] }",
	       SIGNALLING_DESCRIPTION,
	       "{\"type\":\"offer\",\"sdp\":\"v=0\",\"x\":[1,2]}");
}

/* "/" is not escaped; non-ASCII stays UTF-8 (an escaped one comes out as
 * its UTF-8 bytes: the same value); needed escapes stay. */
static void test_slash_and_non_ascii_not_escaped(void **state)
{
	(void)state;
	expect("{\"sdp\":\"a=fmtp:111 opus/48000/2 Železná\",\"type\":\"offer\"}",
	       SIGNALLING_DESCRIPTION,
	       "{\"type\":\"offer\",\"sdp\":\"a=fmtp:111 opus/48000/2 Železná\"}");
	expect("{\"sdp\":\"a\\/b \\u00e9\",\"type\":\"offer\"}",
	       SIGNALLING_DESCRIPTION,
	       "{\"type\":\"offer\",\"sdp\":\"a/b \xc3\xa9\"}");
	expect("{\"sdp\":\"q\\\"b\\\\s\\r\\n\",\"type\":\"offer\"}",
	       SIGNALLING_DESCRIPTION,
	       "{\"type\":\"offer\",\"sdp\":\"q\\\"b\\\\s\\r\\n\"}");
}

static void test_candidate_bytes_unchanged(void **state)
{
	(void)state;
	expect(CANDIDATE, SIGNALLING_CANDIDATE, CANDIDATE);
	/* Not re-serialised: spacing, key order and escapes as sent. */
	const char *odd = "{ \"sdpMid\" : \"0\", \"candidate\" : \"a\\/b\" }";
	expect(odd, SIGNALLING_CANDIDATE, odd);
	const char *end = "{\"candidate\":\"\",\"sdpMid\":null}";
	expect(end, SIGNALLING_CANDIDATE, end);
}

/* Only len bytes are looked at. */
static void test_uses_len(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, 0);
	const char *text = "{\"candidate\":\"x\"}garbage";
	size_t len = strlen("{\"candidate\":\"x\"}");
	assert_int_equal(signalling_check(text, len, &out), SIGNALLING_CANDIDATE);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.data, text, len);
	buf_free(&out);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_malformed("{\"type\":\"offer\"}");
	expect_malformed("{\"sdp\":\"v=0\"}");
	expect_malformed("{nope");
	expect_malformed("{");
	expect_malformed("{}");
	expect_malformed("{\"type\":\"offer\",\"sdp\":\"v=0\"");
	expect_malformed("{\"type\":\"offer\",\"sdp\":5}");
	expect_malformed("{\"type\":\"offer\",\"sdp\":null}");
	expect_malformed("{\"type\":\"offer\",\"sdp\":[\"v=0\"]}");
	expect_malformed("{\"type\":\"pranswer\",\"sdp\":\"v=0\"}");
	expect_malformed("{\"type\":\"OFFER\",\"sdp\":\"v=0\"}");
	expect_malformed("{\"type\":1,\"sdp\":\"v=0\"}");
	expect_malformed("{\"candidate\":5}");
	expect_malformed("{\"candidate\":null,\"sdpMid\":\"0\"}");
	expect_malformed("{\"candidate\":\"x\"} trailing");
	expect_malformed("{\"candidate\":\"x\"}{\"candidate\":\"y\"}");
	expect_malformed("{\"type\":\"offer\",\"type\":\"answer\",\"sdp\":\"x\"}");
	expect_malformed("{'type':'offer','sdp':'x'}");
	expect_malformed("{\"candidate\":\"a\\u0000b\"}");
	expect_malformed("{\"candidate\":\"\xff\xfe\"}");
}

static char *filled_offer(size_t total)
{
	static const char head[] = "{\"type\":\"offer\",\"sdp\":\"";
	static const char tail[] = "\"}";
	char *s = malloc(total + 1);
	assert_non_null(s);
	assert_true(total > sizeof head + sizeof tail);
	memcpy(s, head, sizeof head - 1);
	memset(s + sizeof head - 1, 'a', total - (sizeof head - 1) - (sizeof tail - 1));
	memcpy(s + total - (sizeof tail - 1), tail, sizeof tail);
	assert_int_equal(strlen(s), total);
	return s;
}

static void test_size_limit(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, 0);
	char *at = filled_offer(SIGNALLING_MAX_BYTES);
	assert_int_equal(signalling_check(at, SIGNALLING_MAX_BYTES, &out),
	                 SIGNALLING_DESCRIPTION);
	assert_int_equal(out.len, SIGNALLING_MAX_BYTES);
	assert_memory_equal(out.data, at, out.len);
	free(at);

	char *over = filled_offer(SIGNALLING_MAX_BYTES + 1);
	assert_int_equal(signalling_check(over, SIGNALLING_MAX_BYTES + 1, &out),
	                 SIGNALLING_TOO_LARGE);
	free(over);

	/* Size is checked before parsing: malformed and huge is too large. */
	size_t n = 3 * SIGNALLING_MAX_BYTES;
	char *junk = malloc(n);
	assert_non_null(junk);
	memset(junk, '{', n);
	assert_int_equal(signalling_check(junk, n, &out), SIGNALLING_TOO_LARGE);
	free(junk);
	buf_free(&out);
}

static void test_not_signalling(void **state)
{
	(void)state;
	expect("", SIGNALLING_NONE, "");
	expect("hi", SIGNALLING_NONE, "");
	expect(" {\"candidate\":\"x\"}", SIGNALLING_NONE, "");
	expect("[{\"type\":\"offer\",\"sdp\":\"v=0\"}]", SIGNALLING_NONE, "");
	expect("\"type\":\"offer\",\"sdp\":\"v=0\"", SIGNALLING_NONE, "");
	expect("see {this}", SIGNALLING_NONE, "");
}

static void test_error_texts(void **state)
{
	(void)state;
	const char *m = signalling_error_text(SIGNALLING_MALFORMED);
	const char *l = signalling_error_text(SIGNALLING_TOO_LARGE);
	assert_non_null(strstr(m, "signalling"));
	assert_non_null(strstr(l, "signalling"));
	assert_non_null(strstr(l, "64 KiB"));
	assert_string_not_equal(m, l);
	assert_null(strchr(m, '\n'));
	assert_null(strchr(l, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_sdp_first_is_reordered),
		cmocka_unit_test(test_offer_type_first_is_kept),
		cmocka_unit_test(test_answer_both_orders),
		cmocka_unit_test(test_relay_has_legacy_substring),
		cmocka_unit_test(test_extra_keys_follow_in_order),
		cmocka_unit_test(test_whitespace_is_compacted),
		cmocka_unit_test(test_slash_and_non_ascii_not_escaped),
		cmocka_unit_test(test_candidate_bytes_unchanged),
		cmocka_unit_test(test_uses_len),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_not_signalling),
		cmocka_unit_test(test_error_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
