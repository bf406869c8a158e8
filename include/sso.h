/* sso: the OpenSSO login of the old program, as an alternative to the PHP
 * session.
 *
 * When AUTHENTIZATION_WEBSERVICE_URL and AUTHENTIZATION_COOKIENAME are both
 * set and the browser sent that cookie, its value (the SSO token) is sent to
 * the URL, an OpenSSO REST identity/attributes service, with one GET:
 *
 *   GET <url>?subjectid=<token, URL-encoded>     ('&' when url has a query)
 *   Cookie: <AUTHENTIZATION_COOKIENAME>=<token>
 *
 * A 200 answer in OpenSSO's text format gives the user "GivenNameSurname"
 * with colour "#uid", as the old program built it:
 *
 *   userdetails.token.id=AQIC...
 *   userdetails.attribute.name=uid
 *   userdetails.attribute.value=jdoe
 *   userdetails.attribute.name=givenName
 *   userdetails.attribute.value=John
 *   ...
 *
 * Anything else (no answer within SSO_TIMEOUT_MS, another status, a body
 * over SSO_BODY_MAX, no usable attributes) is no SSO identity. */
#ifndef CHAT_SSO_H
#define CHAT_SSO_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "identity.h"

#define SSO_TOKEN_MAX 1024          /* longest token we pass on, in bytes */
#define SSO_VALUE_MAX 256           /* longer attribute values are ignored */
#define SSO_BODY_MAX (64 * 1024)    /* longer answers are refused */
#define SSO_TIMEOUT_MS 2000L        /* the whole request, connect included */

/* True when both config keys are non-empty. */
bool sso_is_configured(const struct chat_config *cfg);

/* True when token is 1..SSO_TOKEN_MAX bytes of [A-Za-z0-9*#@.+/=_~-]: all
 * of them safe in a Cookie header, none can end a header or a cookie. */
bool sso_token_is_valid(const char *token);

/* Writes base + ('?' or '&', none when base already ends in one) +
 * "subjectid=" + the URL-encoded token to out.  False when it does not fit
 * in outsz bytes. */
bool sso_request_url(const char *base, const char *token, char *out,
                     size_t outsz);

/* Builds id from an identity/attributes answer body[0..len) (need not be
 * NUL-terminated; lines end in LF or CRLF).  Attribute names are matched
 * without regard to case; of a multi-valued attribute the first value
 * counts; values that are empty, longer than SSO_VALUE_MAX or contain NUL
 * are ignored.  The name is givenName followed by sn, with no separator
 * (either may be missing), or uid when that gives nothing usable; it is
 * cleaned like every name (identity_clean_name: spaces, ':' and the like
 * become '-', cut at NAME_MAX_BYTES).  The colour is "#" + uid, which is
 * kept only when it is a CSS colour (uid "c0ffee" gives #c0ffee); almost
 * always it is not ("#jdoe"), and the user is Gray.  Without a uid the
 * colour is Gray too.  Returns false when no usable name is found. */
bool sso_parse_attributes(const char *body, size_t len, struct identity *id);

/* True when uid (not empty) is one of the words of list, separated by
 * commas or blanks (MODERATORS), compared exactly. */
bool sso_uid_is_listed(const char *list, const char *uid);

/* The SSO identity of the connecting user, from the Cookie header (may be
 * NULL).  False when SSO is not configured, the cookie is absent or not a
 * valid token, or the service gives no usable identity; failures of the
 * service itself (no connection, timeout, unexpected status) are reported
 * on stderr as warnings. */
bool sso_identity(const struct chat_config *cfg, const char *cookie_header,
                  struct identity *id);
/* On success id is also source IDENTITY_SSO, verified, with ROLE_MODERATOR
 * when its uid is listed in MODERATORS. */

#endif
