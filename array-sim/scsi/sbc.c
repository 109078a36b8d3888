/*
 * SBC-3 block commands on an engine volume: READ/WRITE 6/10/12/16,
 * VERIFY and WRITE AND VERIFY 10/12/16, PRE-FETCH, SYNCHRONIZE CACHE,
 * READ CAPACITY 10/16, GET LBA STATUS, WRITE SAME 10/16, UNMAP and
 * COMPARE AND WRITE.
 *
 * The volume is thin with LBPRZ=1: unmapped blocks read as zeros, which
 * the engine guarantees (also in clones), so WRITE SAME of zeros with
 * UNMAP may deallocate instead of writing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_int.h"

#define FOP_READ  0x10001u /* PROTO_FOP_* */
#define FOP_WRITE 0x10002u
#define FOP_FLUSH 0x10003u

#define WS_BOUNCE (1u << 20) /* WRITE SAME pattern buffer */

uint32_t sbc_max_xfer_blocks(uint32_t block_size)
{
	return SCSI_MAX_XFER_BYTES / block_size;
}

uint32_t sbc_max_ws_blocks(uint32_t block_size)
{
	/* Below 65536: libiscsi WriteSame16.Unmap writes 65536 blocks with
	 * one WRITE(16) (beyond our transfer limit) unless MAXIMUM WRITE
	 * SAME LENGTH says a 65536-block WRITE SAME is too long. */
	uint64_t n = SCSI_MAX_WS_BYTES / block_size;

	return n > 0xffff ? 0xffff : (uint32_t)n;
}

uint32_t sbc_max_unmap_blocks(uint32_t block_size)
{
	/* libiscsi (Inquiry.BlockLimits) calls a limit above 1 Mi blocks
	 * insane; 1 GiB of 512-byte blocks is 2 Mi. */
	uint64_t n = SCSI_MAX_UNMAP_BYTES / block_size;

	return n > (1u << 20) ? 1u << 20 : (uint32_t)n;
}

/* SBC-3 4.5: LBA + count must stay within the capacity.  A zero-length
 * transfer at LBA == capacity is allowed, beyond it is not. */
static enum sense_reason check_lba(struct scsi_task *t, uint64_t lba, uint64_t n)
{
	uint64_t nb = t->lun.nblocks;

	if (lba > nb || n > nb - lba)
		return SR_LBA_OUT_OF_RANGE;
	return SR_OK;
}

static struct pool *pool_of(struct scsi_task *t)
{
	return t->n->s->pool;
}

/* ---- READ / WRITE ------------------------------------------------------------------ */

static enum sense_reason exec_read(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	uint32_t bs = t->lun.block_size;
	uint64_t bytes = t->nblocks * bs, off = t->lba * bs;
	uint64_t avail = c->data_in ? c->exp_xfer_len : 0;
	enum sense_reason r;
	int err = 0;

	c->xfer_len = (uint32_t)bytes;
	if (!bytes)
		return SR_OK;
	r = scsi_fault(t, FOP_READ);
	if (r)
		return r;
	if (avail >= bytes) {
		err = vol_read(pool_of(t), t->lun.vol, off, bytes, c->data_in);
		c->data_in_len = (uint32_t)bytes;
	} else {
		/* The initiator's buffer is short (residual overflow): read
		 * the whole blocks that fit in place, and the partial one
		 * through a bounce block. */
		uint64_t whole = avail / bs * bs, rem = avail - whole;

		if (whole)
			err = vol_read(pool_of(t), t->lun.vol, off, whole, c->data_in);
		if (!err && rem) {
			uint8_t *tmp = malloc(bs);

			if (!tmp)
				return SR_INTERNAL;
			err = vol_read(pool_of(t), t->lun.vol, off + whole, bs, tmp);
			memcpy(c->data_in + whole, tmp, rem);
			free(tmp);
		}
		c->data_in_len = (uint32_t)avail;
	}
	if (err)
		c->data_in_len = 0;
	return scsi_errno_reason(err, 0);
}

