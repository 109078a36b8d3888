/*
 * login: the target side of the iSCSI login phase (RFC 7143 6, 11.12,
 * 11.13): stage transitions, session identity checks, CHAP and mutual
 * CHAP, and operational negotiation (text.c).  One struct iscsi_login per
 * connection; it sees one Login Request at a time and builds the Login
 * Response header and text.  No sockets here: the connection code sends
 * the response and fills StatSN / ExpCmdSN / MaxCmdSN / TSIH.  Fuzzed by
 * tests/fuzz/fuzz_login.c.
 *
 * Policy (docs/iscsi.md):
 *  - Normal sessions: the initiator's IQN must belong to a host
 *    (array_host_by_iqn), else 0x0202 authorization failure; TargetName
 *    must be ours, else 0x0203.
 *  - Discovery sessions: any initiator; SendTargets then lists nothing for
 *    an unknown one.
 *  - Normal sessions: CHAP is required when the host has CHAP
 *    credentials, and always when require_chap is set (a host without
 *    credentials can then not log in: 0x0201).  Discovery sessions use
 *    CHAP when the initiator offers it and the host has credentials, but
 *    do not require it.
 */
#ifndef ARRAYSIM_ISCSI_LOGIN_H
#define ARRAYSIM_ISCSI_LOGIN_H

#include <stdint.h>

#include "array.h"
#include "chap.h"
#include "text.h"

struct iscsi_login_env {
	const char *target_iqn;
	uint16_t tpgt;
	int require_chap;
	struct iscsi_params offer;
	int (*host_lookup)(void *ctx, const char *iqn, struct host_info *out);
	void *ctx;
};

enum iscsi_auth_state {
	AUTH_START,  /* nothing negotiated yet */
	AUTH_NONE,   /* AuthMethod=None agreed */
	AUTH_WAIT_A, /* AuthMethod=CHAP agreed, waiting for CHAP_A */
	AUTH_WAIT_R, /* challenge sent, waiting for CHAP_N/CHAP_R */
	AUTH_OK,     /* CHAP succeeded */
};

struct iscsi_login {
	const struct iscsi_login_env *env;
	unsigned stage; /* current stage (CSG), ISCSI_STAGE_SEC or _OP */
	unsigned npdus; /* Login Requests seen */
	uint64_t isid;
	uint16_t tsih, cid;
	uint32_t cmdsn; /* the request's CmdSN (login does not advance it) */
	uint32_t expstatsn;
	int identified; /* InitiatorName etc. checked */
	int discovery;
	int tpgt_sent;
	char initiator[ARRAY_IQN_MAX + 1];
	char target[ARRAY_IQN_MAX + 1];
	char alias[256];
	int host_known;
	struct host_info host;
	int auth_required;
	enum iscsi_auth_state auth;
	uint8_t chap_id;
	uint8_t chap_c[CHAP_CHALLENGE_LEN];
	struct iscsi_nego nego;
	char *acc; /* text of C-bit continued requests */
	uint32_t acc_len;
	unsigned status; /* failure status (class << 8 | detail) */
};

enum { LOGIN_CONTINUE = 0, LOGIN_DONE = 1, LOGIN_FAIL = -1 };

void iscsi_login_init(struct iscsi_login *l, const struct iscsi_login_env *env);
void iscsi_login_free(struct iscsi_login *l);

/*
 * Process one Login Request: req is its BHS, data its data segment (dlen
 * bytes; the function may write into it and reads data[dlen], which the
 * caller guarantees is NUL).  rsp gets the Login Response BHS (opcode,
 * flags, versions, ISID, TSIH 0, ITT, status; DataSegmentLength is the
 * caller's, from out->len) and out its text.
 *
 * LOGIN_CONTINUE: send the response and wait for the next request.
 * LOGIN_DONE: send it with the session's TSIH filled in (login_set_tsih)
 * and enter full feature phase with l->nego.p.  LOGIN_FAIL: send it (its
 * status is l->status) and close the connection (RFC 7143 6.3: the
 * target drops the connection after a failed login).
 */
int iscsi_login_pdu(struct iscsi_login *l, const uint8_t *req, char *data, uint32_t dlen,
		    uint8_t *rsp, struct iscsi_textbuf *out);

#endif
