/*
 * session: sequence numbers, the login glue, and every PDU other than
 * SCSI Command / Data-Out: NOP-Out/In, Text (SendTargets), Logout, Task
 * Management, Async Message and Reject (RFC 7143 11.5, 11.9 - 11.19).
 * A session is one connection (MaxConnections=1), so its state lives in
 * struct iscsi_conn.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "iscsi_int.h"

/* ---- sequence numbers (RFC 7143 4.2.2) ---------------------------------------- */

static void update_maxcmdsn(struct iscsi_conn *c)
{
	uint32_t room = c->inflight < c->window ? c->window - c->inflight : 0;
	uint32_t m = c->expcmdsn - 1 + room;

	/* 4.2.2.1: MaxCmdSN never goes backwards */
	if (sn_lt(c->maxcmdsn, m))
		c->maxcmdsn = m;
}

void sess_stamp(struct iscsi_conn *c, uint8_t *bhs, int advance)
{
	/* StatSN advances for every status-bearing PDU (4.2.2.2) */
	bhs_set_statsn(bhs, advance ? c->statsn++ : c->statsn);
	bhs_set_expcmdsn(bhs, c->expcmdsn);
	bhs_set_maxcmdsn(bhs, c->maxcmdsn);
}

int sess_cmdsn_accept(struct iscsi_conn *c, const uint8_t *bhs)
{
	uint32_t sn = bhs_cmdsn(bhs);

	/* 4.2.2.1: outside [ExpCmdSN, MaxCmdSN] a non-immediate command is
	 * silently ignored (libiscsi iSCSICmdSnTooHigh/TooLow expect no
	 * reply and a working session). */
	if (!sn_in_window(sn, c->expcmdsn, c->maxcmdsn))
		return 0;
	/* One connection and TCP order: a gap can only be an initiator
	 * that skipped numbers; we move past it rather than wait for a
	 * command that cannot come (docs/iscsi.md). */
	c->expcmdsn = sn + 1;
	c->inflight++;
	return 1;
}

void sess_window_open(struct iscsi_conn *c)
{
	if (c->inflight)
		c->inflight--;
	update_maxcmdsn(c);
}

/* Accept a non-command request's CmdSN (it completes at once). */
static int simple_cmdsn(struct iscsi_conn *c)
{
	if (bhs_immediate(c->hdr))
		return 1;
	if (!sess_cmdsn_accept(c, c->hdr))
		return 0;
	sess_window_open(c);
	return 1;
}

static struct txpdu *new_pdu(struct iscsi_conn *c, unsigned op, unsigned flags, uint32_t itt)
{
	struct txpdu *x = conn_tx_alloc(c);

	if (!x) {
		conn_fatal(c, "oom");
		return NULL;
	}
	bhs_set_opcode(x->hdr, op);
	bhs_set_flags(x->hdr, flags);
	bhs_set_itt(x->hdr, itt);
	return x;
}

/* Attach a private copy of data (NOP echo, text, sense). */
static int set_owned(struct iscsi_conn *c, struct txpdu *x, const void *data, uint32_t len)
{
	if (!len)
		return 0;
	x->owned = malloc(len);
	if (!x->owned) {
		conn_fatal(c, "oom");
		return -1;
	}
	memcpy(x->owned, data, len);
	x->data = x->owned;
	x->dlen = len;
	return 0;
}

void sess_reject(struct iscsi_conn *c, const uint8_t *bhs, unsigned reason, int close)
{
	struct txpdu *x = new_pdu(c, ISCSI_OP_REJECT, ISCSI_F_FINAL, ISCSI_RSVD_TAG);

	atomic_fetch_add_explicit(&c->loop->t->st.rejects, 1, memory_order_relaxed);
	if (!x)
		return;
	/* 11.17: the reason, and the rejected header as data */
	bhs_set_reject_reason(x->hdr, reason);
	sess_stamp(c, x->hdr, 1);
	if (set_owned(c, x, bhs, ISCSI_BHS_LEN)) {
		conn_tx_queue(c, x); /* without data; the connection is dying */
		return;
	}
	if (close) {
		x->close_after = 1;
		c->phase = PH_LOGOUT; /* read nothing more */
	}
	conn_tx_queue(c, x);
}

