/*
 * Sense data: one table maps each sense reason to its status, sense key and
 * additional sense code; one builder writes the fixed (70h) or descriptor
 * (72h) format, chosen by the D_SENSE bit of the control mode page
 * (SPC-4 4.5, 7.5.8).
 */
#include <string.h>

#include "scsi_int.h"

enum {
	KEY_NO_SENSE = 0x0,
	KEY_NOT_READY = 0x2,
	KEY_MEDIUM_ERROR = 0x3,
	KEY_HARDWARE_ERROR = 0x4,
	KEY_ILLEGAL_REQUEST = 0x5,
	KEY_UNIT_ATTENTION = 0x6,
	KEY_DATA_PROTECT = 0x7,
	KEY_COPY_ABORTED = 0xa,
	KEY_MISCOMPARE = 0xe,
};

struct sense_detail {
	uint8_t status;
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
};

#define CC SAM_STAT_CHECK_CONDITION

static const struct sense_detail sense_table[SR__COUNT] = {
    [SR_OK] = {SAM_STAT_GOOD, 0, 0, 0},
    [SR_UA] = {CC, KEY_UNIT_ATTENTION, 0, 0}, /* ASC/ASCQ from the task */
    [SR_RESERVATION_CONFLICT] = {SAM_STAT_RESERVATION_CONFLICT, 0, 0, 0},
    [SR_BUSY] = {SAM_STAT_BUSY, 0, 0, 0},
    [SR_NO_SENSE] = {CC, KEY_NO_SENSE, 0, 0},
    /* INVALID COMMAND OPERATION CODE */
    [SR_INVALID_OPCODE] = {CC, KEY_ILLEGAL_REQUEST, 0x20, 0x00},
    /* INVALID FIELD IN CDB */
    [SR_INVALID_FIELD_CDB] = {CC, KEY_ILLEGAL_REQUEST, 0x24, 0x00},
    /* INVALID FIELD IN PARAMETER LIST */
    [SR_INVALID_FIELD_PARAM] = {CC, KEY_ILLEGAL_REQUEST, 0x26, 0x00},
    /* PARAMETER LIST LENGTH ERROR */
    [SR_PARAM_LIST_LENGTH] = {CC, KEY_ILLEGAL_REQUEST, 0x1a, 0x00},
    /* INVALID FIELD IN COMMAND INFORMATION UNIT */
    [SR_INVALID_FIELD_IU] = {CC, KEY_ILLEGAL_REQUEST, 0x0e, 0x03},
    /* LOGICAL BLOCK ADDRESS OUT OF RANGE */
    [SR_LBA_OUT_OF_RANGE] = {CC, KEY_ILLEGAL_REQUEST, 0x21, 0x00},
    /* LOGICAL UNIT NOT SUPPORTED */
    [SR_LUN_NOT_SUPPORTED] = {CC, KEY_ILLEGAL_REQUEST, 0x25, 0x00},
    /* SAVING PARAMETERS NOT SUPPORTED */
    [SR_SAVING_NOT_SUPPORTED] = {CC, KEY_ILLEGAL_REQUEST, 0x39, 0x00},
    /* INVALID RELEASE OF PERSISTENT RESERVATION */
    [SR_INVALID_RELEASE] = {CC, KEY_ILLEGAL_REQUEST, 0x26, 0x04},
    /* INSUFFICIENT REGISTRATION RESOURCES */
    [SR_INSUFFICIENT_REG_RESOURCES] = {CC, KEY_ILLEGAL_REQUEST, 0x55, 0x04},
    /* WRITE PROTECTED */
    [SR_WRITE_PROTECTED] = {CC, KEY_DATA_PROTECT, 0x27, 0x00},
    /* SPACE ALLOCATION FAILED WRITE PROTECT (SBC-3 4.7.3.6) */
    [SR_SPACE_ALLOC_FAILED] = {CC, KEY_DATA_PROTECT, 0x27, 0x07},
    /* UNRECOVERED READ ERROR */
    [SR_READ_ERROR] = {CC, KEY_MEDIUM_ERROR, 0x11, 0x00},
    /* WRITE ERROR */
    [SR_WRITE_ERROR] = {CC, KEY_MEDIUM_ERROR, 0x0c, 0x00},
    /* MISCOMPARE DURING VERIFY OPERATION */
    [SR_MISCOMPARE] = {CC, KEY_MISCOMPARE, 0x1d, 0x00},
    /* LOGICAL UNIT NOT READY, MANUAL INTERVENTION REQUIRED: the
     * administrator took the LUN offline. */
    [SR_NOT_READY_OFFLINE] = {CC, KEY_NOT_READY, 0x04, 0x03},
    /* INTERNAL TARGET FAILURE */
    [SR_INTERNAL] = {CC, KEY_HARDWARE_ERROR, 0x44, 0x00},
    /* EXTENDED COPY parameter list errors (SPC-4 6.4.3) */
    [SR_TOO_MANY_TGT_DESC] = {CC, KEY_ILLEGAL_REQUEST, 0x26, 0x06},
    [SR_TOO_MANY_SEG_DESC] = {CC, KEY_ILLEGAL_REQUEST, 0x26, 0x08},
    [SR_UNSUPP_TGT_DESC] = {CC, KEY_ILLEGAL_REQUEST, 0x26, 0x07},
    [SR_UNSUPP_SEG_DESC] = {CC, KEY_ILLEGAL_REQUEST, 0x26, 0x09},
    /* COPY TARGET DEVICE NOT REACHABLE */
    [SR_COPY_TARGET_UNREACHABLE] = {CC, KEY_COPY_ABORTED, 0x0d, 0x02},
};

