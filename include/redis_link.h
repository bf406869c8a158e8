/* redis_link: one connection to the Redis server of REDIS_URL
 * (TRANSPORT=redis), through hiredis.
 *
 * hiredis is loaded when a link is first opened, not at start, as
 * libcrypto is (src/crypto.c): a connection of TRANSPORT=files never opens
 * a link, so it never maps the library, and its memory is what it was.
 * The library is the one whose headers chat_server was built with
 * (libhiredis.so.0.14 from libhiredis-dev 0.14 on Debian 12); without it,
 * opening fails with a reason that names the package to install.
 *
 * A link is blocking, with a timeout on the connection and on each reply;
 * it is not for use by two threads at once.  Once a command has failed
 * for want of an answer (I/O, a timeout, a closed connection), the link is
 * broken: every later command fails too, and the caller closes it and
 * opens another.  A write to a server that has closed the connection
 * raises SIGPIPE: the caller ignores SIGPIPE.
 *
 * Every message (err) is one line that names the server as
 * redis_url_describe does, never with the password. */
#ifndef CHAT_REDIS_LINK_H
#define CHAT_REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "redis_url.h"

struct redis_link;
/* hiredis's reply (<hiredis/hiredis.h>, which a caller that reads one
 * includes for the type: type, integer, len, str, elements, element). */
struct redisReply;

/* Connects to url within timeout_ms (> 0), which then bounds the wait for
 * every reply too; sends AUTH with url's password when it has one, then
 * SELECT of its database.  Returns the link, or NULL with why in err:
 * hiredis cannot be loaded, the server cannot be reached or does not
 * answer, refuses the password, wants one, or refuses the database.
 * url is not copied: a link that rests (below) connects to it again, so
 * it must stay as it is while the link lives (a caller that wipes its
 * url at once never lets the link rest). */
struct redis_link *redis_link_open(const struct redis_url *url,
                                   int timeout_ms, char *err, size_t errsz);

/* Sends one command of argc arguments, argv[i] being lens[i] bytes (any
 * bytes: binary-safe), and waits for its reply.  Returns the reply, which
 * may be an error reply of the server (REDIS_REPLY_ERROR), to be released
 * with redis_link_reply_free; NULL with why in err when no reply came
 * (the link is then broken). */
struct redisReply *redis_link_command(struct redis_link *link, int argc,
                                      const char *const argv[],
                                      const size_t lens[], char *err,
                                      size_t errsz);

/* The bytes the link's reader keeps allocated between replies (for
 * tests): the same 2048 from the link's opening on, whatever the replies'
 * sizes; a larger reply's buffer goes back once it is read. */
size_t redis_link_reader_bytes(const struct redis_link *link);

/* The bytes the link keeps for commands between exchanges (for tests):
 * 2048 once a command has been sent (0 while the link rests); a longer
 * command's buffer goes back once it is written. */
size_t redis_link_writer_bytes(const struct redis_link *link);

/* Whether bytes of a reply not taken yet are already read from the
 * socket (a reply read ahead): the socket does not poll readable for them,
 * and redis_link_receive takes them. */
bool redis_link_buffered(const struct redis_link *link);

/* Releases a reply of redis_link_command; NULL is ignored. */
void redis_link_reply_free(struct redis_link *link, struct redisReply *reply);

/* Sends PING and returns the microseconds until its PONG came back
 * (monotonic clock), or -1 with why in err. */
long long redis_link_ping(struct redis_link *link, char *err, size_t errsz);

/* The server's version, redis_version of INFO server ("7.0.15"), into out
 * (outsz bytes, NUL-terminated; 32 suffice).  Returns 0, or -1 with why
 * in err. */
int redis_link_server_version(struct redis_link *link, char *out,
                              size_t outsz, char *err, size_t errsz);

/* The oldest Redis chat_server speaks to: Streams as Redis 7 has them,
 * SET with both NX and GET, CLIENT LIST ID. */
#define REDIS_VERSION_MIN 7
/* Whether a server's redis_version ("7.0.15") is REDIS_VERSION_MIN or
 * later. */
bool redis_version_supported(const char *version);

/* The longest run_id a server gives (INFO server: 40 hex digits). */
#define REDIS_RUN_ID_MAX 40

/* The server's run_id and the moment it started, in ms of the server's
 * own clock (as TIME gives it), from INFO server.  Asked once per link:
 * a restarted server is a new run, and its restart closed the link.  0,
 * or -1 with why in err. */
int redis_link_server_run(struct redis_link *link,
                          char run_id[REDIS_RUN_ID_MAX + 1],
                          long long *started_ms, char *err, size_t errsz);
/* Whether the link knows its server's run (redis_link_server_run would
 * not ask): a caller that sends its own commands in one round trip adds
 * INFO server when it does not, and hands its reply to
 * redis_link_learn_run (0, or -1 with why in err). */
