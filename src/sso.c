#include "sso.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "cookie.h"

#define TOKEN_CHARS "abcdefghijklmnopqrstuvwxyz" \
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*#@.+/=_~-"
#define URL_UNRESERVED "abcdefghijklmnopqrstuvwxyz" \
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
#define ATTR_NAME "userdetails.attribute.name="
#define ATTR_VALUE "userdetails.attribute.value="
#define SUBJECT_PARAM "subjectid="

/* The attributes we use; an empty string is a missing one. */
struct sso_attrs {
	char uid[SSO_VALUE_MAX + 1];
	char given[SSO_VALUE_MAX + 1];
	char sn[SSO_VALUE_MAX + 1];
};

struct span {
	const char *p;
	size_t len;
};

static void warn(const char *what)
{
	fprintf(stderr, "chat_server: warning: OpenSSO: %s\n", what);
}

bool sso_is_configured(const struct chat_config *cfg)
{
	return cfg->auth_webservice_url[0] != '\0' &&
	       cfg->auth_cookiename[0] != '\0';
}

bool sso_token_is_valid(const char *token)
{
	size_t n = strlen(token);
	return n > 0 && n <= SSO_TOKEN_MAX && strspn(token, TOKEN_CHARS) == n;
}

/* An RFC 6265 cookie name: visible ASCII except the HTTP separators. */
static bool cookie_name_is_valid(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *p))
			return false;
	return name[0] != '\0';
}

bool sso_request_url(const char *base, const char *token, char *out,
                     size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(base);
	const char *sep = n > 0 && strchr("?&", base[n - 1]) ? ""
	                  : strchr(base, '?') ? "&" : "?";
	int w = snprintf(out, outsz, "%s%s" SUBJECT_PARAM, base, sep);
	if (w < 0 || (size_t)w >= outsz)
		return false;
	size_t pos = (size_t)w;
	for (const unsigned char *t = (const unsigned char *)token; *t; t++) {
		bool plain = strchr(URL_UNRESERVED, *t) != NULL;
		if (pos + (plain ? 1 : 3) >= outsz)
			return false;
		if (plain) {
			out[pos++] = (char)*t;
			continue;
		}
		out[pos++] = '%';
		out[pos++] = hex[*t >> 4];
		out[pos++] = hex[*t & 0xf];
	}
	out[pos] = '\0';
	return true;
}

/* ---- the answer ---- */

/* If line starts with prefix, the rest of it in *rest. */
static bool strip_prefix(struct span line, const char *prefix,
                         struct span *rest)
{
	size_t n = strlen(prefix);
	if (line.len < n || memcmp(line.p, prefix, n) != 0)
		return false;
	*rest = (struct span){ line.p + n, line.len - n };
	return true;
}

static bool span_is(struct span s, const char *word)
{
	return s.len == strlen(word) && strncasecmp(s.p, word, s.len) == 0;
}

/* Where the values of the attribute called name go, or NULL. */
static char *slot_for(struct sso_attrs *a, struct span name)
{
	if (span_is(name, "uid"))
		return a->uid;
	if (span_is(name, "givenName"))
		return a->given;
	if (span_is(name, "sn"))
		return a->sn;
	return NULL;
}

/* Keeps the first usable value of an attribute. */
static void take_value(char *slot, struct span v)
{
	if (!slot || slot[0] || v.len == 0 || v.len > SSO_VALUE_MAX ||
	    memchr(v.p, '\0', v.len))
		return;
	memcpy(slot, v.p, v.len);
	slot[v.len] = '\0';
}

/* The next line at *p (before end), without its LF or CRLF. */
static struct span next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *stop = nl ? nl : end;
	struct span line = { *p, (size_t)(stop - *p) };
	*p = nl ? nl + 1 : end;
	if (line.len && line.p[line.len - 1] == '\r')
		line.len--;
	return line;
}

