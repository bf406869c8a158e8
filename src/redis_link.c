#include "redis_link.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "elapsed.h"
#include "pages.h"
#include "redis_reply.h"

/* hiredis is loaded when the first link is opened, not at start, like
 * libcrypto (src/crypto.c): only TRANSPORT=redis needs it, and a process
 * of TRANSPORT=files must not pay for its mapping and relocations.  The
 * signatures are taken from hiredis's headers (__typeof__), so that every
 * call through a looked-up pointer is checked, and the soname is that of
 * the headers, whose structures (redisContext, redisReply) we read:
 * libhiredis.so.0.14 for 0.14, libhiredis.so.1.1.0 for 1.1.0 (from 1.0
 * on, the soname carries the patch level too).  RTLD_NODELETE keeps the
 * library loaded once a link has used it. */
#define STR_(x) #x
#define STR(x) STR_(x)
#if HIREDIS_MAJOR == 0
#define HIREDIS_SOVERSION STR(HIREDIS_MAJOR) "." STR(HIREDIS_MINOR)
#else
#define HIREDIS_SOVERSION STR(HIREDIS_MAJOR) "." STR(HIREDIS_MINOR) "." \
                          STR(HIREDIS_PATCH)
#endif
#define HIREDIS_LIBRARY "libhiredis.so." HIREDIS_SOVERSION
#define HIREDIS_PACKAGE "libhiredis" HIREDIS_SOVERSION

/* What one read(2) takes.  hiredis reads into 16 KiB on the stack, and a
 * page of stack once touched stays with the process for its life: 16 KiB
 * more for every connection, where a reply that keeps up with a room is a
 * few hundred bytes. */
#define REDIS_LINK_READ_CHUNK 1024
/* The reader's buffer: made at once the size hiredis gives a buffer that
 * takes one read (twice the read), and kept at that size from reply to
 * reply.  A buffer let go after each reply came back at the size of the
 * next, and the C library's per-thread cache kept a freed piece of every
 * size the room's lines had had: user lists grow by a name at every join,
 * and after 50 joins a member's heap held 30 KiB of such pieces. */
#define REDIS_LINK_READER_KEEP (2 * REDIS_LINK_READ_CHUNK)
/* The commands waiting to be written: a buffer of the link's own, kept
 * between exchanges up to this size.  hiredis formats each command into a
 * string of its size and copies it into an output buffer grown for it,
 * and frees both once written: two pieces of every command's size, which
 * the C library's per-thread cache keeps, a few of each size, for the
 * life of the process (about 10 KiB of a member's heap after a join). */
#define REDIS_LINK_OUT_KEEP 2048

/* A reply not waited for: the how-manieth command it answers, and whom
 * to hand it to. */
struct unawaited {
	unsigned long long command;
	redis_link_reply_fn *fn;
	void *ctx;
};

struct redis_link {
	redisContext *ctx; /* NULL while the link rests */
	/* The caller's (redis_link_open): connected to again after a rest. */
	const struct redis_url *url;
	__typeof__(redisConnectWithTimeout) *connect_tcp;
	__typeof__(redisConnectUnixWithTimeout) *connect_unix;
	/* The last command written (elapsed.h): not every reply, which on a
	 * subscribed link is every line the room delivers. */
	struct timespec used_at;
	/* Commands queued and replies read since the link opened: the reply
	 * to command k is the k-th read. */
	unsigned long long sent, read;
	struct unawaited unawaited[REDIS_LINK_UNAWAITED_MAX];
	size_t n_unawaited; /* oldest first */
	int timeout_ms;
	__typeof__(redisFree) *free_context;
	/* RESP of the commands sent and not yet written out. */
	char *out;
	size_t out_len, out_cap;
	__typeof__(redisReaderFeed) *feed;
	__typeof__(redisReaderGetReply) *get_reply;
	__typeof__(redisSetTimeout) *set_timeout;
	__typeof__(sdsempty) *sds_empty;
	__typeof__(sdsMakeRoomFor) *sds_make_room;
	__typeof__(sdsfree) *sds_free;
	char where[REDIS_URL_MAX + 32]; /* redis_url_describe */
	/* The server's run (redis_link_server_run), once asked: "" before. */
	char run_id[REDIS_RUN_ID_MAX + 1];
	long long started_ms;
};