static enum sense_reason do_write(struct scsi_task *t, const uint8_t *data, uint64_t bytes)
{
	uint32_t bs = t->lun.block_size;
	uint64_t off = t->lba * bs, whole = bytes / bs * bs, rem = bytes - whole;
	unsigned flags = scsi_write_flags(t, t->pool_flags & POOL_FUA);
	enum sense_reason r;
	uint8_t *tmp;
	int err = 0;

	r = scsi_fault(t, FOP_WRITE);
	if (r)
		return r;
	if (whole) {
		pthread_rwlock_rdlock(&t->lun.dev->io_lock);
		err = vol_write(pool_of(t), t->lun.vol, off, whole, data, flags);
		pthread_rwlock_unlock(&t->lun.dev->io_lock);
	}
	if (err || !rem)
		return scsi_errno_reason(err, 1);
	/* A partial last block: merge it into what is there, exclusively so
	 * no other write lands in between. */
	tmp = malloc(bs);
	if (!tmp)
		return SR_INTERNAL;
	pthread_rwlock_wrlock(&t->lun.dev->io_lock);
	err = vol_read(pool_of(t), t->lun.vol, off + whole, bs, tmp);
	if (!err) {
		memcpy(tmp, data + whole, rem);
		err = vol_write(pool_of(t), t->lun.vol, off + whole, bs, tmp, flags);
	}
	pthread_rwlock_unlock(&t->lun.dev->io_lock);
	free(tmp);
	return scsi_errno_reason(err, 1);
}

static enum sense_reason exec_write(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	uint64_t bytes = t->nblocks * t->lun.block_size;

	c->xfer_len = (uint32_t)bytes;
	if (!bytes)
		return SR_OK;
	/* Less data than the CDB asks for (EDTL < transfer length): FCP-4
	 * 9.4.2 a) process the command, but only with the data that was
	 * transferred (libiscsi 1.19 iSCSIResiduals.Write*Residuals wants
	 * GOOD and exactly the EDTL bytes written); the fabric reports the
	 * residual overflow. */
	if (c->data_out_len < bytes)
		bytes = c->data_out_len;
	return bytes ? do_write(t, c->data_out, bytes) : SR_OK;
}

/* Decode LBA and transfer length of the READ/WRITE/VERIFY families. */
static void decode_lba_len(const uint8_t *cdb, uint64_t *lba, uint64_t *n, unsigned *len_byte)
{
	switch (cdb[0] >> 5) {
	case 0: /* 6-byte: SBC-3 5.13, 21-bit LBA, 0 means 256 blocks */
		*lba = get_be24(cdb + 1) & 0x1fffff;
		*n = cdb[4] ? cdb[4] : 256;
		*len_byte = 4;
		break;
	case 1: /* 10-byte */
		*lba = get_be32(cdb + 2);
		*n = get_be16(cdb + 7);
		*len_byte = 7;
		break;
	case 5: /* 12-byte */
		*lba = get_be32(cdb + 2);
		*n = get_be32(cdb + 6);
		*len_byte = 6;
		break;
	default: /* 16-byte */
		*lba = get_be64(cdb + 2);
		*n = get_be32(cdb + 10);
		*len_byte = 10;
		break;
	}
}

enum sense_reason sbc_parse_rw(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	int six = cdb[0] == 0x08 || cdb[0] == 0x0a;
	int write = cdb[0] == 0x0a || cdb[0] == 0x2a || cdb[0] == 0xaa || cdb[0] == 0x8a;
	unsigned len_byte;
	enum sense_reason r;

	decode_lba_len(cdb, &t->lba, &t->nblocks, &len_byte);
	if (!six) {
		/* SBC-3 5.8: RDPROTECT/WRPROTECT need protection information,
		 * which the LU does not have (PROTECT=0). */
		if (cdb[1] & 0xe0)
			return bad_cdb(t, 1, 7);
		if (cdb[1] & 0x08)
			t->pool_flags |= POOL_FUA; /* DPO is a cache hint: ignored */
	}
	r = check_lba(t, t->lba, t->nblocks);
	if (r)
		return r;
	/* SBC-3 6.5.3: beyond MAXIMUM TRANSFER LENGTH is an invalid field */
	if (t->nblocks > sbc_max_xfer_blocks(t->lun.block_size))
		return bad_cdb(t, len_byte, -1);
	if (write && t->lun.readonly)
		return SR_WRITE_PROTECTED;
	t->execute = write ? exec_write : exec_read;
	return SR_OK;
}

