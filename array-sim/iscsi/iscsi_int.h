/*
 * iscsi_int: the target's internal structures, shared by conn.c (socket
 * rx/tx state machines), cmd.c (SCSI commands, R2T, Data-In/Out),
 * session.c (login glue, NOP, Text, Logout, TMF, Async, Reject) and
 * target.c (event loops, accept, timers, session registry).
 *
 * Ownership: a connection belongs to one loop thread from accept to
 * close; everything in struct iscsi_conn is touched only by that thread,
 * except the sess_* registry links and the fields they describe, which
 * are under target->lock.  A session is exactly one connection
 * (MaxConnections=1), so "session" state lives in the connection.
 */
#ifndef ARRAYSIM_ISCSI_INT_H
#define ARRAYSIM_ISCSI_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../scsi/scsi.h"
#include "iscsi.h"
#include "login.h"
#include "pdu.h"
#include "text.h"

#define ISCSI_TPGT	      1
#define ISCSI_LOGIN_DSL	      8192	  /* RFC 7143 13.12: default during login */
#define ISCSI_MAX_XFER	      (64u << 20) /* largest EDTL we buffer */
#define ISCSI_STAGE_SIZE      (64u << 10) /* rx staging buffer */
#define ISCSI_DIRECT_MIN      (16u << 10) /* read data straight into place above this */
#define ISCSI_TX_HIGH	      (32u << 20) /* stop reading while this much is queued */
#define ISCSI_IOV_MAX	      64
#define ISCSI_RX_BUDGET	      64 /* PDUs per readiness event, for fairness */
#define ISCSI_LOGIN_TIMEOUT_S 30
#define ISCSI_CMD_CACHE	      64	 /* free commands kept per connection */
#define ISCSI_BUF_KEEP	      (4u << 20) /* buffers above this are not kept */
#define ISCSI_MAX_R2T	      16	 /* our MaxOutstandingR2T offer */

struct iscsi_conn;

/* One PDU waiting to be sent: header (+digest), data by reference
 * (+padding and digest).  Never copied: Data-In points into the
 * command's buffer. */
struct txpdu {
	struct txpdu *next;
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
	uint8_t hlen;
	uint8_t tlen;
	uint8_t tail[3 + ISCSI_DIGEST_LEN]; /* padding + data digest */
	const uint8_t *data;
	uint32_t dlen;
	void *owned;	      /* freed after the send (NOP echo, text) */
	struct icmd *release; /* command to recycle after the send */
	int close_after;      /* Logout Response / fatal Reject: close once sent */
};

/* One outstanding R2T (RFC 7143 11.8). */
struct r2t {
	uint32_t ttt, off, len; /* solicited range */
	uint32_t got;		/* bytes received for it */
	uint32_t datasn;	/* next expected DataSN (11.7.4: per sequence) */
};

/* A SCSI command (task) of a session. */
struct icmd {
	struct icmd *next; /* wait list / free list */
	struct scsi_cmd sc;
	uint32_t itt, cmdsn, edtl;
	uint64_t lun; /* as addressed on the wire */
	uint8_t *buf; /* data buffer, cap bytes, reused */
	uint32_t cap;
	uint8_t read, write, immediate, discard;
	uint8_t seq_err;		      /* Data-Out out of sequence: ASCQ of 4Bh, +1 */
	uint8_t sensebuf[2 + SCSI_SENSE_MAX]; /* SCSI Response data segment */
	/* write side (RFC 7143 4.2.5 / 11.7 / 11.8) */
	uint32_t want;	    /* bytes the CDB needs (<= edtl) */
	uint32_t got;	    /* next in-order offset (DataPDUInOrder=Yes) */
	uint32_t unsol_end; /* immediate + unsolicited limit */
	uint8_t unsol_open; /* unsolicited Data-Out may still come */
	uint32_t unsol_datasn;
	uint32_t r2t_off; /* next offset to solicit */
	uint32_t r2tsn;
	unsigned nr2t;
	/* last: cmd_get() clears everything before it */
	struct r2t r2t[ISCSI_MAX_R2T];
};

enum rx_state {
	RX_BHS,	   /* reading the 48-byte header */
	RX_AHS_HD, /* AHS and header digest */
	RX_DATA,   /* data segment into its destination (or dropped) */
	RX_TAIL,   /* padding and data digest */
};

enum conn_phase {
	PH_LOGIN,  /* login phase */
	PH_FFP,	   /* full feature phase */
	PH_LOGOUT, /* Logout Response queued: close when sent */
	PH_DEAD,   /* to be destroyed at the end of this event */
};

struct iscsi_loop;

struct iscsi_conn {
	struct iscsi_loop *loop;
	struct iscsi_conn *next, *prev; /* loop's list */
	int fd;
	unsigned portal;
	char peer[64];
	enum conn_phase phase;
	uint32_t epoll_mask;
	double born, last_rx;

