/* redis_reply, through redis_link: replies read from a scripted server (a
 * child process on a Unix socket that answers SELECT, then writes given
 * bytes and closes), so that every kind of reply, a large one, one cut
 * short and one that breaks the protocol can be read.  The unit tests run
 * under AddressSanitizer: a block written past its end, or a reply left
 * unfreed (a partial one included), fails them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "redis_link.h"
#include "redis_reply.h"
#include "redis_url.h"

struct scripted {
	char dir[64];
	struct redis_url url;
	pid_t child;
};

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			_exit(3);
		p += w;
		n -= (size_t)w;
	}
}

/* Reads one command (whatever arrives at once is enough for ours). */
static void read_command(int fd)
{
	char buf[4096];
	if (read(fd, buf, sizeof buf) <= 0)
		_exit(2);
}

/* A server that answers the link's SELECT with +OK, then the next
 * command with answer[0..len), then closes. */
static void serve(struct scripted *s, const char *answer, size_t len)
{
	char tmpl[] = "/tmp/test_redis_reply.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	snprintf(s->dir, sizeof s->dir, "%s", tmpl);
	memset(&s->url, 0, sizeof s->url);
	s->url.unix_socket = true;
	snprintf(s->url.path, sizeof s->url.path, "%s/s.sock", s->dir);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", s->url.path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 1), 0);
	s->child = fork();
	assert_true(s->child >= 0);
	if (s->child == 0) {
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			_exit(1);
		read_command(c);
		write_all(c, "+OK\r\n", 5);
		read_command(c);
		write_all(c, answer, len);
		close(c);
		_exit(0);
	}
	close(fd);
}

static void served(struct scripted *s)
{
	int status;
	assert_int_equal(waitpid(s->child, &status, 0), s->child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(s->url.path);
	rmdir(s->dir);
}

/* The reply to one PING from a server that answers with text[0..len);
 * NULL with err when none came. */
static redisReply *ask(const char *text, size_t len, char *err, size_t errsz)
{
	struct scripted s;
	serve(&s, text, len);
	struct redis_link *l = redis_link_open(&s.url, 2000, err, errsz);
	assert_non_null(l);
	const char *const ping[] = { "PING" };
	const size_t lens[] = { 4 };
	redisReply *r = redis_link_command(l, 1, ping, lens, err, errsz);
	redis_link_close(l);
	served(&s);
	return r;
}

static void test_every_kind(void **state)
{
	(void)state;
	static const char text[] =
		"*6\r\n:-42\r\n$3\r\ntwo\r\n"
		"*3\r\n:3\r\n$-1\r\n*1\r\n+deep\r\n"
		"-ERR no such thing\r\n*0\r\n*-1\r\n";
	char err[512];
	redisReply *r = ask(text, sizeof text - 1, err, sizeof err);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, 6);
	assert_int_equal(r->element[0]->type, REDIS_REPLY_INTEGER);
	assert_true(r->element[0]->integer == -42);
	assert_int_equal(r->element[1]->type, REDIS_REPLY_STRING);
	assert_int_equal(r->element[1]->len, 3);
	assert_string_equal(r->element[1]->str, "two");
	const redisReply *inner = r->element[2];
	assert_int_equal(inner->type, REDIS_REPLY_ARRAY);
	assert_int_equal(inner->elements, 3);
	assert_true(inner->element[0]->integer == 3);
	assert_int_equal(inner->element[1]->type, REDIS_REPLY_NIL);
	assert_int_equal(inner->element[2]->elements, 1);
	assert_int_equal(inner->element[2]->element[0]->type,
	                 REDIS_REPLY_STATUS);
	assert_string_equal(inner->element[2]->element[0]->str, "deep");
	assert_int_equal(r->element[3]->type, REDIS_REPLY_ERROR);
	assert_string_equal(r->element[3]->str, "ERR no such thing");
	assert_int_equal(r->element[4]->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->element[4]->elements, 0);
	assert_null(r->element[4]->element);
	assert_int_equal(r->element[5]->type, REDIS_REPLY_NIL);
	redis_reply_free(r);
}