/* POSIX's way to take a function from dlsym without a cast warning. */
#define LOOKUP(lib, var, name) (*(void **)&(var) = dlsym(lib, name))

/* hiredis, loaded; NULL with why in err when it cannot be.  The handle
 * is only for dlsym: the library stays loaded (RTLD_NODELETE) after the
 * caller's dlclose. */
static void *open_hiredis(char *err, size_t errsz)
{
	void *lib = dlopen(HIREDIS_LIBRARY, RTLD_NOW | RTLD_LOCAL |
	                   RTLD_NODELETE);
	if (!lib) {
		const char *why = dlerror();
		snprintf(err, errsz, "TRANSPORT=redis needs hiredis, which "
		         "cannot be loaded (install %s): %s", HIREDIS_PACKAGE,
		         why ? why : HIREDIS_LIBRARY " not found");
	}
	return lib;
}

static void lacks_function(char *err, size_t errsz)
{
	snprintf(err, errsz, "TRANSPORT=redis: %s lacks a function "
	         "chat_server needs; reinstall %s", HIREDIS_LIBRARY,
	         HIREDIS_PACKAGE);
}

/* The functions a link uses; -1 with why in err when hiredis cannot be
 * loaded. */
static int load(struct redis_link *link, char *err, size_t errsz)
{
	void *lib = open_hiredis(err, errsz);
	if (!lib)
		return -1;
	int ok = LOOKUP(lib, link->connect_tcp, "redisConnectWithTimeout") &&
	         LOOKUP(lib, link->connect_unix,
	                "redisConnectUnixWithTimeout") &&
	         LOOKUP(lib, link->set_timeout, "redisSetTimeout") &&
	         LOOKUP(lib, link->feed, "redisReaderFeed") &&
	         LOOKUP(lib, link->get_reply, "redisReaderGetReply") &&
	         LOOKUP(lib, link->sds_empty, "sdsempty") &&
	         LOOKUP(lib, link->sds_make_room, "sdsMakeRoomFor") &&
	         LOOKUP(lib, link->sds_free, "sdsfree") &&
	         LOOKUP(lib, link->free_context, "redisFree");
	dlclose(lib);
	if (!ok) {
		lacks_function(err, errsz);
		return -1;
	}
	return 0;
}

/* Why the link has no reply: from hiredis's error, with errno as it was
 * right after the failed call. */
static void link_failure(const struct redis_link *link, int saved_errno,
                         const char *doing, char *err, size_t errsz)
{
	const redisContext *c = link->ctx;
	if (c->err == REDIS_ERR_IO &&
	    (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))
		snprintf(err, errsz, "redis %s did not answer %s within %d ms",
		         link->where, doing, link->timeout_ms);
	else if (c->err == REDIS_ERR_EOF)
		snprintf(err, errsz, "redis %s closed the connection (%s)",
		         link->where, doing);
	else
		snprintf(err, errsz, "redis %s: %s: %s", link->where, doing,
		         c->err ? c->errstr : "no reply");
}

/* The reader's buffer, every byte of it taken, replaced by one of
 * REDIS_LINK_READER_KEEP bytes.  0, or -1 when out of memory (the old one
 * stays). */
static int renew_buffer(struct redis_link *link)
{
	redisReader *r = link->ctx->reader;
	sds empty = link->sds_empty();
	if (!empty)
		return -1;
	/* hiredis's sds makes room for twice what is asked. */
	sds buf = link->sds_make_room(empty, REDIS_LINK_READER_KEEP / 2);
	if (!buf) {
		link->sds_free(empty);
		return -1;
	}
	link->sds_free(r->buf);
	r->buf = buf;
	r->pos = r->len = 0;
	return 0;
}