/* ---- login ---------------------------------------------------------------------- */

static int open_session(struct iscsi_conn *c)
{
	struct iscsi_target *t = c->loop->t;
	struct iscsi_login *l = &c->login;
	char iport[ARRAY_IQN_MAX + 32], tport[ARRAY_IQN_MAX + 32];
	char *small;

	c->p = l->nego.p;
	c->discovery = l->discovery;
	c->isid = l->isid;
	c->cid = l->cid;
	snprintf(c->initiator, sizeof(c->initiator), "%s", l->initiator);
	/* the data segment buffer grows to what we declared */
	small = realloc(c->small, c->p.max_recv_dsl + 1);
	if (!small)
		return ISCSI_LOGIN_NO_RESOURCES;
	c->small = small;
	c->small_cap = c->p.max_recv_dsl;
	if (!c->discovery) {
		/* SAM-5 / RFC 7143 10.1: port names "<iqn>,i,0x<ISID>" and
		 * "<iqn>,t,0x<TPGT>" name the I_T nexus for reservations */
		snprintf(iport, sizeof(iport), "%s,i,0x%012llx", c->initiator,
			 (unsigned long long)c->isid);
		snprintf(tport, sizeof(tport), "%s,t,0x%04x", t->target_iqn, ISCSI_TPGT);
		/* one target port for all portals of the portal group */
		if (scsi_nexus_open(t->cfg.scsi, c->initiator, iport, tport, 1, &c->nexus))
			return ISCSI_LOGIN_NO_RESOURCES;
	}
	target_register(t, c);
	return 0;
}

void sess_login_pdu(struct iscsi_conn *c)
{
	struct iscsi_target *t = c->loop->t;
	struct iscsi_login *l = &c->login;
	char text[ISCSI_LOGIN_DSL];
	struct iscsi_textbuf out;
	struct txpdu *x = conn_tx_alloc(c);
	int first = l->npdus == 0, r;

	if (!x) {
		conn_fatal(c, "oom");
		return;
	}
	iscsi_textbuf_init(&out, text, sizeof(text));
	r = iscsi_login_pdu(l, c->hdr, c->small, bhs_dsl(c->hdr), x->hdr, &out);
	if (first)
		c->statsn = l->expstatsn; /* our first StatSN: what it expects */
	/* 11.13: login does not consume a CmdSN; the window opens at the
	 * end (MaxCmdSN = ExpCmdSN during login, as tgt) */
	c->expcmdsn = l->cmdsn;
	c->maxcmdsn = l->cmdsn;
	if (r == LOGIN_DONE) {
		unsigned st = open_session(c);

		if (st) {
			l->status = st;
			login_set_stages(x->hdr, 0, l->stage, 0);
			login_set_status(x->hdr, st);
			out.len = 0;
			r = LOGIN_FAIL;
		} else {
			login_set_tsih(x->hdr, c->tsih);
			c->maxcmdsn = c->expcmdsn - 1 + c->window;
		}
	}
	sess_stamp(c, x->hdr, 1);
	if (set_owned(c, x, text, (uint32_t)out.len)) {
		free(x);
		return;
	}
	if (r == LOGIN_FAIL) {
		/* 6.3: the target closes after a failed login response */
		x->close_after = 1;
		c->phase = PH_LOGOUT;
		atomic_fetch_add_explicit(&t->st.logins_failed, 1, memory_order_relaxed);
	}
	conn_tx_queue(c, x);
	if (r == LOGIN_DONE) {
		/* 13.1: digests start with the first PDU after the final
		 * Login Response, in both directions */
		c->hd = c->p.header_digest == ISCSI_DIGEST_CRC32C;
		c->dd = c->p.data_digest == ISCSI_DIGEST_CRC32C;
		c->phase = PH_FFP;
		iscsi_login_free(l);
		atomic_fetch_add_explicit(&t->st.logins_ok, 1, memory_order_relaxed);
	}
}

