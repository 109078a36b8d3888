/*
 * libFuzzer target for arraysimd's configuration parser (inih + the
 * handler in array-sim/daemon/config.c, with parse_size and
 * parse_hostport) and for the control-key file format (64 hex digits,
 * shared/auth.c).  A config file is operator input, but a bad one must
 * give a clear error with its line number, never a crash or an
 * out-of-bounds write into the fixed-size settings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	uint8_t key[AUTH_KEY_LEN];
	char *text = malloc(size + 1);
	int line = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_defaults(&c);
	if (config_load_string(&c, text, &line) == 0) {
		char host[256];
		uint16_t port;

		/* what the daemon does next with an accepted file */
		(void)parse_hostport(c.control_listen, host, sizeof(host), &port);
		config_path(&c, c.key_file, host, sizeof(host));
	} else if (line < 0) {
		abort(); /* parse errors are line numbers, never negative */
	}
	(void)auth_key_parse_hex(text, key);
	free(text);
	return 0;
}