/* Once every byte read is taken, a reader buffer grown past
 * REDIS_LINK_READER_KEEP (a large reply) goes back for one of that size.
 * hiredis itself lets it go only when the next reply starts to come: for
 * a link that waits on a channel, the largest reply's size held through
 * the whole wait.  Out of memory, it is kept: hiredis gives it back at
 * the next read. */
static void give_back_buffer(struct redis_link *link)
{
	const redisReader *r = link->ctx->reader;
	if (r->pos == r->len && sdsalloc(r->buf) > REDIS_LINK_READER_KEEP)
		(void)renew_buffer(link);
}

size_t redis_link_writer_bytes(const struct redis_link *link)
{
	return link->out_cap;
}

bool redis_link_buffered(const struct redis_link *link)
{
	const redisReader *r = link->ctx ? link->ctx->reader : NULL;
	return r && r->pos < r->len;
}

size_t redis_link_reader_bytes(const struct redis_link *link)
{
	return link->ctx ? sdsalloc(link->ctx->reader->buf) : 0;
}

/* The link breaks as hiredis breaks a context: its error stays, and
 * every later call fails on it (errno is kept for link_failure). */
static void set_error(struct redis_link *link, int type, const char *what)
{
	int saved_errno = errno;
	link->ctx->err = type;
	snprintf(link->ctx->errstr, sizeof link->ctx->errstr, "%s", what);
	errno = saved_errno;
}

/* hiredis's blocking redisGetReply, with a small buffer of our own: the
 * next reply, reading as it needs (the socket's timeout bounds each
 * read).  0 with *reply, or -1 with the link broken. */
static int read_reply(struct redis_link *link, void **reply)
{
	redisReader *r = link->ctx->reader;
	for (;;) {
		if (link->get_reply(r, reply) != REDIS_OK) {
			set_error(link, r->err ? r->err : REDIS_ERR_PROTOCOL,
			          r->errstr);
			return -1;
		}
		if (*reply)
			return 0;
		char chunk[REDIS_LINK_READ_CHUNK];
		ssize_t n = read(link->ctx->fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			set_error(link, REDIS_ERR_EOF, "Server closed the "
			          "connection");
			return -1;
		}
		if (n < 0) {
			set_error(link, REDIS_ERR_IO, strerror(errno));
			return -1;
		}
		if (link->feed(r, chunk, (size_t)n) != REDIS_OK) {
			set_error(link, r->err ? r->err : REDIS_ERR_OOM,
			          r->errstr);
			return -1;
		}
	}
}

/* A buffer larger than REDIS_LINK_OUT_KEEP is pages of its own. */
static bool out_paged(const struct redis_link *link)
{
	return link->out_cap > REDIS_LINK_OUT_KEEP;
}

static void out_release(struct redis_link *link)
{
	if (out_paged(link))
		pages_free(link->out, link->out_cap);
	else
		free(link->out);
	link->out = NULL;
	link->out_cap = 0;
}

/* out[0..out_len) grows to hold n more bytes: REDIS_LINK_OUT_KEEP in the
 * heap at once, kept from command to command; past it, pages of its own
 * (pages.h), given back once written.  Grown a little at a time, it left
 * a freed piece of each size it had passed in the C library's per-thread
 * cache, at every reconnection after a rest.  -1 when out of memory. */
static int out_reserve(struct redis_link *link, size_t n)
{
	size_t cap = (link->out_len + n + 255) / 256 * 256;
	if (cap <= link->out_cap)
		return 0;
	if (cap < REDIS_LINK_OUT_KEEP)
		cap = REDIS_LINK_OUT_KEEP;
	char *grown;
	if (cap <= REDIS_LINK_OUT_KEEP) {
		grown = realloc(link->out, cap);
	} else {
		grown = pages_alloc(&cap);
		if (grown && link->out_len)
			memcpy(grown, link->out, link->out_len);
		if (grown)
			out_release(link);
	}
	if (!grown)
		return -1;
	link->out = grown;
	link->out_cap = cap;
	return 0;
}