/* ---- VERIFY / WRITE AND VERIFY ------------------------------------------------------ */

static enum sense_reason exec_verify(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	uint32_t bs = t->lun.block_size;
	uint64_t bytes = t->nblocks * bs;
	uint64_t need = t->bytchk == 1 ? bytes : bs;
	uint8_t *buf;
	enum sense_reason r = SR_OK;
	int err;

	c->xfer_len = t->bytchk ? (uint32_t)need : 0;
	if (!bytes)
		return SR_OK;
	r = scsi_fault(t, FOP_READ);
	if (r)
		return r;
	if (!t->bytchk) {
		/* SBC-3 5.29 BYTCHK=0: a medium verification; the engine's
		 * checksummed metadata is checked by the read itself. */
		buf = malloc(bs);
		if (!buf)
			return SR_INTERNAL;
		err = vol_read(pool_of(t), t->lun.vol, t->lba * bs, bs, buf);
		free(buf);
		return scsi_errno_reason(err, 0);
	}
	if (c->data_out_len < need)
		return SR_INVALID_FIELD_IU;
	buf = malloc(bytes);
	if (!buf)
		return SR_INTERNAL;
	err = vol_read(pool_of(t), t->lun.vol, t->lba * bs, bytes, buf);
	if (err) {
		r = scsi_errno_reason(err, 0);
		goto out;
	}
	for (uint64_t i = 0; i < bytes; i++) {
		uint8_t want = t->bytchk == 1 ? c->data_out[i] : c->data_out[i % bs];

		if (buf[i] != want) {
			/* SBC-3 5.29: MISCOMPARE, INFORMATION = offset of the
			 * first byte that differs */
			t->info_valid = 1;
			t->info = i;
			r = SR_MISCOMPARE;
			break;
		}
	}
out:
	free(buf);
	return r;
}

enum sense_reason sbc_parse_verify(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	unsigned len_byte;
	enum sense_reason r;

	decode_lba_len(cdb, &t->lba, &t->nblocks, &len_byte);
	if (cdb[1] & 0xe0) /* VRPROTECT */
		return bad_cdb(t, 1, 7);
	t->bytchk = (cdb[1] >> 1) & 3;
	if (t->bytchk == 2) /* SBC-3 5.29: reserved */
		return bad_cdb(t, 1, 2);
	r = check_lba(t, t->lba, t->nblocks);
	if (r)
		return r;
	if (t->nblocks > sbc_max_xfer_blocks(t->lun.block_size))
		return bad_cdb(t, len_byte, -1);
	t->execute = exec_verify;
	return SR_OK;
}

enum sense_reason sbc_parse_write_verify(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	unsigned len_byte;
	enum sense_reason r;

	decode_lba_len(cdb, &t->lba, &t->nblocks, &len_byte);
	if (cdb[1] & 0xe0) /* WRPROTECT */
		return bad_cdb(t, 1, 7);
	r = check_lba(t, t->lba, t->nblocks);
	if (r)
		return r;
	if (t->nblocks > sbc_max_xfer_blocks(t->lun.block_size))
		return bad_cdb(t, len_byte, -1);
	if (t->lun.readonly)
		return SR_WRITE_PROTECTED;
	/* SBC-3 5.40: the data goes to the medium before the verify, which
	 * then cannot fail: write with FUA. */
	t->pool_flags |= POOL_FUA;
	t->execute = exec_write;
	return SR_OK;
}

/* ---- PRE-FETCH, SYNCHRONIZE CACHE ------------------------------------------------ */