/* Single replies are one block each. */
static void test_single(void **state)
{
	(void)state;
	char err[512];
	redisReply *r = ask(":7\r\n", 4, err, sizeof err);
	assert_non_null(r);
	assert_true(r->type == REDIS_REPLY_INTEGER && r->integer == 7);
	assert_int_equal(redis_reply_footprint(r), 256);
	assert_int_equal(redis_reply_paged(r), 0);
	redis_reply_free(r);
	static const char bulk[] = "$5\r\na\0b\r\n\r\n";
	r = ask(bulk, sizeof bulk - 1, err, sizeof err);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_int_equal(r->len, 5);
	assert_memory_equal(r->str, "a\0b\r\n", 6); /* NUL-terminated too */
	redis_reply_free(r);
	redis_reply_free(NULL);
}

/* A channel's message of any length below a block's largest heap size is
 * held in blocks of 256 bytes doubled, never of the message's own size: a
 * freed block of every size would stay in the C library's cache. */
static void test_block_sizes(void **state)
{
	(void)state;
	static const size_t lengths[] = { 1, 200, 300, 555, 700, 850, 960 };
	char text[1200], err[512];
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		size_t n = lengths[i];
		int head = snprintf(text, sizeof text, "*3\r\n$7\r\nmessage"
		                    "\r\n$4\r\nchan\r\n$%zu\r\n", n);
		memset(text + head, 'm', n);
		memcpy(text + head + n, "\r\n", 2);
		size_t len = (size_t)head + n + 2;
		redisReply *r = ask(text, len, err, sizeof err);
		assert_non_null(r);
		assert_int_equal(r->elements, 3);
		assert_int_equal(r->element[2]->len, n);
		size_t footprint = redis_reply_footprint(r);
		assert_true(footprint == 256 || footprint == 256 + 512 ||
		            footprint == 256 + 1024 ||
		            footprint == 256 + 512 + 1024);
		assert_int_equal(redis_reply_paged(r), 0);
		redis_reply_free(r);
	}
}

/* Thousands of elements of every length up to past a block's size: each
 * byte intact, and the blocks not much more than the objects need. */
static void test_large(void **state)
{
	(void)state;
	enum { N = 3000 };
	size_t cap = 64 + N * 16 + (size_t)N * 701;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t len = (size_t)snprintf(text, cap, "*%d\r\n", N);
	size_t raw = sizeof(redisReply) + N * sizeof(redisReply *);
	for (int i = 0; i < N; i++) {
		int n = (i * 37) % 700;
		len += (size_t)snprintf(text + len, cap - len, "$%d\r\n", n);
		for (int j = 0; j < n; j++)
			text[len++] = (char)('a' + (i + j) % 26);
		memcpy(text + len, "\r\n", 2);
		len += 2;
		raw += sizeof(redisReply) + (size_t)n + 1;
	}
	char err[512];
	redisReply *r = ask(text, len, err, sizeof err);
	free(text);
	assert_non_null(r);
	assert_int_equal(r->elements, N);
	for (int i = 0; i < N; i++) {
		const redisReply *e = r->element[i];
		size_t n = (size_t)(i * 37) % 700;
		assert_int_equal(e->type, REDIS_REPLY_STRING);
		assert_int_equal(e->len, n);
		for (size_t j = 0; j < n; j++)
			assert_int_equal(e->str[j], 'a' + (i + (int)j) % 26);
		assert_int_equal(e->str[n], '\0');
	}
	size_t footprint = redis_reply_footprint(r);
	assert_true(footprint >= raw);
	assert_true(footprint <= 3 * raw + 256);
	/* All but the first blocks (256, 512 and 1024 bytes) are pages of
	 * their own. */
	size_t paged = redis_reply_paged(r);
	assert_true(paged % 4096 == 0);
	assert_true(paged + 256 + 512 + 1024 >= footprint);
	redis_reply_free(r);
}

/* A reply cut short by the server closing: no reply, a reason, and the
 * part that was built released (AddressSanitizer's leak check). */
static void test_cut_short(void **state)
{
	(void)state;
	static const char text[] = "*3\r\n$3\r\nabc\r\n*2\r\n:1\r\n";
	char err[512];
	assert_null(ask(text, sizeof text - 1, err, sizeof err));
	assert_non_null(strstr(err, "closed the connection"));
}

/* Bytes that are no protocol: no reply, and nothing left allocated. */
static void test_protocol_error(void **state)
{
	(void)state;
	static const char text[] = "*2\r\n$1\r\nx\r\n?what\r\n";
	char err[512];
	assert_null(ask(text, sizeof text - 1, err, sizeof err));
	assert_non_null(strstr(err, "Protocol error"));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_block_sizes),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_protocol_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
