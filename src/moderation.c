#include "moderation.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admission.h"
#include "append.h"
#include "dirs.h"
#include "lockwait.h"
#include "presence.h"
#include "text.h"

/* ---- commands ---- */

struct words {
	const char *p;
	const char *end;
};

static void skip_spaces(struct words *w)
{
	while (w->p < w->end && *w->p == ' ')
		w->p++;
}

/* The next word (up to a space), or false when none is left. */
static bool next_word(struct words *w, const char **word, size_t *n)
{
	skip_spaces(w);
	const char *start = w->p;
	while (w->p < w->end && *w->p != ' ')
		w->p++;
	*word = start;
	*n = (size_t)(w->p - start);
	return *n > 0;
}

/* What is left, without the spaces around it, into out.  False when it is
 * longer than MOD_TEXT_MAX or holds control characters other than tab. */
static bool rest_text(struct words *w, char *out)
{
	skip_spaces(w);
	const char *end = w->end;
	while (end > w->p && end[-1] == ' ')
		end--;
	size_t n = (size_t)(end - w->p);
	if (n > MOD_TEXT_MAX || !text_is_utf8(w->p, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)w->p[i] < 0x20 && w->p[i] != '\t') ||
		    w->p[i] == 0x7f)
			return false;
	memcpy(out, w->p, n);
	out[n] = '\0';
	return true;
}

/* An address in canonical form, as admission.c writes the client's. */
static bool canonical_address(const char *s, char *out)
{
	unsigned char bin[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, s, bin) == 1)
		return inet_ntop(AF_INET, bin, out, ADDRESS_MAX) != NULL;
	if (inet_pton(AF_INET6, s, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, ADDRESS_MAX) != NULL;
	return false;
}

static bool take_name(const char *word, size_t n, struct mod_command *cmd,
                      bool address_too)
{
	char tmp[MOD_TARGET_MAX + 1];
	if (n == 0 || n > MOD_TARGET_MAX)
		return false;
	memcpy(tmp, word, n);
	tmp[n] = '\0';
	cmd->by_address = address_too && canonical_address(tmp, cmd->target);
	if (cmd->by_address)
		return true;
	if (!presence_name_is_valid(tmp) && !identity_name_is_clean(tmp))
		return false;
	memcpy(cmd->target, tmp, n + 1);
	return true;
}

static bool take_minutes(const char *word, size_t n, long *minutes)
{
	long v = 0;
	if (n == 0 || n > 7)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (word[i] < '0' || word[i] > '9')
			return false;
		v = v * 10 + (word[i] - '0');
	}
	*minutes = v;
	return v >= 1 && v <= MOD_MINUTES_MAX;
}

static const struct {
	const char *word;
	enum mod_action action;
	const char *usage;
} commands[] = {
	{ "/kick", MOD_KICK, "usage: /kick NAME [reason]" },
	{ "/mute", MOD_MUTE, "usage: /mute NAME MINUTES (1 to 525600)" },
	{ "/unmute", MOD_UNMUTE, "usage: /unmute NAME" },
	{ "/ban", MOD_BAN, "usage: /ban NAME|ADDRESS MINUTES (1 to 525600) "
	                   "[reason]" },
	{ "/unban", MOD_UNBAN, "usage: /unban NAME|ADDRESS" },
	{ "/lock", MOD_LOCK, "usage: /lock" },
	{ "/unlock", MOD_UNLOCK, "usage: /unlock" },
	{ "/topic", MOD_TOPIC, "usage: /topic [TEXT] (at most 512 bytes)" },
};