/* ---- NOP ------------------------------------------------------------------------- */

void sess_nop_out(struct iscsi_conn *c)
{
	const uint8_t *h = c->hdr;
	uint32_t itt = bhs_itt(h), ttt = bhs_ttt(h), dsl = bhs_dsl(h);
	struct txpdu *x;

	if (ttt != ISCSI_RSVD_TAG && ttt == c->ping_ttt) {
		/* 11.18: the answer to our NOP-In ping */
		c->ping_ttt = 0;
		c->ping_at = 0;
	}
	if (itt == ISCSI_RSVD_TAG)
		return; /* no reply wanted (always immediate: bhs_check) */
	if (!simple_cmdsn(c))
		return;
	x = new_pdu(c, ISCSI_OP_NOP_IN, ISCSI_F_FINAL, itt);
	if (!x)
		return;
	/* 11.19: echo the ping data, TTT reserved, StatSN advances */
	bhs_set_lun(x->hdr, bhs_lun(h));
	bhs_set_ttt(x->hdr, ISCSI_RSVD_TAG);
	sess_stamp(c, x->hdr, 1);
	if (dsl > c->p.max_xmit_dsl)
		dsl = c->p.max_xmit_dsl;
	if (set_owned(c, x, c->small, dsl)) {
		free(x);
		return;
	}
	conn_tx_queue(c, x);
}

void sess_ping(struct iscsi_conn *c, double now)
{
	struct iscsi_target *t = c->loop->t;
	double iv = t->cfg.nop_interval_s;
	struct txpdu *x;

	if (c->phase != PH_FFP)
		return;
	if (c->ping_ttt) {
		/* any traffic proves the initiator alive; silence for three
		 * intervals with a ping out does not */
		if (now - c->last_rx > 3 * iv)
			conn_fatal(c, "ping timeout");
		return;
	}
	if (now - c->last_rx < iv)
		return;
	x = new_pdu(c, ISCSI_OP_NOP_IN, ISCSI_F_FINAL, ISCSI_RSVD_TAG);
	if (!x)
		return;
	/* 11.19: a target ping has ITT reserved and a TTT the initiator
	 * must echo; StatSN is not advanced */
	c->ping_ttt = c->next_ttt++;
	if (c->next_ttt == ISCSI_RSVD_TAG)
		c->next_ttt = 1;
	c->ping_at = now;
	bhs_set_ttt(x->hdr, c->ping_ttt);
	sess_stamp(c, x->hdr, 0);
	conn_tx_queue(c, x);
	if (conn_flush(c) < 0)
		conn_fatal(c, "write");
}

/* ---- Async Message ----------------------------------------------------------------- */

void sess_async_ua(struct iscsi_conn *c)
{
	uint8_t data[2 + 18] = {0};
	struct txpdu *x;
	unsigned gen;

	if (c->phase != PH_FFP || !c->nexus)
		return;
	/* Only a map change the initiator was not yet prompted for: any
	 * other pending UA (POWER ON of a fresh nexus, CAPACITY DATA HAS
	 * CHANGED) waits for the next command, as it would without us. */
	gen = scsi_nexus_luns_changed(c->nexus);
	if (!gen || gen == c->async_gen)
		return;
	x = new_pdu(c, ISCSI_OP_ASYNC, ISCSI_F_FINAL, ISCSI_RSVD_TAG);
	if (!x)
		return;
	/* 11.9: AsyncEvent 0, a SCSI asynchronous event; the data segment is
	 * SenseLength and fixed-format sense: UNIT ATTENTION, REPORTED LUNS
	 * DATA HAS CHANGED (what open-iscsi's iscsid rescans on).  The UA is
	 * still returned on the next command, which Windows relies on.  LUN
	 * 0 names the target's LUN inventory (REPORT LUNS goes to LUN 0); the
	 * reserved word at 20 is all ones like LIO's.  An Async Message is
	 * status-bearing: it takes the next StatSN (Linux sets ExpStatSN to
	 * it plus one). */
	be16_put(data, 18);
	data[2] = 0x70;
	data[2 + 2] = 0x06; /* UNIT ATTENTION */
	data[2 + 7] = 10;
	data[2 + 12] = 0x3f;
	data[2 + 13] = 0x0e;
	bhs_set_lun(x->hdr, 0);
	bhs_set_ttt(x->hdr, ISCSI_RSVD_TAG);
	sess_stamp(c, x->hdr, 1);
	bhs_set_async_event(x->hdr, 0);
	if (set_owned(c, x, data, sizeof(data))) {
		free(x);
		return;
	}
	conn_tx_queue(c, x);
	c->async_gen = gen;
	if (conn_flush(c) < 0)
		conn_fatal(c, "write");
}

