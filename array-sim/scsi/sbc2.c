/*
 * SBC-3 / SBC-4 commands beyond the data path of sbc.c: READ DEFECT DATA
 * (10/12), SANITIZE and WRITE ATOMIC(16).
 *
 * The LU is a thin volume with LBPRZ=1, so a sanitize is a deallocation
 * of every block: afterwards the LUN reads as zeros and GET LBA STATUS
 * reports one deallocated run, which is what SBC-4 4.11 asks of BLOCK
 * ERASE and CRYPTO ERASE on a logical block provisioning LU.  OVERWRITE is
 * not offered: it must run in the background and report SANITIZE IN
 * PROGRESS while it runs (libiscsi Sanitize.Reset), and commands here
 * complete synchronously (docs/conformance.md).
 */
#include <stdlib.h>
#include <string.h>

#include "scsi_int.h"

#define FOP_WRITE 0x10002u /* PROTO_FOP_WRITE */

uint32_t sbc_max_atomic_blocks(uint32_t block_size)
{
	/* The TRANSFER LENGTH of WRITE ATOMIC(16) is 16 bits; SBC-4 6.6.4
	 * also wants it no larger than MAXIMUM TRANSFER LENGTH. */
	uint32_t n = sbc_max_xfer_blocks(block_size);

	return n > 0xffff ? 0xffff : n;
}

/* SBC-3 4.5: LBA + count must stay within the capacity. */
static enum sense_reason lba_in_range(struct scsi_task *t, uint64_t lba, uint64_t n)
{
	uint64_t nb = t->lun.nblocks;

	return lba > nb || n > nb - lba ? SR_LBA_OUT_OF_RANGE : SR_OK;
}

/* ---- READ DEFECT DATA ----------------------------------------------------------- */

static enum sense_reason exec_read_defect(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	int twelve = cdb[0] == 0xb7;
	/* REQ_PLIST, REQ_GLIST and DEFECT LIST FORMAT: byte 2 of the
	 * 10-byte CDB, byte 1 of the 12-byte one (SBC-3 5.12, 5.13). */
	uint8_t req = twelve ? cdb[1] & 0x1f : cdb[2] & 0x1f;
	uint32_t alloc = twelve ? get_be32(cdb + 6) : get_be16(cdb + 7);
	uint8_t b[8] = {0};

	/* A virtual volume has no defects: both lists are valid (PLISTV,
	 * GLISTV as requested) and empty, in the format asked for. */
	b[1] = req;
	/* DEFECT LIST LENGTH 0: bytes 2-3 (10) or 4-7 (12); the 12-byte
	 * header's GENERATION CODE (bytes 2-3) is 0, the lists never change. */
	scsi_task_data_in(t, b, twelve ? 8 : 4, alloc);
	return SR_OK;
}

enum sense_reason sbc_parse_read_defect(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;

	if (cdb[0] == 0x37) {
		/* SBC-3 5.12: byte 1 and bytes 3-6 are reserved */
		if (cdb[1])
			return bad_cdb(t, 1, -1);
		for (unsigned i = 3; i < 7; i++)
			if (cdb[i])
				return bad_cdb(t, i, -1);
	} else {
		if (cdb[1] & 0xe0)
			return bad_cdb(t, 1, 7);
		if (cdb[10])
			return bad_cdb(t, 10, -1);
	}
	t->execute = exec_read_defect;
	return SR_OK;
}

/* ---- SANITIZE ------------------------------------------------------------------------ */

#define SANITIZE_BLOCK_ERASE	   0x02
#define SANITIZE_CRYPTO_ERASE	   0x03
#define SANITIZE_EXIT_FAILURE_MODE 0x1f

static enum sense_reason exec_sanitize(struct scsi_task *t)
{
	uint64_t bytes = t->lun.nblocks * t->lun.block_size;
	enum sense_reason r;
	int err = 0;