/* Appends "<prefix><n>\r\n", RESP's header of an array or a string. */
static void out_header(struct redis_link *link, char prefix, size_t n)
{
	char digits[24];
	size_t k = sizeof digits;
	do
		digits[--k] = (char)('0' + n % 10);
	while (n /= 10);
	char *p = link->out + link->out_len;
	*p++ = prefix;
	memcpy(p, digits + k, sizeof digits - k);
	p += sizeof digits - k;
	*p++ = '\r';
	*p++ = '\n';
	link->out_len = (size_t)(p - link->out);
}

/* One command in RESP (an array of bulk strings) after those queued. */
static int out_command(struct redis_link *link, int argc,
                       const char *const argv[], const size_t lens[])
{
	const size_t header = 1 + 20 + 2; /* prefix, digits, CRLF */
	size_t n = header;
	for (int i = 0; i < argc; i++) {
		if (lens[i] > SIZE_MAX / 2 - n - header - 2)
			return -1;
		n += header + lens[i] + 2;
	}
	if (n > SIZE_MAX / 2 - link->out_len || out_reserve(link, n) < 0)
		return -1;
	out_header(link, '*', (size_t)argc);
	for (int i = 0; i < argc; i++) {
		out_header(link, '$', lens[i]);
		memcpy(link->out + link->out_len, argv[i], lens[i]);
		memcpy(link->out + link->out_len + lens[i], "\r\n", 2);
		link->out_len += lens[i] + 2;
	}
	return 0;
}

/* After a write, a buffer grown for a long command goes back. */
void redis_link_shed(struct redis_link *link)
{
	if (link->out_len == 0)
		out_release(link);
}

static void out_written(struct redis_link *link)
{
	link->out_len = 0;
	if (out_paged(link))
		out_release(link);
}

/* Everything queued goes out (the socket's timeout bounds each write);
 * doing names it in err when it cannot. */
static int write_out(struct redis_link *link, const char *doing, char *err,
                     size_t errsz)
{
	size_t done = 0;
	while (done < link->out_len) {
		ssize_t n = write(link->ctx->fd, link->out + done,
		                  link->out_len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_error(link, REDIS_ERR_IO, strerror(errno));
			link_failure(link, errno, doing, err, errsz);
			return -1;
		}
		done += (size_t)n;
	}
	out_written(link);
	link->used_at = elapsed_start();
	return 0;
}

/* A reply just read: handed to whoever did not wait for it (true), or
 * the caller's. */
static bool hand_unawaited(struct redis_link *link, void *reply)
{
	unsigned long long command = link->read++;
	if (link->n_unawaited == 0 || link->unawaited[0].command != command)
		return false;
	struct unawaited u = link->unawaited[0];
	link->n_unawaited--;
	memmove(link->unawaited, link->unawaited + 1,
	        link->n_unawaited * sizeof *link->unawaited);
	u.fn(u.ctx, reply);
	redis_reply_free(reply);
	return true;
}

/* What was queued goes out, and the caller's next reply comes back (the
 * unawaited ones before it handed on); doing names it in err when either
 * fails. */
static struct redisReply *exchange(struct redis_link *link, const char *doing,
                                   char *err, size_t errsz)
{
	void *reply = NULL;
	if (write_out(link, doing, err, errsz) < 0)
		return NULL;
	do {
		if (read_reply(link, &reply) < 0) {
			link_failure(link, errno, doing, err, errsz);
			return NULL;
		}
	} while (hand_unawaited(link, reply));
	give_back_buffer(link);
	return reply;
}

