#include "wire_cases.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* Test code: an allocation that fails ends the run. */
static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		perror("wire_cases");
		exit(2);
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = xrealloc(NULL, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Undoes the escapes of a "key*:" value in place.  Returns the new length,
 * or -1 for an escape we do not know. */
static long unescape(char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\') {
			s[o++] = s[i];
			continue;
		}
		if (++i == len)
			return -1;
		switch (s[i]) {
		case '\\': s[o++] = '\\'; break;
		case 't': s[o++] = '\t'; break;
		case 'r': s[o++] = '\r'; break;
		case 'n': s[o++] = '\n'; break;
		case '0': s[o++] = '\0'; break;
		case 'x': {
			int hi = i + 2 < len ? text_hex_digit(s[i + 1]) : -1;
			int lo = i + 2 < len ? text_hex_digit(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			s[o++] = (char)(hi * 16 + lo);
			i += 2;
			break;
		}
		default:
			return -1;
		}
	}
	s[o] = '\0';
	return (long)o;
}

struct reader {
	const char *file;
	struct wire_field *defaults;
	size_t ndefaults;
	struct wire_case *cases;
	size_t n;
	size_t first; /* the first case of the file being read */
};

static void add_field(struct wire_field **fields, size_t *n,
                      struct wire_field f)
{
	*fields = xrealloc(*fields, (*n + 1) * sizeof **fields);
	(*fields)[(*n)++] = f;
}

static struct wire_field copy_field(const struct wire_field *f)
{
	struct wire_field c = *f;
	c.key = xstrndup(f->key, strlen(f->key));
	c.value = xstrndup(f->value, f->len);
	return c;
}

static void start_case(struct reader *r, const char *name, unsigned line)
{
	r->cases = xrealloc(r->cases, (r->n + 1) * sizeof *r->cases);
	struct wire_case *c = &r->cases[r->n++];
	size_t need = strlen(r->file) + strlen(name) + 32;
	c->where = xrealloc(NULL, need);
	snprintf(c->where, need, "%s:%u: %s", r->file, line, name);
	c->fields = NULL;
	c->n = 0;
	for (size_t i = 0; i < r->ndefaults; i++)
		add_field(&c->fields, &c->n, copy_field(&r->defaults[i]));
}

/* One line of a file: a comment, nothing, or "key: value". */
static bool read_line(struct reader *r, char *text, size_t len, unsigned line)
{
	if (len == 0 || text[0] == '#')
		return true;
	char *colon = memchr(text, ':', len);
	if (!colon || colon == text || (colon + 1 < text + len && colon[1] != ' ')) {
		fprintf(stderr, "%s:%u: not \"key: value\"\n", r->file, line);
		return false;
	}
	size_t klen = (size_t)(colon - text);
	char *value = colon + 1 < text + len ? colon + 2 : colon + 1;
	struct wire_field f = { xstrndup(text, klen), NULL, 0, line };
	f.len = (size_t)(text + len - value);
	f.value = xstrndup(value, f.len);
	if (f.key[klen - 1] == '*') {
		f.key[klen - 1] = '\0';
		long n = unescape(f.value, f.len);
		if (n < 0) {
			fprintf(stderr, "%s:%u: bad escape\n", r->file, line);
			return false;
		}
		f.len = (size_t)n;
	}
	if (strcmp(f.key, "case") == 0) {
		start_case(r, f.value, line);
		free(f.key);
		free(f.value);
	} else if (r->n == r->first) {
		add_field(&r->defaults, &r->ndefaults, f);
	} else {
		struct wire_case *c = &r->cases[r->n - 1];
		add_field(&c->fields, &c->n, f);
	}
	return true;
}

static void free_fields(struct wire_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].key);
		free(f[i].value);
	}
	free(f);
}

static bool read_file(struct reader *r, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return false;
	}
	r->file = path;
	r->first = r->n;
	r->defaults = NULL;
	r->ndefaults = 0;
	char *text = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned line = 0;
	bool ok = true;
	while (ok && (len = getline(&text, &cap, f)) >= 0) {
		line++;
		if (len > 0 && text[len - 1] == '\n')
			len--;
		ok = read_line(r, text, (size_t)len, line);
	}
	free(text);
	free_fields(r->defaults, r->ndefaults);
	fclose(f);
	return ok;
}

static bool is_case_file(const char *name, const char *prefix)
{
	size_t n = strlen(name), p = strlen(prefix), s = strlen(".cases");
	return n > p + s && strncmp(name, prefix, p) == 0 &&
	       strcmp(name + n - s, ".cases") == 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

size_t wire_cases_load(const char *dir, const char *prefix,
                       struct wire_case **cases)
{
	struct dirent **names;
	int count = scandir(dir, &names, NULL, by_name);
	if (count < 0) {
		fprintf(stderr, "wire_cases: cannot read %s (run from the "
		        "repository root)\n", dir);
		return 0;
	}
	struct reader r = { NULL, NULL, 0, NULL, 0, 0 };
	bool ok = true;
	for (int i = 0; i < count; i++) {
		if (ok && is_case_file(names[i]->d_name, prefix)) {
			size_t need = strlen(dir) + strlen(names[i]->d_name) + 2;
			char *path = xrealloc(NULL, need);
			snprintf(path, need, "%s/%s", dir, names[i]->d_name);
			ok = read_file(&r, path);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	if (ok && r.n == 0)
		fprintf(stderr, "wire_cases: no case in %s/%s*.cases\n", dir,
		        prefix);
	if (!ok || r.n == 0) {
		wire_cases_free(r.cases, r.n);
		return 0;
	}
	*cases = r.cases;
	return r.n;
}

void wire_cases_free(struct wire_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(cases[i].where);
		free_fields(cases[i].fields, cases[i].n);
	}
	free(cases);
}

const char *wire_case_get(const struct wire_case *c, const char *key,
                          size_t *len)
{
	for (size_t i = c->n; i-- > 0;)
		if (strcmp(c->fields[i].key, key) == 0) {
			if (len)
				*len = c->fields[i].len;
			return c->fields[i].value;
		}
	return NULL;
}
