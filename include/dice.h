/* dice: the /dice command.
 *
 * "/dice X Y Z" throws X Y-sided dice; when Z > 1 a die showing Z or more is
 * thrown again and the new value is added to the list (exploding dice).  At
 * most DICE_MAX_COUNT dice are thrown, and at most DICE_MAX_THROWS values in
 * all, so one command can never run long or make a huge line. */
#ifndef CHAT_DICE_H
#define CHAT_DICE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rng.h"

#define DICE_MAX_COUNT 100
#define DICE_MAX_SIDES 1000000
#define DICE_MAX_THROWS 1000

enum dice_parse {
	DICE_OK = 0,
	DICE_USAGE,       /* fewer than three arguments */
	DICE_NOT_NUMERIC, /* an argument is not a decimal number */
	DICE_BAD_SIDES,   /* Y < 1 or Y > DICE_MAX_SIDES */
};

struct dice_request {
	uint64_t count;  /* as asked; more than DICE_MAX_COUNT is capped */
	uint32_t sides;
	uint64_t again;  /* threshold for throwing again; <= 1 means never */
};

/* Parses the text after "/dice" (arguments separated by spaces). */
enum dice_parse dice_parse(const char *args, struct dice_request *req);

/* Appends the command result for args to out, leading space included:
 * " Throws 2 6-sided dice, throws again on 6: 4, 6, 2" or one of the legacy
 * error sentences.  Returns 0, or -1 when out is full or the random source
 * failed. */
int dice_command(const char *args, rng_uniform_fn rng, void *rng_ctx,
                 struct buf *out);

#endif