struct redisReply *redis_link_command(struct redis_link *link, int argc,
                                      const char *const argv[],
                                      const size_t lens[], char *err,
                                      size_t errsz)
{
	if (redis_link_send(link, argc, argv, lens, err, errsz) < 0)
		return NULL;
	char doing[48];
	snprintf(doing, sizeof doing, "%.*s", argc > 0 && lens[0] < 32
	         ? (int)lens[0] : 0, argc > 0 ? argv[0] : "");
	return exchange(link, doing[0] ? doing : "a command", err, errsz);
}

void redis_link_reply_free(struct redis_link *link, struct redisReply *reply)
{
	(void)link;
	redis_reply_free(reply);
}

/* A command of one or two C strings whose reply must not be an error:
 * the reply, or NULL with err saying what was refused (failure names the
 * step). */
static redisReply *simple(struct redis_link *link, const char *failure,
                          int argc, const char *const argv[], char *err,
                          size_t errsz)
{
	size_t lens[2] = { 0, 0 };
	if (argc < 1 || argc > 2)
		argc = 1;
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	redisReply *r = redis_link_command(link, argc, argv, lens, err, errsz);
	if (r && r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errsz, "redis %s %s: %.*s", link->where, failure,
		         r->len < 200 ? (int)r->len : 200, r->str);
		redis_link_reply_free(link, r);
		return NULL;
	}
	return r;
}

/* AUTH, then SELECT: the link is then ready for the room's commands. */
static int greet(struct redis_link *link, const struct redis_url *url,
                 char *err, size_t errsz)
{
	if (url->password[0]) {
		const char *const auth[] = { "AUTH", url->password };
		redisReply *r = simple(link, "refused the password of REDIS_URL",
		                       2, auth, err, errsz);
		if (!r)
			return -1;
		redis_link_reply_free(link, r);
	}
	char db[16];
	snprintf(db, sizeof db, "%d", url->db);
	const char *const select[] = { "SELECT", db };
	redisReply *r = simple(link, "refused SELECT of the database of "
	                       "REDIS_URL", 2, select, err, errsz);
	if (!r) {
		/* Without AUTH, the first command is refused so. */
		if (strstr(err, ": NOAUTH"))
			snprintf(err, errsz, "redis %s wants a password (its "
			         "requirepass): give it in REDIS_URL as "
			         "redis://:PASSWORD@host", link->where);
		return -1;
	}
	redis_link_reply_free(link, r);
	return 0;
}

/* Connects the link (resting or new) to its server within its timeout,
 * then greets it.  0, or -1 with why in err and the link resting. */
static int connect_link(struct redis_link *link, char *err, size_t errsz)
{
	const struct redis_url *url = link->url;
	const struct timeval tv = { link->timeout_ms / 1000,
	                            (link->timeout_ms % 1000) * 1000 };
	link->ctx = url->unix_socket ? link->connect_unix(url->path, tv)
	                             : link->connect_tcp(url->host, url->port,
	                                                 tv);
	int saved_errno = errno;
	if (!link->ctx || link->ctx->err) {
		if (link->ctx && link->ctx->err == REDIS_ERR_IO &&
		    (saved_errno == EINPROGRESS || saved_errno == ETIMEDOUT))
			snprintf(err, errsz, "cannot connect to redis %s within "
			         "%d ms", link->where, link->timeout_ms);
		else
			snprintf(err, errsz, "cannot connect to redis %s: %s",
			         link->where, link->ctx ? link->ctx->errstr
			         : "out of memory");
	} else if (link->set_timeout(link->ctx, tv) != REDIS_OK) {
		snprintf(err, errsz, "redis %s: cannot set the timeout: %s",
		         link->where, link->ctx->errstr);
	/* A connection process waits far more than it reads: the reader's
	 * buffer is the size of a read or two (give_back_buffer), rather
	 * than up to 16 KiB (hiredis's default) for the life of the
	 * connection, and is not made again for every reply. */
	} else if (renew_buffer(link) < 0) {
		snprintf(err, errsz, "redis %s: out of memory", link->where);
	} else {
		/* hiredis lets go of a buffer with more room than maxbuf. */
		link->ctx->reader->maxbuf = REDIS_LINK_READER_KEEP;
		/* Replies in blocks of their own, given back whole
		 * (redis_reply.h). */
		link->ctx->reader->fn = redis_reply_functions();
		if (greet(link, url, err, errsz) == 0)
			return 0;
	}
	if (link->ctx)
		link->free_context(link->ctx);
	link->ctx = NULL;
	link->sent = link->read = 0;
	return -1;
}

