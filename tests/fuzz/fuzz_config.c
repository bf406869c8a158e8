/* config_load: the ini file.  Each input is written to a memfd, loaded
 * through /proc/self/fd/N; warnings go to /dev/null. */
#include "fuzz.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "config.h"

static int fd = -1;
static char path[64];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("chat.ini", MFD_CLOEXEC);
	devnull = fopen("/dev/null", "w");
	if (fd < 0 || !devnull)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return 0;
}

/* Reads every string of a loaded config to its end, so that ASan reports
 * one still pointing into the freed dictionary. */
static void check_strings(const struct chat_config *c)
{
#define FIELD_VALUE(name) c->name,
	const char *all[] = { CONFIG_STRING_FIELDS(FIELD_VALUE) };
#undef FIELD_VALUE
	const size_t max = CONFIG_PATH_MAX > CONFIG_VALUE_MAX ? CONFIG_PATH_MAX
	                                                      : CONFIG_VALUE_MAX;
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		FUZZ_CHECK(all[i] && strlen(all[i]) < max);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) < 0 ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	struct chat_config *cfg = malloc(sizeof *cfg);
	char err[512];
	if (!cfg)
		abort();
	memset(err, 'x', sizeof err);
	if (config_load(path, cfg, devnull, err, sizeof err) == 0) {
		check_strings(cfg);
		FUZZ_CHECK(cfg->base_dir[0] == '/');
		FUZZ_CHECK(cfg->rooms_dir[0] == '/' && cfg->users_dir[0] == '/' &&
		           cfg->sessions_dir[0] == '/' && cfg->log_dir[0] == '/');
		/* RUN_DIR: absolute, or empty for the one rundir.c finds */
		FUZZ_CHECK(cfg->run_dir[0] == '/' || cfg->run_dir[0] == '\0');
		FUZZ_CHECK(cfg->session_cookie[0] != '\0');
		FUZZ_CHECK(cfg->last_messages >= 0 && cfg->last_messages <= 10000);
		FUZZ_CHECK(cfg->poll_interval_ms >= 10);
		FUZZ_CHECK(cfg->max_message_bytes >= 64 &&
		           cfg->max_message_bytes <= 65536);
		FUZZ_CHECK(cfg->flood_rate >= 0 && cfg->flood_burst >= 0);
		FUZZ_CHECK((cfg->file_mode & ~0777U) == 0 &&
		           (cfg->dir_mode & ~0777U) == 0);
		FUZZ_CHECK(cfg->whisper_log == WHISPER_LOG_NONE ||
		           cfg->whisper_log == WHISPER_LOG_NOTICE ||
		           cfg->whisper_log == WHISPER_LOG_FULL);
	} else {
		/* One line, terminated, for the server log. */
		FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
		FUZZ_CHECK(strchr(err, '\n') == NULL);
		FUZZ_CHECK(cfg->strings == NULL && cfg->base_dir == NULL);
	}
	config_free(cfg);
	free(cfg);
	return 0;
}