uint32_t scsi_sense_len(const uint8_t *sense)
{
	return 8u + sense[7];
}

void scsi_build_sense(struct scsi_task *t, enum sense_reason r, int desc)
{
	struct scsi_cmd *c = t->cmd;
	const struct sense_detail *d = &sense_table[r < SR__COUNT ? r : SR_INTERNAL];
	uint8_t asc = d->asc, ascq = d->ascq;
	uint8_t *s = c->sense;
	uint8_t sks[3] = {0};

	c->status = d->status;
	c->sense_len = 0;
	memset(s, 0, 32);
	if (d->status != SAM_STAT_CHECK_CONDITION)
		return;
	if (r == SR_UA) {
		asc = t->ua_asc;
		ascq = t->ua_ascq;
	}
	if (t->sks_valid) {
		/* SPC-4 4.5.2.4.2 field pointer: SKSV, C/D, BPV, bit pointer */
		sks[0] = (uint8_t)(0x80 | (t->sks_cd ? 0x40 : 0) |
				   (t->sks_bit >= 0 ? 0x08 | (t->sks_bit & 7) : 0));
		put_be16(sks + 1, t->sks_field);
	}
	if (!desc) {
		/* SPC-4 4.5.3 fixed format, 18 bytes */
		s[0] = 0x70 | (t->info_valid ? 0x80 : 0);
		s[2] = d->key;
		if (t->info_valid)
			put_be32(s + 3, (uint32_t)t->info);
		s[7] = 10;
		s[12] = asc;
		s[13] = ascq;
		if (t->sks_valid)
			memcpy(s + 15, sks, 3);
		c->sense_len = 18;
		return;
	}
	/* SPC-4 4.5.2 descriptor format */
	s[0] = 0x72;
	s[1] = d->key;
	s[2] = asc;
	s[3] = ascq;
	uint8_t *p = s + 8;
	if (t->info_valid) {
		/* 4.5.2.2 information descriptor */
		p[0] = 0x00;
		p[1] = 0x0a;
		p[2] = 0x80;
		put_be64(p + 4, t->info);
		p += 12;
	}
	if (t->sks_valid) {
		/* 4.5.2.4 sense key specific descriptor */
		p[0] = 0x02;
		p[1] = 0x06;
		memcpy(p + 4, sks, 3);
		p += 8;
	}
	s[7] = (uint8_t)(p - s - 8);
	c->sense_len = (uint32_t)(p - s);
}