/* ---- Text / SendTargets -------------------------------------------------------------- */

static void portal_text(struct iscsi_conn *c, unsigned i, char *out, size_t outsz)
{
	struct iscsi_target *t = c->loop->t;
	char addr[INET6_ADDRSTRLEN] = "";
	uint16_t port = t->portals[i].port;

	snprintf(addr, sizeof(addr), "%s", t->portals[i].addr);
	if (t->portals[i].wildcard) {
		/* a wildcard portal: the address this connection came in
		 * on (tgt does the same with getsockname) */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (!getsockname(c->fd, (struct sockaddr *)&ss, &sl)) {
			if (ss.ss_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr,
					  sizeof(addr));
			else if (ss.ss_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr,
					  sizeof(addr));
		}
	}
	/* 13.8: domainname[:port][,portal-group-tag]; IPv6 in brackets */
	if (strchr(addr, ':'))
		snprintf(out, outsz, "[%s]:%u,%u", addr, port, ISCSI_TPGT);
	else
		snprintf(out, outsz, "%s:%u,%u", addr, port, ISCSI_TPGT);
}

static void send_targets(struct iscsi_conn *c, const char *val, struct iscsi_textbuf *out)
{
	struct iscsi_target *t = c->loop->t;
	struct host_info *h;
	int known;

	/* 13.3 / appendix C: "All", our name, or (in a Normal session) the
	 * empty value for the session's own target.  Anything else is
	 * refused rather than answered empty (libiscsi's
	 * iSCSISendTargets.Invalid wants a failure). */
	if (strcmp(val, "All") && strcasecmp(val, t->target_iqn) && (val[0] || c->discovery)) {
		iscsi_text_add(out, "SendTargets", "Reject");
		return;
	}
	/* Only targets this initiator may see: a known host. */
	h = malloc(sizeof(*h));
	if (!h)
		return;
	known = t->env.host_lookup && !t->env.host_lookup(t->env.ctx, c->initiator, h);
	free(h);
	if (!known)
		return;
	iscsi_text_add(out, "TargetName", t->target_iqn);
	for (unsigned i = 0; i < t->nr_portals; i++) {
		char a[96];

		portal_text(c, i, a, sizeof(a));
		iscsi_text_add(out, "TargetAddress", a);
	}
}

