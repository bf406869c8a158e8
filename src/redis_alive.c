#include "redis_alive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redis_host.h"

/* An array reply of kind's key: cmd KEY [extra], or NULL (r->err). */
static redisReply *array_of(struct redis_room *r, const char *cmd,
                            enum redis_key_kind kind, bool with_scores)
{
	char key[REDIS_KEY_MAX];
	redis_room_key(r, kind, key);
	const char *const argv[] = { cmd, key, "0", "-1", "WITHSCORES" };
	size_t lens[5];
	int argc = with_scores ? 5 : 2;
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	redisReply *rep = redis_link_command(r->link, argc, argv, lens, r->err,
	                                     sizeof r->err);
	if (rep && rep->type != REDIS_REPLY_ARRAY) {
		snprintf(r->err, sizeof r->err, "redis: %s gave no array", cmd);
		redis_link_reply_free(r->link, rep);
		return NULL;
	}
	return rep;
}

static int by_value(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/* The client id of a record "<run_id>:<id>" made by this server run, or
 * -1 (another run's: every client of it is gone, alive or not). */
static long long this_run(const struct redis_alive *a, const char *record)
{
	size_t n = strlen(a->run_id);
	if (!record || strncmp(record, a->run_id, n) != 0 || record[n] != ':')
		return -1;
	return strtoll(record + n + 1, NULL, 10);
}

/* CLIENT LIST ID <every recorded client>: the ones still connected. */
static int load_connected(struct redis_room *r, struct redis_alive *a)
{
	size_t n = a->clients->elements / 2;
	if (n == 0)
		return 0;
	const char **argv = calloc(n + 3, sizeof *argv);
	size_t *lens = calloc(n + 3, sizeof *lens);
	a->connected = calloc(n, sizeof *a->connected);
	if (!argv || !lens || !a->connected) {
		free(argv);
		free(lens);
		snprintf(r->err, sizeof r->err, "out of memory listing a room");
		return -1;
	}
	argv[0] = "CLIENT";
	argv[1] = "LIST";
	argv[2] = "ID";
	size_t argc = 3;
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(a->clients->element[2 * i + 1]->str,
		                           ':');
		if (colon && this_run(a, a->clients->element[2 * i + 1]->str) >= 0)
			argv[argc++] = colon + 1;
	}
	for (size_t i = 0; i < argc; i++)
		lens[i] = strcspn(argv[i], ":"); /* the id, before its host */
	redisReply *rep = argc == 3 ? NULL
	                  : redis_link_command(r->link, (int)argc, argv, lens,
	                                       r->err, sizeof r->err);
	free(argv);
	free(lens);
	if (argc == 3)
		return 0;
	if (!rep)
		return -1;
	/* One line per connected client, each starting "id=<n> ". */
	for (const char *p = rep->type == REDIS_REPLY_STRING ? rep->str : NULL;
	     p && a->n_connected < n; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "id=", 3) == 0)
			a->connected[a->n_connected++] = strtoll(p + 3, NULL, 10);
	redis_link_reply_free(r->link, rep);
	qsort(a->connected, a->n_connected, sizeof *a->connected, by_value);
	return 0;
}

int redis_alive_load(struct redis_room *r, struct redis_alive *a)
{
	memset(a, 0, sizeof *a);
	long long started;
	if (redis_link_server_run(r->link, a->run_id, &started, r->err,
	                          sizeof r->err) < 0)
		return -1;
	a->before = redis_room_now_ms(r);
	if (a->before < 0)
		return -1;
	a->scoring = a->before - started >= REDIS_REAP_GRACE_S * 1000LL;
	a->scores = array_of(r, "ZRANGE", REDIS_KEY_ALIVE, true);
	a->hosts = a->scores ? array_of(r, "ZRANGE", REDIS_KEY_HOSTS, true)
	                     : NULL;
	a->clients = a->hosts ? array_of(r, "HGETALL", REDIS_KEY_CLIENTS,
	                                 false) : NULL;
	return !a->clients || load_connected(r, a) < 0 ? -1 : 0;
}

/* The value of name among the pairs of an array reply, or NULL. */
static const char *value_of(const redisReply *pairs, const char *name)
{
	for (size_t i = 0; i + 1 < pairs->elements; i += 2)
		if (strcmp(pairs->element[i]->str, name) == 0)
			return pairs->element[i + 1]->str;
	return NULL;
}

/* Whether a score (of a ZRANGE WITHSCORES) is past; a missing one is. */
static bool past(const struct redis_alive *a, const char *score)
{
	return !score || strtoll(score, NULL, 10) < a->before;
}

bool redis_alive_dead(const struct redis_alive *a, const char *name)
{
	const char *record = value_of(a->clients, name);
	long long id = this_run(a, record);
	if (id >= 0 && !bsearch(&id, a->connected, a->n_connected,
	                        sizeof *a->connected, by_value))
		return true; /* its process's connection is gone */
	if (!a->scoring)
		return false;
	/* Its host's archiver speaks for it: the host vanished when that
	 * word is past.  A host with no word (no archiver, or one stopped)
	 * leaves its members to their own heartbeats; so does one whose word
	 * ran out before the member's last beat: that member took its name
	 * again since (its archiver is late, its host is not gone). */
	const char *host = redis_host_of_record(record);
	const char *host_score = host ? value_of(a->hosts, host) : NULL;
	const char *own = value_of(a->scores, name);
	if (host_score && past(a, host_score) &&
	    (!own || strtoll(own, NULL, 10) - REDIS_ALIVE_MS <=
	             strtoll(host_score, NULL, 10)))
		return true;
	return past(a, own);
}

void redis_alive_free(struct redis_room *r, struct redis_alive *a)
{
	redis_link_reply_free(r->link, a->scores);
	redis_link_reply_free(r->link, a->hosts);
	redis_link_reply_free(r->link, a->clients);
	free(a->connected);
	memset(a, 0, sizeof *a);
}
