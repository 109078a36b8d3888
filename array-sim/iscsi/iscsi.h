/*
 * iscsi: the iSCSI target transport (RFC 7143) on top of the SCSI core
 * (array-sim/scsi/scsi.h).  It knows nothing of SCSI beyond moving CDBs,
 * data and status; masking, sense and unit attentions are the core's.
 *
 * Model (docs/iscsi.md has the details):
 *  - one target (target_iqn) with one target portal group (tag 1) that
 *    listens on up to ISCSI_MAX_PORTALS portals;
 *  - sessions have exactly one connection (MaxConnections=1) and run at
 *    ErrorRecoveryLevel 0;
 *  - N event-loop threads (epoll), each owning the connections it was
 *    given round-robin at accept; a command runs to completion on its
 *    loop thread (scsi_execute), so there is no hand-off per command.
 *
 * Errors: functions returning int give 0 or -errno.
 * Threads: every function here may be called from any thread except a
 * loop thread of the same target (iscsi_target_stop joins them).
 */
#ifndef ARRAYSIM_ISCSI_H
#define ARRAYSIM_ISCSI_H

#include <stdint.h>

#include "array.h"

struct scsi_ctx;
struct proto_buf;
struct iscsi_target;

#define ISCSI_MAX_PORTALS 8

struct iscsi_portal {
	const char *addr; /* numeric IPv4 or IPv6 address; NULL or "" = 0.0.0.0 */
	uint16_t port;	  /* 0 = 3260 */
};

struct iscsi_target_cfg {
	const char *target_iqn;
	struct iscsi_portal portals[ISCSI_MAX_PORTALS];
	unsigned nr_portals; /* 0 = one portal, 127.0.0.1:3260 */
	struct scsi_ctx *scsi;
	struct array *array;	  /* hosts, IQNs and CHAP credentials */
	unsigned threads;	  /* event loops; 0 = online CPUs */
	unsigned max_connections; /* whole target; 0 = 1024 */
	unsigned cmd_window;	  /* commands per session (MaxCmdSN window); 0 = 128 */
	/* 1: every Normal session must authenticate with CHAP (a host with
	 * CHAP credentials always must, whatever this says). */
	int require_chap;
	/* NOP-In ping after this many idle seconds (0 = 10); a connection
	 * whose ping stays unanswered for 3 intervals is dropped. */
	unsigned nop_interval_s;
	/* 1: after a map change, send AsyncEvent 0 (sense REPORTED LUNS DATA
	 * HAS CHANGED) to the sessions it affects, once per change.  0 (the
	 * default, as LIO): the unit attention on the next command only.  A
	 * Linux initiator without iscsid drops the connection on any Async
	 * Message (docs/iscsi.md). */
	int async_events;
	/* Tests only: replaces array_host_by_iqn when set (array may then be
	 * NULL).  Returns 0 and fills out, or -ENOENT. */
	int (*host_lookup)(void *ctx, const char *iqn, struct host_info *out);
	void *host_lookup_ctx;
};

/* Bind every portal and start the loops.  -EADDRINUSE etc. from bind;
 * nothing is left running on failure. */
int iscsi_target_start(const struct iscsi_target_cfg *cfg, struct iscsi_target **out);
/* Close every connection (nexuses are closed on their loop threads), stop
 * and join the loops, free everything.  NULL is a no-op. */
void iscsi_target_stop(struct iscsi_target *t);

/* The port portal i actually listens on (useful with port 0 in tests:
 * the kernel picks one). */
uint16_t iscsi_target_port(struct iscsi_target *t, unsigned i);

/* Append one PROTO_TAG_SESSION list per logged-in session to rep:
 * SESSION_ID (the TSIH, plus the ISID in the upper 48 bits), SESSION_KIND
 * = PROTO_SESS_ISCSI, PEER_ADDR, CLIENT_NAME (initiator IQN).  Fits
 * ctl_server_set_session_lister (ctx = the target). */
void iscsi_target_sessions(void *target, struct proto_buf *rep);

/* With cfg.async_events: every session whose nexus has a REPORTED LUNS
 * DATA HAS CHANGED from a map change it was not yet told of
 * (scsi_nexus_luns_changed) gets an Async Message (AsyncEvent 0) the next
 * time its loop runs.  Cheap and asynchronous; call it after scsi_notify.
 * Without async_events it does nothing. */
void iscsi_target_kick(struct iscsi_target *t);

/* Counters, for tests and the lead's status output. */
struct iscsi_target_stats {
	uint64_t accepted, logins_ok, logins_failed, sessions_now, pdus_rx, pdus_tx, rejects,
	    digest_errors, dropped;
};
void iscsi_target_get_stats(struct iscsi_target *t, struct iscsi_target_stats *st);

#endif
