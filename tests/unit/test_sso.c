#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "identity.h"
#include "sso.h"

/* A realistic OpenSSO 8 identity/attributes answer. */
static const char ANSWER[] =
	"userdetails.token.id=AQIC5wM2LY4SfcxvdvHOXjtC_eWSs2RB54tgvgeaQEf1Sb0.*AAJTSQACMDE.*\n"
	"userdetails.attribute.name=uid\n"
	"userdetails.attribute.value=jdoe\n"
	"userdetails.attribute.name=mail\n"
	"userdetails.attribute.value=john.doe@example.org\n"
	"userdetails.attribute.name=sn\n"
	"userdetails.attribute.value=Doe\n"
	"userdetails.attribute.name=cn\n"
	"userdetails.attribute.value=John Doe\n"
	"userdetails.attribute.name=givenName\n"
	"userdetails.attribute.value=John\n"
	"userdetails.attribute.name=objectclass\n"
	"userdetails.attribute.value=top\n"
	"userdetails.attribute.value=person\n"
	"userdetails.attribute.value=inetOrgPerson\n"
	"userdetails.role=id=staff,ou=group,dc=example,dc=org\n";

static bool parse(const char *body, struct identity *id)
{
	memset(id, 0x55, sizeof *id);
	return sso_parse_attributes(body, strlen(body), id);
}

static void want(const char *body, const char *name, const char *color)
{
	struct identity id;
	assert_true(parse(body, &id));
	assert_string_equal(id.name, name);
	assert_string_equal(id.color, color);
}

static void want_none(const char *body, size_t len)
{
	struct identity id;
	assert_false(sso_parse_attributes(body, len, &id));
}

/* ---- sso_parse_attributes ---- */

static void test_realistic_answer(void **state)
{
	(void)state;
	/* "#jdoe" is no CSS colour: the user is Gray. */
	want(ANSWER, "JohnDoe", "Gray");
}

static void test_crlf_lines(void **state)
{
	(void)state;
	want("userdetails.attribute.name=uid\r\n"
	     "userdetails.attribute.value=jdoe\r\n"
	     "userdetails.attribute.name=givenName\r\n"
	     "userdetails.attribute.value=John\r\n"
	     "userdetails.attribute.name=sn\r\n"
	     "userdetails.attribute.value=Doe\r\n",
	     "JohnDoe", "Gray");
}

static void test_no_final_newline(void **state)
{
	(void)state;
	want("userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=John", "John", "Gray");
}

static void test_uid_that_is_a_colour(void **state)
{
	(void)state;
	want("userdetails.attribute.name=uid\n"
	     "userdetails.attribute.value=c0ffee\n"
	     "userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=Ann\n", "Ann", "#c0ffee");
}

static void test_attribute_names_ignore_case(void **state)
{
	(void)state;
	want("userdetails.attribute.name=GIVENNAME\n"
	     "userdetails.attribute.value=John\n"
	     "userdetails.attribute.name=SN\n"
	     "userdetails.attribute.value=Doe\n", "JohnDoe", "Gray");
}

static void test_missing_attributes(void **state)
{
	(void)state;
	/* Only a surname, or only a given name. */
	want("userdetails.attribute.name=sn\n"
	     "userdetails.attribute.value=Doe\n"
	     "userdetails.attribute.name=uid\n"
	     "userdetails.attribute.value=jdoe\n", "Doe", "Gray");
	want("userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=John\n", "John", "Gray");
	/* Neither: the uid is the name. */
	want("userdetails.attribute.name=uid\n"
	     "userdetails.attribute.value=jdoe\n", "jdoe", "Gray");
	/* Empty values count as missing. */
	want("userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=\n"
	     "userdetails.attribute.name=sn\n"
	     "userdetails.attribute.value=\n"
	     "userdetails.attribute.name=uid\n"
	     "userdetails.attribute.value=jdoe\n", "jdoe", "Gray");
	/* Nothing we use. */
	const char *none = "userdetails.token.id=AQIC\n"
	                   "userdetails.attribute.name=mail\n"
	                   "userdetails.attribute.value=j@example.org\n";
	want_none(none, strlen(none));
}

