/*
 * server: the control protocol's server side (docs/control-protocol.md).
 *
 * One listening socket, one thread per control connection (control traffic
 * is a few requests per second; the data path lives elsewhere).  Each
 * connection must authenticate first; after that every frame is sealed.
 * Requests are dispatched to ctl_ops.c under one mutex, so operations are
 * serialised like an array's management plane.
 *
 * State-changing requests are idempotent by request id: the reply is kept
 * (bounded cache), and a retry of the same id returns it without acting
 * again, also when the retry races the first attempt.  Each one is
 * audited: who (client name and peer address), what, when, and the result.
 */
#ifndef ARRAYSIM_CTL_SERVER_H
#define ARRAYSIM_CTL_SERVER_H

#include <stdint.h>

#include "array.h"
#include "proto.h"

struct ctl_server;

struct ctl_server_cfg {
	const char *addr; /* listen address, e.g. "127.0.0.1" */
	uint16_t port;	  /* 0: any (tests read ctl_server_port) */
	uint8_t key[32];
	struct array *array;
	const char *audit_path; /* JSON lines appended here; NULL: memory only */
	unsigned max_conns;	/* 0: 64 */
};

int ctl_server_start(const struct ctl_server_cfg *cfg, struct ctl_server **out);
uint16_t ctl_server_port(struct ctl_server *s);
/* Close every connection and the listener, join the threads. */
void ctl_server_stop(struct ctl_server *s);

/* Data-path fault injection (PROTO_FOP_READ/WRITE/FLUSH): consume one armed
 * fault for op.  Returns 0 and sets *delay_ms and *err (0 = no failure). */
void ctl_fault_take(struct ctl_server *s, uint32_t op, uint32_t *delay_ms, uint32_t *err);

/* iSCSI sessions appear in SESSION_LIST through this callback: it appends
 * PROTO_TAG_SESSION lists to rep. */
void ctl_server_set_session_lister(struct ctl_server *s,
				   void (*fn)(void *ctx, struct proto_buf *rep), void *ctx);

/* ---- internal: shared by server.c and ctl_ops.c ------------------------- */

struct ctl_req {
	struct ctl_server *srv;
	struct array *array;
	uint16_t type;
	const uint8_t *payload;
	size_t len;
	const char *actor; /* client name@peer */
	char text[512];	   /* audit summary, filled by the handler */
	int drop_conns;	   /* handler asks to close every connection */
};

/* Run one authenticated request; append STATUS, MESSAGE and fields to rep.
 * Returns the PROTO_E* status it put. */
int ctl_dispatch(struct ctl_req *req, struct proto_buf *rep);
/* Does this message change state (audited, idempotency-cached)? */
int ctl_mutating(uint16_t type);
/* errno -> PROTO_E* */
int ctl_err(int errno_neg);

/* Fault table, used by ctl_ops.c. */
int ctl_fault_add(struct ctl_server *s, uint8_t action, uint32_t op, uint32_t count,
		  uint32_t delay_ms, uint32_t err, uint64_t *id);
int ctl_fault_clear(struct ctl_server *s, uint64_t id); /* 0: all */
void ctl_fault_list(struct ctl_server *s, struct proto_buf *rep);
void ctl_sessions(struct ctl_server *s, struct proto_buf *rep);
void ctl_audit_read(struct ctl_server *s, uint64_t from, uint32_t max, struct proto_buf *rep);

#endif
