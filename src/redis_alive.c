#include "redis_alive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redis_host.h"
#include "redis_record.h"

static int by_value(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/* The client id of a record made by this server run, or -1: another
 * run's (every client of it is gone, alive or not), or not a record.
 * Through a relay, the relay's id.  *rec: the record's parts. */
static long long this_run(const struct redis_alive *a, const char *record,
                          struct redis_record *rec)
{
	if (!redis_record_parse(record, rec) ||
	    !redis_record_of_run(rec, a->run_id))
		return -1;
	return strtoll(rec->id, NULL, 10);
}

/* The distinct client ids of this run in the records, sorted, into
 * a->connected (as scratch); how many.  The members behind one relay
 * share its id: asked once, not once each (CLIENT LIST ID repeats a
 * client for every time it is named).  Client 0 (redis_room_gone_cmd) is
 * no client: CLIENT LIST would refuse it. */
static size_t recorded_ids(struct redis_alive *a, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct redis_record rec;
		long long id = this_run(a, a->clients->element[2 * i + 1]->str,
		                        &rec);
		if (id > 0)
			a->connected[k++] = id;
	}
	qsort(a->connected, k, sizeof *a->connected, by_value);
	size_t distinct = 0;
	for (size_t i = 0; i < k; i++)
		if (distinct == 0 || a->connected[distinct - 1] != a->connected[i])
			a->connected[distinct++] = a->connected[i];
	return distinct;
}

/* CLIENT LIST ID <every recorded client>: the ones still connected. */
static int load_connected(struct redis_room *r, struct redis_alive *a)
{
	size_t n = a->clients->elements / 2;
	if (n == 0)
		return 0;
	a->connected = calloc(n, sizeof *a->connected);
	size_t k = a->connected ? recorded_ids(a, n) : 0;
	const char **argv = calloc(k + 3, sizeof *argv);
	size_t *lens = calloc(k + 3, sizeof *lens);
	char (*ids)[24] = calloc(k + 1, sizeof *ids);
	if (!argv || !lens || !ids || !a->connected) {
		free(argv);
		free(lens);
		free(ids);
		snprintf(r->err, sizeof r->err, "out of memory listing a room");
		return -1;
	}
	argv[0] = "CLIENT";
	argv[1] = "LIST";
	argv[2] = "ID";
	size_t argc = 3;
	for (size_t i = 0; i < k; i++) {
		snprintf(ids[i], sizeof ids[i], "%lld", a->connected[i]);
		argv[argc++] = ids[i];
	}
	for (size_t i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	redisReply *rep = argc == 3 ? NULL
	                  : redis_link_command(r->link, (int)argc, argv, lens,
	                                       r->err, sizeof r->err);
	free(argv);
	free(lens);
	free(ids);
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

size_t redis_alive_queries(struct redis_room *r, struct redis_alive *a,
                           struct redis_cmd cmds[REDIS_ALIVE_QUERIES])
{
	static const enum redis_key_kind kinds[] = {
		REDIS_KEY_ALIVE, REDIS_KEY_HOSTS, REDIS_KEY_CLIENTS,
	};
	memset(a, 0, sizeof *a);
	memset(cmds, 0, REDIS_ALIVE_QUERIES * sizeof *cmds);
	size_t n = 0;
	a->asks_run = !redis_link_knows_run(r->link);
	if (a->asks_run)
		REDIS_CMD_STRS(&cmds[n++], "INFO", "server");
	REDIS_CMD_STRS(&cmds[n++], "TIME");
	for (size_t k = 0; k < 3; k++) {
		redis_room_key(r, kinds[k], a->keys[k]);
		if (kinds[k] == REDIS_KEY_CLIENTS)
			REDIS_CMD_STRS(&cmds[n++], "HGETALL", a->keys[k]);
		else
			REDIS_CMD_STRS(&cmds[n++], "ZRANGE", a->keys[k], "0",
			               "-1", "WITHSCORES");
	}
	return n;
}

/* Takes rep as *slot when it is an array; otherwise frees it.  0 or -1. */
static int take_array(struct redis_room *r, redisReply *rep,
                      redisReply **slot)
{
	if (rep->type == REDIS_REPLY_ARRAY) {
		*slot = rep;
		return 0;
	}
	snprintf(r->err, sizeof r->err, "redis: a listing gave no array");
	redis_link_reply_free(r->link, rep);
	return -1;
}

int redis_alive_take(struct redis_room *r, struct redis_alive *a,
                     redisReply *replies[])
{
	size_t i = 0;
	int rc = 0;
	if (a->asks_run) {
		rc = redis_link_learn_run(r->link, replies[i], r->err,
		                          sizeof r->err);
		redis_link_reply_free(r->link, replies[i++]);
	}
	long long started = 0;
	if (rc == 0)
		rc = redis_link_server_run(r->link, a->run_id, &started, r->err,
		                           sizeof r->err); /* known by now */
	a->before = rc == 0 ? redis_room_time_of(r, replies[i]) : -1;
	redis_link_reply_free(r->link, replies[i++]);
	a->scoring = a->before - started >= REDIS_REAP_GRACE_S * 1000LL;
	redisReply **slots[] = { &a->scores, &a->hosts, &a->clients };
	for (size_t k = 0; k < 3; k++, i++) {
		if (rc == 0 && a->before >= 0)
			rc = take_array(r, replies[i], slots[k]);
		else
			redis_link_reply_free(r->link, replies[i]);
	}
	return rc < 0 || a->before < 0 || load_connected(r, a) < 0 ? -1 : 0;
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
	struct redis_record rec;
	long long id = this_run(a, value_of(a->clients, name), &rec);
	/* Its process's connection is gone.  A relay that is gone takes its
	 * members' readers along, not their processes: they listen anew
	 * within a moment and say so; until then they are judged as the
	 * members of a host whose archiver is away (below).  A relayed
	 * member whose own socket closed is recorded with client 0, never
	 * connected (redis_room_gone_cmd). */
	if (id >= 0 && !bsearch(&id, a->connected, a->n_connected,
	                        sizeof *a->connected, by_value) &&
	    (id == 0 || !rec.relayed))
		return true;
	if (!a->scoring)
		return false;
	/* Its host's archiver speaks for it: the host vanished when that
	 * word is past.  A host with no word (no archiver, or one stopped)
	 * leaves its members to their own heartbeats; so does one whose word
	 * ran out before the member's last beat: that member took its name
	 * again since (its archiver is late, its host is not gone). */
	const char *host_score = rec.host ? value_of(a->hosts, rec.host)
	                                  : NULL;
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