void sess_text(struct iscsi_conn *c)
{
	const uint8_t *h = c->hdr;
	uint32_t dsl = bhs_dsl(h), cap = c->p.max_xmit_dsl;
	int cont = !!(bhs_flags(h) & ISCSI_F_TEXT_C);
	struct iscsi_kv kv[ISCSI_KV_MAX];
	struct iscsi_textbuf out;
	struct iscsi_nego nego;
	struct txpdu *x;
	char *text = c->small, *rsp;
	uint32_t tlen = dsl;
	int n;

	if (!simple_cmdsn(c))
		return;
	if (bhs_ttt(h) != ISCSI_RSVD_TAG && !c->text_acc) {
		/* 11.10.4: we never leave a reply unfinished, so there is
		 * nothing to continue */
		sess_reject(c, h, ISCSI_REJ_INVALID_FIELD, 0);
		return;
	}
	if (cont || c->text_acc) {
		char *acc;

		if (c->text_len + dsl > ISCSI_TEXT_MAX) {
			sess_reject(c, h, ISCSI_REJ_PROTOCOL, 0);
			free(c->text_acc);
			c->text_acc = NULL;
			c->text_len = 0;
			return;
		}
		acc = realloc(c->text_acc, c->text_len + dsl + 1);
		if (!acc) {
			conn_fatal(c, "oom");
			return;
		}
		memcpy(acc + c->text_len, c->small, dsl);
		c->text_acc = acc;
		c->text_len += dsl;
		acc[c->text_len] = '\0';
		if (cont) {
			/* 11.10.2: an empty response, F=0, with a TTT for
			 * the rest */
			x = new_pdu(c, ISCSI_OP_TEXT_RSP, 0, bhs_itt(h));
			if (!x)
				return;
			bhs_set_ttt(x->hdr, 0x7fffffff);
			sess_stamp(c, x->hdr, 1);
			conn_tx_queue(c, x);
			return;
		}
		text = c->text_acc;
		tlen = c->text_len;
	}
	rsp = malloc(cap);
	if (!rsp) {
		conn_fatal(c, "oom");
		return;
	}
	iscsi_textbuf_init(&out, rsp, cap);
	n = iscsi_text_split(text, tlen, kv, ISCSI_KV_MAX);
	if (n < 0) {
		sess_reject(c, h, ISCSI_REJ_PROTOCOL, 0);
		n = -1;
	}
	nego = (struct iscsi_nego){
	    .p = c->p, .offer = c->loop->t->env.offer, .discovery = c->discovery, .ffp = 1};
	for (int i = 0; i < n; i++) {
		if (!strcmp(kv[i].key, "SendTargets"))
			send_targets(c, kv[i].val, &out);
		else if (!iscsi_nego_key(&nego, kv[i].key, kv[i].val, &out))
			iscsi_text_add(&out, kv[i].key, "NotUnderstood");
	}
	/* only the declarative MaxRecvDataSegmentLength changes in FFP */
	c->p.max_xmit_dsl = nego.p.max_xmit_dsl;
	free(c->text_acc);
	c->text_acc = NULL;
	c->text_len = 0;
	if (n >= 0 && (x = new_pdu(c, ISCSI_OP_TEXT_RSP, ISCSI_F_FINAL, bhs_itt(h)))) {
		/* 11.11: F=1 and TTT reserved: the exchange is complete
		 * (libiscsi wants exactly F=1, C=0) */
		bhs_set_ttt(x->hdr, ISCSI_RSVD_TAG);
		sess_stamp(c, x->hdr, 1);
		x->owned = rsp;
		x->data = (uint8_t *)rsp;
		x->dlen = (uint32_t)out.len;
		conn_tx_queue(c, x);
		return;
	}
	free(rsp);
}

/* ---- Logout ---------------------------------------------------------------------------- */

void sess_logout(struct iscsi_conn *c)
{
	const uint8_t *h = c->hdr;
	unsigned reason = bhs_flags(h) & 0x7f, rsp;
	struct txpdu *x;

	if (!simple_cmdsn(c))
		return;
	/* 11.14.1 / 11.15.1 */
	if (reason == 0)
		rsp = 0; /* close the session */
	else if (reason == 1)
		rsp = bhs_logout_cid(h) == c->cid ? 0 : 1; /* close connection / CID not found */
	else if (reason == 2)
		rsp = 2; /* connection recovery is not supported at ERL 0 */
	else {
		sess_reject(c, h, ISCSI_REJ_INVALID_FIELD, 0);
		return;
	}
	x = new_pdu(c, ISCSI_OP_LOGOUT_RSP, ISCSI_F_FINAL, bhs_itt(h));
	if (!x)
		return;
	bhs_set_response(x->hdr, rsp);
	sess_stamp(c, x->hdr, 1);
	/* 11.15.4/5: Time2Wait/Time2Retain; nothing to retain at ERL 0 */
	bhs_set_logout_times(x->hdr, 0, 0);
	if (rsp == 0) {
		/* the session's only connection: its tasks end with it */
		cmd_abort(c, 0, 0, 0, 1);
		x->close_after = 1;
		c->phase = PH_LOGOUT;
	}
	conn_tx_queue(c, x);
}