bool redis_link_knows_run(const struct redis_link *link);
int redis_link_learn_run(struct redis_link *link,
                         const struct redisReply *info, char *err,
                         size_t errsz);

/* ---- pipelining, and waiting in the caller's own loop ----
 *
 * redis_link_send queues a command, redis_link_flush writes what is
 * queued, redis_link_receive takes the next reply in order (waiting for it
 * within the timeout).  A caller that polls redis_link_fd for input takes
 * a reply without waiting once it is readable: a command such as XREAD
 * BLOCK can then wait in the server, or a subscribed link be written to,
 * while the caller's loop goes on. */

/* The connection's socket, for poll/epoll (input only: the link writes
 * itself, blocking); -1 while the link rests. */
int redis_link_fd(const struct redis_link *link);
/* Sets the wait for every later connection and reply.  0 or -1. */
int redis_link_set_timeout(struct redis_link *link, int timeout_ms,
                           char *err, size_t errsz);
/* Queues a command as redis_link_command takes it.  0 or -1. */
int redis_link_send(struct redis_link *link, int argc,
                    const char *const argv[], const size_t lens[],
                    char *err, size_t errsz);
/* Writes every queued command.  0 or -1 (the link is broken). */
int redis_link_flush(struct redis_link *link, char *err, size_t errsz);
/* The next reply (flushing first), or NULL with why (the link is broken). */
struct redisReply *redis_link_receive(struct redis_link *link, char *err,
                                      size_t errsz);

/* ---- replies nobody waits for ----
 *
 * A command whose verdict can come later (a charge that the caller can
 * already judge, limits_redis.h) is written at once, and the caller goes
 * on: its reply is handed to fn(ctx, reply) by the next redis_link_command
 * or redis_link_receive that reads past it, in order, and freed after fn
 * returns.  fn must not use the link.  A link that breaks or closes first
 * drops the reply unseen: the caller must not count on ever hearing back.
 * Not for a subscribed link, whose pushes come without a command. */
#define REDIS_LINK_UNAWAITED_MAX 4
typedef void redis_link_reply_fn(void *ctx, struct redisReply *reply);
/* 1 written; 0 when REDIS_LINK_UNAWAITED_MAX replies already wait (the
 * caller waits for this one instead); -1 with why in err. */
int redis_link_send_unawaited(struct redis_link *link, int argc,
                              const char *const argv[], const size_t lens[],
                              redis_link_reply_fn *fn, void *ctx, char *err,
                              size_t errsz);
/* How many replies nobody waits for are still to come. */
size_t redis_link_unawaited(const struct redis_link *link);

/* ---- resting ----
 *
 * A link that is seldom used need not stay connected: a connection
 * process mostly listens, and every connection costs the server a client
 * (a few KiB, and one of its maxclients) and the process the context's
 * buffers.  redis_link_rest closes the connection of a link with nothing
 * in flight (no command queued, no reply awaited, nothing read ahead) and
 * gives back what it held; the next command connects again, with the same
 * URL, timeout, AUTH and SELECT, as redis_link_open did.  If that fails,
 * the command fails with why, as on a broken link, and the link rests on:
 * the next one tries again.  A resting link has no descriptor
 * (redis_link_fd is -1): not for a link whose socket the caller watches. */
/* true when the link was closed to rest; false when it could not be (in
 * use, broken) or already rests. */
bool redis_link_rest(struct redis_link *link);

/* For a link that will only listen from now on (subscribed: Redis writes
 * to it, it writes nothing): gives back the buffer its commands were
 * written from, which a next command takes again. */
void redis_link_shed(struct redis_link *link);
bool redis_link_resting(const struct redis_link *link);
/* Milliseconds since the link last wrote a command (a rest waits for
 * every reply anyway). */
long long redis_link_idle_ms(const struct redis_link *link);

/* ---- parsing what a peer sends ----
 *
 * RESP from a peer that is not a Redis server (a member of the relay,
 * archive_relay.h, sends its commands as to Redis): the same hiredis
 * reader, fed by the caller, its replies built as a link's are
 * (redis_reply.h) and released with redis_reply_free.  A command is an
 * array of bulk strings. */
struct redis_parser;
/* A parser that holds at most max_bytes not yet taken; NULL with why in
 * err (hiredis cannot be loaded, out of memory). */
struct redis_parser *redis_parser_open(size_t max_bytes, char *err,
                                       size_t errsz);
/* Adds n bytes read from the peer.  0, or -1 when more than max_bytes
 * would wait (a peer that sends too much). */
int redis_parser_feed(struct redis_parser *p, const char *bytes, size_t n);
/* The next whole message: 1 with *out, 0 when none is complete yet, -1
 * when the bytes are not RESP (the peer is to be dropped). */
int redis_parser_next(struct redis_parser *p, struct redisReply **out);
/* NULL is ignored. */
void redis_parser_close(struct redis_parser *p);

/* Closes the connection and frees the link; NULL is ignored. */
void redis_link_close(struct redis_link *link);

#endif