struct redis_link *redis_link_open(const struct redis_url *url,
                                   int timeout_ms, char *err, size_t errsz)
{
	struct redis_link *link = calloc(1, sizeof *link);
	if (!link) {
		snprintf(err, errsz, "out of memory opening a redis link");
		return NULL;
	}
	link->url = url;
	redis_url_describe(url, link->where, sizeof link->where);
	link->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	if (load(link, err, errsz) < 0 || connect_link(link, err, errsz) < 0) {
		redis_link_close(link);
		return NULL;
	}
	return link;
}

bool redis_link_rest(struct redis_link *link)
{
	if (!link->ctx || link->ctx->err || link->out_len ||
	    link->n_unawaited || link->sent != link->read ||
	    redis_link_buffered(link))
		return false;
	/* Nothing is in flight: the connection is reset rather than closed,
	 * so that it leaves no TIME_WAIT behind (a member rests its writer
	 * after each heartbeat: thousands of members a host would hold as
	 * many local ports towards Redis). */
	if (!link->url->unix_socket) {
		const struct linger reset = { .l_onoff = 1, .l_linger = 0 };
		(void)setsockopt(link->ctx->fd, SOL_SOCKET, SO_LINGER, &reset,
		                 sizeof reset);
	}
	link->free_context(link->ctx);
	link->ctx = NULL;
	out_release(link);
	link->sent = link->read = 0;
	/* The server may restart meanwhile: the next connection asks. */
	link->run_id[0] = '\0';
	/* What the connection held was freed among pieces still in use. */
	malloc_trim(0);
	return true;
}

bool redis_link_resting(const struct redis_link *link)
{
	return link->ctx == NULL;
}

long long redis_link_idle_ms(const struct redis_link *link)
{
	return elapsed_ms(&link->used_at);
}

static long long microseconds(const struct timespec *a,
                              const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000000 +
	       (b->tv_nsec - a->tv_nsec) / 1000;
}

long long redis_link_ping(struct redis_link *link, char *err, size_t errsz)
{
	const char *const ping[] = { "PING" };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	redisReply *r = simple(link, "refused PING", 1, ping, err, errsz);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!r)
		return -1;
	int pong = r->type == REDIS_REPLY_STATUS && r->len == 4 &&
	           memcmp(r->str, "PONG", 4) == 0;
	redis_link_reply_free(link, r);
	if (!pong) {
		snprintf(err, errsz, "redis %s answered PING with something "
		         "else than PONG", link->where);
		return -1;
	}
	long long us = microseconds(&t0, &t1);
	return us < 0 ? 0 : us;
}

bool redis_version_supported(const char *version)
{
	char *end;
	long major = strtol(version, &end, 10);
	return end != version && (*end == '.' || *end == '\0') &&
	       major >= REDIS_VERSION_MIN;
}

/* err when the server's version is too old: -1, else 0. */
static int refuse_old(const struct redis_link *link, const char *version,
                      char *err, size_t errsz)
{
	if (redis_version_supported(version))
		return 0;
	snprintf(err, errsz, "redis %s is Redis %s: chat_server needs Redis %d "
	         "or later", link->where, version, REDIS_VERSION_MIN);
	return -1;
}