/* ---- Task management -------------------------------------------------------------------- */

static unsigned tmf_map(int r)
{
	if (r == 0)
		return ISCSI_TMF_RSP_COMPLETE;
	if (r == -ENOENT)
		return ISCSI_TMF_RSP_NO_LUN;
	if (r == -ENOTSUP)
		return ISCSI_TMF_RSP_NOT_SUPPORTED;
	return ISCSI_TMF_RSP_REJECTED;
}

void sess_tmf(struct iscsi_conn *c)
{
	const uint8_t *h = c->hdr;
	unsigned fn = bhs_flags(h) & 0x7f, rsp;
	uint64_t lun = bhs_lun(h), lunno = iscsi_lun_decode(lun);
	uint32_t ref = bhs_tmf_ref_itt(h), refsn = bhs_tmf_refcmdsn(h);
	int close = 0;
	struct txpdu *x;

	if (!simple_cmdsn(c))
		return;
	if (!c->nexus) {
		rsp = ISCSI_TMF_RSP_AUTH_FAILED; /* a Discovery session */
	} else {
		switch (fn) {
		case SCSI_TMF_ABORT_TASK:
			/* 11.5.1: found and aborted; not yet arrived but
			 * inside the window counts as aborted; otherwise it
			 * already completed */
			if (cmd_abort(c, ref, 0, 0, 0))
				rsp = ISCSI_TMF_RSP_COMPLETE;
			else if (sn_in_window(refsn, c->expcmdsn, c->maxcmdsn))
				rsp = ISCSI_TMF_RSP_COMPLETE;
			else
				rsp = ISCSI_TMF_RSP_NO_TASK;
			break;
		case SCSI_TMF_ABORT_TASK_SET:
		case SCSI_TMF_CLEAR_TASK_SET:
		case SCSI_TMF_LUN_RESET:
			cmd_abort(c, 0, lun, 1, 0);
			rsp = tmf_map(scsi_tmf(c->nexus, (enum scsi_tmf)fn, lunno));
			break;
		case SCSI_TMF_CLEAR_ACA:
			rsp = tmf_map(scsi_tmf(c->nexus, (enum scsi_tmf)fn, lunno));
			break;
		case SCSI_TMF_TARGET_WARM_RESET:
		case SCSI_TMF_TARGET_COLD_RESET:
			cmd_abort(c, 0, 0, 0, 1);
			rsp = tmf_map(scsi_tmf(c->nexus, (enum scsi_tmf)fn, lunno));
			/* 11.5.1: a cold reset also drops the connections */
			close = fn == SCSI_TMF_TARGET_COLD_RESET;
			break;
		case ISCSI_TMF_TASK_REASSIGN:
			/* needs ERL 2 */
			rsp = ISCSI_TMF_RSP_NO_REASSIGN;
			break;
		default:
			rsp = ISCSI_TMF_RSP_NOT_SUPPORTED;
			break;
		}
	}
	x = new_pdu(c, ISCSI_OP_TMF_RSP, ISCSI_F_FINAL, bhs_itt(h));
	if (!x)
		return;
	bhs_set_response(x->hdr, rsp);
	sess_stamp(c, x->hdr, 1);
	if (close) {
		x->close_after = 1;
		c->phase = PH_LOGOUT;
	}
	conn_tx_queue(c, x);
}

void sess_close(struct iscsi_conn *c)
{
	if (c->registered)
		target_unregister(c->loop->t, c);
	if (c->nexus) {
		scsi_nexus_close(c->nexus);
		c->nexus = NULL;
	}
}