static bool parse_args(struct words *w, struct mod_command *cmd)
{
	const char *word;
	size_t n;
	enum mod_action a = cmd->action;
	if (a == MOD_LOCK || a == MOD_UNLOCK) {
		skip_spaces(w);
		return w->p == w->end;
	}
	if (a == MOD_TOPIC)
		return rest_text(w, cmd->text);
	if (!next_word(w, &word, &n) ||
	    !take_name(word, n, cmd, a == MOD_BAN || a == MOD_UNBAN))
		return false;
	if (a == MOD_MUTE || a == MOD_BAN) {
		if (!next_word(w, &word, &n) || !take_minutes(word, n, &cmd->minutes))
			return false;
	}
	if (a == MOD_KICK || a == MOD_BAN)
		return rest_text(w, cmd->text);
	skip_spaces(w);
	return w->p == w->end;
}

int moderation_parse(const char *line, size_t len, struct mod_command *cmd,
                     char *err, size_t errsz)
{
	memset(cmd, 0, sizeof *cmd);
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
		size_t n = strlen(commands[i].word);
		if (len < n || memcmp(line, commands[i].word, n) != 0 ||
		    (len > n && line[n] != ' '))
			continue;
		struct words w = { line + n, line + len };
		cmd->action = commands[i].action;
		if (parse_args(&w, cmd))
			return 1;
		snprintf(err, errsz, "%s", commands[i].usage);
		return -1;
	}
	return 0;
}

const char *moderation_action_name(enum mod_action a)
{
	static const char *const names[] = {
		[MOD_KICK] = "kick",   [MOD_MUTE] = "mute",
		[MOD_UNMUTE] = "unmute", [MOD_BAN] = "ban",
		[MOD_UNBAN] = "unban", [MOD_LOCK] = "lock",
		[MOD_UNLOCK] = "unlock", [MOD_TOPIC] = "topic",
	};
	return (unsigned)a < sizeof names / sizeof *names ? names[a] : "?";
}

int moderation_result(const struct mod_command *cmd, struct buf *out)
{
	char s[2 * MOD_TEXT_MAX];
	const char *t = cmd->target;
	const char *why = cmd->text[0] ? ": " : "";
	switch (cmd->action) {
	case MOD_KICK:
		snprintf(s, sizeof s, " Kicked %s%s%s", t, why, cmd->text);
		break;
	case MOD_MUTE:
		snprintf(s, sizeof s, " Muted %s for %ld minutes", t, cmd->minutes);
		break;
	case MOD_UNMUTE:
		snprintf(s, sizeof s, " Unmuted %s", t);
		break;
	case MOD_BAN:
		snprintf(s, sizeof s, " Banned %s for %ld minutes%s%s", t,
		         cmd->minutes, why, cmd->text);
		break;
	case MOD_UNBAN:
		snprintf(s, sizeof s, " Unbanned %s", t);
		break;
	case MOD_LOCK:
		snprintf(s, sizeof s, " Locked the room to verified members");
		break;
	case MOD_UNLOCK:
		snprintf(s, sizeof s, " Unlocked the room");
		break;
	case MOD_TOPIC:
		if (cmd->text[0])
			snprintf(s, sizeof s, " Set the topic: %s", cmd->text);
		else
			snprintf(s, sizeof s, " Cleared the topic");
		break;
	default:
		return -1;
	}
	buf_clear(out);
	return buf_append_str(out, s);
}

/* ---- the stored state ---- */

void moderation_state_init(struct mod_state *st)
{
	memset(st, 0, sizeof *st);
}

void moderation_state_free(struct mod_state *st)
{
	free(st->bans);
	free(st->mutes);
	moderation_state_init(st);
}

/* A string member of o into out (up to max bytes), "" when absent; false
 * when it is there but not a string that fits. */
static bool get_str(json_t *o, const char *key, char *out, size_t max)
{
	json_t *v = json_object_get(o, key);
	out[0] = '\0';
	if (!v)
		return true;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return false;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return true;
}

