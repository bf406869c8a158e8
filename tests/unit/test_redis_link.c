/* redis_link against a real redis-server, started by the group on a Unix
 * socket of its own (no TCP port, nothing saved) and killed at its end;
 * every test is skipped when redis-server is not installed
 * (.ci/install-deps test installs it).  tests/integration/redis_check
 * covers TCP, passwords and the messages of --check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "redis_link.h"
#include "redis_url.h"
#include "support/redis_server.h"

static int start(void **state)
{
	return redis_server_setup(state, "test_redis_link");
}

/* A link to the group's server, database db. */
static struct redis_link *open_db(struct redis_server *s, int db)
{
	return redis_server_link(s, db);
}

static redisReply *command(struct redis_link *l, int argc,
                           const char *const argv[], const size_t lens[])
{
	char err[512];
	redisReply *r = redis_link_command(l, argc, argv, lens, err, sizeof err);
	if (!r)
		fail_msg("redis_link_command: %s", err);
	return r;
}

static void test_ping_and_version(void **state)
{
	struct redis_link *l = open_db(*state, 0);
	char err[512], version[32];
	long long us = redis_link_ping(l, err, sizeof err);
	assert_true(us >= 0 && us < 2000000);
	assert_int_equal(redis_link_server_version(l, version, sizeof version,
	                                           err, sizeof err), 0);
	unsigned a, b, c;
	char end;
	assert_int_equal(sscanf(version, "%u.%u.%u%c", &a, &b, &c, &end), 3);
	/* Too small a buffer is a reason, not a cut version. */
	char tiny[3];
	assert_int_equal(redis_link_server_version(l, tiny, sizeof tiny, err,
	                                           sizeof err), -1);
	assert_non_null(strstr(err, "redis_version"));
	redis_link_close(l);
}

/* The calls of INFO the server has answered (INFO commandstats). */
static long long info_calls(struct redis_link *l)
{
	redisReply *r = redis_server_command(l, 2, "INFO", "commandstats");
	const char *p = strstr(r->str, "cmdstat_info:calls=");
	long long n = p ? strtoll(p + 19, NULL, 10) : -1;
	redis_link_reply_free(l, r);
	return n;
}

/* The server's run: its id, and its start on the server's clock; asked
 * of the server once per link. */
static void test_server_run(void **state)
{
	struct redis_link *l = open_db(*state, 0), *other = open_db(*state, 0);
	char err[512], run[REDIS_RUN_ID_MAX + 1], again[REDIS_RUN_ID_MAX + 1];
	long long started, started_again;
	assert_int_equal(redis_link_server_run(l, run, &started, err,
	                                       sizeof err), 0);
	assert_int_equal(strlen(run), 40);
	assert_int_equal(strspn(run, "0123456789abcdef"), 40);
	redisReply *t = redis_server_command(other, 1, "TIME");
	long long now = strtoll(t->element[0]->str, NULL, 10) * 1000 +
	                strtoll(t->element[1]->str, NULL, 10) / 1000;
	redis_link_reply_free(other, t);
	/* Started before now, and within the group's life (a minute). */
	assert_true(started <= now && started > now - 60000);
	long long calls = info_calls(other);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(redis_link_server_run(l, again, &started_again,
		                                       err, sizeof err), 0);
		assert_string_equal(again, run);
		assert_true(started_again == started);
	}
	/* One more: info_calls' own. */
	assert_true(info_calls(other) == calls + 1);
	redis_link_close(other);
	redis_link_close(l);
}

/* Keys and values are bytes, NUL and 0xff included. */
static void test_binary_safe(void **state)
{
	struct redis_link *l = open_db(*state, 0);
	static const char key[] = "chat:\0bin", value[] = "a\0b\xff\r\n";
	const char *const set[] = { "SET", key, value };
	const size_t set_lens[] = { 3, sizeof key - 1, sizeof value - 1 };
	redisReply *r = command(l, 3, set, set_lens);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	redis_link_reply_free(l, r);
	const char *const get[] = { "GET", key };
	const size_t get_lens[] = { 3, sizeof key - 1 };
	r = command(l, 2, get, get_lens);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_int_equal(r->len, sizeof value - 1);
	assert_memory_equal(r->str, value, sizeof value - 1);
	redis_link_reply_free(l, r);
	/* The key without its NUL is another key. */
	const size_t short_lens[] = { 3, 5 };
	r = command(l, 2, get, short_lens);
	assert_int_equal(r->type, REDIS_REPLY_NIL);
	redis_link_reply_free(l, r);
	redis_link_reply_free(l, NULL);
	redis_link_close(l);
}

