/* token_verify: the AUTH_TOKEN_COOKIE value a browser (or anyone) sends.
 * The first byte chooses what the rest is: even, a token as sent, checked
 * under a fixed secret; odd, a payload, signed here first so that the
 * JSON reader behind the MAC is reached too. */
#include "fuzz.h"

#include <time.h>

#include "color.h"
#include "identity.h"
#include "token.h"

static const char SECRET[] = "fuzz-secret";
#define NOW ((time_t)1700000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	bool as_payload = data[0] & 1;
	char *text = fuzz_strndup(data + 1, size - 1);
	char *token = text;
	char signed_token[2 * TOKEN_MAX + 64];
	if (as_payload) {
		if (token_sign_payload(SECRET, strlen(SECRET), text, size - 1,
		                       signed_token, sizeof signed_token) < 0) {
			free(text);
			return 0;
		}
		token = signed_token;
	}
	struct identity id;
	memset(&id, 0, sizeof id);
	enum token_result r = token_verify(token, SECRET, strlen(SECRET), NOW,
	                                   &id);
	FUZZ_CHECK(token_result_text(r)[0] != '?');
	if (r == TOKEN_OK) {
		/* What passes is a name and colour we could have made. */
		FUZZ_CHECK(strlen(id.name) <= NAME_MAX_BYTES);
		FUZZ_CHECK(identity_name_is_clean(id.name));
		FUZZ_CHECK(color_is_valid(id.color));
		FUZZ_CHECK(id.source == IDENTITY_TOKEN && id.verified);
		FUZZ_CHECK((id.roles & ~ROLE_MODERATOR) == 0);
		/* The same token under another secret is forged. */
		struct identity other;
		FUZZ_CHECK(token_verify(token, "other", 5, NOW, &other) ==
		           TOKEN_FORGED);
		/* Minted again, it reads back the same. */
		char again[TOKEN_MAX + 1];
		struct identity back;
		memset(&back, 0, sizeof back);
		FUZZ_CHECK(token_mint(SECRET, strlen(SECRET), id.name, id.color,
		                      (long long)NOW + 1, id.roles, again,
		                      sizeof again) > 0);
		FUZZ_CHECK(token_verify(again, SECRET, strlen(SECRET), NOW,
		                        &back) == TOKEN_OK);
		FUZZ_CHECK(strcmp(back.name, id.name) == 0);
		FUZZ_CHECK(strcmp(back.color, id.color) == 0);
		FUZZ_CHECK(back.roles == id.roles);
	}
	free(text);
	return 0;
}