static bool read_entry(json_t *o, bool bans, time_t now, struct mod_entry *e)
{
	char name[MOD_TARGET_MAX + 1], addr[MOD_TARGET_MAX + 1];
	json_t *until = json_object_get(o, "until");
	memset(e, 0, sizeof *e);
	if (!json_is_object(o) || !json_is_integer(until) ||
	    json_integer_value(until) <= (json_int_t)now ||
	    !get_str(o, "name", name, MOD_TARGET_MAX) ||
	    !get_str(o, "address", addr, MOD_TARGET_MAX) ||
	    !get_str(o, "by", e->by, MOD_TARGET_MAX) ||
	    !get_str(o, "reason", e->text, MOD_TEXT_MAX))
		return false;
	e->until = (time_t)json_integer_value(until);
	if (name[0] && !addr[0]) {
		memcpy(e->target, name, sizeof name);
		return true;
	}
	e->address = true;
	return bans && !name[0] && canonical_address(addr, e->target);
}

static int read_entries(json_t *root, const char *key, bool bans, time_t now,
                        struct mod_entry **out, size_t *n)
{
	json_t *a = json_object_get(root, key);
	size_t i, max = json_array_size(a);
	json_t *v;
	*out = NULL;
	*n = 0;
	if (max > MOD_ENTRIES_MAX)
		max = MOD_ENTRIES_MAX;
	if (max == 0)
		return 0;
	*out = calloc(max, sizeof **out);
	if (!*out)
		return -1;
	json_array_foreach(a, i, v) {
		if (*n < max && read_entry(v, bans, now, &(*out)[*n]))
			(*n)++;
	}
	return 0;
}

int moderation_parse_state(const char *text, size_t len, time_t now,
                           struct mod_state *st)
{
	moderation_state_init(st);
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		errno = EBADMSG;
		return -1;
	}
	if (!get_str(root, "topic", st->topic, MOD_TEXT_MAX))
		st->topic[0] = '\0';
	st->locked = json_is_true(json_object_get(root, "locked"));
	int rc = read_entries(root, "bans", true, now, &st->bans, &st->nbans) < 0 ||
	         read_entries(root, "mutes", false, now, &st->mutes,
	                      &st->nmutes) < 0 ? -1 : 0;
	json_decref(root);
	if (rc < 0)
		moderation_state_free(st);
	return rc;
}

static json_t *entries_json(const struct mod_entry *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *o = json_object();
		if (!o || json_array_append_new(a, o) < 0)
			break;
		json_object_set_new(o, v[i].address ? "address" : "name",
		                    json_string(v[i].target));
		json_object_set_new(o, "until", json_integer((json_int_t)v[i].until));
		if (v[i].by[0])
			json_object_set_new(o, "by", json_string(v[i].by));
		if (v[i].text[0])
			json_object_set_new(o, "reason", json_string(v[i].text));
	}
	return a;
}

int moderation_format_state(const struct mod_state *st, struct buf *out)
{
	json_t *root = json_object();
	if (!root)
		return -1;
	if (st->topic[0])
		json_object_set_new(root, "topic", json_string(st->topic));
	if (st->locked)
		json_object_set_new(root, "locked", json_true());
	json_object_set_new(root, "bans", entries_json(st->bans, st->nbans));
	json_object_set_new(root, "mutes", entries_json(st->mutes, st->nmutes));
	char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	buf_clear(out);
	int rc = text && buf_append_str(out, text) == 0 &&
	         buf_append(out, "\n", 1) == 0 ? 0 : -1;
	free(text);
	return rc;
}

/* Removes the entries for target (and those expired at now). */
static void drop(struct mod_entry *v, size_t *n, const char *target,
                 bool address, time_t now)
{
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		bool match = target && v[i].address == address &&
		             strcmp(v[i].target, target) == 0;
		if (!match && v[i].until > now)
			v[k++] = v[i];
	}
	*n = k;
}

