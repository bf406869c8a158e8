#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "sso.h"
#include "token.h"

/* The worked example of docs/identity.md: that secret file's content
 * (less its newline), that payload, that cookie. */
static const char SECRET[] = "k3ep-th1s-s3cret-0ff-the-w3b-r00t";
static const char PAYLOAD[] = "{\"name\":\"Alice\",\"color\":\"#1e90ff\","
                              "\"exp\":1893456000,\"roles\":[\"moderator\"]}";
static const char COOKIE[] =
	"v1.eyJuYW1lIjoiQWxpY2UiLCJjb2xvciI6IiMxZTkwZmYiLCJleHAiOjE4OTM0NTYwMD"
	"AsInJvbGVzIjpbIm1vZGVyYXRvciJdfQ.m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNE"
	"H0y7y0";
#define NOW ((time_t)1700000000)
#define EXP 1893456000LL

static enum token_result verify_at(const char *token, const char *secret,
                                   time_t now, struct identity *id)
{
	memset(id, 0x55, sizeof *id);
	id->name[0] = '\0';
	return token_verify(token, secret, strlen(secret), now, id);
}

static enum token_result verify(const char *token, struct identity *id)
{
	return verify_at(token, SECRET, NOW, id);
}

/* A token signed with SECRET for any payload text. */
static enum token_result verify_payload(const char *json, struct identity *id)
{
	char token[TOKEN_MAX + 1];
	assert_true(token_sign_payload(SECRET, strlen(SECRET), json,
	                               strlen(json), token, sizeof token) > 0);
	return verify(token, id);
}

static void test_worked_example(void **state)
{
	(void)state;
	struct identity id;
	assert_int_equal(verify(COOKIE, &id), TOKEN_OK);
	assert_string_equal(id.name, "Alice");
	assert_string_equal(id.color, "#1e90ff");
	assert_int_equal(id.source, IDENTITY_TOKEN);
	assert_true(id.verified);
	assert_int_equal(id.roles, ROLE_MODERATOR);

	/* Signing the documented payload gives the documented cookie. */
	char token[TOKEN_MAX + 1];
	assert_int_equal(token_sign_payload(SECRET, strlen(SECRET), PAYLOAD,
	                                    strlen(PAYLOAD), token,
	                                    sizeof token),
	                 (int)strlen(COOKIE));
	assert_string_equal(token, COOKIE);
	/* And so does minting it (the same members, in the same order). */
	assert_int_equal(token_mint(SECRET, strlen(SECRET), "Alice", "#1e90ff",
	                            EXP, ROLE_MODERATOR, token, sizeof token),
	                 (int)strlen(COOKIE));
	assert_string_equal(token, COOKIE);
}

static void test_mint_round_trip(void **state)
{
	(void)state;
	char token[TOKEN_MAX + 1];
	struct identity id;
	assert_true(token_mint(SECRET, strlen(SECRET), "Zoë", NULL, NOW + 60, 0,
	                       token, sizeof token) > 0);
	assert_int_equal(verify(token, &id), TOKEN_OK);
	assert_string_equal(id.name, "Zoë");
	assert_string_equal(id.color, "Gray");
	assert_int_equal(id.roles, 0);
	/* Refused arguments. */
	assert_int_equal(token_mint(SECRET, strlen(SECRET), "A B", NULL, EXP, 0,
	                            token, sizeof token), -1);
	assert_int_equal(token_mint(SECRET, strlen(SECRET), "Ann", "nocolour",
	                            EXP, 0, token, sizeof token), -1);
	assert_int_equal(token_mint(SECRET, strlen(SECRET), "Ann", NULL, EXP, 0,
	                            token, 20), -1);
}

static void test_expired(void **state)
{
	(void)state;
	struct identity id;
	assert_int_equal(verify_at(COOKIE, SECRET, (time_t)EXP, &id),
	                 TOKEN_EXPIRED);
	assert_int_equal(verify_at(COOKIE, SECRET, (time_t)EXP + 1, &id),
	                 TOKEN_EXPIRED);
	assert_string_equal(id.name, ""); /* left alone */
	assert_int_equal(verify_at(COOKIE, SECRET, (time_t)EXP - 1, &id),
	                 TOKEN_OK);
}

/* Each character changed to another base64url character. */
static void tamper_each(const char *from, size_t to, enum token_result want)
{
	char token[sizeof COOKIE];
	struct identity id;
	for (size_t i = strlen(TOKEN_PREFIX); i < to; i++) {
		if (COOKIE[i] == '.')
			continue;
		memcpy(token, COOKIE, sizeof COOKIE);
		token[i] = COOKIE[i] == 'A' ? 'B' : 'A';
		enum token_result r = verify(token, &id);
		/* A changed last character may leave non-zero spare bits. */
		assert_true(r == want || r == TOKEN_MALFORMED);
	}
	(void)from;
}

