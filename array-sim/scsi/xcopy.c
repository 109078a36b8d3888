/*
 * SPC-4 6.4 EXTENDED COPY (LID1) and 6.20 RECEIVE COPY RESULTS: a copy
 * manager for block-to-block copies (segment descriptor 02h) inside the
 * LU the command is addressed to, named by an identification descriptor
 * target descriptor (E4h) carrying one of its VPD 83h LU designators.
 *
 * Only the addressed LU is a reachable copy target: that is the LU whose
 * reservations and write protection the command was checked against, so a
 * copy cannot write around another LU's reservation.  Other LUs give COPY
 * ABORTED, COPY TARGET DEVICE NOT REACHABLE (initiators then fall back to
 * READ and WRITE).
 */
#include <stdlib.h>
#include <string.h>

#include "scsi_int.h"

#define FOP_READ  0x10001u /* PROTO_FOP_* */
#define FOP_WRITE 0x10002u

/* RECEIVE COPY RESULTS / OPERATING PARAMETERS.  MAXIMUM DESCRIPTOR LIST
 * LENGTH leaves room for the maximum number of both descriptor kinds. */
#define XC_MAX_TGT     8
#define XC_MAX_SEG     16
#define XC_MAX_LIST    1024
#define XC_MAX_SEG_LEN (64u << 20) /* bytes per segment */
#define XC_HDR	       16
#define XC_TGT_LEN     32
#define XC_BOUNCE      (1u << 20)

/* A target descriptor names the addressed LU if its designator is the
 * LU's NAA or T10 vendor ID designator (VPD 83h, association 0). */
static int tgt_is_lun(struct scsi_task *t, const uint8_t *d)
{
	const uint8_t *id = d + 4; /* designation descriptor */
	unsigned type = id[1] & 0x0f, assoc = (id[1] >> 4) & 3, len = id[3];
	struct lun_info li;

	if (assoc != 0 || len > 20 || array_lun_get(t->n->s->array, t->lun.vol, &li))
		return 0;
	if (type == 0x03) /* NAA */
		return len == 16 && !memcmp(id + 4, li.naa, 16);
	if (type == 0x01) /* T10 vendor ID: vendor + unit serial (truncated to fit) */
		return len >= 8 && !memcmp(id + 4, SCSI_VENDOR "        ", 8) &&
		       !memcmp(id + 12, li.serial, len - 8);
	return 0;
}

static enum sense_reason copy_blocks(struct scsi_task *t, uint64_t src, uint64_t dst, uint64_t n)
{
	uint32_t bs = t->lun.block_size;
	uint64_t left = n * bs, so = src * bs, dof = dst * bs;
	size_t blen = left < XC_BOUNCE ? (size_t)left : XC_BOUNCE;
	/* Overlapping ranges copy like memmove: from the end when the
	 * destination lies inside the source. */
	int backward = dst > src && dst < src + n;
	enum sense_reason r;
	uint8_t *buf;
	int err = 0;

	if (!left)
		return SR_OK;
	r = scsi_fault(t, FOP_READ);
	if (!r)
		r = scsi_fault(t, FOP_WRITE);
	if (r)
		return r;
	buf = malloc(blen);
	if (!buf)
		return SR_INTERNAL;
	while (left && !err) {
		uint64_t k = left < blen ? left : blen;
		uint64_t at = backward ? left - k : n * bs - left;

		err = vol_read(t->n->s->pool, t->lun.vol, so + at, k, buf);
		if (err) {
			free(buf);
			return scsi_errno_reason(err, 0);
		}
		pthread_rwlock_rdlock(&t->lun.dev->io_lock);
		err =
		    vol_write(t->n->s->pool, t->lun.vol, dof + at, k, buf, scsi_write_flags(t, 0));
		pthread_rwlock_unlock(&t->lun.dev->io_lock);
		left -= k;
	}
	free(buf);
	return scsi_errno_reason(err, 1);
}

