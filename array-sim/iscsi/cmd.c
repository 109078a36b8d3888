/*
 * cmd: SCSI Command, R2T, Data-Out, Data-In and SCSI Response (RFC 7143
 * 11.3 - 11.8) for one connection.
 *
 * Write data flow (4.2.5.1, 13.10, 13.11, 13.14): immediate data in the
 * command PDU, then unsolicited Data-Out (TTT 0xffffffff) while the
 * command's F bit was 0, then R2Ts for what the CDB still needs, at most
 * MaxOutstandingR2T at a time and MaxBurstLength each.  We negotiate
 * DataPDUInOrder=Yes and DataSequenceInOrder=Yes, so every byte of a
 * command arrives in offset order and "got" is a single cursor.
 *
 * Once the data is in, the command runs inline on this loop thread
 * (scsi_execute) and its Data-In / SCSI Response PDUs are queued by
 * reference to the command's buffer; the command is recycled when its last
 * PDU has been written.
 */
#include <stdlib.h>
#include <string.h>

#include "iscsi_int.h"

static struct icmd *cmd_get(struct iscsi_conn *c)
{
	struct icmd *cmd = c->cmdfree;
	uint8_t *buf = NULL;
	uint32_t cap = 0;

	if (cmd) {
		c->cmdfree = cmd->next;
		c->nfree--;
		buf = cmd->buf;
		cap = cmd->cap;
	} else {
		cmd = malloc(sizeof(*cmd));
		if (!cmd)
			return NULL;
	}
	/* only the fields before the R2T table need clearing */
	memset(cmd, 0, offsetof(struct icmd, r2t));
	cmd->buf = buf;
	cmd->cap = cap;
	return cmd;
}

static int cmd_buf(struct icmd *cmd, uint32_t len)
{
	uint8_t *nb;

	if (cmd->cap >= len)
		return 0;
	/* no realloc: the old content is of no use */
	nb = malloc(len ? len : 1);
	if (!nb)
		return -1;
	free(cmd->buf);
	cmd->buf = nb;
	cmd->cap = len;
	return 0;
}

void cmd_release(struct iscsi_conn *c, struct icmd *cmd)
{
	if (cmd->cap > ISCSI_BUF_KEEP) {
		free(cmd->buf);
		cmd->buf = NULL;
		cmd->cap = 0;
	}
	if (c->nfree >= ISCSI_CMD_CACHE) {
		free(cmd->buf);
		free(cmd);
		return;
	}
	cmd->next = c->cmdfree;
	c->cmdfree = cmd;
	c->nfree++;
}

static void unlink_waiting(struct iscsi_conn *c, struct icmd *cmd)
{
	for (struct icmd **pp = &c->waiting; *pp; pp = &(*pp)->next)
		if (*pp == cmd) {
			*pp = cmd->next;
			cmd->next = NULL;
			return;
		}
}

void cmd_free_all(struct iscsi_conn *c)
{
	while (c->waiting) {
		struct icmd *cmd = c->waiting;

		c->waiting = cmd->next;
		free(cmd->buf);
		free(cmd);
	}
	while (c->cmdfree) {
		struct icmd *cmd = c->cmdfree;

		c->cmdfree = cmd->next;
		free(cmd->buf);
		free(cmd);
	}
	c->nfree = 0;
}

/* Fixed-format sense (SPC-4 4.5.3) for errors the fabric finds itself. */
static void own_sense(struct icmd *cmd, unsigned key, unsigned asc, unsigned ascq)
{
	memset(cmd->sc.sense, 0, 18);
	cmd->sc.sense[0] = 0x70;
	cmd->sc.sense[2] = (uint8_t)key;
	cmd->sc.sense[7] = 10;
	cmd->sc.sense[12] = (uint8_t)asc;
	cmd->sc.sense[13] = (uint8_t)ascq;
	cmd->sc.sense_len = 18;
	cmd->sc.status = SAM_STAT_CHECK_CONDITION;
}

/* ---- responses -------------------------------------------------------------- */

/* RFC 7143 11.4.5: residuals compare the Expected Data Transfer Length
 * with what the command wanted to move. */
static unsigned residual(const struct icmd *cmd, uint32_t *count)
{
	uint32_t want = cmd->sc.xfer_len;

	*count = 0;
	if (want > cmd->edtl) {
		*count = want - cmd->edtl;
		return ISCSI_F_RSP_O;
	}
	if (want < cmd->edtl) {
		*count = cmd->edtl - want;
		return ISCSI_F_RSP_U;
	}
	return 0;
}