/* Sets chat:big to n bytes of fill; the value, for the caller to free. */
static char *set_big(struct redis_link *l, size_t n, char fill)
{
	char *value = malloc(n);
	assert_non_null(value);
	memset(value, fill, n);
	const char *const set[] = { "SET", "chat:big", value };
	const size_t set_lens[] = { 3, 8, n };
	redis_link_reply_free(l, command(l, 3, set, set_lens));
	return value;
}

/* A large reply's buffer goes back once the reply is read, not at the
 * next reply: a reader waits in XREAD BLOCK for long. */
static void test_buffer_given_back(void **state)
{
	struct redis_link *l = open_db(*state, 0);
	enum { BIG = 100000 };
	char *value = set_big(l, BIG, 'v');
	const char *const get[] = { "GET", "chat:big" };
	const size_t get_lens[] = { 3, 8 };
	redisReply *r = command(l, 2, get, get_lens);
	assert_int_equal(r->len, BIG);
	assert_memory_equal(r->str, value, BIG);
	assert_int_equal(redis_link_reader_bytes(l), 2048);
	redis_link_reply_free(l, r);
	/* The same through send and receive. */
	char err[512];
	assert_int_equal(redis_link_send(l, 2, get, get_lens, err, sizeof err), 0);
	assert_int_equal(redis_link_flush(l, err, sizeof err), 0);
	r = redis_link_receive(l, err, sizeof err);
	assert_non_null(r);
	assert_int_equal(r->len, BIG);
	assert_int_equal(redis_link_reader_bytes(l), 2048);
	redis_link_reply_free(l, r);
	free(value);
	redis_link_close(l);
}

/* Replies of every size up to a read's keep the reader's one buffer: one
 * made for each would leave a freed piece of every size in the C
 * library's per-thread cache (a room's user lists grow by a name a join). */
static void test_buffer_kept_between_replies(void **state)
{
	struct redis_link *l = open_db(*state, 0);
	size_t kept = redis_link_reader_bytes(l);
	assert_int_equal(kept, 2048);
	/* Up to what one buffer holds with the reply's head. */
	for (size_t n = 1; n <= kept - 32; n += 97) {
		char *value = set_big(l, n, 'k');
		const char *const get[] = { "GET", "chat:big" };
		const size_t get_lens[] = { 3, 8 };
		redisReply *r = command(l, 2, get, get_lens);
		assert_int_equal(r->len, n);
		assert_memory_equal(r->str, value, n);
		assert_int_equal(redis_link_reader_bytes(l), kept);
		redis_link_reply_free(l, r);
		free(value);
	}
	redis_link_close(l);
}

/* A long command goes out whole, and its buffer goes back once written;
 * a short one's stays for the next. */
static void test_command_buffer_given_back(void **state)
{
	struct redis_link *l = open_db(*state, 0);
	enum { BIG = 300000 };
	char *value = set_big(l, BIG, 'c');
	assert_int_equal(redis_link_writer_bytes(l), 0);
	const char *const strlen_[] = { "STRLEN", "chat:big" };
	const size_t lens[] = { 6, 8 };
	redisReply *r = command(l, 2, strlen_, lens);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	assert_int_equal(r->integer, BIG);
	redis_link_reply_free(l, r);
	/* Made at its kept size at once, whatever the command's: grown a
	 * little at a time, it would leave a piece of every size behind. */
	assert_int_equal(redis_link_writer_bytes(l), 2048);
	free(value);
	redis_link_close(l);
}

/* Redis 7 or later: what a server's INFO says of its version. */
static void test_version_supported(void **state)
{
	(void)state;
	assert_true(redis_version_supported("7.0.15"));
	assert_true(redis_version_supported("7.2.4"));
	assert_true(redis_version_supported("10.0.0"));
	assert_true(redis_version_supported("8"));
	assert_false(redis_version_supported("6.2.14"));
	assert_false(redis_version_supported("5.0.7"));
	assert_false(redis_version_supported(""));
	assert_false(redis_version_supported("x7.0"));
	assert_false(redis_version_supported("7x"));
}

/* A link that only listens from now on gives its command buffer back;
 * a command after takes it again, and is answered as ever. */