int redis_link_server_version(struct redis_link *link, char *out,
                              size_t outsz, char *err, size_t errsz)
{
	static const char key[] = "redis_version:";
	const char *const info[] = { "INFO", "server" };
	redisReply *r = simple(link, "refused INFO", 2, info, err, errsz);
	if (!r)
		return -1;
	const char *text = r->type == REDIS_REPLY_STRING ? r->str : "";
	const char *v = strstr(text, key);
	while (v && v != text && v[-1] != '\n')
		v = strstr(v + 1, key);
	size_t n = v ? strcspn(v += strlen(key), "\r\n") : 0;
	size_t printable = 0;
	while (printable < n && v[printable] > 0x20 && v[printable] < 0x7f)
		printable++;
	int rc = -1;
	if (n == 0 || printable != n || n >= outsz)
		snprintf(err, errsz, "redis %s: INFO server gives no "
		         "redis_version", link->where);
	else {
		memcpy(out, v, n);
		out[n] = '\0';
		rc = refuse_old(link, out, err, errsz);
	}
	redis_link_reply_free(link, r);
	return rc;
}

/* The value of "\n<key>:" in INFO's text, or NULL. */
static const char *info_value(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = strstr(text, key); p; p = strstr(p + 1, key))
		if (p != text && p[-1] == '\n' && p[n] == ':')
			return p + n + 1;
	return NULL;
}

bool redis_link_knows_run(const struct redis_link *link)
{
	return link->run_id[0] != '\0';
}

int redis_link_learn_run(struct redis_link *link,
                         const struct redisReply *info, char *err,
                         size_t errsz)
{
	const char *text = info->type == REDIS_REPLY_STRING ? info->str : "";
	const char *version = info_value(text, "redis_version");
	char v[32] = "";
	if (version)
		snprintf(v, sizeof v, "%.*s", (int)strcspn(version, "\r\n"),
		         version);
	if (refuse_old(link, v, err, errsz) < 0)
		return -1;
	const char *id = info_value(text, "run_id");
	const char *up = info_value(text, "uptime_in_seconds");
	const char *now = info_value(text, "server_time_usec");
	size_t n = id ? strspn(id, "0123456789abcdef") : 0;
	if (!up || !now || n == 0 || n > REDIS_RUN_ID_MAX) {
		snprintf(err, errsz, "redis %s: INFO server gives no run_id, "
		         "uptime_in_seconds or server_time_usec (Redis 7 has "
		         "them)", link->where);
		return -1;
	}
	memcpy(link->run_id, id, n);
	link->run_id[n] = '\0';
	link->started_ms = strtoll(now, NULL, 10) / 1000 -
	                   strtoll(up, NULL, 10) * 1000;
	return 0;
}

int redis_link_server_run(struct redis_link *link,
                          char run_id[REDIS_RUN_ID_MAX + 1],
                          long long *started_ms, char *err, size_t errsz)
{
	if (!redis_link_knows_run(link)) {
		const char *const info[] = { "INFO", "server" };
		redisReply *r = simple(link, "refused INFO", 2, info, err,
		                       errsz);
		if (!r)
			return -1;
		int rc = redis_link_learn_run(link, r, err, errsz);
		redis_link_reply_free(link, r);
		if (rc < 0)
			return -1;
	}
	memcpy(run_id, link->run_id, sizeof link->run_id);
	*started_ms = link->started_ms;
	return 0;
}

int redis_link_fd(const struct redis_link *link)
{
	return link->ctx ? link->ctx->fd : -1;
}

int redis_link_set_timeout(struct redis_link *link, int timeout_ms,
                           char *err, size_t errsz)
{
	link->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	const struct timeval tv = { link->timeout_ms / 1000,
	                            (link->timeout_ms % 1000) * 1000 };
	if (!link->ctx || link->set_timeout(link->ctx, tv) == REDIS_OK)
		return 0;
	snprintf(err, errsz, "redis %s: cannot set the timeout: %s",
	         link->where, link->ctx->errstr);
	return -1;
}