static void test_tampered_payload(void **state)
{
	(void)state;
	const char *dot = strrchr(COOKIE, '.');
	tamper_each(COOKIE, (size_t)(dot - COOKIE), TOKEN_FORGED);
	/* A payload of its own, with the MAC of the example. */
	char token[TOKEN_MAX + 1], forged[TOKEN_MAX + 1];
	struct identity id;
	assert_true(token_mint(SECRET, strlen(SECRET), "Mallory", NULL, EXP,
	                       ROLE_MODERATOR, token, sizeof token) > 0);
	snprintf(forged, sizeof forged, "%.*s%s",
	         (int)(strrchr(token, '.') - token), token, dot);
	assert_int_equal(verify(forged, &id), TOKEN_FORGED);
}

static void test_tampered_mac(void **state)
{
	(void)state;
	tamper_each(COOKIE, strlen(COOKIE), TOKEN_FORGED);
}

static void test_truncated(void **state)
{
	(void)state;
	char token[sizeof COOKIE];
	struct identity id;
	for (size_t n = 0; n < strlen(COOKIE); n++) {
		memcpy(token, COOKIE, n);
		token[n] = '\0';
		enum token_result r = verify(token, &id);
		assert_true(r == TOKEN_MALFORMED || r == TOKEN_FORGED);
	}
	assert_int_equal(verify_at(NULL, SECRET, NOW, &id), TOKEN_MALFORMED);
}

static void test_wrong_secret(void **state)
{
	(void)state;
	struct identity id;
	assert_int_equal(verify_at(COOKIE, "k3ep-th1s-s3cret-0ff-the-w3b-r00T",
	                           NOW, &id), TOKEN_FORGED);
	/* The secret is the file less ONE newline: with it, another key. */
	assert_int_equal(verify_at(COOKIE, "k3ep-th1s-s3cret-0ff-the-w3b-r00t\n",
	                           NOW, &id), TOKEN_FORGED);
	assert_int_equal(verify_at(COOKIE, "", NOW, &id), TOKEN_FORGED);
}