static void test_shed(void **state)
{
	struct redis_link *l = open_db(*state, 0);
	const char *const ping[] = { "PING" };
	const size_t lens[] = { 4 };
	redisReply *r = command(l, 1, ping, lens);
	redis_link_reply_free(l, r);
	assert_int_equal(redis_link_writer_bytes(l), 2048);
	redis_link_shed(l);
	assert_int_equal(redis_link_writer_bytes(l), 0);
	r = command(l, 1, ping, lens);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	assert_string_equal(r->str, "PONG");
	redis_link_reply_free(l, r);
	redis_link_close(l);
}

/* A large reply read on a stack of our own, painted first: how deep the
 * read went is where the paint stops.  hiredis's own read takes 16 KiB
 * of stack, and every connection would keep those pages. */
enum { PAINT = 0xa5, STACK_SIZE = 256 * 1024, STACK_READ_MAX = 8 * 1024 };

struct deep_read {
	struct redis_link *link;
	size_t len;
};

static void *read_big(void *arg)
{
	struct deep_read *d = arg;
	const char *const get[] = { "GET", "chat:big" };
	const size_t get_lens[] = { 3, 8 };
	char err[512];
	redisReply *r = redis_link_command(d->link, 2, get, get_lens, err,
	                                   sizeof err);
	d->len = r && r->type == REDIS_REPLY_STRING ? r->len : 0;
	redis_link_reply_free(d->link, r);
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

/* The bytes of stack from its top that a thread running fn touched (the
 * thread's own start and its TLS included). */
static size_t stack_used(void *(*fn)(void *), void *arg)
{
	unsigned char *stack = aligned_alloc(4096, STACK_SIZE);
	assert_non_null(stack);
	memset(stack, PAINT, STACK_SIZE);
	pthread_attr_t attr;
	pthread_t t;
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstack(&attr, stack, STACK_SIZE), 0);
	assert_int_equal(pthread_create(&t, &attr, fn, arg), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&attr);
	size_t untouched = 0;
	while (untouched < STACK_SIZE && stack[untouched] == PAINT)
		untouched++;
	free(stack);
	return STACK_SIZE - untouched;
}

static void test_reply_read_on_a_small_stack(void **state)
{
	struct redis_link *l = open_db(*state, 0);
	enum { BIG = 200000 };
	free(set_big(l, BIG, 'w'));
	struct deep_read d = { l, 0 };
	size_t base = stack_used(nothing, NULL);
	size_t used = stack_used(read_big, &d);
	assert_int_equal(d.len, BIG);
	print_message("a reply of %d bytes read with %zu bytes of stack "
	              "(a thread that does nothing: %zu)\n", BIG, used, base);
	assert_true(used > base && used - base < STACK_READ_MAX);
	redis_link_close(l);
}

/* An error reply is a reply: the link goes on. */
static void test_error_reply(void **state)
{
	struct redis_link *l = open_db(*state, 0);
	const char *const bad[] = { "NO_SUCH_COMMAND" };
	const size_t lens[] = { 15 };
	redisReply *r = command(l, 1, bad, lens);
	assert_int_equal(r->type, REDIS_REPLY_ERROR);
	assert_non_null(strstr(r->str, "unknown command"));
	redis_link_reply_free(l, r);
	char err[512];
	assert_true(redis_link_ping(l, err, sizeof err) >= 0);
	redis_link_close(l);
}

/* What the callback of a reply nobody waited for saw, in order. */
struct heard {
	long long values[REDIS_LINK_UNAWAITED_MAX + 1];
	int n;
};

static void hear(void *ctx, redisReply *reply)
{
	struct heard *h = ctx;
	assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
	h->values[h->n++] = reply->integer;
}

static int incr_unawaited(struct redis_link *l, struct heard *h)
{
	const char *const incr[] = { "INCR", "chat:unawaited" };
	const size_t lens[] = { 4, 14 };
	char err[512];
	return redis_link_send_unawaited(l, 2, incr, lens, hear, h, err,
	                                 sizeof err);
}

/* Replies nobody waits for: the command is written at once (another
 * link sees its effect before any reply is read), and the replies are
 * handed over in order by the next command, which gets its own. */