/* Values belong to the name line above them; any other line ends them. */
static void collect(const char *body, size_t len, struct sso_attrs *a)
{
	const char *p = body, *end = body + len;
	char *slot = NULL;
	while (p < end) {
		struct span line = next_line(&p, end), rest;
		if (strip_prefix(line, ATTR_NAME, &rest))
			slot = slot_for(a, rest);
		else if (strip_prefix(line, ATTR_VALUE, &rest))
			take_value(slot, rest);
		else
			slot = NULL;
	}
}

/* a followed by b, cleaned as a name, in out (2 * SSO_VALUE_MAX + 1). */
static bool name_from(const char *a, const char *b, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s%s", a, b);
	return identity_clean_name(out);
}

/* sso_parse_attributes, with the uid (SSO_VALUE_MAX + 1 bytes, "" when
 * none) in uid. */
static bool parse_attributes(const char *body, size_t len,
                             struct identity *id, char *uid)
{
	struct sso_attrs a = { "", "", "" };
	if (body)
		collect(body, len, &a);
	memcpy(uid, a.uid, strlen(a.uid) + 1);
	char name[2 * SSO_VALUE_MAX + 1];
	if (!name_from(a.given, a.sn, name, sizeof name) &&
	    !name_from(a.uid, "", name, sizeof name))
		return false;
	/* The cleaned name has no ':', so the colour is everything after it. */
	char value[NAME_MAX_BYTES + SSO_VALUE_MAX + 3];
	int n = snprintf(value, sizeof value, "%s%s%s", name,
	                 a.uid[0] ? ":#" : "", a.uid);
	return n > 0 && (size_t)n < sizeof value &&
	       identity_from_value(value, (size_t)n, id);
}

bool sso_parse_attributes(const char *body, size_t len, struct identity *id)
{
	char uid[SSO_VALUE_MAX + 1];
	return parse_attributes(body, len, id, uid);
}

bool sso_uid_is_listed(const char *list, const char *uid)
{
	size_t n = strlen(uid);
	const char *p = list + strspn(list, " ,\t");
	while (n && *p) {
		size_t w = strcspn(p, " ,\t");
		if (w == n && memcmp(p, uid, n) == 0)
			return true;
		p += w;
		p += strspn(p, " ,\t");
	}
	return false;
}

/* ---- the request ----
 *
 * libcurl is loaded only here, when a request is about to be made: linked
 * in, it and the thirty libraries it needs would be loaded and relocated by
 * every chat process at start, for a feature most sites leave off. */

#define CURL_LIBRARY "libcurl.so.4"

struct curl_api {
	void *lib;
	CURL *(*init)(void);
	CURLcode (*setopt)(CURL *, CURLoption, ...);
	CURLcode (*perform)(CURL *);
	CURLcode (*getinfo)(CURL *, CURLINFO, ...);
	void (*cleanup)(CURL *);
	const char *(*strerror)(CURLcode);
};

/* POSIX's way to take a function from dlsym without a cast warning. */
#define CURL_FN(api, field, symbol) \
	(*(void **)&(api)->field = dlsym((api)->lib, symbol)) != NULL

