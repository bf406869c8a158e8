#include "command.h"

#include <stdbool.h>
#include <string.h>

#include "color.h"
#include "dice.h"

/* True when line is the command word cmd alone or followed by a space;
 * *args then points after the word. */
static bool is_command(const char *line, size_t len, const char *cmd,
                       const char **args)
{
	size_t n = strlen(cmd);
	if (len < n || memcmp(line, cmd, n) != 0 ||
	    (len > n && line[n] != ' '))
		return false;
	*args = line + n;
	return true;
}

static enum command_outcome say(struct buf *result, const char *text,
                                 enum command_outcome outcome)
{
	return buf_append_str(result, text) < 0 ? COMMAND_FAILED : outcome;
}

/* The first word of args as a colour, when it is one we accept. */
static bool take_color(const char *args, size_t n, char *color)
{
	if (n > COLOR_MAX)
		return false;
	memcpy(color, args, n);
	color[n] = '\0';
	return color_is_valid(color);
}

static enum command_outcome run_color(const char *args,
                                      const struct command_env *env,
                                      struct buf *result)
{
	char color[COLOR_MAX + 1];
	args += strspn(args, " ");
	size_t n = strcspn(args, " ");
	if (n == 0)
		return say(result, " Not changed color, missing color number",
		           COMMAND_RESULT);
	if (!take_color(args, n, color))
		return say(result, "Not changed color: use #rgb, #rrggbb or a "
		                   "CSS colour name", COMMAND_REFUSED);
	if (env->recolor(env->recolor_ctx, color) < 0 ||
	    buf_append_str(result, " Changed color to ") < 0)
		return COMMAND_FAILED;
	return say(result, color, COMMAND_RESULT_USERLIST);
}

enum command_outcome command_run(const char *line, size_t len,
                                 const struct command_env *env,
                                 struct buf *result)
{
	const char *args;
	buf_clear(result);
	if (is_command(line, len, "/dice", &args))
		return dice_command(args, env->rng, env->rng_ctx, result) < 0
		       ? COMMAND_FAILED : COMMAND_RESULT;
	if (is_command(line, len, "/color", &args))
		return run_color(args, env, result);
	if (buf_append_str(result, " unknown command ") < 0 ||
	    buf_append(result, line, len) < 0)
		return COMMAND_FAILED;
	return COMMAND_RESULT;
}