enum sense_reason sbc_parse_prefetch(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	uint64_t lba = cdb[0] == 0x34 ? get_be32(cdb + 2) : get_be64(cdb + 2);
	uint64_t n = cdb[0] == 0x34 ? get_be16(cdb + 7) : get_be32(cdb + 10);

	/* SBC-3 5.10: a hint; GOOD means "not all of it fits in the cache",
	 * which is never wrong. */
	t->execute = NULL;
	return check_lba(t, lba, n);
}

static enum sense_reason exec_sync(struct scsi_task *t)
{
	enum sense_reason r = scsi_fault(t, FOP_FLUSH);

	if (r)
		return r;
	/* SBC-3 5.22: everything written before is made durable, whatever
	 * the range (one pool commit covers all volumes). */
	return scsi_errno_reason(pool_commit(pool_of(t)), 1);
}

enum sense_reason sbc_parse_sync(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	uint64_t lba = cdb[0] == 0x35 ? get_be32(cdb + 2) : get_be64(cdb + 2);
	uint64_t n = cdb[0] == 0x35 ? get_be16(cdb + 7) : get_be32(cdb + 10);
	enum sense_reason r = check_lba(t, lba, n);

	if (r)
		return r;
	t->execute = exec_sync;
	return SR_OK;
}

/* ---- READ CAPACITY ---------------------------------------------------------------- */

static enum sense_reason exec_read_capacity10(struct scsi_task *t)
{
	uint8_t b[8];
	uint64_t last = t->lun.nblocks ? t->lun.nblocks - 1 : 0;

	/* SBC-3 5.16: FFFFFFFFh tells the initiator to use READ CAPACITY(16) */
	put_be32(b, last > 0xffffffffull ? 0xffffffffu : (uint32_t)last);
	put_be32(b + 4, t->lun.block_size);
	scsi_task_data_in(t, b, sizeof(b), sizeof(b));
	return SR_OK;
}

enum sense_reason sbc_parse_read_capacity10(struct scsi_task *t)
{
	/* SBC-3 5.16: with PMI=0 the LBA field must be zero */
	if (!(t->cdb[8] & 1) && get_be32(t->cdb + 2))
		return bad_cdb(t, 2, -1);
	t->execute = exec_read_capacity10;
	return SR_OK;
}

static enum sense_reason exec_read_capacity16(struct scsi_task *t)
{
	uint8_t b[32];
	uint32_t bs = t->lun.block_size;
	uint64_t last = t->lun.nblocks ? t->lun.nblocks - 1 : 0;

	memset(b, 0, sizeof(b));
	put_be64(b, last);
	put_be32(b + 8, bs);
	/* LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT 0: any block can be
	 * written without a read-modify-write in the engine, and libiscsi's
	 * GetLBAStatus.UnmapSingle assumes one block per physical block.
	 * The unmap grain is in VPD 0xB0 instead. */
	b[13] = 0;
	b[14] = 0xc0; /* LBPME, LBPRZ (SBC-3 5.17) */
	scsi_task_data_in(t, b, sizeof(b), get_be32(t->cdb + 10));
	return SR_OK;
}

enum sense_reason sbc_parse_read_capacity16(struct scsi_task *t)
{
	t->execute = exec_read_capacity16;
	return SR_OK;
}

/* ---- GET LBA STATUS (SBC-3 5.7) --------------------------------------------------- */

static enum sense_reason exec_get_lba_status(struct scsi_task *t)
{
	uint32_t alloc = get_be32(t->cdb + 10), bs = t->lun.block_size;
	uint64_t lba = get_be64(t->cdb + 2);
	unsigned max = alloc > 24 ? (alloc - 8) / 16 : 1, k = 0;
	uint8_t *b;

