/* Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Every target copies what it hands to the code under test into a buffer
 * of exactly the right size, so AddressSanitizer sees any byte read past
 * the end.  Targets print nothing: a failed property is a FUZZ_CHECK,
 * which aborts with the condition (libFuzzer then saves the input). */
#ifndef CHAT_FUZZ_H
#define CHAT_FUZZ_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: property failed: %s\n",     \
			        __FILE__, __LINE__, #cond);                 \
			abort();                                            \
		}                                                           \
	} while (0)

/* A NUL-terminated copy of data[0..size), allocated to the byte. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A copy without terminator (malloc(0) is avoided: 1 byte, never read). */
static inline char *fuzz_memdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	return s;
}

/* Splits data at '\n' into at most max NUL-terminated fields (the last
 * takes the rest, newlines included).  Returns how many; each field is a
 * separate allocation of its exact size.  Free with fuzz_free_fields. */
static inline size_t fuzz_fields(const uint8_t *data, size_t size,
                                 char **out, size_t max)
{
	size_t n = 0;
	while (n < max) {
		const uint8_t *nl = n + 1 < max ? memchr(data, '\n', size) : NULL;
		size_t len = nl ? (size_t)(nl - data) : size;
		out[n++] = fuzz_strndup(data, len);
		if (!nl)
			break;
		data += len + 1;
		size -= len + 1;
	}
	return n;
}

static inline void fuzz_free_fields(char **f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i]);
}

/* A deterministic source for rng_uniform_fn: a counter-based generator
 * seeded from the input, so every input replays exactly. */
struct fuzz_rng {
	uint64_t state;
	int fail_after;   /* fail (EIO) after this many draws; -1: never */
	bool out_of_range; /* hand out bound itself once (a broken source) */
};

static inline uint64_t fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < size; i++) {
		h ^= data[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static inline int fuzz_rng_uniform(void *ctx, uint32_t bound, uint32_t *out)
{
	struct fuzz_rng *r = ctx;
	if (r->fail_after == 0) {
		errno = EIO;
		return -1;
	}
	if (r->fail_after > 0)
		r->fail_after--;
	if (r->out_of_range) {
		r->out_of_range = false;
		*out = bound;
		return 0;
	}
	/* splitmix64 */
	uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	*out = (uint32_t)(z % bound);
	return 0;
}

/* A private temporary directory for the whole run, removed at exit. */
static char fuzz_tmp_dir[64];

static inline int fuzz_rm_entry(const char *path, const struct stat *st,
                                int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void fuzz_tmp_cleanup(void)
{
	if (fuzz_tmp_dir[0])
		nftw(fuzz_tmp_dir, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline const char *fuzz_tmp(const char *tag)
{
	if (!fuzz_tmp_dir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(fuzz_tmp_dir, sizeof fuzz_tmp_dir, "%s/fuzz_%s.XXXXXX",
		         base && *base && strlen(base) < 32 ? base : "/tmp", tag);
		if (!mkdtemp(fuzz_tmp_dir))
			abort();
		atexit(fuzz_tmp_cleanup);
	}
	return fuzz_tmp_dir;
}

#endif