	/* ---- rx state machine ---- */
	enum rx_state rx;
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_AHS_MAX + ISCSI_DIGEST_LEN];
	uint32_t hneed, hgot;
	uint8_t *dst; /* NULL: drop the data segment */
	uint32_t dneed, dgot;
	uint8_t tail[3 + ISCSI_DIGEST_LEN];
	uint32_t tneed, tgot;
	unsigned rej_reason; /* header refused: Reject once it is skipped */
	int rej_close;	     /* ... and then close (ERL 0 protocol error) */
	struct icmd *rx_cmd; /* command the data segment belongs to */
	uint8_t *stage;	     /* staging buffer for small reads */
	uint32_t sbeg, send;
	char *small; /* data segment of NOP/Text/Login, max_recv_dsl + 1 */
	uint32_t small_cap;

	/* ---- tx queue ---- */
	struct txpdu *txq, *txq_tail, *txfree;
	uint32_t tx_off; /* bytes of txq already written */
	uint64_t tx_bytes;

	/* ---- session (one connection per session) ---- */
	struct iscsi_login login;
	struct iscsi_params p;
	int hd, dd; /* digests on */
	int discovery;
	uint16_t tsih, cid;
	uint64_t isid;
	char initiator[ARRAY_IQN_MAX + 1];
	uint32_t statsn, expcmdsn, maxcmdsn;
	unsigned window, inflight;
	struct scsi_nexus *nexus;
	struct icmd *waiting; /* commands waiting for Data-Out */
	struct icmd *cmdfree;
	unsigned nfree;
	uint32_t next_ttt;
	char *text_acc; /* Text Request continued with the C bit */
	uint32_t text_len;
	/* NOP-In ping */
	uint32_t ping_ttt;
	double ping_at;
	unsigned async_gen; /* map change last prompted with an Async Message */

	/* staged PDUs left when the rx budget ran out (loop->again list) */
	int again;
	struct iscsi_conn *again_next;

	/* ---- registry (target->lock) ---- */
	struct iscsi_conn *sess_next, *sess_prev;
	int registered;
};

struct iscsi_loop {
	struct iscsi_target *t;
	unsigned idx;
	pthread_t thread;
	int epfd, evfd;
	struct iscsi_conn *conns;
	struct iscsi_conn *again; /* to run again without waiting */
	pthread_mutex_t qlock;
	struct {
		int fd;
		unsigned portal;
	} * q;
	unsigned qlen, qcap;
	atomic_int kick;
};

struct iscsi_target {
	struct iscsi_target_cfg cfg;
	char *target_iqn;
	struct {
		int fd;
		char addr[64];
		uint16_t port;
		int wildcard;
	} portals[ISCSI_MAX_PORTALS];
	unsigned nr_portals;
	struct iscsi_loop *loops;
	unsigned nr_loops;
	unsigned rr;
	struct iscsi_login_env env;
	atomic_int stopping;
	atomic_uint nconns;
	pthread_mutex_t lock; /* registry and TSIH */
	struct iscsi_conn *sessions;
	uint16_t next_tsih;
	struct {
		atomic_ullong accepted, logins_ok, logins_failed, sessions_now, pdus_rx, pdus_tx,
		    rejects, digest_errors, dropped;
	} st;
};

/* ---- conn.c ---- */
struct txpdu *conn_tx_alloc(struct iscsi_conn *c);
/* Stamp digests and queue; data (dlen bytes) is sent by reference. */
void conn_tx_queue(struct iscsi_conn *c, struct txpdu *x);
int conn_flush(struct iscsi_conn *c);
void conn_on_event(struct iscsi_conn *c, uint32_t events);
void conn_destroy(struct iscsi_conn *c);
struct iscsi_conn *conn_create(struct iscsi_loop *l, int fd, unsigned portal);
void conn_set_epoll(struct iscsi_conn *c, uint32_t mask);
void conn_fatal(struct iscsi_conn *c, const char *why);

/* ---- session.c ---- */
/* Sequence numbers for a status-bearing PDU (advances StatSN) or not. */
void sess_stamp(struct iscsi_conn *c, uint8_t *bhs, int advance);
void sess_reject(struct iscsi_conn *c, const uint8_t *bhs, unsigned reason, int close);
/* CmdSN check of a non-immediate request (RFC 7143 4.2.2.1): 1 accept,
 * 0 silently ignore. */
int sess_cmdsn_accept(struct iscsi_conn *c, const uint8_t *bhs);
void sess_window_open(struct iscsi_conn *c); /* a command finished */
void sess_login_pdu(struct iscsi_conn *c);
void sess_nop_out(struct iscsi_conn *c);
void sess_text(struct iscsi_conn *c);
void sess_logout(struct iscsi_conn *c);
void sess_tmf(struct iscsi_conn *c);
void sess_ping(struct iscsi_conn *c, double now);
void sess_async_ua(struct iscsi_conn *c);
void sess_close(struct iscsi_conn *c); /* nexus and registry */

/* ---- cmd.c ---- */
/* Header of a SCSI Command / Data-Out arrived: set c->dst for its data. */
void cmd_rx_scsi_hdr(struct iscsi_conn *c);
void cmd_rx_data_out_hdr(struct iscsi_conn *c);
/* Its data (if any) arrived; ddigest_bad: data digest mismatch. */
void cmd_rx_scsi_done(struct iscsi_conn *c, int ddigest_bad);
void cmd_rx_data_out_done(struct iscsi_conn *c, int ddigest_bad);
void cmd_free_all(struct iscsi_conn *c);
void cmd_release(struct iscsi_conn *c, struct icmd *cmd);
/* TMF: abort waiting commands (ITT, or all on lun when all=1). */
int cmd_abort(struct iscsi_conn *c, uint32_t itt, uint64_t lun, int all_lun, int all);

/* ---- target.c ---- */
double iscsi_now(void);
void target_register(struct iscsi_target *t, struct iscsi_conn *c);
void target_unregister(struct iscsi_target *t, struct iscsi_conn *c);

#endif