static void send_response(struct iscsi_conn *c, struct icmd *cmd, uint32_t expdatasn)
{
	struct txpdu *x = conn_tx_alloc(c);
	uint32_t res;
	unsigned rf;

	if (!x) {
		conn_fatal(c, "oom");
		cmd_release(c, cmd);
		return;
	}
	rf = residual(cmd, &res);
	/* 11.4: SCSI Response */
	bhs_set_opcode(x->hdr, ISCSI_OP_SCSI_RSP);
	bhs_set_flags(x->hdr, ISCSI_F_FINAL | rf);
	bhs_set_response(x->hdr, 0x00); /* command completed at target */
	bhs_set_status(x->hdr, cmd->sc.status);
	bhs_set_itt(x->hdr, cmd->itt);
	sess_stamp(c, x->hdr, 1);
	bhs_set_expdatasn(x->hdr, expdatasn);
	bhs_set_residual(x->hdr, res);
	if (cmd->sc.sense_len) {
		uint32_t sl =
		    cmd->sc.sense_len > SCSI_SENSE_MAX ? SCSI_SENSE_MAX : cmd->sc.sense_len;

		/* 11.4.7: SenseLength, then the sense data */
		be16_put(cmd->sensebuf, (uint16_t)sl);
		memcpy(cmd->sensebuf + 2, cmd->sc.sense, sl);
		x->data = cmd->sensebuf;
		x->dlen = 2 + sl;
	}
	x->release = cmd;
	conn_tx_queue(c, x);
}

/* Data-In PDUs for a read, the last carrying status when it may
 * (11.7.3: only without sense, i.e. GOOD/CONDITION MET). */
static void send_data_in(struct iscsi_conn *c, struct icmd *cmd)
{
	uint32_t len = cmd->sc.data_in_len < cmd->edtl ? cmd->sc.data_in_len : cmd->edtl;
	int collapse = cmd->sc.sense_len == 0 && (cmd->sc.status == SAM_STAT_GOOD ||
						  cmd->sc.status == SAM_STAT_CONDITION_MET);
	uint32_t off = 0, datasn = 0, burst = 0;

	while (off < len) {
		struct txpdu *x = conn_tx_alloc(c);
		uint32_t n = len - off;
		unsigned flags = 0;

		if (!x) {
			conn_fatal(c, "oom");
			cmd_release(c, cmd);
			return;
		}
		/* each PDU within the initiator's MaxRecvDataSegmentLength,
		 * each sequence (F bit) within MaxBurstLength (11.7.1) */
		if (n > c->p.max_xmit_dsl)
			n = c->p.max_xmit_dsl;
		if (n > c->p.max_burst - burst)
			n = c->p.max_burst - burst;
		burst += n;
		if (burst == c->p.max_burst || off + n == len) {
			flags |= ISCSI_F_FINAL;
			burst = 0;
		}
		bhs_set_opcode(x->hdr, ISCSI_OP_DATA_IN);
		bhs_set_lun(x->hdr, cmd->lun);
		bhs_set_itt(x->hdr, cmd->itt);
		bhs_set_ttt(x->hdr, ISCSI_RSVD_TAG);
		bhs_set_datasn(x->hdr, datasn++);
		bhs_set_buffer_offset(x->hdr, off);
		x->data = cmd->buf + off;
		x->dlen = n;
		off += n;
		if (off == len && collapse) {
			uint32_t res;

			flags |= ISCSI_F_DATA_S | residual(cmd, &res);
			bhs_set_status(x->hdr, cmd->sc.status);
			bhs_set_residual(x->hdr, res);
			sess_stamp(c, x->hdr, 1);
			x->release = cmd;
		} else {
			/* StatSN is reserved without S; stamp the windows */
			sess_stamp(c, x->hdr, 0);
			be32_put(x->hdr + 24, 0);
		}
		bhs_set_flags(x->hdr, flags);
		conn_tx_queue(c, x);
	}
	if (!(len && collapse))
		send_response(c, cmd, datasn);
}