	if (max > 256)
		max = 256;
	b = calloc(1, 8 + 16 * (size_t)max);
	if (!b)
		return SR_INTERNAL;
	while (k < max && lba < t->lun.nblocks) {
		uint8_t *d = b + 8 + 16 * k;
		uint64_t run = 0, n;
		int mapped = 0, err;

		err = vol_map_status(pool_of(t), t->lun.vol, lba * bs, &mapped, &run);
		if (err) {
			free(b);
			return scsi_errno_reason(err, 0);
		}
		n = run / bs;
		if (!n)
			break;
		if (n > 0xffffffffull)
			n = 0xffffffffull;
		put_be64(d, lba);
		put_be32(d + 8, (uint32_t)n);
		d[12] = mapped ? 0x00 : 0x01; /* mapped / deallocated */
		lba += n;
		k++;
	}
	put_be32(b, 4 + 16 * k);
	scsi_task_data_in(t, b, 8 + 16 * k, alloc);
	free(b);
	return SR_OK;
}

enum sense_reason sbc_parse_get_lba_status(struct scsi_task *t)
{
	if (get_be64(t->cdb + 2) >= t->lun.nblocks)
		return SR_LBA_OUT_OF_RANGE;
	t->execute = exec_get_lba_status;
	return SR_OK;
}

/* ---- WRITE SAME (SBC-3 5.42, 5.43) ------------------------------------------------- */

static enum sense_reason exec_write_same(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	uint32_t bs = t->lun.block_size;
	int ndob = t->cdb[0] == 0x93 && (t->cdb[1] & 0x01);
	int unmap = t->cdb[1] & 0x08;
	const uint8_t *pat = NULL;
	uint64_t off = t->lba * bs, left = t->nblocks * bs;
	uint8_t *buf;
	size_t blen;
	enum sense_reason r;
	int err = 0;

	c->xfer_len = ndob ? 0 : bs;
	if (!ndob) {
		/* One block of data-out, no more and no less (libiscsi
		 * WriteSame*.InvalidDataOutSize). */
		if (c->data_out_len != bs)
			return SR_INVALID_FIELD_CDB;
		pat = c->data_out;
	}
	if (!left)
		return SR_OK;
	r = scsi_fault(t, FOP_WRITE);
	if (r)
		return r;
	/* SBC-3 4.7.3.4: UNMAP=1 asks for deallocation; the range then
	 * reads as zeros (LBPRZ=1).  Like LIO we deallocate whatever the
	 * data block holds: libiscsi WriteSame10.UnmapUntilEnd sends a
	 * block of FFh with UNMAP=1 and expects zeros back. */
	if (unmap) {
		pthread_rwlock_rdlock(&t->lun.dev->io_lock);
		err = vol_unmap(pool_of(t), t->lun.vol, off, left);
		pthread_rwlock_unlock(&t->lun.dev->io_lock);
		return scsi_errno_reason(err, 1);
	}
	blen = left < WS_BOUNCE ? (size_t)left : WS_BOUNCE;
	blen = blen / bs * bs;
	buf = malloc(blen);
	if (!buf)
		return SR_INTERNAL;
	for (size_t i = 0; i < blen; i += bs) {
		if (pat)
			memcpy(buf + i, pat, bs);
		else
			memset(buf + i, 0, bs);
	}
	pthread_rwlock_rdlock(&t->lun.dev->io_lock);
	while (left && !err) {
		uint64_t n = left < blen ? left : blen;

		err = vol_write(pool_of(t), t->lun.vol, off, n, buf, scsi_write_flags(t, 0));
		off += n;
		left -= n;
	}
	pthread_rwlock_unlock(&t->lun.dev->io_lock);
	free(buf);
	return scsi_errno_reason(err, 1);
}