static void test_multi_valued(void **state)
{
	(void)state;
	want("userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=John\n"
	     "userdetails.attribute.value=Johnny\n"
	     "userdetails.attribute.name=sn\n"
	     "userdetails.attribute.value=Doe\n"
	     "userdetails.attribute.value=Smith\n"
	     "userdetails.attribute.name=uid\n"
	     "userdetails.attribute.value=abc\n"
	     "userdetails.attribute.value=jdoe\n", "JohnDoe", "#abc");
	/* The same attribute twice: the first one counts. */
	want("userdetails.attribute.name=sn\n"
	     "userdetails.attribute.value=Doe\n"
	     "userdetails.attribute.name=sn\n"
	     "userdetails.attribute.value=Roe\n", "Doe", "Gray");
}

static void test_values_belong_to_their_name(void **state)
{
	(void)state;
	/* A value after another kind of line, or before any name, is nobody's. */
	want("userdetails.attribute.value=Mallory\n"
	     "userdetails.attribute.name=givenName\n"
	     "userdetails.role=x\n"
	     "userdetails.attribute.value=Eve\n"
	     "userdetails.attribute.name=sn\n"
	     "userdetails.attribute.value=Doe\n", "Doe", "Gray");
	/* A name line needs the exact attribute name. */
	want("userdetails.attribute.name=givenNameX\n"
	     "userdetails.attribute.value=Eve\n"
	     "userdetails.attribute.name= sn\n"
	     "userdetails.attribute.value=Eve\n"
	     "userdetails.attribute.name=uid\n"
	     "userdetails.attribute.value=jdoe\n", "jdoe", "Gray");
}

static void test_hostile_values_cleaned(void **state)
{
	(void)state;
	/* Spaces, ':' and the like become '-'; a ':' never splits the name. */
	want("userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=Jo hn:#f00\n"
	     "userdetails.attribute.name=sn\n"
	     "userdetails.attribute.value=D/o_e,<b>\n", "Jo-hn-#f00D-o-e--b-", "Gray");
	/* Control characters (the CR of a CRLF line end is not one of them). */
	want("userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=A\tB\x01" "C\x7f\r\n", "A-B-C-", "Gray");
	/* A uid with a ':' or a space gives no colour. */
	want("userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=Ann\n"
	     "userdetails.attribute.name=uid\n"
	     "userdetails.attribute.value=f00:x\n", "Ann", "Gray");
	want("userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=Ann\n"
	     "userdetails.attribute.name=uid\n"
	     "userdetails.attribute.value=f00 \n", "Ann", "Gray");
}

static void test_utf8_names(void **state)
{
	(void)state;
	want("userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=Jiří\n"
	     "userdetails.attribute.name=sn\n"
	     "userdetails.attribute.value=Dvořák\n", "JiříDvořák", "Gray");
	/* Not UTF-8: the uid instead. */
	want("userdetails.attribute.name=givenName\n"
	     "userdetails.attribute.value=\xff\xfe\n"
	     "userdetails.attribute.name=uid\n"
	     "userdetails.attribute.value=jdoe\n", "jdoe", "Gray");
}

static void test_long_values(void **state)
{
	(void)state;
	char body[4096], given[SSO_VALUE_MAX + 2];
	struct identity id;

	/* A long name is cut to NAME_MAX_BYTES. */
	memset(given, 'g', 100);
	given[100] = '\0';
	snprintf(body, sizeof body,
	         "userdetails.attribute.name=givenName\n"
	         "userdetails.attribute.value=%s\n"
	         "userdetails.attribute.name=sn\n"
	         "userdetails.attribute.value=Doe\n", given);
	assert_true(parse(body, &id));
	assert_int_equal(strlen(id.name), NAME_MAX_BYTES);
	assert_memory_equal(id.name, given, NAME_MAX_BYTES);

	/* Over SSO_VALUE_MAX a value is ignored. */
	memset(given, 'g', SSO_VALUE_MAX + 1);
	given[SSO_VALUE_MAX + 1] = '\0';
	snprintf(body, sizeof body,
	         "userdetails.attribute.name=givenName\n"
	         "userdetails.attribute.value=%s\n"
	         "userdetails.attribute.name=sn\n"
	         "userdetails.attribute.value=Doe\n", given);
	want(body, "Doe", "Gray");
}