int redis_link_send(struct redis_link *link, int argc,
                    const char *const argv[], const size_t lens[],
                    char *err, size_t errsz)
{
	if (!link->ctx && connect_link(link, err, errsz) < 0)
		return -1;
	if (link->ctx->err) {
		snprintf(err, errsz, "redis %s: the connection failed earlier: "
		         "%s", link->where, link->ctx->errstr);
		return -1;
	}
	if (out_command(link, argc, argv, lens) < 0) {
		snprintf(err, errsz, "out of memory for a command to redis %s",
		         link->where);
		return -1;
	}
	link->sent++;
	return 0;
}

int redis_link_send_unawaited(struct redis_link *link, int argc,
                              const char *const argv[], const size_t lens[],
                              redis_link_reply_fn *fn, void *ctx, char *err,
                              size_t errsz)
{
	if (link->n_unawaited == REDIS_LINK_UNAWAITED_MAX)
		return 0;
	if (redis_link_send(link, argc, argv, lens, err, errsz) < 0)
		return -1;
	link->unawaited[link->n_unawaited++] = (struct unawaited){
		.command = link->sent - 1, .fn = fn, .ctx = ctx,
	};
	return write_out(link, "a command", err, errsz) < 0 ? -1 : 1;
}

size_t redis_link_unawaited(const struct redis_link *link)
{
	return link->n_unawaited;
}

int redis_link_flush(struct redis_link *link, char *err, size_t errsz)
{
	return write_out(link, "a command", err, errsz);
}

struct redisReply *redis_link_receive(struct redis_link *link, char *err,
                                      size_t errsz)
{
	if (!link->ctx) {
		snprintf(err, errsz, "redis %s: no reply is awaited",
		         link->where);
		return NULL;
	}
	if (link->ctx->err) {
		snprintf(err, errsz, "redis %s: the connection failed earlier: "
		         "%s", link->where, link->ctx->errstr);
		return NULL;
	}
	return exchange(link, "a reply", err, errsz);
}

void redis_link_close(struct redis_link *link)
{
	if (!link)
		return;
	if (link->ctx)
		link->free_context(link->ctx);
	out_release(link);
	free(link);
}

/* ---- parsing what a peer sends ---- */

struct redis_parser {
	redisReader *reader;
	__typeof__(redisReaderFeed) *feed;
	__typeof__(redisReaderGetReply) *get_reply;
	__typeof__(redisReaderFree) *free_reader;
};

struct redis_parser *redis_parser_open(size_t max_bytes, char *err,
                                       size_t errsz)
{
	struct redis_parser *p = calloc(1, sizeof *p);
	void *lib = p ? open_hiredis(err, errsz) : NULL;
	__typeof__(redisReaderCreateWithFunctions) *create = NULL;
	bool ok = lib && LOOKUP(lib, create, "redisReaderCreateWithFunctions") &&
	          LOOKUP(lib, p->feed, "redisReaderFeed") &&
	          LOOKUP(lib, p->get_reply, "redisReaderGetReply") &&
	          LOOKUP(lib, p->free_reader, "redisReaderFree");
	if (lib)
		dlclose(lib);
	if (lib && !ok)
		lacks_function(err, errsz);
	if (ok)
		p->reader = create(redis_reply_functions());
	if (!p || (ok && !p->reader))
		snprintf(err, errsz, "out of memory for a parser");
	if (!p || !p->reader) {
		free(p);
		return NULL;
	}
	p->reader->maxbuf = max_bytes;
	return p;
}

int redis_parser_feed(struct redis_parser *p, const char *bytes, size_t n)
{
	const redisReader *r = p->reader;
	if (r->len - r->pos + n > r->maxbuf)
		return -1;
	return p->feed(p->reader, bytes, n) == REDIS_OK ? 0 : -1;
}

int redis_parser_next(struct redis_parser *p, struct redisReply **out)
{
	void *reply = NULL;
	*out = NULL;
	if (p->get_reply(p->reader, &reply) != REDIS_OK)
		return -1;
	*out = reply;
	return reply ? 1 : 0;
}

void redis_parser_close(struct redis_parser *p)
{
	if (!p)
		return;
	p->free_reader(p->reader);
	free(p);
}
