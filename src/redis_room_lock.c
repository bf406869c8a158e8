#include "redis_room.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "redis_cmd.h"

/* ---- the room lock ---- */

/* A waiter looks again at least this often: a holder that died wakes
 * nobody, and its lock times out by itself (REDIS_LOCK_TTL_MS). */
#define LOCK_RECHECK_MS 500

static long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 taken, 0 held by another (its token into holder), -1 error. */
static int try_lock(struct redis_room *r, const char *key, const char *token,
                    char holder[REDIS_CONN_ID_LEN + 1])
{
	char ttl[24];
	snprintf(ttl, sizeof ttl, "%d", REDIS_LOCK_TTL_MS);
	struct redis_cmd c = { 0 };
	/* GET: the holder's token when it is not ours (Redis 7). */
	REDIS_CMD_STRS(&c, "SET", key, token, "NX", "PX", ttl, "GET");
	redisReply *rep = redis_cmd_run(r, &c);
	if (!rep)
		return -1;
	int taken = rep->type == REDIS_REPLY_NIL;
	if (!taken)
		snprintf(holder, REDIS_CONN_ID_LEN + 1, "%.*s",
		         rep->type == REDIS_REPLY_STRING ? (int)rep->len : 0,
		         rep->type == REDIS_REPLY_STRING ? rep->str : "");
	redis_link_reply_free(r->link, rep);
	return taken;
}

/* Waits for a release of the lock: BLPOP on its queue, which every
 * release feeds one token, so that the waiters are woken one at a time, in
 * the order they came (Redis serves BLPOP first come, first served),
 * instead of all trying again and again.  The wait is cut at
 * LOCK_RECHECK_MS, for a holder that died (its lock times out alone).
 * 0 (woken or timed out), -1 (Redis failed). */
static int wait_release(struct redis_room *r, const char *queue, long ms)
{
	char seconds[24];
	snprintf(seconds, sizeof seconds, "%.3f", (double)ms / 1000);
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "BLPOP", queue, seconds);
	redisReply *rep = redis_cmd_run(r, &c);
	redis_link_reply_free(r->link, rep);
	return rep ? 0 : -1;
}

/* The lock within wait_ms; with in_turn, wait_ms counts from the last
 * time the lock changed hands. */
static int lock_within(struct redis_room *r, int wait_ms, bool in_turn,
                       char token[REDIS_CONN_ID_LEN + 1])
{
	char key[REDIS_KEY_MAX], queue[REDIS_KEY_MAX];
	char holder[REDIS_CONN_ID_LEN + 1] = "", seen[REDIS_CONN_ID_LEN + 1] = "";
	redis_room_key(r, REDIS_KEY_LOCK, key);
	redis_room_key(r, REDIS_KEY_LOCK_QUEUE, queue);
	if (redis_room_new_id(token) < 0) {
		snprintf(r->err, sizeof r->err, "no randomness for a lock");
		errno = EIO;
		return -1;
	}
	long long deadline = monotonic_ms() + wait_ms;
	for (;;) {
		int rc = try_lock(r, key, token, holder);
		if (rc != 0) {
			errno = rc > 0 ? 0 : EIO;
			return rc > 0 ? 0 : -1;
		}
		if (in_turn && strcmp(holder, seen) != 0) {
			memcpy(seen, holder, sizeof seen);
			deadline = monotonic_ms() + wait_ms;
		}
		long long left = deadline - monotonic_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (wait_release(r, queue, left < LOCK_RECHECK_MS
		                           ? left : LOCK_RECHECK_MS) < 0) {
			errno = EIO;
			return -1;
		}
	}
}

int redis_room_lock(struct redis_room *r, int wait_ms,
                    char token[REDIS_CONN_ID_LEN + 1])
{
	return lock_within(r, wait_ms, false, token);
}

int redis_room_lock_in_turn(struct redis_room *r, int stall_ms,
                            char token[REDIS_CONN_ID_LEN + 1])
{
	return lock_within(r, stall_ms, true, token);
}

/* Released only if still ours; either way one waiter is woken (a token
 * in the queue, which keeps one at most and goes when unused). */
static const char unlock_script[] =
	"local n = 0 "
	"if redis.call('GET', KEYS[1]) == ARGV[1] then "
	"n = redis.call('DEL', KEYS[1]) end "
	"redis.call('RPUSH', KEYS[2], '1') "
	"redis.call('LTRIM', KEYS[2], -1, -1) "
	"redis.call('PEXPIRE', KEYS[2], ARGV[2]) return n";

void redis_room_unlock(struct redis_room *r, const char *token)
{
	char key[REDIS_KEY_MAX], queue[REDIS_KEY_MAX], ttl[24];
	redis_room_key(r, REDIS_KEY_LOCK, key);
	redis_room_key(r, REDIS_KEY_LOCK_QUEUE, queue);
	/* A token is for a waiter between its try and its BLPOP: it need
	 * not last. */
	snprintf(ttl, sizeof ttl, "%d", 2 * LOCK_RECHECK_MS);
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "EVAL", unlock_script, "2", key, queue, token, ttl);
	redis_cmd_integer(r, &c); /* a lock we lost times out by itself */
}
