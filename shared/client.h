/*
 * client: blocking ASCP client used by the CLI tools and the Windows VSS
 * provider.  One request in flight per client; not thread-safe (give
 * each thread its own client or lock around client_call()).
 *
 * Idempotency: the caller picks a request id (client_new_reqid()) and
 * client_call() resends the same id, with PROTO_F_RETRY set, after any
 * transport failure: reconnect, handshake again, resend.  The server
 * answers a repeated id from its reply cache instead of redoing the
 * operation.  A caller that retries at a higher level must also reuse
 * the id it got the first time.
 */
#ifndef ARRAYSIM_CLIENT_H
#define ARRAYSIM_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "platform.h"
#include "proto.h"

struct client_cfg {
	const char *host;
	uint16_t port;
	uint8_t key[AUTH_KEY_LEN];
	const char *client_name; /* for the server's session list; may be NULL */
	int connect_timeout_ms;	 /* 0: 5000 */
	int io_timeout_ms;  /* bound on one round trip: request sent, whole reply read; 0: 30000 */
	int max_attempts;   /* per call, first try included; 0: 3 */
	int retry_delay_ms; /* first backoff, doubled up to 5 s; 0: 200 */
};

struct client_reply {
	uint16_t type;
	uint64_t reqid;
	uint32_t status; /* PROTO_OK or a PROTO_E* code from the server */
	char msg[PROTO_MSG_MAX + 1];
	const uint8_t *payload; /* fields, inside frame */
	size_t payload_len;
	uint8_t *frame; /* owned; release with client_reply_free() */
	size_t frame_len;
	int attempts; /* how many sends it took */
};

struct client;

/* connect and authenticate once; EAUTH (wrong key) is never retried */
int client_open(const struct client_cfg *cfg, struct client **out);
void client_close(struct client *c);
/* drop the connection (tests, or after a fork); the next call reconnects */
void client_disconnect(struct client *c);

/* a fresh random request id, never 0 */
uint64_t client_new_reqid(struct client *c);

/*
 * Send request type with payload fields (may be NULL) under reqid and
 * wait for its reply.  Returns 0 whenever the server answered, whatever
 * the status (see rep->status/msg), or a negative PROTO_E* code when no
 * answer could be had within max_attempts.
 */
int client_call(struct client *c, uint16_t type, uint64_t reqid, const struct proto_buf *fields,
		struct client_reply *rep);
void client_reply_free(struct client_reply *rep);

/*
 * Frame I/O shared with the daemon: read one frame (the header is
 * checked, and oversize frames refused, before the rest is allocated);
 * *frame is malloc'ed.  ETIMEDOUT, ECLOSED, or a proto_hdr_decode error.
 */
int net_recv_frame(plat_sock s, int timeout_ms, uint8_t **frame, size_t *len);
int net_send_frame(plat_sock s, const uint8_t *frame, size_t len, int timeout_ms);

#endif
