#include "redis_host.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "redis_room.h"

/* A host silent this long is forgotten (its members are long reaped). */
#define FORGET_AFTER_MS (24LL * 3600 * 1000)

/* FNV-1a, 64 bits: an id, not a secret; two installations colliding would
 * need 2^32 of them. */
static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void redis_host_id(const char *users_dir, char out[REDIS_HOST_ID_LEN + 1])
{
	char name[HOST_NAME_MAX + 1] = "";
	if (gethostname(name, sizeof name) < 0)
		name[0] = '\0';
	name[HOST_NAME_MAX] = '\0';
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, name, strlen(name) + 1);
	h = fnv1a(h, users_dir, strlen(users_dir));
	snprintf(out, REDIS_HOST_ID_LEN + 1, "%016llx", (unsigned long long)h);
}

/* ARGV: host, alive ms, forget ms. */
static const char beat_script[] =
	"local t = redis.call('TIME') "
	"local now = t[1] * 1000 + math.floor(t[2] / 1000) "
	"redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) "
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - "
	"tonumber(ARGV[3])) return 1";

static void hosts_key(const char *prefix, char key[REDIS_KEY_MAX])
{
	const struct redis_room r = { .prefix = prefix, .room = "" };
	redis_room_key(&r, REDIS_KEY_HOSTS, key);
}

static int run(struct redis_link *link, int argc, const char *const argv[],
               char *err, size_t errsz)
{
	size_t lens[8];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	redisReply *r = redis_link_command(link, argc, argv, lens, err, errsz);
	int rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
	if (r && rc < 0)
		snprintf(err, errsz, "redis refused %s on the hosts: %.*s",
		         argv[0], r->type == REDIS_REPLY_ERROR && r->len < 160
		         ? (int)r->len : 0, r->str ? r->str : "");
	redis_link_reply_free(link, r);
	return rc;
}

int redis_host_beat(struct redis_link *link, const char *prefix,
                    const char *host, char *err, size_t errsz)
{
	char key[REDIS_KEY_MAX], alive[24], forget[24];
	hosts_key(prefix, key);
	snprintf(alive, sizeof alive, "%d", REDIS_HOST_ALIVE_MS);
	snprintf(forget, sizeof forget, "%lld", FORGET_AFTER_MS);
	const char *const argv[] = { "EVAL", beat_script, "1", key, host,
	                             alive, forget };
	return run(link, 7, argv, err, errsz);
}

int redis_host_forget(struct redis_link *link, const char *prefix,
                      const char *host, char *err, size_t errsz)
{
	char key[REDIS_KEY_MAX];
	hosts_key(prefix, key);
	const char *const argv[] = { "ZREM", key, host };
	return run(link, 3, argv, err, errsz);
}