static bool curl_load(struct curl_api *api)
{
	api->lib = dlopen(CURL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (api->lib && CURL_FN(api, init, "curl_easy_init") &&
	    CURL_FN(api, setopt, "curl_easy_setopt") &&
	    CURL_FN(api, perform, "curl_easy_perform") &&
	    CURL_FN(api, getinfo, "curl_easy_getinfo") &&
	    CURL_FN(api, cleanup, "curl_easy_cleanup") &&
	    CURL_FN(api, strerror, "curl_easy_strerror"))
		return true;
	warn("cannot load " CURL_LIBRARY " (install libcurl4)");
	if (api->lib)
		dlclose(api->lib);
	return false;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	size_t n = size * nmemb;
	/* Anything but n aborts the transfer (CURLE_WRITE_ERROR). */
	return buf_append(userdata, data, n) == 0 ? n : 0;
}

static bool set_options(const struct curl_api *api, CURL *curl,
                        const char *url, const char *cookie, struct buf *body,
                        char *errbuf)
{
	CURLcode (*set)(CURL *, CURLoption, ...) = api->setopt;
	return set(curl, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
	       set(curl, CURLOPT_URL, url) == CURLE_OK &&
	       set(curl, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	       set(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	       set(curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	       set(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	       set(curl, CURLOPT_TIMEOUT_MS, (long)SSO_TIMEOUT_MS) == CURLE_OK &&
	       set(curl, CURLOPT_MAXFILESIZE_LARGE,
	           (curl_off_t)SSO_BODY_MAX) == CURLE_OK &&
	       set(curl, CURLOPT_COOKIE, cookie) == CURLE_OK &&
	       set(curl, CURLOPT_USERAGENT, "chat_server") == CURLE_OK &&
	       set(curl, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
	       set(curl, CURLOPT_WRITEDATA, body) == CURLE_OK;
}

/* Runs the request; true for an HTTP 200 answer, read whole. */
static bool perform(const struct curl_api *api, CURL *curl,
                    const char *errbuf)
{
	CURLcode rc = api->perform(curl);
	if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED) {
		warn("the answer is larger than 64 KiB");
		return false;
	}
	if (rc != CURLE_OK) {
		warn(errbuf[0] ? errbuf : api->strerror(rc));
		return false;
	}
	long status = 0;
	api->getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200)
		return true;
	/* 401 and 403 are how OpenSSO says the token is not (or no longer)
	 * valid: the user simply is not logged in. */
	if (status != 401 && status != 403) {
		char what[64];
		snprintf(what, sizeof what, "the service answered HTTP %ld", status);
		warn(what);
	}
	return false;
}

static bool fetch(const struct chat_config *cfg, const char *token,
                  struct buf *body)
{
	char url[CONFIG_VALUE_MAX + sizeof SUBJECT_PARAM + 3 * SSO_TOKEN_MAX + 2];
	char cookie[CONFIG_VALUE_MAX + SSO_TOKEN_MAX + 2];
	char errbuf[CURL_ERROR_SIZE] = "";
	if (!sso_request_url(cfg->auth_webservice_url, token, url, sizeof url))
		return false;
	snprintf(cookie, sizeof cookie, "%s=%s", cfg->auth_cookiename, token);
	struct curl_api api;
	if (!curl_load(&api))
		return false;
	CURL *curl = api.init();
	if (!curl) {
		warn("cannot set up libcurl");
		dlclose(api.lib);
		return false;
	}
	bool ok = false;
	if (!set_options(&api, curl, url, cookie, body, errbuf))
		warn("libcurl refused an option (libcurl 7.85 or later needed)");
	else
		ok = perform(&api, curl, errbuf);
	api.cleanup(curl);
	dlclose(api.lib);
	return ok;
}

bool sso_identity(const struct chat_config *cfg, const char *cookie_header,
                  struct identity *id)
{
	char token[SSO_TOKEN_MAX + 1];
	if (!sso_is_configured(cfg))
		return false;
	if (!cookie_name_is_valid(cfg->auth_cookiename)) {
		warn("AUTHENTIZATION_COOKIENAME is not a valid cookie name");
		return false;
	}
	if (!cookie_find(cookie_header, cfg->auth_cookiename, token,
	                 sizeof token) || !sso_token_is_valid(token))
		return false;
	struct buf body;
	buf_init(&body, SSO_BODY_MAX);
	bool ok = fetch(cfg, token, &body);
	char uid[SSO_VALUE_MAX + 1] = "";
	if (ok && !parse_attributes(body.data, body.len, id, uid)) {
		warn("the answer has no usable uid, givenName or sn");
		ok = false;
	}
	if (ok) {
		/* The service vouches for the login: a verified name. */
		id->source = IDENTITY_SSO;
		id->verified = true;
		id->roles = sso_uid_is_listed(cfg->moderators, uid)
		            ? ROLE_MODERATOR : 0;
	}
	buf_free(&body);
	return ok;
}