static void execute(struct iscsi_conn *c, struct icmd *cmd)
{
	struct scsi_cmd *sc = &cmd->sc;

	unlink_waiting(c, cmd);
	if (!cmd->immediate)
		sess_window_open(c);
	if (cmd->seq_err) {
		/* RFC 7143 11.4.7.2: ABORTED COMMAND, DATA PHASE ERROR (4Bh/00h)
		 * for a DataSN out of order, DATA OFFSET ERROR (4Bh/05h) */
		own_sense(cmd, 0x0b, 0x4b, cmd->seq_err - 1u);
		sc->xfer_len = cmd->edtl;
	} else if (cmd->discard) {
		/* more than we buffer: ILLEGAL REQUEST, INVALID FIELD IN CDB */
		own_sense(cmd, 0x05, 0x24, 0x00);
		sc->xfer_len = cmd->edtl;
	} else if (!c->nexus) {
		/* no LU behind a session that has no nexus */
		own_sense(cmd, 0x05, 0x25, 0x00);
		sc->xfer_len = cmd->edtl;
	} else {
		if (cmd->read) {
			if (cmd_buf(cmd, cmd->edtl)) {
				own_sense(cmd, 0x0b, 0x55, 0x03); /* insufficient resources */
				send_response(c, cmd, 0);
				return;
			}
			sc->data_in = cmd->buf;
		}
		if (cmd->write) {
			sc->data_out = cmd->buf;
			sc->data_out_len = cmd->got < cmd->edtl ? cmd->got : cmd->edtl;
		}
		scsi_execute(c->nexus, sc);
		if (sc->data_in_len > cmd->edtl)
			sc->data_in_len = cmd->edtl;
	}
	if (cmd->read && sc->data_in_len)
		send_data_in(c, cmd);
	else
		send_response(c, cmd, cmd->r2tsn);
}

/* Solicit what is still missing (11.8), or run the command when all is
 * in. */
static void solicit(struct iscsi_conn *c, struct icmd *cmd)
{
	if (cmd->unsol_open)
		return;
	if (cmd->r2t_off < cmd->got)
		cmd->r2t_off = cmd->got;
	while (cmd->nr2t < c->p.max_r2t && cmd->nr2t < ISCSI_MAX_R2T && cmd->r2t_off < cmd->want &&
	       !cmd->discard) {
		struct txpdu *x = conn_tx_alloc(c);
		struct r2t *r = &cmd->r2t[cmd->nr2t];
		uint32_t len = cmd->want - cmd->r2t_off;

		if (!x) {
			conn_fatal(c, "oom");
			return;
		}
		if (len > c->p.max_burst)
			len = c->p.max_burst; /* 11.8.6: never above MaxBurstLength */
		r->ttt = c->next_ttt++;
		if (c->next_ttt == ISCSI_RSVD_TAG)
			c->next_ttt = 1;
		r->off = cmd->r2t_off;
		r->len = len;
		r->got = 0;
		r->datasn = 0;
		cmd->nr2t++;
		cmd->r2t_off += len;
		bhs_set_opcode(x->hdr, ISCSI_OP_R2T);
		bhs_set_flags(x->hdr, ISCSI_F_FINAL);
		bhs_set_lun(x->hdr, cmd->lun);
		bhs_set_itt(x->hdr, cmd->itt);
		bhs_set_ttt(x->hdr, r->ttt);
		sess_stamp(c, x->hdr, 0); /* 11.8: StatSN not advanced */
		bhs_set_datasn(x->hdr, cmd->r2tsn++);
		bhs_set_buffer_offset(x->hdr, r->off);
		bhs_set_desired_len(x->hdr, r->len);
		conn_tx_queue(c, x);
	}
	if (cmd->nr2t == 0 && (cmd->got >= cmd->want || cmd->discard))
		execute(c, cmd);
}

/* ---- SCSI Command ------------------------------------------------------------ */

static void reject_hdr(struct iscsi_conn *c, unsigned reason, int close)
{
	c->rej_reason = reason;
	c->rej_close = close;
	c->dst = NULL;
}