static int add(struct mod_entry **v, size_t *n, const struct mod_command *cmd,
               const char *by, time_t now)
{
	drop(*v, n, cmd->target, cmd->by_address, now);
	if (*n >= MOD_ENTRIES_MAX) {
		errno = ENOSPC;
		return -1;
	}
	struct mod_entry *grown = realloc(*v, (*n + 1) * sizeof **v);
	if (!grown)
		return -1;
	*v = grown;
	struct mod_entry *e = &grown[(*n)++];
	memset(e, 0, sizeof *e);
	snprintf(e->target, sizeof e->target, "%s", cmd->target);
	e->address = cmd->by_address;
	e->until = now + (time_t)cmd->minutes * 60;
	snprintf(e->by, sizeof e->by, "%s", by);
	snprintf(e->text, sizeof e->text, "%s", cmd->text);
	return 0;
}

int moderation_apply(struct mod_state *st, const struct mod_command *cmd,
                     const char *by, time_t now)
{
	switch (cmd->action) {
	case MOD_KICK:
		break;
	case MOD_MUTE:
		return add(&st->mutes, &st->nmutes, cmd, by, now);
	case MOD_UNMUTE:
		drop(st->mutes, &st->nmutes, cmd->target, false, now);
		break;
	case MOD_BAN:
		return add(&st->bans, &st->nbans, cmd, by, now);
	case MOD_UNBAN:
		drop(st->bans, &st->nbans, cmd->target, cmd->by_address, now);
		break;
	case MOD_LOCK:
	case MOD_UNLOCK:
		st->locked = cmd->action == MOD_LOCK;
		break;
	case MOD_TOPIC:
		snprintf(st->topic, sizeof st->topic, "%s", cmd->text);
		break;
	}
	return 0;
}

const struct mod_entry *moderation_banned(const struct mod_state *st,
                                          const char *name,
                                          const char *address, time_t now)
{
	char canon[ADDRESS_MAX];
	bool have_addr = address && address[0] &&
	                 canonical_address(address, canon);
	for (size_t i = 0; i < st->nbans; i++) {
		const struct mod_entry *e = &st->bans[i];
		if (e->until <= now)
			continue;
		if (e->address ? have_addr && strcmp(e->target, canon) == 0
		               : name && strcmp(e->target, name) == 0)
			return e;
	}
	return NULL;
}

const struct mod_entry *moderation_muted(const struct mod_state *st,
                                         const char *name, time_t now)
{
	for (size_t i = 0; i < st->nmutes; i++)
		if (st->mutes[i].until > now && name &&
		    strcmp(st->mutes[i].target, name) == 0)
			return &st->mutes[i];
	return NULL;
}

long moderation_minutes_left(time_t until, time_t now)
{
	if (until <= now)
		return 0;
	return (long)((until - now + 59) / 60);
}

/* ---- files ---- */

int moderation_open_dir(const char *path, mode_t dir_mode, bool create)
{
	return dirs_open(path, dir_mode, create);
}

