/*
 * array_ops: the real snapset_ops and lunmatch confirm callback, on top
 * of the shared control client.  The shell opens the client (OnLoad or
 * lazily) and passes it as ctx.  Commit runs under Flush-and-Hold, so
 * the client the shell opens must have io_timeout_ms well below 10 s.
 */
#ifndef ARRAYSIM_ARRAY_OPS_H
#define ARRAYSIM_ARRAY_OPS_H

#include <stdint.h>

#include "snapset.h"

struct client;

struct array_ctx {
	struct client *c;
	uint32_t last_status; /* PROTO_OK or the server's PROTO_E* of the last failure */
	char last_msg[256];   /* server message or transport error, for the event log */
};

extern const struct snapset_ops array_snapset_ops; /* ctx = struct array_ctx * */

/* lunmatch_confirm_fn: LUN_SHOW by LUN_NAA; ctx = struct array_ctx * */
int array_confirm_naa(void *ctx, const uint8_t naa[16], char serial[33]);

#endif