void cmd_rx_scsi_hdr(struct iscsi_conn *c)
{
	const uint8_t *h = c->hdr;
	unsigned flags = bhs_flags(h);
	uint32_t dsl = bhs_dsl(h), edtl = bhs_edtl(h);
	uint8_t ext[SCSI_MAX_CDB - 16];
	unsigned ext_len = 0, attr;
	int bidi = 0, imm = bhs_immediate(h);
	struct icmd *cmd;

	if (c->discovery) {
		/* 4.3: a Discovery session carries no SCSI commands */
		reject_hdr(c, ISCSI_REJ_PROTOCOL, 0);
		return;
	}
	if (!imm && !sess_cmdsn_accept(c, h))
		return; /* 4.2.2.1: silently ignored, data dropped */
	if (iscsi_ahs_parse(h + ISCSI_BHS_LEN, bhs_ahs_len(h), ext, sizeof(ext), &ext_len, &bidi) ||
	    bidi || ((flags & ISCSI_F_CMD_R) && (flags & ISCSI_F_CMD_W))) {
		/* bidirectional commands are not supported */
		if (!imm)
			sess_window_open(c);
		reject_hdr(c,
			   bidi || ((flags & ISCSI_F_CMD_R) && (flags & ISCSI_F_CMD_W))
			       ? ISCSI_REJ_NOT_SUPPORTED
			       : ISCSI_REJ_INVALID_FIELD,
			   0);
		return;
	}
	/* 11.3.4 / 13.11 / 13.14: immediate data only with W, only when
	 * ImmediateData=Yes, and within EDTL and FirstBurstLength.  A
	 * command with F=0 announces unsolicited Data-Out (needs
	 * InitialR2T=No). */
	if ((dsl && (!(flags & ISCSI_F_CMD_W) || !c->p.immediate_data || dsl > edtl ||
		     dsl > c->p.first_burst)) ||
	    (!(flags & ISCSI_F_FINAL) && (!(flags & ISCSI_F_CMD_W) || c->p.initial_r2t))) {
		if (!imm)
			sess_window_open(c);
		reject_hdr(c, ISCSI_REJ_PROTOCOL, 1);
		return;
	}
	cmd = cmd_get(c);
	if (!cmd) {
		if (!imm)
			sess_window_open(c);
		reject_hdr(c, ISCSI_REJ_OUT_OF_RESOURCES, 0);
		return;
	}
	cmd->itt = bhs_itt(h);
	cmd->cmdsn = bhs_cmdsn(h);
	cmd->edtl = edtl;
	cmd->lun = bhs_lun(h);
	cmd->immediate = (uint8_t)imm;
	cmd->read = !!(flags & ISCSI_F_CMD_R);
	cmd->write = !!(flags & ISCSI_F_CMD_W);
	memcpy(cmd->sc.cdb, bhs_cdb(h), 16);
	memcpy(cmd->sc.cdb + 16, ext, ext_len);
	cmd->sc.cdb_len = 16 + ext_len;
	cmd->sc.lun = iscsi_lun_decode(cmd->lun);
	cmd->sc.tag = cmd->itt;
	/* 11.3.1 ATTR (0 untagged, 1 simple, 2 ordered, 3 head of queue,
	 * 4 ACA) to SAM's (0 simple, 1 ordered, 2 HoQ, 4 ACA) */
	attr = flags & ISCSI_F_ATTR;
	cmd->sc.task_attr = attr <= 1 ? 0 : attr == 2 ? 1 : attr == 3 ? 2 : 4;
	cmd->sc.exp_xfer_len = edtl;
	if (edtl > ISCSI_MAX_XFER) {
		cmd->discard = 1;
	} else if (cmd->write) {
		int64_t need =
		    c->nexus ? scsi_cdb_data_out_len(cmd->sc.cdb, cmd->sc.cdb_len,
						     scsi_lun_block_size(c->nexus, cmd->sc.lun))
			     : 0;

		if (cmd_buf(cmd, edtl)) {
			cmd->discard = 1;
		} else {
			cmd->want = need < 0 ? 0 : need > edtl ? edtl : (uint32_t)need;
			c->dst = cmd->buf;
		}
	}
	c->rx_cmd = cmd;
}

void cmd_rx_scsi_done(struct iscsi_conn *c, int ddigest_bad)
{
	struct icmd *cmd = c->rx_cmd;
	const uint8_t *h = c->hdr;

	(void)ddigest_bad;
	if (!cmd)
		return;
	c->rx_cmd = NULL;
	if (!cmd->write) {
		execute(c, cmd);
		return;
	}
	cmd->got = bhs_dsl(h);
	cmd->unsol_open = !(bhs_flags(h) & ISCSI_F_FINAL);
	/* 13.14: immediate plus unsolicited data stop at FirstBurstLength */
	cmd->unsol_end = c->p.first_burst < cmd->edtl ? c->p.first_burst : cmd->edtl;
	if (cmd->unsol_open || cmd->got < cmd->want) {
		cmd->next = c->waiting;
		c->waiting = cmd;
	}
	solicit(c, cmd);
}