static int file_name(char *out, size_t outsz, const char *room,
                     const char *suffix)
{
	int n = snprintf(out, outsz, "%s%s", room, suffix);
	if (n < 0 || (size_t)n >= outsz || !room[0] || room[0] == '.' ||
	    strchr(room, '/')) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int read_all(int fd, struct buf *out)
{
	for (;;) {
		if (out->len >= MOD_FILE_MAX) {
			errno = EFBIG;
			return -1;
		}
		char *p = buf_grow(out, 4096);
		if (!p)
			return -1;
		ssize_t n = read(fd, p, 4096);
		out->len -= 4096 - (n > 0 ? (size_t)n : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
	}
}

int moderation_load(int dir_fd, const char *room, time_t now,
                    struct mod_state *st)
{
	char name[300];
	moderation_state_init(st);
	if (file_name(name, sizeof name, room, ".json") < 0)
		return -1;
	if (dir_fd < 0)
		return 0;
	int fd = dirs_open_file(dir_fd, name, O_RDONLY | O_CLOEXEC, 0, NULL);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct buf text;
	buf_init(&text, 0);
	int rc = read_all(fd, &text);
	close(fd);
	if (rc == 0)
		rc = text.len == 0 ? 0
		     : moderation_parse_state(text.data, text.len, now, st);
	buf_free(&text);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int store(int dir_fd, const char *room, mode_t mode,
                 const struct mod_state *st)
{
	char name[300], tmp[320];
	struct buf text;
	if (file_name(name, sizeof name, room, ".json") < 0)
		return -1;
	snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", name, (long)getpid());
	buf_init(&text, 0);
	int rc = moderation_format_state(st, &text);
	int fd = rc < 0 ? -1 : openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	                              O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 || write_all(fd, text.data, text.len) < 0 || fsync(fd) < 0 ||
	    renameat(dir_fd, tmp, dir_fd, name) < 0) {
		int saved = errno;
		if (fd >= 0) {
			close(fd);
			unlinkat(dir_fd, tmp, 0);
		}
		buf_free(&text);
		errno = saved;
		return -1;
	}
	close(fd);
	buf_free(&text);
	return 0;
}

int moderation_update(int dir_fd, const char *room, mode_t file_mode,
                      const struct mod_command *cmd, const char *by,
                      time_t now, struct mod_state *st)
{
	char lock_name[300];
	moderation_state_init(st);
	if (file_name(lock_name, sizeof lock_name, room, ".lock") < 0)
		return -1;
	int lock = dirs_open_file(dir_fd, lock_name,
	                          O_RDWR | O_CREAT | O_CLOEXEC, file_mode, NULL);
	if (lock < 0)
		return -1;
	int rc = -1;
	if (lockwait_flock(lock, LOCK_EX, MOD_LOCK_WAIT_MS) == 0 &&
	    moderation_load(dir_fd, room, now, st) == 0 &&
	    moderation_apply(st, cmd, by, now) == 0 &&
	    store(dir_fd, room, file_mode, st) == 0)
		rc = 0;
	int saved = errno;
	close(lock); /* lets the flock go */
	errno = saved;
	return rc;
}

/* ---- the audit log ---- */

static int put_field(struct buf *out, const char *s, bool tab)
{
	char esc[5];
	if (tab && buf_append(out, "\t", 1) < 0)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != 0x7f && c != '\\') {
			if (buf_append(out, s, 1) < 0)
				return -1;
			continue;
		}
		snprintf(esc, sizeof esc, "\\x%02x", c);
		if (buf_append(out, esc, 4) < 0)
			return -1;
	}
	return 0;
}

int moderation_audit_line(time_t now, const char *by,
                          const struct mod_command *cmd, struct buf *out)
{
	struct tm tm;
	char stamp[40], detail[MOD_TEXT_MAX + 64];
	if (!localtime_r(&now, &tm) ||
	    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", &tm) != 24)
		return -1;
	/* +0100 -> +01:00 */
	memmove(stamp + 23, stamp + 22, 3);
	stamp[22] = ':';
	if (cmd->action == MOD_MUTE || cmd->action == MOD_BAN)
		snprintf(detail, sizeof detail, "%ld minutes%s%s", cmd->minutes,
		         cmd->text[0] ? ": " : "", cmd->text);
	else
		snprintf(detail, sizeof detail, "%s", cmd->text);
	buf_clear(out);
	if (put_field(out, stamp, false) < 0 || put_field(out, by, true) < 0 ||
	    put_field(out, moderation_action_name(cmd->action), true) < 0 ||
	    put_field(out, cmd->target, true) < 0 ||
	    put_field(out, detail, true) < 0 || buf_append(out, "\n", 1) < 0)
		return -1;
	return 0;
}

int moderation_audit(int log_dir_fd, mode_t mode, time_t now, const char *by,
                     const struct mod_command *cmd)
{
	struct buf line;
	buf_init(&line, 0);
	int rc = moderation_audit_line(now, by, cmd, &line);
	if (rc == 0)
		rc = append_line(log_dir_fd, MODERATION_LOG_NAME, mode, line.data,
		                 line.len);
	buf_free(&line);
	return rc;
}