/* Validate the whole parameter list first (SPC-4 6.4.3: errors in it are
 * reported before any data moves), then run the segments in order. */
static enum sense_reason exec_xcopy(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	struct scsi_nexus *n = t->n;
	uint32_t plen = get_be32(t->cdb + 10), tlen, slen, ilen, ntgt, off;
	const uint8_t *p = c->data_out;
	uint8_t usage, list_id;
	unsigned nseg = 0, done = 0;
	uint64_t bytes = 0;
	enum sense_reason r = SR_OK;

	if (!plen)
		return SR_OK; /* SPC-4 6.4.1: nothing to do is not an error */
	if (plen < XC_HDR || c->data_out_len < plen)
		return SR_PARAM_LIST_LENGTH;
	list_id = p[0];
	usage = (p[1] >> 3) & 3;
	tlen = get_be16(p + 2);
	slen = get_be32(p + 8);
	ilen = get_be32(p + 12);
	if (usage == 1) /* reserved LIST ID USAGE */
		return bad_param(t, 1, 4);
	if (p[1] & 0x20) /* STR: no stream devices */
		return bad_param(t, 1, 5);
	if (ilen) /* no inline data (MAXIMUM INLINE DATA LENGTH 0) */
		return bad_param(t, 12, -1);
	if ((uint64_t)tlen + slen > XC_MAX_LIST)
		return SR_PARAM_LIST_LENGTH;
	if ((uint64_t)XC_HDR + tlen + slen + ilen > plen)
		return SR_PARAM_LIST_LENGTH;
	if (tlen % XC_TGT_LEN)
		return bad_param(t, 2, -1);
	ntgt = tlen / XC_TGT_LEN;
	if (ntgt > XC_MAX_TGT)
		return SR_TOO_MANY_TGT_DESC;
	for (uint32_t i = 0; i < ntgt; i++) {
		const uint8_t *d = p + XC_HDR + i * XC_TGT_LEN;

		if (d[0] != 0xe4)
			return SR_UNSUPP_TGT_DESC;
		/* SPC-4 6.4.5: only block devices (peripheral type 0) */
		if (d[1] & 0x1f)
			return bad_param(t, XC_HDR + i * XC_TGT_LEN + 1, 4);
	}
	for (off = XC_HDR + tlen; off < XC_HDR + tlen + slen; nseg++) {
		uint32_t dlen;

		if (XC_HDR + tlen + slen - off < 4)
			return SR_PARAM_LIST_LENGTH;
		dlen = 4u + get_be16(p + off + 2);
		if (p[off] != 0x02)
			return SR_UNSUPP_SEG_DESC;
		if (dlen != 28)
			return bad_param(t, off + 2, -1);
		if (off + dlen > XC_HDR + tlen + slen)
			return SR_PARAM_LIST_LENGTH;
		off += dlen;
	}
	if (nseg > XC_MAX_SEG)
		return SR_TOO_MANY_SEG_DESC;
	/* Check every segment before copying anything. */
	for (unsigned pass = 0; pass < 2 && !r; pass++) {
		off = XC_HDR + tlen;
		for (unsigned i = 0; i < nseg && !r; i++, off += 28) {
			const uint8_t *s = p + off;
			uint16_t si = get_be16(s + 4), di = get_be16(s + 6);
			uint64_t nb = get_be16(s + 10), src = get_be64(s + 12),
				 dst = get_be64(s + 20);
			uint64_t cap = t->lun.nblocks;

			if (pass == 1) {
				r = copy_blocks(t, src, dst, nb);
				if (!r) {
					done++;
					bytes += nb * t->lun.block_size;
				}
				continue;
			}
			/* SPC-4 6.4.6.1: an index with no target descriptor,
			 * a target that is not this LU, or blocks beyond its
			 * capacity: COPY ABORTED, COPY TARGET DEVICE NOT
			 * REACHABLE (as LIO reports them too). */
			if (si >= ntgt || di >= ntgt)
				r = SR_COPY_TARGET_UNREACHABLE;
			else if (!tgt_is_lun(t, p + XC_HDR + si * XC_TGT_LEN) ||
				 !tgt_is_lun(t, p + XC_HDR + di * XC_TGT_LEN))
				r = SR_COPY_TARGET_UNREACHABLE;
			else if (get_be24(p + XC_HDR + di * XC_TGT_LEN + 29) != t->lun.block_size ||
				 get_be24(p + XC_HDR + si * XC_TGT_LEN + 29) != t->lun.block_size)
				r = SR_COPY_TARGET_UNREACHABLE;
			else if (src > cap || nb > cap - src || dst > cap || nb > cap - dst)
				r = SR_COPY_TARGET_UNREACHABLE;
			else if (nb * t->lun.block_size > XC_MAX_SEG_LEN)
				r = bad_param(t, off + 10, -1);
		}
	}
	/* LIST ID USAGE 00b: hold the results for RECEIVE COPY RESULTS. */
	if (usage == 0) {
		pthread_mutex_lock(&n->ua_lock);
		n->xc_valid = 1;
		n->xc_list_id = list_id;
		n->xc_failed = r != SR_OK;
		n->xc_segments = (uint16_t)done;
		n->xc_bytes = bytes;
		pthread_mutex_unlock(&n->ua_lock);
	}
	return r;
}

