#include "redis_cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

void redis_cmd_arg(struct redis_cmd *c, const char *s, size_t len)
{
	if (c->argc < REDIS_CMD_ARGS) {
		c->argv[c->argc] = s;
		c->lens[c->argc++] = len;
	}
}

void redis_cmd_str(struct redis_cmd *c, const char *s)
{
	redis_cmd_arg(c, s, strlen(s));
}

void redis_cmd_strs(struct redis_cmd *c, const char *const v[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		redis_cmd_str(c, v[i]);
}

/* r->err for an error reply to c. */
static void refused(struct redis_room *r, const struct redis_cmd *c,
                    const redisReply *rep)
{
	snprintf(r->err, sizeof r->err, "redis refused %.*s: %.*s",
	         (int)(c->lens[0] < 16 ? c->lens[0] : 16), c->argv[0],
	         (int)(rep->len < 160 ? rep->len : 160), rep->str);
}

/* Sends c and returns its reply, or NULL with r->err (an error reply of
 * the server is one too). */
redisReply *redis_cmd_run(struct redis_room *r, const struct redis_cmd *c)
{
	redisReply *rep = redis_link_command(r->link, c->argc, c->argv,
	                                     c->lens, r->err, sizeof r->err);
	if (rep && rep->type == REDIS_REPLY_ERROR) {
		refused(r, c, rep);
		redis_link_reply_free(r->link, rep);
		return NULL;
	}
	return rep;
}

int redis_cmd_run_all(struct redis_room *r, const struct redis_cmd cmds[],
                      size_t n, redisReply *replies[])
{
	size_t sent = 0;
	while (sent < n && redis_link_send(r->link, cmds[sent].argc,
	                                   cmds[sent].argv, cmds[sent].lens,
	                                   r->err, sizeof r->err) == 0)
		sent++;
	/* What was sent is read, whatever failed, so that the next command's
	 * reply is its own; a broken link fails every read at once. */
	bool failed = sent < n;
	char later[sizeof r->err] = ""; /* r->err keeps the first failure */
	for (size_t i = 0; i < n; i++) {
		char *err = failed ? later : r->err;
		replies[i] = i < sent ? redis_link_receive(r->link, err,
		                                           sizeof later)
		                      : NULL;
		if (replies[i] && replies[i]->type == REDIS_REPLY_ERROR) {
			if (!failed)
				refused(r, &cmds[i], replies[i]);
			redis_link_reply_free(r->link, replies[i]);
			replies[i] = NULL;
		}
		failed = failed || !replies[i];
	}
	if (!failed)
		return 0;
	for (size_t i = 0; i < n; i++) {
		redis_link_reply_free(r->link, replies[i]);
		replies[i] = NULL;
	}
	return -1;
}

/* A reply's integer, or -1 (an error, told in r->err). */
long long redis_cmd_integer(struct redis_room *r, const struct redis_cmd *c)
{
	redisReply *rep = redis_cmd_run(r, c);
	long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer
	                                                     : -1;
	if (rep && v < 0)
		snprintf(r->err, sizeof r->err, "redis: unexpected reply to %s",
		         c->argv[0]);
	redis_link_reply_free(r->link, rep);
	return v;
}