	/* A sanitize never fails part-way here, so there is no sanitize
	 * failure mode to leave (SBC-4 4.11.4): EXIT FAILURE MODE is GOOD. */
	if ((t->cdb[1] & 0x1f) == SANITIZE_EXIT_FAILURE_MODE)
		return SR_OK;
	r = scsi_fault(t, FOP_WRITE);
	if (r)
		return r;
	/* Both erase methods make every block unreadable as old data; on a
	 * thin LU with LBPRZ=1 deallocating them does exactly that.  The
	 * whole medium changes, so no other write may interleave. */
	pthread_rwlock_wrlock(&t->lun.dev->io_lock);
	if (bytes)
		err = vol_unmap(t->n->s->pool, t->lun.vol, 0, bytes);
	pthread_rwlock_unlock(&t->lun.dev->io_lock);
	return scsi_errno_reason(err, 1);
}

enum sense_reason sbc_parse_sanitize(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;

	/* SBC-4 5.30: byte 1 bit 6 and bytes 2-6 are reserved (libiscsi
	 * Sanitize.*Reserved). IMMED (bit 7) is accepted: we complete
	 * before returning anyway.  AUSE (bit 5) has no effect because a
	 * sanitize cannot fail. */
	if (cdb[1] & 0x40)
		return bad_cdb(t, 1, 6);
	for (unsigned i = 2; i < 7; i++)
		if (cdb[i])
			return bad_cdb(t, i, -1);
	/* Only OVERWRITE has a parameter list (SBC-4 5.30.2). */
	if (get_be16(cdb + 7))
		return bad_cdb(t, 7, -1);
	if (t->lun.readonly)
		return SR_WRITE_PROTECTED;
	t->execute = exec_sanitize;
	return SR_OK;
}

/* ---- WRITE ATOMIC(16) ----------------------------------------------------------------- */

static enum sense_reason exec_write_atomic(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	uint32_t bs = t->lun.block_size;
	uint64_t bytes = t->nblocks * bs;
	enum sense_reason r;
	int err;

	c->xfer_len = (uint32_t)bytes;
	if (!bytes)
		return SR_OK;
	/* SBC-4 4.29: all of the blocks or none; a short data-out cannot
	 * be written atomically, so nothing is written. */
	if (c->data_out_len < bytes)
		return SR_INVALID_FIELD_IU;
	r = scsi_fault(t, FOP_WRITE);
	if (r)
		return r;
	/* Exclusive against every other write through the core, as for
	 * COMPARE AND WRITE: no other command's data may land inside the
	 * range while it is written. */
	pthread_rwlock_wrlock(&t->lun.dev->io_lock);
	err = vol_write(t->n->s->pool, t->lun.vol, t->lba * bs, bytes, c->data_out,
			scsi_write_flags(t, t->pool_flags & POOL_FUA));
	pthread_rwlock_unlock(&t->lun.dev->io_lock);
	return scsi_errno_reason(err, 1);
}

enum sense_reason sbc_parse_write_atomic(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	enum sense_reason r;

	/* SBC-4 5.48: WRPROTECT needs protection information (PROTECT=0) */
	if (cdb[1] & 0xe0)
		return bad_cdb(t, 1, 7);
	if (cdb[1] & 0x08)
		t->pool_flags |= POOL_FUA; /* DPO is a cache hint: ignored */
	t->lba = get_be64(cdb + 2);
	t->nblocks = get_be16(cdb + 12);
	r = lba_in_range(t, t->lba, t->nblocks);
	if (r)
		return r;
	/* ATOMIC BOUNDARY: MAXIMUM ATOMIC BOUNDARY SIZE is 0, so only 0
	 * (no boundary) is valid. */
	if (get_be16(cdb + 10))
		return bad_cdb(t, 10, -1);
	if (t->nblocks > sbc_max_atomic_blocks(t->lun.block_size))
		return bad_cdb(t, 12, -1);
	if (t->lun.readonly)
		return SR_WRITE_PROTECTED;
	t->execute = exec_write_atomic;
	return SR_OK;
}