enum sense_reason sbc_parse_write_same(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	int sixteen = cdb[0] == 0x93;
	uint64_t max = sbc_max_ws_blocks(t->lun.block_size);
	enum sense_reason r;

	t->lba = sixteen ? get_be64(cdb + 2) : get_be32(cdb + 2);
	t->nblocks = sixteen ? get_be32(cdb + 10) : get_be16(cdb + 7);
	if (cdb[1] & 0xe0) /* WRPROTECT without protection information */
		return bad_cdb(t, 1, 7);
	/* ANCHOR needs ANC_SUP=1 in VPD 0xB2 (SBC-3 5.42) */
	if (cdb[1] & 0x10)
		return bad_cdb(t, 1, 4);
	if (!sixteen && (cdb[1] & 0x01))
		return bad_cdb(t, 1, 0);
	/* NDOB without UNMAP would have to write zeros block by block: we
	 * allow it (zeros are a valid pattern). */
	if (t->nblocks > max)
		return bad_cdb(t, sixteen ? 10 : 7, -1);
	if (t->lba > t->lun.nblocks)
		return SR_LBA_OUT_OF_RANGE;
	/* WSNZ=0: a zero count means "to the last LBA" (SBC-3 5.42). */
	if (!t->nblocks) {
		t->nblocks = t->lun.nblocks - t->lba;
		if (!(cdb[1] & 0x08) && t->nblocks > max)
			return bad_cdb(t, sixteen ? 10 : 7, -1);
	}
	r = check_lba(t, t->lba, t->nblocks);
	if (r)
		return r;
	if (t->lun.readonly)
		return SR_WRITE_PROTECTED;
	t->execute = exec_write_same;
	return SR_OK;
}

/* ---- UNMAP (SBC-3 5.28) ------------------------------------------------------------ */

static enum sense_reason exec_unmap(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	uint32_t plen = get_be16(t->cdb + 7), bs = t->lun.block_size;
	const uint8_t *d = c->data_out;
	uint32_t dlen, bdlen, nd;
	uint64_t total = 0;
	enum sense_reason r;
	int err = 0;

	c->xfer_len = plen;
	if (!plen)
		return SR_OK;
	if (plen < 8)
		return SR_PARAM_LIST_LENGTH;
	if (c->data_out_len < plen)
		return SR_INVALID_FIELD_IU;
	dlen = get_be16(d);
	bdlen = get_be16(d + 2);
	/* The data lengths must fit in what was sent. */
	if (dlen + 2u > plen)
		return bad_param(t, 0, -1);
	if (bdlen + 8u > plen)
		return bad_param(t, 2, -1);
	nd = bdlen / 16; /* a trailing partial descriptor is ignored */
	if (nd > SCSI_MAX_UNMAP_DESC)
		return bad_param(t, 2, -1);
	/* Validate every descriptor before unmapping anything. */
	for (uint32_t i = 0; i < nd; i++) {
		const uint8_t *e = d + 8 + 16 * i;
		uint64_t lba = get_be64(e);
		uint32_t n = get_be32(e + 8);

		r = check_lba(t, lba, n);
		if (r)
			return r;
		total += n;
	}
	if (total > sbc_max_unmap_blocks(bs))
		return bad_param(t, 8 + 8, -1);
	r = scsi_fault(t, FOP_WRITE);
	if (r)
		return r;
	pthread_rwlock_rdlock(&t->lun.dev->io_lock);
	for (uint32_t i = 0; i < nd && !err; i++) {
		const uint8_t *e = d + 8 + 16 * i;
		uint64_t n = get_be32(e + 8);

		if (n)
			err = vol_unmap(pool_of(t), t->lun.vol, get_be64(e) * bs, n * bs);
	}
	pthread_rwlock_unlock(&t->lun.dev->io_lock);
	return scsi_errno_reason(err, 1);
}

enum sense_reason sbc_parse_unmap(struct scsi_task *t)
{
	if (t->cdb[1] & 0x01) /* ANCHOR: ANC_SUP=0 */
		return bad_cdb(t, 1, 0);
	if (t->lun.readonly)
		return SR_WRITE_PROTECTED;
	t->execute = exec_unmap;
	return SR_OK;
}

/* ---- COMPARE AND WRITE (SBC-3 5.2) ------------------------------------------------- */