static void test_nul_in_value(void **state)
{
	(void)state;
	static const char body[] = "userdetails.attribute.name=givenName\n"
	                           "userdetails.attribute.value=Jo\0hn\n"
	                           "userdetails.attribute.name=sn\n"
	                           "userdetails.attribute.value=Doe\n";
	struct identity id;
	assert_true(sso_parse_attributes(body, sizeof body - 1, &id));
	assert_string_equal(id.name, "Doe");
}

static void test_length_is_respected(void **state)
{
	(void)state;
	/* Only the first len bytes count; no NUL is needed. */
	static const char body[] = "userdetails.attribute.name=givenName\n"
	                           "userdetails.attribute.value=Johnny";
	struct identity id;
	assert_true(sso_parse_attributes(body, sizeof body - 3, &id));
	assert_string_equal(id.name, "John");
}

static void test_empty_and_garbage(void **state)
{
	(void)state;
	want_none("", 0);
	want_none(NULL, 0);
	want_none("\n\n\r\n", 4);
	static const char garbage[] = "<html><body>500 Internal Error</body></html>";
	want_none(garbage, sizeof garbage - 1);
	static const char json[] = "{\"uid\":\"jdoe\",\"givenName\":\"John\"}";
	want_none(json, sizeof json - 1);
	static const char bin[] = "\0\xff\n=\n\x01userdetails.attribute.name\n";
	want_none(bin, sizeof bin - 1);
	/* A name line without any value line. */
	static const char novalue[] = "userdetails.attribute.name=givenName\n";
	want_none(novalue, sizeof novalue - 1);
	/* Only characters that clean to nothing usable. */
	static const char bad[] = "userdetails.attribute.name=givenName\n"
	                          "userdetails.attribute.value=\xc3\n";
	want_none(bad, sizeof bad - 1);
}

/* ---- sso_token_is_valid ---- */

static void test_tokens(void **state)
{
	(void)state;
	assert_true(sso_token_is_valid("AQIC5wM2LY4SfcxvdvHOXjtC_eWSs2RB54tgvgeaQEf1Sb0.*AAJTSQACMDE.*"));
	assert_true(sso_token_is_valid("AQIC5wM2LY4Sfcz+/=@#~-x"));
	assert_false(sso_token_is_valid(""));
	assert_false(sso_token_is_valid("a b"));
	assert_false(sso_token_is_valid("a;b"));
	assert_false(sso_token_is_valid("a,b"));
	assert_false(sso_token_is_valid("a\r\nX-Injected: 1"));
	assert_false(sso_token_is_valid("a\nb"));
	assert_false(sso_token_is_valid("\"a\""));
	assert_false(sso_token_is_valid("a%0d%0a"));
	assert_false(sso_token_is_valid("a\\b"));
	assert_false(sso_token_is_valid("Jiří"));

	char t[SSO_TOKEN_MAX + 2];
	memset(t, 'a', sizeof t - 1);
	t[SSO_TOKEN_MAX] = '\0';
	assert_true(sso_token_is_valid(t));
	t[SSO_TOKEN_MAX] = 'a';
	t[SSO_TOKEN_MAX + 1] = '\0';
	assert_false(sso_token_is_valid(t));
}

/* ---- sso_request_url ---- */

static void want_url(const char *base, const char *token, const char *url)
{
	char out[512];
	assert_true(sso_request_url(base, token, out, sizeof out));
	assert_string_equal(out, url);
}