/* ---- Data-Out ---------------------------------------------------------------- */

void cmd_rx_data_out_hdr(struct iscsi_conn *c)
{
	const uint8_t *h = c->hdr;
	uint32_t itt = bhs_itt(h), ttt = bhs_ttt(h), off = bhs_buffer_offset(h);
	uint32_t dsl = bhs_dsl(h), sn = bhs_datasn(h);
	struct icmd *cmd;

	for (cmd = c->waiting; cmd; cmd = cmd->next)
		if (cmd->itt == itt)
			break;
	if (!cmd) {
		/* 11.7: no such task (finished, aborted or never seen) */
		reject_hdr(c, ISCSI_REJ_INVALID_FIELD, 0);
		return;
	}
	if (ttt == ISCSI_RSVD_TAG) {
		/* unsolicited (11.7.4: DataSN from 0 per sequence; in-order
		 * offsets as DataPDUInOrder=Yes; at most FirstBurstLength) */
		if (!cmd->unsol_open) {
			reject_hdr(c, ISCSI_REJ_PROTOCOL, 0);
			return;
		}
		if (sn != cmd->unsol_datasn)
			cmd->seq_err = 1;
		else if (off != cmd->got || dsl > cmd->unsol_end - off)
			cmd->seq_err = 6;
	} else {
		struct r2t *r = NULL;

		for (unsigned i = 0; i < cmd->nr2t; i++)
			if (cmd->r2t[i].ttt == ttt)
				r = &cmd->r2t[i];
		if (!r) {
			reject_hdr(c, ISCSI_REJ_INVALID_FIELD, 0);
			return;
		}
		if (sn != r->datasn)
			cmd->seq_err = 1;
		else if (off != r->off + r->got || dsl > r->len - r->got)
			cmd->seq_err = 6;
	}
	/* RFC 7143 7.1.4.1: at ERL 0 there is no recovery within the
	 * command; a DataSN or offset out of sequence ends the task with a
	 * CHECK CONDITION (libiscsi iSCSIDataSnInvalid: the WRITE must not
	 * succeed) and the session lives on.  Later Data-Out for it are
	 * for an unknown task and rejected. */
	c->dst = cmd->discard || cmd->seq_err ? NULL : cmd->buf + off;
	c->rx_cmd = cmd;
}

void cmd_rx_data_out_done(struct iscsi_conn *c, int ddigest_bad)
{
	struct icmd *cmd = c->rx_cmd;
	const uint8_t *h = c->hdr;
	uint32_t dsl = bhs_dsl(h), ttt = bhs_ttt(h);
	int final = !!(bhs_flags(h) & ISCSI_F_FINAL);

	(void)ddigest_bad;
	if (!cmd)
		return;
	c->rx_cmd = NULL;
	if (cmd->seq_err) {
		execute(c, cmd);
		return;
	}
	cmd->got += dsl;
	if (ttt == ISCSI_RSVD_TAG) {
		cmd->unsol_datasn++;
		if (final)
			cmd->unsol_open = 0;
		else if (cmd->got >= cmd->unsol_end)
			return; /* F is due on this PDU; wait for it anyway */
	} else {
		for (unsigned i = 0; i < cmd->nr2t; i++) {
			struct r2t *r = &cmd->r2t[i];

			if (r->ttt != ttt)
				continue;
			r->got += dsl;
			r->datasn++;
			if (r->got < r->len) {
				if (final) {
					/* F before the solicited length */
					cmd->seq_err = 6;
					execute(c, cmd);
				}
				return;
			}
			cmd->r2t[i] = cmd->r2t[--cmd->nr2t];
			break;
		}
	}
	solicit(c, cmd);
}

int cmd_abort(struct iscsi_conn *c, uint32_t itt, uint64_t lun, int all_lun, int all)
{
	struct icmd **pp = &c->waiting;
	int n = 0;

	while (*pp) {
		struct icmd *cmd = *pp;

		if (all || (all_lun && cmd->lun == lun) || (!all_lun && cmd->itt == itt)) {
			/* RFC 7143 11.5.1: an aborted task gets no response */
			*pp = cmd->next;
			if (!cmd->immediate)
				sess_window_open(c);
			cmd_release(c, cmd);
			n++;
			continue;
		}
		pp = &cmd->next;
	}
	return n;
}