enum sense_reason spc_parse_xcopy(struct scsi_task *t)
{
	if (t->lun.readonly)
		return SR_WRITE_PROTECTED;
	t->execute = exec_xcopy;
	return SR_OK;
}

static enum sense_reason exec_rcr(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	uint32_t alloc = get_be32(cdb + 10);
	struct scsi_nexus *n = t->n;
	uint8_t b[48] = {0};

	if ((cdb[1] & 0x1f) == 0x03) {
		/* SPC-4 6.20.4 OPERATING PARAMETERS */
		put_be32(b, 46 - 4);
		b[4] = 0x01; /* SNLID: list ids are tracked per I_T nexus */
		put_be16(b + 8, XC_MAX_TGT);
		put_be16(b + 10, XC_MAX_SEG);
		put_be32(b + 12, XC_MAX_LIST);
		put_be32(b + 16, XC_MAX_SEG_LEN);
		/* inline data, held data, stream transfer size: 0 */
		put_be16(b + 34, 1); /* TOTAL CONCURRENT COPIES */
		b[36] = 1;	     /* MAXIMUM CONCURRENT COPIES */
		b[37] = 9;	     /* DATA SEGMENT GRANULARITY: 2^9 bytes */
		b[43] = 2;	     /* implemented descriptor type codes: */
		b[44] = 0x02;	     /* block -> block segment */
		b[45] = 0xe4;	     /* identification descriptor target */
		scsi_task_data_in(t, b, 46, alloc);
		return SR_OK;
	}
	/* SPC-4 6.20.2 COPY STATUS of the held list identifier */
	pthread_mutex_lock(&n->ua_lock);
	if (!n->xc_valid || n->xc_list_id != cdb[2]) {
		pthread_mutex_unlock(&n->ua_lock);
		return bad_cdb(t, 2, -1);
	}
	put_be32(b, 8);
	b[4] = n->xc_failed ? 0x02 : 0x01; /* completed with / without errors */
	put_be16(b + 5, n->xc_segments);
	if (n->xc_bytes >> 32) {
		b[7] = 0x01; /* TRANSFER COUNT in KiB */
		put_be32(b + 8, (uint32_t)(n->xc_bytes >> 10));
	} else {
		put_be32(b + 8, (uint32_t)n->xc_bytes);
	}
	pthread_mutex_unlock(&n->ua_lock);
	scsi_task_data_in(t, b, 12, alloc);
	return SR_OK;
}

enum sense_reason spc_parse_rcr(struct scsi_task *t)
{
	t->execute = exec_rcr;
	return SR_OK;
}
