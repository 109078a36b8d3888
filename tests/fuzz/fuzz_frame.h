/* shared between the fuzz target and its seed generator */
#ifndef ARRAYSIM_FUZZ_FRAME_H
#define ARRAYSIM_FUZZ_FRAME_H

#include <string.h>

#include "auth.h"

/* fixed session keys so seeds sealed by the generator pass auth_open() */
static inline void fuzz_session(struct auth_session *s)
{
	memset(s, 0, sizeof(*s));
	memset(s->tx_key, 0x5a, sizeof(s->tx_key));
	memset(s->rx_key, 0x5a, sizeof(s->rx_key));
}

#endif