static enum sense_reason exec_caw(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	uint32_t bs = t->lun.block_size;
	uint64_t bytes = t->nblocks * bs;
	enum sense_reason r = SR_OK;
	uint8_t *buf;
	int err;

	c->xfer_len = (uint32_t)(2 * bytes);
	/* Verify data then write data, N blocks each.  Checked before the
	 * zero-block case: a count that wrapped to 0 in the one-byte field
	 * with data attached is an error, not a no-op (libiscsi
	 * CompareAndWrite.Simple sends 256). */
	if (c->data_out_len != 2 * bytes)
		return bad_cdb(t, 13, -1);
	if (!bytes)
		return SR_OK;
	r = scsi_fault(t, FOP_WRITE);
	if (r)
		return r;
	buf = malloc(bytes);
	if (!buf)
		return SR_INTERNAL;
	/* Exclusive against every other write to the LU, from any nexus. */
	pthread_rwlock_wrlock(&t->lun.dev->io_lock);
	err = vol_read(pool_of(t), t->lun.vol, t->lba * bs, bytes, buf);
	if (err) {
		r = scsi_errno_reason(err, 0);
		goto out;
	}
	for (uint64_t i = 0; i < bytes; i++)
		if (buf[i] != c->data_out[i]) {
			/* INFORMATION: offset of the first differing byte */
			t->info_valid = 1;
			t->info = i;
			r = SR_MISCOMPARE;
			goto out;
		}
	err = vol_write(pool_of(t), t->lun.vol, t->lba * bs, bytes, c->data_out + bytes,
			scsi_write_flags(t, t->pool_flags & POOL_FUA));
	r = scsi_errno_reason(err, 1);
out:
	pthread_rwlock_unlock(&t->lun.dev->io_lock);
	free(buf);
	return r;
}

enum sense_reason sbc_parse_caw(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	enum sense_reason r;

	t->lba = get_be64(cdb + 2);
	t->nblocks = cdb[13];
	if (cdb[1] & 0xe0)
		return bad_cdb(t, 1, 7);
	if (cdb[1] & 0x08)
		t->pool_flags |= POOL_FUA;
	if (t->nblocks > SCSI_MAX_CAW_BLOCKS)
		return bad_cdb(t, 13, -1);
	r = check_lba(t, t->lba, t->nblocks);
	if (r)
		return r;
	if (t->lun.readonly)
		return SR_WRITE_PROTECTED;
	t->execute = exec_caw;
	return SR_OK;
}

/* ---- ORWRITE(16) (SBC-3 5.9) -------------------------------------------------------- */

static enum sense_reason exec_orwrite(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	uint32_t bs = t->lun.block_size;
	uint64_t bytes = t->nblocks * bs;
	enum sense_reason r;
	uint8_t *buf;
	int err;

	c->xfer_len = (uint32_t)bytes;
	if (!bytes)
		return SR_OK;
	if (c->data_out_len < bytes)
		return SR_INVALID_FIELD_IU;
	r = scsi_fault(t, FOP_WRITE);
	if (r)
		return r;
	buf = malloc(bytes);
	if (!buf)
		return SR_INTERNAL;
	/* Read-modify-write: exclusive like COMPARE AND WRITE, so no other
	 * write slips between the read and the write. */
	pthread_rwlock_wrlock(&t->lun.dev->io_lock);
	err = vol_read(pool_of(t), t->lun.vol, t->lba * bs, bytes, buf);
	if (!err) {
		for (uint64_t i = 0; i < bytes; i++)
			buf[i] |= c->data_out[i];
		err = vol_write(pool_of(t), t->lun.vol, t->lba * bs, bytes, buf,
				scsi_write_flags(t, t->pool_flags & POOL_FUA));
	}
	pthread_rwlock_unlock(&t->lun.dev->io_lock);
	free(buf);
	return scsi_errno_reason(err, 1);
}

enum sense_reason sbc_parse_orwrite(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	enum sense_reason r;

	t->lba = get_be64(cdb + 2);
	t->nblocks = get_be32(cdb + 10);
	if (cdb[1] & 0xe0) /* ORPROTECT */
		return bad_cdb(t, 1, 7);
	if (cdb[1] & 0x08)
		t->pool_flags |= POOL_FUA;
	r = check_lba(t, t->lba, t->nblocks);
	if (r)
		return r;
	if (t->nblocks > sbc_max_xfer_blocks(t->lun.block_size))
		return bad_cdb(t, 10, -1);
	if (t->lun.readonly)
		return SR_WRITE_PROTECTED;
	t->execute = exec_orwrite;
	return SR_OK;
}