static void test_unawaited_replies(void **state)
{
	struct redis_link *l = open_db(*state, 0), *other = open_db(*state, 0);
	struct heard h = { .n = 0 };
	for (int i = 0; i < REDIS_LINK_UNAWAITED_MAX; i++)
		assert_int_equal(incr_unawaited(l, &h), 1);
	assert_int_equal(incr_unawaited(l, &h), 0); /* full: wait instead */
	assert_int_equal(redis_link_unawaited(l), REDIS_LINK_UNAWAITED_MAX);
	const char *const get[] = { "GET", "chat:unawaited" };
	const size_t get_lens[] = { 3, 14 };
	redisReply *r = NULL;
	for (int tries = 0; tries < 200; tries++) {
		r = command(other, 2, get, get_lens);
		if (r->type == REDIS_REPLY_STRING &&
		    atoi(r->str) == REDIS_LINK_UNAWAITED_MAX)
			break;
		redis_link_reply_free(other, r);
		r = NULL;
		nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	}
	assert_non_null(r); /* written without a reply being read */
	redis_link_reply_free(other, r);
	assert_int_equal(h.n, 0);
	r = command(l, 2, get, get_lens);
	assert_int_equal(h.n, REDIS_LINK_UNAWAITED_MAX);
	for (int i = 0; i < h.n; i++)
		assert_int_equal(h.values[i], i + 1);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "4");
	redis_link_reply_free(l, r);
	assert_int_equal(redis_link_unawaited(l), 0);
	/* Pipelined commands get their own replies, whatever waits between. */
	const char *const p[] = { "PING" };
	const size_t p_lens[] = { 4 };
	char err[512];
	assert_int_equal(redis_link_send(l, 1, p, p_lens, err, sizeof err), 0);
	assert_int_equal(incr_unawaited(l, &h), 1);
	r = redis_link_receive(l, err, sizeof err);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	redis_link_reply_free(l, r);
	assert_int_equal(h.n, REDIS_LINK_UNAWAITED_MAX);
	assert_true(redis_link_ping(l, err, sizeof err) >= 0);
	assert_int_equal(h.n, REDIS_LINK_UNAWAITED_MAX + 1);
	assert_int_equal(h.values[REDIS_LINK_UNAWAITED_MAX], 5);
	/* Closed with a reply to come: dropped unseen. */
	assert_int_equal(incr_unawaited(l, &h), 1);
	redis_link_close(l);
	assert_int_equal(h.n, REDIS_LINK_UNAWAITED_MAX + 1);
	const char *const del[] = { "DEL", "chat:unawaited" };
	redis_link_reply_free(other, command(other, 2, del, get_lens));
	redis_link_close(other);
}

/* The database of the URL is the one selected. */
static void test_select(void **state)
{
	struct redis_link *five = open_db(*state, 5), *zero = open_db(*state, 0);
	const char *const set[] = { "SET", "chat:db", "5" };
	const size_t set_lens[] = { 3, 7, 1 };
	redis_link_reply_free(five, command(five, 3, set, set_lens));
	const char *const get[] = { "GET", "chat:db" };
	const size_t get_lens[] = { 3, 7 };
	redisReply *r = command(zero, 2, get, get_lens);
	assert_int_equal(r->type, REDIS_REPLY_NIL);
	redis_link_reply_free(zero, r);
	r = command(five, 2, get, get_lens);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "5");
	redis_link_reply_free(five, r);
	redis_link_close(five);
	redis_link_close(zero);
}

static void test_no_server(void **state)
{
	struct redis_server *s = *state;
	struct redis_url u = { .unix_socket = true };
	snprintf(u.path, sizeof u.path, "%s/none.sock", s->dir);
	char err[512];
	assert_null(redis_link_open(&u, 500, err, sizeof err));
	assert_non_null(strstr(err, "cannot connect to redis unix:"));
	assert_non_null(strstr(err, "No such file or directory"));
}

/* A socket that is listened on and never answered: SELECT times out. */
static void test_no_answer(void **state)
{
	struct redis_server *s = *state;
	struct redis_url u = { .unix_socket = true };
	snprintf(u.path, sizeof u.path, "%s/silent.sock", s->dir);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", u.path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	char err[512];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_null(redis_link_open(&u, 200, err, sizeof err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	assert_non_null(strstr(err, "did not answer SELECT within 200 ms"));
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	          (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 190 && ms < 5000);
}

/* Last: the server goes away under an open link, which is then broken
 * for good. */
/* The server's connected_clients. */
static long long clients_now(struct redis_link *l)
{
	const char *const info[] = { "INFO", "clients" };
	const size_t lens[] = { 4, 7 };
	redisReply *r = command(l, 2, info, lens);
	const char *v = strstr(r->str, "connected_clients:");
	long long n = v ? atoll(v + 18) : -1;
	redis_link_reply_free(l, r);
	return n;
}

/* The same, once it is want (the server learns of a closed connection
 * when it next polls: waited for, up to 2 s). */