static void test_not_base64url(void **state)
{
	(void)state;
	struct identity id;
	const char *bad[] = {
		"v2.eyJ9.m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNEH0y7y0",
		"v1.eyJ+.m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNEH0y7y0",
		"v1.ey/9.m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNEH0y7y0",
		"v1.eyJ9=.m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNEH0y7y0",
		"v1.e.m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNEH0y7y0",
		"v1..m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNEH0y7y0",
		"v1.eyJ9.m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNEH0y7y0=",
		"v1.eyJ9.m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNEH0y7y1",
		"v1.eyJ9.x.m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNEH0y7y0",
		"v1.ey J9.m0jq6mhQIscf21adTEFJUtqydpxNJ8UK8vUNEH0y7y0",
		"v1.eyJ9",
		"v1.",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(verify(bad[i], &id), TOKEN_MALFORMED);

	unsigned char out[8];
	assert_int_equal(token_b64url_decode("QQ", 2, out, sizeof out), 1);
	assert_int_equal(token_b64url_decode("QR", 2, out, sizeof out), -1);
	assert_int_equal(token_b64url_decode("Q", 1, out, sizeof out), -1);
	assert_int_equal(token_b64url_decode("QUJD", 4, out, 2), -1);
	char enc[8];
	assert_int_equal(token_b64url_encode("\xfb\xff", 2, enc, sizeof enc), 3);
	assert_string_equal(enc, "-_8");
	assert_int_equal(token_b64url_encode("ABC", 3, enc, 4), -1);
}

static void test_oversized(void **state)
{
	(void)state;
	static char json[TOKEN_MAX];
	static char token[2 * TOKEN_MAX];
	struct identity id;
	int n = snprintf(json, sizeof json, "{\"name\":\"Ann\",\"exp\":%lld,"
	                 "\"pad\":\"", EXP);
	memset(json + n, 'x', sizeof json - (size_t)n - 3);
	memcpy(json + sizeof json - 3, "\"}", 3);
	assert_true(token_sign_payload(SECRET, strlen(SECRET), json,
	                               strlen(json), token, sizeof token) >
	            TOKEN_MAX);
	assert_int_equal(verify(token, &id), TOKEN_MALFORMED);
	/* Unknown members are fine in a token that fits. */
	assert_int_equal(verify_payload("{\"name\":\"Ann\",\"exp\":1893456000,"
	                                "\"site\":{\"uid\":7}}", &id), TOKEN_OK);
	/* A name longer than any chat_server keeps is refused, not cut. */
	char name[NAME_MAX_BYTES + 2];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	snprintf(json, sizeof json, "{\"name\":\"%s\",\"exp\":1893456000}", name);
	assert_int_equal(verify_payload(json, &id), TOKEN_BAD_NAME);
	name[NAME_MAX_BYTES] = '\0';
	snprintf(json, sizeof json, "{\"name\":\"%s\",\"exp\":1893456000}", name);
	assert_int_equal(verify_payload(json, &id), TOKEN_OK);
}

static void test_wrong_types(void **state)
{
	(void)state;
	struct identity id;
	const char *bad[] = {
		"[\"Ann\"]",
		"\"Ann\"",
		"{}",
		"{\"name\":\"Ann\"}",
		"{\"exp\":1893456000}",
		"{\"name\":7,\"exp\":1893456000}",
		"{\"name\":null,\"exp\":1893456000}",
		"{\"name\":\"Ann\",\"exp\":\"1893456000\"}",
		"{\"name\":\"Ann\",\"exp\":1893456000.0}",
		"{\"name\":\"Ann\",\"exp\":true}",
		"{\"name\":\"Ann\",\"exp\":1893456000,\"color\":7}",
		"{\"name\":\"Ann\",\"exp\":1893456000,\"roles\":\"moderator\"}",
		"{\"name\":\"Ann\",\"exp\":1893456000,\"roles\":[1]}",
		"{\"name\":\"Ann\",\"exp\":1893456000,\"roles\":{\"a\":1}}",
		"{\"name\":\"Ann\",\"exp\":1893456000",
		"{\"name\":\"Ann\",\"exp\":1893456000} x",
		" ",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(verify_payload(bad[i], &id), TOKEN_BAD_JSON);
	/* A role we do not know is no role, not an error. */
	assert_int_equal(verify_payload("{\"name\":\"Ann\",\"exp\":1893456000,"
	                                "\"roles\":[\"admin\"]}", &id), TOKEN_OK);
	assert_int_equal(id.roles, 0);
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	struct identity id;
	assert_int_equal(verify_payload("{\"name\":\"Ann\",\"name\":\"Bob\","
	                                "\"exp\":1893456000}", &id),
	                 TOKEN_BAD_JSON);
	assert_int_equal(verify_payload("{\"name\":\"Ann\",\"exp\":1893456000,"
	                                "\"exp\":1}", &id), TOKEN_BAD_JSON);
}

static void test_name_not_clean(void **state)
{
	(void)state;
	struct identity id;
	const char *bad[] = {
		"{\"name\":\"Ann Lee\",\"exp\":1893456000}",
		"{\"name\":\"a/b\",\"exp\":1893456000}",
		"{\"name\":\"a_b\",\"exp\":1893456000}",
		"{\"name\":\"a:b\",\"exp\":1893456000}",
		"{\"name\":\"\",\"exp\":1893456000}",
		"{\"name\":\"a\\u0000b\",\"exp\":1893456000}",
		"{\"name\":\"a\\nb\",\"exp\":1893456000}",
		"{\"name\":\"a\\u00a0b\",\"exp\":1893456000}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		enum token_result r = verify_payload(bad[i], &id);
		/* jansson refuses \u0000 itself. */
		assert_true(r == TOKEN_BAD_NAME || r == TOKEN_BAD_JSON);
		assert_int_not_equal(r, TOKEN_OK);
	}
	assert_int_equal(verify_payload(bad[0], &id), TOKEN_BAD_NAME);
}

static void test_color_invalid(void **state)
{
	(void)state;
	struct identity id;
	assert_int_equal(verify_payload("{\"name\":\"Ann\",\"color\":\"#12345g\","
	                                "\"exp\":1893456000}", &id),
	                 TOKEN_BAD_COLOR);
	assert_int_equal(verify_payload("{\"name\":\"Ann\",\"color\":\"red;x\","
	                                "\"exp\":1893456000}", &id),
	                 TOKEN_BAD_COLOR);
	assert_int_equal(verify_payload("{\"name\":\"Ann\",\"color\":\"\","
	                                "\"exp\":1893456000}", &id),
	                 TOKEN_BAD_COLOR);
	assert_int_equal(verify_payload("{\"name\":\"Ann\",\"color\":\"Red\","
	                                "\"exp\":1893456000}", &id), TOKEN_OK);
	assert_string_equal(id.color, "Red");
}

static void test_moderators_list(void **state)
{
	(void)state;
	assert_true(sso_uid_is_listed("jdoe", "jdoe"));
	assert_true(sso_uid_is_listed(" ann, jdoe bob", "jdoe"));
	assert_false(sso_uid_is_listed("jdoe2, xjdoe", "jdoe"));
	assert_false(sso_uid_is_listed("", "jdoe"));
	assert_false(sso_uid_is_listed("jdoe", ""));
	assert_false(sso_uid_is_listed("JDOE", "jdoe"));
}

static void test_session_expiry(void **state)
{
	(void)state;
	assert_false(identity_session_expired(1000, 1000 + 1440, 1440));
	assert_true(identity_session_expired(1000, 1000 + 1441, 1440));
	assert_false(identity_session_expired(0, 1000000000, 0));
	assert_string_equal(identity_source_name(IDENTITY_TOKEN), "token");
	assert_string_equal(identity_source_name(IDENTITY_PHP), "php");
	assert_string_equal(identity_source_name(IDENTITY_SSO), "sso");
	assert_string_equal(identity_source_name(IDENTITY_ANONYMOUS),
	                    "anonymous");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_mint_round_trip),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_tampered_payload),
		cmocka_unit_test(test_tampered_mac),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_not_base64url),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_name_not_clean),
		cmocka_unit_test(test_color_invalid),
		cmocka_unit_test(test_moderators_list),
		cmocka_unit_test(test_session_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
