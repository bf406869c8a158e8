#include "reap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "append.h"
#include "dirs.h"
#include "format.h"
#include "grow.h"
#include "inbox.h"
#include "presence.h"

#define CLOCK_LEN 10 /* "[HH:MM:SS]" */
#define LOG_SUFFIX ".log"

/* The log's last look_back bytes (from anywhere in a line: callers look
 * at whole lines from the end only). */
static char *read_tail(int rooms_fd, const char *log_name, off_t look_back,
                       size_t *len)
{
	int fd = dirs_open_file(rooms_fd, log_name, O_RDONLY, 0, NULL);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	off_t from = st.st_size > look_back ? st.st_size - look_back : 0;
	size_t want = (size_t)(st.st_size - from);
	char *text = malloc(want + 1);
	ssize_t n = text ? pread(fd, text, want, from) : -1;
	close(fd);
	if (n < 0) {
		free(text);
		return NULL;
	}
	*len = (size_t)n;
	return text;
}

/* Whether line (without its '\n') is line_of's line at any time. */
static bool same_event(const char *line, size_t len, const struct buf *model)
{
	size_t body = model->len - 1 - CLOCK_LEN; /* no clock, no newline */
	return len == CLOCK_LEN + body && line[0] == '[' &&
	       memcmp(line + CLOCK_LEN, model->data + CLOCK_LEN, body) == 0;
}

bool reap_quit_logged(int rooms_fd, const char *log_name, const char *room,
                      const char *name)
{
	struct buf join, quit;
	size_t len = 0;
	buf_init(&join, 0);
	buf_init(&quit, 0);
	char *text = read_tail(rooms_fd, log_name, REAP_LOOK_BACK, &len);
	bool logged = false;
	if (text && format_join(&join, 0, room, name) == 0 &&
	    format_quit(&quit, 0, room, name) == 0) {
		size_t end = len;
		while (end > 0 && text[end - 1] != '\n')
			end--; /* a line still being written is no line yet */
		while (end > 0) {
			size_t start = end - 1; /* end is past a '\n' or the end */
			while (start > 0 && text[start - 1] != '\n')
				start--;
			size_t n = end - start - (text[end - 1] == '\n');
			if (same_event(text + start, n, &quit)) {
				logged = true;
				break;
			}
			if (same_event(text + start, n, &join))
				break;
			end = start;
		}
	}
	free(text);
	buf_free(&join);
	buf_free(&quit);
	return logged;
}

void reap_member(void *ctx, int member_fd, const char *name)
{
	struct reap *r = ctx;
	inbox_remove_dead(r->run_fd, member_fd);
	r->reaped++;
	if (reap_quit_logged(r->rooms_fd, r->log_name, r->room, name))
		return;
	if (format_quit(&r->line, time(NULL), r->room, name) < 0 ||
	    append_line(r->rooms_fd, r->log_name, r->file_mode, r->line.data,
	                r->line.len) < 0) {
		fprintf(stderr, "chat_server: cannot log the quit of %s, who "
		        "died, in %s: %s\n", name, r->room, strerror(errno));
	}
}

/* The log's last user list, without its clock, or NULL. */
static const char *last_userlist(const char *text, size_t len, size_t *n)
{
	static const char word[] = " Userlist: ";
	size_t end = len;
	while (end > 0 && text[end - 1] != '\n')
		end--;
	while (end > 0) {
		size_t start = end - 1;
		while (start > 0 && text[start - 1] != '\n')
			start--;
		size_t line = end - 1 - start;
		if (line >= CLOCK_LEN + sizeof word - 1 && text[start] == '[' &&
		    memcmp(text + start + CLOCK_LEN, word, sizeof word - 1) == 0) {
			*n = line - CLOCK_LEN;
			return text + start + CLOCK_LEN;
		}
		end = start;
	}
	return NULL;
}

/* True when the log's last user list is not list (a formatted user list
 * line): a member died, or was killed between its quit and its list.  The
 * warden asks at every quit, when the list is almost always the last
 * line: a short look back first. */