static long long clients_become(struct redis_link *l, long long want)
{
	long long n = clients_now(l);
	for (int tries = 0; tries < 200 && n != want; tries++) {
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
		n = clients_now(l);
	}
	return n;
}

/* A resting link holds no connection and none of its buffers; its next
 * command connects again, to the same database.  It does not rest with
 * a reply on its way. */
static void test_rest(void **state)
{
	struct redis_link *l = open_db(*state, 3), *watch = open_db(*state, 0);
	long long both = clients_now(watch);
	assert_true(both >= 2);
	const char *const set[] = { "SET", "chat:rest", "kept" };
	const size_t set_lens[] = { 3, 9, 4 };
	redis_link_reply_free(l, command(l, 3, set, set_lens));
	assert_true(redis_link_idle_ms(l) < 1000);
	assert_true(redis_link_rest(l));
	assert_true(redis_link_resting(l));
	assert_false(redis_link_rest(l));
	assert_int_equal(redis_link_fd(l), -1);
	assert_int_equal(redis_link_reader_bytes(l), 0);
	assert_int_equal(redis_link_writer_bytes(l), 0);
	assert_int_equal(clients_become(watch, both - 1), both - 1);
	const char *const get[] = { "GET", "chat:rest" };
	const size_t get_lens[] = { 3, 9 };
	redisReply *r = command(l, 2, get, get_lens);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "kept"); /* database 3 again */
	redis_link_reply_free(l, r);
	assert_false(redis_link_resting(l));
	assert_true(redis_link_fd(l) >= 0);
	assert_int_equal(clients_become(watch, both), both);
	/* Not while a reply is awaited, nor one nobody waits for. */
	char err[512];
	assert_int_equal(redis_link_send(l, 2, get, get_lens, err, sizeof err),
	                 0);
	assert_false(redis_link_rest(l));
	assert_int_equal(redis_link_flush(l, err, sizeof err), 0);
	assert_false(redis_link_rest(l));
	r = redis_link_receive(l, err, sizeof err);
	assert_non_null(r);
	redis_link_reply_free(l, r);
	struct heard h = { .n = 0 };
	assert_int_equal(incr_unawaited(l, &h), 1);
	assert_false(redis_link_rest(l));
	redis_link_reply_free(l, command(l, 2, get, get_lens));
	assert_int_equal(h.n, 1);
	assert_true(redis_link_rest(l));
	/* Nothing asked, nothing to receive. */
	assert_null(redis_link_receive(l, err, sizeof err));
	assert_non_null(strstr(err, "no reply is awaited"));
	redis_link_close(l);
	redis_link_close(watch);
}

/* A resting link whose server has gone fails each command with why, and
 * tries again at the next. */
static void test_rest_server_gone(struct redis_link *rested)
{
	const char *const ping[] = { "PING" };
	const size_t lens[] = { 4 };
	char err[512];
	for (int i = 0; i < 2; i++) {
		assert_null(redis_link_command(rested, 1, ping, lens, err,
		                               sizeof err));
		assert_non_null(strstr(err, "cannot connect to redis unix:"));
		assert_true(redis_link_resting(rested));
	}
}

static void test_server_gone(void **state)
{
	struct redis_server *s = *state;
	struct redis_link *l = open_db(s, 0), *rested = open_db(s, 0);
	assert_true(redis_link_rest(rested));
	redis_server_kill(s);
	test_rest_server_gone(rested);
	redis_link_close(rested);
	char err[512];
	assert_int_equal(redis_link_ping(l, err, sizeof err), -1);
	assert_non_null(strstr(err, "redis unix:"));
	const char *const ping[] = { "PING" };
	const size_t lens[] = { 4 };
	assert_null(redis_link_command(l, 1, ping, lens, err, sizeof err));
	assert_non_null(strstr(err, "the connection failed earlier"));
	redis_link_close(l);
}

int main(void)
{
	/* A write to a server that has gone must fail, not kill (the
	 * contract of redis_link.h). */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_and_version),
		cmocka_unit_test(test_server_run),
		cmocka_unit_test(test_binary_safe),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_unawaited_replies),
		cmocka_unit_test(test_buffer_given_back),
		cmocka_unit_test(test_buffer_kept_between_replies),
		cmocka_unit_test(test_command_buffer_given_back),
		cmocka_unit_test(test_shed),
		cmocka_unit_test(test_version_supported),
		cmocka_unit_test(test_reply_read_on_a_small_stack),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_rest),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_no_answer),
		cmocka_unit_test(test_server_gone),
	};
	return cmocka_run_group_tests(tests, start, redis_server_teardown);
}