static void test_request_url(void **state)
{
	(void)state;
	want_url("http://sso/opensso/identity/attributes", "AQ.*x_y~z-0",
	         "http://sso/opensso/identity/attributes?subjectid=AQ.%2Ax_y~z-0");
	want_url("http://sso/a", "AQ.%2A", "http://sso/a?subjectid=AQ.%252A");
	want_url("http://sso/a?attributenames=uid", "t",
	         "http://sso/a?attributenames=uid&subjectid=t");
	want_url("http://sso/a?", "t", "http://sso/a?subjectid=t");
	want_url("http://sso/a?x=1&", "t", "http://sso/a?x=1&subjectid=t");
	want_url("https://sso/a", "a+b/c=d@e#f",
	         "https://sso/a?subjectid=a%2Bb%2Fc%3Dd%40e%23f");
}

static void test_request_url_fits(void **state)
{
	(void)state;
	const char *base = "http://s/a";
	char out[sizeof "http://s/a?subjectid=" + 4];
	assert_true(sso_request_url(base, "a+", out, sizeof out));
	assert_string_equal(out, "http://s/a?subjectid=a%2B");
	assert_false(sso_request_url(base, "a+b", out, sizeof out));
	assert_false(sso_request_url(base, "a", out, 5));
	assert_false(sso_request_url(base, "a", out, sizeof "http://s/a?subjectid="));
}

/* ---- sso_is_configured / sso_identity without a request ---- */

static void test_not_configured(void **state)
{
	(void)state;
	/* Unset keys read as "", as config_load leaves them. */
	struct chat_config cfg = { .auth_webservice_url = "",
	                           .auth_cookiename = "" };
	struct identity id;
	assert_false(sso_is_configured(&cfg));
	assert_false(sso_identity(&cfg, "iPlanetDirectoryPro=AQIC", &id));
	cfg.auth_cookiename = "iPlanetDirectoryPro";
	assert_false(sso_is_configured(&cfg));
	cfg.auth_cookiename = "";
	cfg.auth_webservice_url = "http://127.0.0.1:9/opensso/identity/attributes";
	assert_false(sso_is_configured(&cfg));
	cfg.auth_cookiename = "iPlanetDirectoryPro";
	assert_true(sso_is_configured(&cfg));
}

static void test_no_usable_cookie(void **state)
{
	(void)state;
	/* Port 9 (discard) would refuse; these never get that far. */
	const struct chat_config cfg = {
		.auth_webservice_url =
			"http://127.0.0.1:9/opensso/identity/attributes",
		.auth_cookiename = "iPlanetDirectoryPro",
	};
	struct identity id;
	assert_false(sso_identity(&cfg, NULL, &id));
	assert_false(sso_identity(&cfg, "", &id));
	assert_false(sso_identity(&cfg, "PHPSESSID=abc", &id));
	assert_false(sso_identity(&cfg, "iPlanetDirectoryPro=", &id));
	assert_false(sso_identity(&cfg, "iPlanetDirectoryPro=a b", &id));
	assert_false(sso_identity(&cfg, "iPlanetDirectoryPro=\"a;b\"", &id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_realistic_answer),
		cmocka_unit_test(test_crlf_lines),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_uid_that_is_a_colour),
		cmocka_unit_test(test_attribute_names_ignore_case),
		cmocka_unit_test(test_missing_attributes),
		cmocka_unit_test(test_multi_valued),
		cmocka_unit_test(test_values_belong_to_their_name),
		cmocka_unit_test(test_hostile_values_cleaned),
		cmocka_unit_test(test_utf8_names),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_nul_in_value),
		cmocka_unit_test(test_length_is_respected),
		cmocka_unit_test(test_empty_and_garbage),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_request_url),
		cmocka_unit_test(test_request_url_fits),
		cmocka_unit_test(test_not_configured),
		cmocka_unit_test(test_no_usable_cookie),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