static bool userlist_stale(int rooms_fd, const char *log_name,
                           const struct buf *list, bool changed)
{
	size_t len = 0, n = 0;
	char *text = read_tail(rooms_fd, log_name, list->len + 4096, &len);
	const char *last = text ? last_userlist(text, len, &n) : NULL;
	if (!last) {
		free(text);
		text = read_tail(rooms_fd, log_name, REAP_LOOK_BACK, &len);
		last = text ? last_userlist(text, len, &n) : NULL;
	}
	size_t want = list->len - 1 - CLOCK_LEN; /* no clock, no newline */
	bool stale = last ? n != want ||
	                    memcmp(last, list->data + CLOCK_LEN, want) != 0
	                  : changed; /* none in sight: say it if it changed */
	free(text);
	return stale;
}

static int reap_listed(struct reap *r, int users_fd)
{
	struct presence_list members = { 0 };
	int rc = presence_list_reaping(users_fd, r->room, &members, reap_member,
	                               r);
	if (rc == 0 &&
	    format_userlist(&r->line, time(NULL), members.v, members.n) == 0 &&
	    userlist_stale(r->rooms_fd, r->log_name, &r->line,
	                   r->reaped > 0 || members.n > 0) &&
	    append_line(r->rooms_fd, r->log_name, r->file_mode, r->line.data,
	                r->line.len) < 0)
		rc = -1;
	presence_list_free(&members);
	return rc < 0 ? -1 : r->reaped;
}

int reap_room(int users_fd, int rooms_fd, int run_fd, const char *room,
              mode_t file_mode)
{
	char log_name[ROOM_NAME_MAX + sizeof LOG_SUFFIX];
	snprintf(log_name, sizeof log_name, "%s%s", room, LOG_SUFFIX);
	struct reap r = { .rooms_fd = rooms_fd, .run_fd = run_fd, .room = room,
	                  .log_name = log_name, .file_mode = file_mode };
	buf_init(&r.line, 0);
	int lock = presence_lock_room(run_fd, room);
	int rc = lock < 0 ? -1 : reap_listed(&r, users_fd);
	presence_unlock_room(lock);
	buf_free(&r.line);
	return rc;
}

/* The rooms that have a presence file, each once (a sorted list). */
static int rooms_present(int users_fd, char (**rooms)[ROOM_NAME_MAX + 1],
                         size_t *cap, size_t *n)
{
	DIR *dir = dirs_list(users_fd);
	if (!dir)
		return -1;
	*cap = *n = 0;
	*rooms = NULL;
	struct dirent *d;
	char room[ROOM_NAME_MAX + 1];
	while ((d = readdir(dir))) {
		if (!presence_room_of(d->d_name, room))
			continue;
		void *v = grow(*rooms, cap, *n, sizeof **rooms);
		if (!v) {
			closedir(dir);
			return -1;
		}
		*rooms = v;
		memcpy((*rooms)[(*n)++], room, sizeof room);
	}
	closedir(dir);
	return 0;
}

static int by_room(const void *a, const void *b)
{
	return strcmp(a, b);
}

int reap_all(int users_fd, int rooms_fd, int run_fd, mode_t file_mode,
             reap_report_fn report)
{
	char (*rooms)[ROOM_NAME_MAX + 1] = NULL;
	size_t n = 0, cap = 0;
	if (rooms_present(users_fd, &rooms, &cap, &n) < 0) {
		grow_free(rooms, cap, sizeof *rooms);
		return -1;
	}
	if (n > 1)
		qsort(rooms, n, sizeof *rooms, by_room);
	int total = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(rooms[i], rooms[i - 1]) == 0)
			continue;
		int got = reap_room(users_fd, rooms_fd, run_fd, rooms[i],
		                    file_mode);
		if (report)
			report(rooms[i], got);
		total = got < 0 || total < 0 ? -1 : total + got;
	}
	grow_free(rooms, cap, sizeof *rooms);
	return total;
}
