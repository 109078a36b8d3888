/*
 * Unit tests of the SCSI core (array-sim/scsi/): CDBs driven through
 * scsi_execute against LUNs of an array on a RAM pool, with exact sense
 * bytes.  This file: identity (INQUIRY, VPD), REPORT LUNS and unit
 * attentions, the data path, thin provisioning, mode pages, REPORT
 * SUPPORTED OPERATION CODES, faults.  Reservations: test_scsi_pr.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../array-sim/scsi/scsi.h"
#include "bdev.h"
#include "testutil.h"

/* ---- fixture (test_scsi_pr.c includes this part) ------------------------------------ */

#define ST_FN static __attribute__((unused))

#define IQN1  "iqn.2024-01.org.arraysim:init1"
#define IQN2  "iqn.2024-01.org.arraysim:init2"
#define TGT   "iqn.2024-01.org.arraysim:target"
#define PORT1 IQN1 ",i,0x400000000001"
#define PORT2 IQN2 ",i,0x400000000002"
#define TPORT TGT ",t,0x1"

struct sfx {
	struct bdev *dev;
	struct pool *p;
	struct array *a;
	struct scsi_ctx *s;
	struct scsi_nexus *n1, *n2;
};

static void st_hook(void *ctx, enum array_event ev, uint64_t host, uint64_t lun, uint32_t num)
{
	struct sfx *f = ctx;

	if (f->s)
		scsi_notify(f->s, ev, host, lun, num);
}

/* Pool, array, SCSI context, and two nexuses (same host, two initiators). */
ST_FN void st_open(struct sfx *f, int make_objects)
{
	assert_int_equal(pool_open(f->dev, NULL, &f->p), 0);
	assert_int_equal(array_open(f->p, &f->a), 0);
	if (make_objects) {
		assert_int_equal(array_lun_create(f->a, "lun0", 16 << 20, 512, NULL), 0);
		assert_int_equal(array_host_create(f->a, "h1", IQN1), 0);
		assert_int_equal(array_host_add_iqn(f->a, "h1", IQN2), 0);
		assert_int_equal(array_map(f->a, "lun0", "h1", 0, NULL), 0);
	}
	assert_int_equal(scsi_create(f->a, &f->s), 0);
	array_set_hook(f->a, st_hook, f);
	assert_int_equal(scsi_nexus_open(f->s, IQN1, PORT1, TPORT, 1, &f->n1), 0);
	assert_int_equal(scsi_nexus_open(f->s, IQN2, PORT2, TPORT, 1, &f->n2), 0);
}

ST_FN void st_close(struct sfx *f)
{
	array_set_hook(f->a, NULL, NULL);
	scsi_nexus_close(f->n1);
	scsi_nexus_close(f->n2);
	scsi_destroy(f->s);
	f->s = NULL;
	array_close(f->a);
	assert_int_equal(pool_close(f->p), 0);
	assert_int_equal(pool_check(f->dev, tu_report, "pool_check"), 0);
}

ST_FN struct sfx *st_new(uint64_t dev_size, uint64_t meta_size)
{
	struct sfx *f = calloc(1, sizeof(*f));
	struct pool_create_opts co = {.chunk_size = 64 << 10, .meta_size = meta_size};

	assert_non_null(f);
	assert_int_equal(bdev_mem_create(dev_size, &f->dev), 0);
	assert_int_equal(pool_create(f->dev, &co), 0);
	st_open(f, 1);
	return f;
}

ST_FN void st_free(struct sfx *f)
{
	st_close(f);
	bdev_destroy(f->dev);
	free(f);
}

/* Close everything and open it again from the pool (a daemon restart). */
ST_FN void st_reopen(struct sfx *f)
{
	st_close(f);
	st_open(f, 0);
}

ST_FN int st_setup(void **state)
{
	*state = st_new(64 << 20, 0);
	return 0;
}

ST_FN int st_teardown(void **state)
{
	if (*state)
		st_free(*state);
	return 0;
}

/* Run one command; din/exp: the data-in buffer, dout/dlen: data-out. */
ST_FN void st_exec(struct scsi_nexus *n, struct scsi_cmd *c, uint64_t lun, const uint8_t *cdb,
		   unsigned cdb_len, const void *dout, uint32_t dlen, void *din, uint32_t exp)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->cdb, cdb, cdb_len);
	c->cdb_len = 16; /* what iSCSI carries */
	c->lun = lun;
	c->data_out = dout;
	c->data_out_len = dlen;
	c->data_in = din;
	c->exp_xfer_len = din ? exp : dlen;
	scsi_execute(n, c);
	if (c->status == SAM_STAT_CHECK_CONDITION)
		assert_true(c->sense_len >= 8);
	else
		assert_int_equal(c->sense_len, 0);
}

/* Sense check, reported at the caller's line. */
#define st_expect_sense(c, key, asc, ascq) st_expect_sense_(c, key, asc, ascq, __LINE__)
#define ST_EQ(a, b, line)                                                                          \
	_assert_int_equal(cast_to_largest_integral_type(a), cast_to_largest_integral_type(b),      \
			  __FILE__, line)
ST_FN void st_expect_sense_(const struct scsi_cmd *c, uint8_t key, uint8_t asc, uint8_t ascq,
			    int line)
{
	ST_EQ(c->status, SAM_STAT_CHECK_CONDITION, line);
	if ((c->sense[0] & 0x7f) == 0x70) {
		ST_EQ(c->sense_len, 18, line);
		ST_EQ(c->sense[7], 10, line);
		ST_EQ(c->sense[2] & 0x0f, key, line);
		ST_EQ(c->sense[12], asc, line);
		ST_EQ(c->sense[13], ascq, line);
	} else {
		ST_EQ(c->sense[0], 0x72, line);
		ST_EQ(c->sense[1], key, line);
		ST_EQ(c->sense[2], asc, line);
		ST_EQ(c->sense[3], ascq, line);
	}
}

ST_FN void st_tur_cdb(struct scsi_nexus *n, struct scsi_cmd *c, uint64_t lun, uint8_t control)
{
	uint8_t cdb[6] = {0, 0, 0, 0, 0, control};

	st_exec(n, c, lun, cdb, 6, NULL, 0, NULL, 0);
}

ST_FN void st_tur(struct scsi_nexus *n, struct scsi_cmd *c, uint64_t lun)
{
	st_tur_cdb(n, c, lun, 0);
}

/* Swallow pending unit attentions, as libiscsi does at login. */
ST_FN void st_clear_ua(struct scsi_nexus *n, uint64_t lun)
{
	struct scsi_cmd c;

	for (int i = 0; i < 40; i++) {
		st_tur(n, &c, lun);
		if (c.status != SAM_STAT_CHECK_CONDITION || (c.sense[2] & 0x0f) != 0x06)
			break;
	}
	assert_int_equal(c.status, SAM_STAT_GOOD);
}

ST_FN uint32_t st_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

ST_FN uint64_t st_be64(const uint8_t *p)
{
	return (uint64_t)st_be32(p) << 32 | st_be32(p + 4);
}

/* D_SENSE in the control mode page, through MODE SENSE + MODE SELECT. */
ST_FN void st_set_dsense(struct sfx *f, int on)
{
	struct scsi_cmd c;
	uint8_t b[64], sel[16];

	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1a, 0x08, 0x0a, 0, 64, 0}, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	memset(sel, 0, sizeof(sel));
	memcpy(sel + 4, b + 4, 12);
	sel[6] = (uint8_t)((sel[6] & ~0x04) | (on ? 0x04 : 0));
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x15, 0x10, 0, 0, 16, 0}, 6, sel, 16, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
}

#ifndef SCSI_TEST_FIXTURE_ONLY

/* ---- identity ------------------------------------------------------------------- */

static void test_inquiry_standard(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t cdb[6] = {0x12, 0, 0, 0, 96, 0}, b[96];

	st_exec(f->n1, &c, 0, cdb, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 96);
	assert_int_equal(b[0], 0x00);
	assert_int_equal(b[2], 0x06); /* SPC-4 */
	assert_int_equal(b[3] & 0x0f, 2);
	assert_int_equal(b[4], 91);
	assert_int_equal(b[5] & 0x30, 0x10); /* TPGS implicit */
	assert_memory_equal(b + 8, "ARRAYSIM", 8);
	assert_memory_equal(b + 16, "VIRTUAL-ARRAY   ", 16);
	assert_memory_equal(b + 32, "0001", 4);
	/* version descriptors: SAM-5, SPC-4, SBC-3, iSCSI */
	assert_int_equal(b[58] << 8 | b[59], 0x00a0);
	assert_int_equal(b[60] << 8 | b[61], 0x0460);
	assert_int_equal(b[62] << 8 | b[63], 0x04c0);
	assert_int_equal(b[64] << 8 | b[65], 0x0960);

	/* allocation length 36 truncates, not an error */
	cdb[4] = 36;
	st_exec(f->n1, &c, 0, cdb, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 36);

	/* unmapped LUN: PQ 011b PDT 1Fh; other commands 25/00 */
	cdb[4] = 96;
	st_exec(f->n1, &c, 7, cdb, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[0], 0x7f);
	st_tur(f->n1, &c, 7);
	st_expect_sense(&c, 0x05, 0x25, 0x00);

	/* page code without EVPD: 24/00, field pointer byte 2 */
	cdb[2] = 0x80;
	st_exec(f->n1, &c, 0, cdb, 6, NULL, 0, b, sizeof(b));
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	assert_int_equal(c.sense[15], 0xc0);
	assert_int_equal(c.sense[16] << 8 | c.sense[17], 2);
}

static void vpd(struct sfx *f, struct scsi_nexus *n, uint64_t lun, uint8_t page, uint8_t *b,
		struct scsi_cmd *c)
{
	uint8_t cdb[6] = {0x12, 1, page, 1, 0, 0};

	st_exec(n, c, lun, cdb, 6, NULL, 0, b, 256);
}

static void test_vpd_pages(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[256];
	struct lun_info li;

	assert_int_equal(array_lun_find(f->a, "lun0", &li), 0);
	vpd(f, f->n1, 0, 0x00, b, &c);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[3], 7);
	for (int i = 1; i < b[3]; i++)
		assert_true(b[4 + i] > b[3 + i]); /* ascending */
	assert_int_equal(b[4], 0x00);

	vpd(f, f->n1, 0, 0x80, b, &c);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[3], 32);
	assert_memory_equal(b + 4, li.serial, 32);

	vpd(f, f->n1, 0, 0x83, b, &c);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	/* first designator: NAA, LU association, binary */
	assert_int_equal(b[4], 0x01);
	assert_int_equal(b[5], 0x03);
	assert_int_equal(b[7], 16);
	assert_memory_equal(b + 8, li.naa, 16);
	assert_int_equal(b[8] >> 4, 6);
	/* second: T10 vendor id + serial */
	assert_int_equal(b[24], 0x02);
	assert_int_equal(b[25], 0x01);
	assert_int_equal(b[27], 40);
	assert_memory_equal(b + 28, "ARRAYSIM", 8);
	assert_memory_equal(b + 36, li.serial, 32);
	/* third: relative target port 1 */
	assert_int_equal(b[68], 0x51);
	assert_int_equal(b[69], 0x94);
	assert_int_equal(b[74] << 8 | b[75], 1);

	vpd(f, f->n1, 0, 0xb0, b, &c);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[2] << 8 | b[3], 0x3c);
	assert_int_equal(b[5], 128);						       /* CAW */
	assert_int_equal(b[28] << 24 | b[29] << 16 | b[30] << 8 | b[31], 65536 / 512); /* chunk */
	assert_int_equal(b[24] << 24 | b[25] << 16 | b[26] << 8 | b[27], 256);
	assert_true(b[32] & 0x80);

	vpd(f, f->n1, 0, 0xb1, b, &c);
	assert_int_equal(b[3], 0x3c);
	assert_int_equal(b[5], 1);

	vpd(f, f->n1, 0, 0xb2, b, &c);
	assert_int_equal(b[3], 4);
	assert_int_equal(b[5], 0xe4);
	assert_int_equal(b[6] & 7, 2);

	vpd(f, f->n1, 0, 0x99, b, &c);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
}

static void test_snapshot_identity(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t a80[64], s80[64], a83[256], s83[256], b[64];
	uint8_t ms[6] = {0x1a, 0x08, 0x3f, 0, 255, 0};
	uint8_t w10[10] = {0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	uint8_t data[512] = {0};
	struct lun_info l, s;
	uint64_t sid;

	assert_int_equal(array_lun_find(f->a, "lun0", &l), 0);
	assert_int_equal(vol_snapshot(f->p, l.id, "snap1", &sid), 0);
	assert_int_equal(array_map(f->a, "snap1", "h1", 1, NULL), 0);
	assert_int_equal(array_lun_find(f->a, "snap1", &s), 0);
	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n1, 1);

	vpd(f, f->n1, 0, 0x80, a80, &c);
	vpd(f, f->n1, 1, 0x80, s80, &c);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_memory_equal(s80 + 4, s.serial, 32);
	assert_memory_not_equal(a80 + 4, s80 + 4, 32);
	vpd(f, f->n1, 0, 0x83, a83, &c);
	vpd(f, f->n1, 1, 0x83, s83, &c);
	assert_memory_not_equal(a83 + 8, s83 + 8, 16);	 /* NAA */
	assert_memory_not_equal(a83 + 36, s83 + 36, 32); /* T10 */
	assert_memory_equal(s83 + 8, s.naa, 16);

	/* the snapshot is write protected: WP in MODE SENSE, 07/27/00 */
	st_exec(f->n1, &c, 1, ms, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[2], 0x90); /* WP | DPOFUA */
	st_exec(f->n1, &c, 0, ms, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(b[2], 0x10);
	st_exec(f->n1, &c, 1, w10, 10, data, sizeof(data), NULL, 0);
	st_expect_sense(&c, 0x07, 0x27, 0x00);

	/* stable across a restart of the whole stack */
	st_reopen(f);
	st_clear_ua(f->n1, 1);
	vpd(f, f->n1, 1, 0x80, b, &c);
	assert_memory_equal(b + 4, s80 + 4, 32);
}

/* ---- REPORT LUNS, unit attentions ---------------------------------------------------- */

static void test_ua_power_on_and_report_luns(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t rl[12] = {0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, b[256];
	uint8_t inq[6] = {0x12, 0, 0, 0, 36, 0}, rs[6] = {0x03, 0, 0, 0, 252, 0};

	/* a new nexus: INQUIRY does not see or clear the UA */
	assert_true(scsi_nexus_has_ua(f->n1));
	st_exec(f->n1, &c, 0, inq, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x06, 0x29, 0x00);
	st_tur(f->n1, &c, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_false(scsi_nexus_has_ua(f->n1));

	/* REPORT LUNS */
	st_exec(f->n1, &c, 0, rl, 12, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 16);
	assert_int_equal(b[3], 8);
	assert_int_equal(b[9], 0);
	/* allocation length < 16: invalid field */
	rl[8] = 0;
	rl[9] = 8;
	st_exec(f->n1, &c, 0, rl, 12, NULL, 0, b, sizeof(b));
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	rl[8] = 1;
	rl[9] = 0;
	/* select report 1 (well known): empty; 3: invalid */
	rl[2] = 1;
	st_exec(f->n1, &c, 0, rl, 12, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[3], 0);
	rl[2] = 3;
	st_exec(f->n1, &c, 0, rl, 12, NULL, 0, b, sizeof(b));
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	rl[2] = 2;

	/* map a second LUN at number 300 (flat addressing): 3F/0E */
	assert_int_equal(array_lun_create(f->a, "lun2", 4 << 20, 4096, NULL), 0);
	assert_int_equal(array_map(f->a, "lun2", "h1", 300, NULL), 0);
	assert_true(scsi_nexus_has_ua(f->n1));
	/* REQUEST SENSE reports it as data with GOOD status, and clears it */
	st_exec(f->n1, &c, 0, rs, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[0], 0x70);
	assert_int_equal(b[2], 0x06);
	assert_int_equal(b[12], 0x3f);
	assert_int_equal(b[13], 0x0e);
	/* LUN 300 is new to this nexus: power on first */
	st_tur(f->n1, &c, 300);
	st_expect_sense(&c, 0x06, 0x29, 0x00);
	st_exec(f->n1, &c, 0, rl, 12, NULL, 0, b, sizeof(b));
	assert_int_equal(b[3], 16);
	assert_int_equal(b[16], 0x41);
	assert_int_equal(b[17], 300 & 0xff);
	/* the 3F/0E on LUN 300 was cleared by REPORT LUNS */
	st_tur(f->n1, &c, 300);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	/* READ CAPACITY on the 4K LUN */
	assert_int_equal(scsi_lun_block_size(f->n1, 300), 4096);
	assert_int_equal(scsi_lun_block_size(f->n1, 301), 0);

	/* unmap: 3F/0E on LUN 0, and LUN 300 is gone */
	assert_int_equal(array_unmap(f->a, "lun2", "h1"), 0);
	st_tur(f->n1, &c, 300);
	st_expect_sense(&c, 0x05, 0x25, 0x00);
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x06, 0x3f, 0x0e);
	st_tur(f->n1, &c, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);

	/* descriptor format REQUEST SENSE without a UA: NO SENSE */
	rs[1] = 1;
	st_exec(f->n1, &c, 0, rs, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[0], 0x72);
	assert_int_equal(b[1], 0x00);
}

static void test_ua_resize_offline_reset(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t rc10[10] = {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, b[8];

	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	assert_int_equal(array_lun_resize(f->a, "lun0", 32 << 20), 0);
	st_exec(f->n1, &c, 0, rc10, 10, NULL, 0, b, sizeof(b));
	st_expect_sense(&c, 0x06, 0x2a, 0x09);
	st_exec(f->n1, &c, 0, rc10, 10, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(st_be32(b), (32 << 20) / 512 - 1);
	assert_int_equal(st_be32(b + 4), 512);
	st_clear_ua(f->n2, 0);

	/* offline: NOT READY 04/03 for TUR and I/O; INQUIRY still works */
	assert_int_equal(array_lun_set_online(f->a, "lun0", 0), 0);
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x02, 0x04, 0x03);
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x12, 0, 0, 0, 8, 0}, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(array_lun_set_online(f->a, "lun0", 1), 0);
	st_tur(f->n1, &c, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);

	/* LUN reset on n1: BUS DEVICE RESET FUNCTION OCCURRED on both */
	assert_int_equal(scsi_tmf(f->n1, SCSI_TMF_LUN_RESET, 0), 0);
	assert_int_equal(scsi_tmf(f->n1, SCSI_TMF_LUN_RESET, 9), -ENOENT);
	assert_int_equal(scsi_tmf(f->n1, SCSI_TMF_ABORT_TASK, 0), 0);
	assert_int_equal(scsi_tmf(f->n1, SCSI_TMF_CLEAR_ACA, 0), -ENOTSUP);
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x06, 0x29, 0x03);
	st_tur(f->n1, &c, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_tur(f->n2, &c, 0);
	st_expect_sense(&c, 0x06, 0x29, 0x03);
	st_tur(f->n2, &c, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
}

/* ---- data path ---------------------------------------------------------------------- */

static void test_read_write(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t *w = malloc(8 * 512), *r = malloc(8 * 512);
	uint64_t nb = (16 << 20) / 512;

	st_clear_ua(f->n1, 0);
	for (int i = 0; i < 8 * 512; i++)
		w[i] = (uint8_t)(i * 7 + 3);
	/* WRITE(10) FUA, READ(16) */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0x08, 0, 0, 0, 100, 0, 0, 8, 0}, 10, w, 4096,
		NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x88, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 8, 0, 0},
		16, NULL, 0, r, 4096);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 4096);
	assert_memory_equal(w, r, 4096);
	/* WRITE(6)/READ(6), WRITE(12)/READ(12) */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x0a, 0, 0, 200, 2, 0}, 6, w, 1024, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x08, 0, 0, 200, 2, 0}, 6, NULL, 0, r, 1024);
	assert_memory_equal(w, r, 1024);
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xaa, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0}, 12, w + 512,
		512, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa8, 0x10, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0}, 12, NULL, 0,
		r, 512);
	assert_memory_equal(w + 512, r, 512);
	/* short initiator buffer: 700 of 1024 bytes, partial block copied */
	memset(r, 0, 1024);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 100, 0, 0, 2, 0}, 10, NULL, 0, r,
		700);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 700);
	assert_int_equal(c.xfer_len, 1024);
	assert_memory_equal(w, r, 700);

	/* end of the LUN: last block ok, one past out of range */
	st_exec(f->n1, &c, 0,
		(uint8_t[10]){0x28, 0, (uint8_t)((nb - 1) >> 24), (uint8_t)((nb - 1) >> 16),
			      (uint8_t)((nb - 1) >> 8), (uint8_t)(nb - 1), 0, 0, 1, 0},
		10, NULL, 0, r, 512);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0,
		(uint8_t[10]){0x28, 0, (uint8_t)(nb >> 24), (uint8_t)(nb >> 16), (uint8_t)(nb >> 8),
			      (uint8_t)nb, 0, 0, 1, 0},
		10, NULL, 0, r, 512);
	st_expect_sense(&c, 0x05, 0x21, 0x00);
	/* zero blocks at LBA == capacity: GOOD; capacity + 1: out of range */
	st_exec(f->n1, &c, 0,
		(uint8_t[10]){0x28, 0, (uint8_t)(nb >> 24), (uint8_t)(nb >> 16), (uint8_t)(nb >> 8),
			      (uint8_t)nb, 0, 0, 0, 0},
		10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0,
		(uint8_t[16]){0x8a, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1,
			      0, 0},
		16, w, 512, NULL, 0);
	st_expect_sense(&c, 0x05, 0x21, 0x00);
	/* RDPROTECT without protection information */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0}, 10, NULL, 0, r,
		512);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	assert_int_equal(c.sense[15], 0xc8 | 7); /* C/D, BPV, bit 7 */
	assert_int_equal(c.sense[17], 1);
	/* less data-out than the CDB asks (EDTL 700 for 2 blocks): GOOD,
	 * exactly 700 bytes written, the rest of block 101 kept */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 100, 0, 0, 2, 0}, 10, w + 7, 700,
		NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.xfer_len, 1024);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 100, 0, 0, 2, 0}, 10, NULL, 0, r,
		1024);
	assert_memory_equal(r, w + 7, 700);
	assert_memory_equal(r + 700, w + 700, 324);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 100, 0, 0, 2, 0}, 10, w, 1024, NULL,
		0);
	/* beyond the maximum transfer length */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 0, 0, 0x4e, 0x20, 0}, 10, NULL, 0,
		NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	/* NACA=1 is not supported */
	st_tur_cdb(f->n1, &c, 0, 0x04);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	/* unknown opcode */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0xc0, 0, 0, 0, 0, 0}, 6, NULL, 0, NULL, 0);
	st_expect_sense(&c, 0x05, 0x20, 0x00);
	/* unknown service action of SERVICE ACTION IN(16) */
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9e, 0x1f}, 16, NULL, 0, r, 32);
	st_expect_sense(&c, 0x05, 0x24, 0x00);

	/* VERIFY(10) BYTCHK=1: match, then miscompare at byte 5 */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2f, 0x02, 0, 0, 0, 100, 0, 0, 2, 0}, 10, w, 1024,
		NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	w[5] ^= 1;
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2f, 0x02, 0, 0, 0, 100, 0, 0, 2, 0}, 10, w, 1024,
		NULL, 0);
	st_expect_sense(&c, 0x0e, 0x1d, 0x00);
	assert_int_equal(c.sense[0], 0xf0);
	assert_int_equal(st_be32(c.sense + 3), 5);
	w[5] ^= 1;
	/* VERIFY(16) BYTCHK=0 */
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 8, 0, 0},
		16, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	/* WRITE AND VERIFY(16) */
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x8e, 0, 0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 1, 0, 0}, 16,
		w, 512, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 50, 0, 0, 1, 0}, 10, NULL, 0, r, 512);
	assert_memory_equal(w, r, 512);
	/* SYNCHRONIZE CACHE(10)/(16), PRE-FETCH */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x35}, 10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x91}, 16, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x34, 0, 0, 0, 0, 0, 0, 0, 8, 0}, 10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	/* START STOP UNIT, PREVENT ALLOW */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1b, 0, 0, 0, 1, 0}, 6, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1e, 0, 0, 0, 0, 0}, 6, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	free(w);
	free(r);
}

static void test_read_capacity16(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[32];

	st_clear_ua(f->n1, 0);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0},
		16, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 32);
	assert_int_equal(st_be32(b + 4), (16 << 20) / 512 - 1);
	assert_int_equal(st_be32(b + 8), 512);
	assert_int_equal(b[13], 0);
	assert_int_equal(b[14], 0xc0); /* LBPME LBPRZ */
	/* READ CAPACITY(10) with an LBA but no PMI */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0}, 10, NULL, 0, b, 8);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
}

/* ---- thin provisioning --------------------------------------------------------------- */

static int gls(struct sfx *f, uint64_t lba, uint64_t *run)
{
	struct scsi_cmd c;
	uint8_t b[64];

	st_exec(f->n1, &c, 0,
		(uint8_t[16]){0x9e, 0x12, 0, 0, 0, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
			      (uint8_t)(lba >> 8), (uint8_t)lba, 0, 0, 0, 24, 0, 0},
		16, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 24);
	assert_int_equal(st_be32(b), 20);
	assert_int_equal(st_be32(b + 12), (uint32_t)lba);
	*run = st_be32(b + 16);
	return b[20];
}

static void test_unmap_get_lba_status(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t *w = malloc(65536), *r = malloc(65536);
	uint8_t um[24] = {0, 22, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128};
	uint64_t run;

	st_clear_ua(f->n1, 0);
	memset(w, 0x5a, 65536);
	/* a whole chunk (128 blocks) at LBA 0 */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 0, 0, 0, 128, 0}, 10, w, 65536, NULL,
		0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(gls(f, 0, &run), 0);
	assert_int_equal(run, 128);
	assert_int_equal(gls(f, 128, &run), 1);
	/* UNMAP it: deallocated, reads zeros (LBPRZ) */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0}, 10, um, 24, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(gls(f, 0, &run), 1);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 0, 0, 0, 128, 0}, 10, NULL, 0, r,
		65536);
	assert_true(tu_is_zero(r, 65536));
	/* parameter list validation */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x42, 0, 0, 0, 0, 0, 0, 0, 4, 0}, 10, um, 4, NULL, 0);
	st_expect_sense(&c, 0x05, 0x1a, 0x00);
	um[3] = 32; /* block descriptor length beyond the list */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0}, 10, um, 24, NULL, 0);
	st_expect_sense(&c, 0x05, 0x26, 0x00);
	um[3] = 16;
	um[8] = 1; /* LBA far beyond the end */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0}, 10, um, 24, NULL, 0);
	st_expect_sense(&c, 0x05, 0x21, 0x00);
	um[8] = 0;
	/* ANCHOR is not supported */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x42, 1, 0, 0, 0, 0, 0, 0, 24, 0}, 10, um, 24, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	/* GET LBA STATUS beyond the end */
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9e, 0x12, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 24}, 16,
		NULL, 0, r, 24);
	st_expect_sense(&c, 0x05, 0x21, 0x00);
	free(w);
	free(r);
}

static void test_write_same(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t blk[512], *r = malloc(256 * 512);
	uint64_t run;

	st_clear_ua(f->n1, 0);
	for (int i = 0; i < 512; i++)
		blk[i] = (uint8_t)i;
	/* WRITE SAME(10) of a pattern over 256 blocks */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x41, 0, 0, 0, 1, 0, 0, 1, 0, 0}, 10, blk, 512, NULL,
		0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 1, 0, 0, 1, 0, 0}, 10, NULL, 0, r,
		256 * 512);
	for (int i = 0; i < 256; i++)
		assert_memory_equal(r + 512 * i, blk, 512);
	assert_int_equal(gls(f, 256, &run), 0);
	/* WRITE SAME(16) UNMAP with zeros deallocates */
	memset(blk, 0, 512);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x93, 0x08, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0},
		16, blk, 512, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(gls(f, 256, &run), 1);
	/* UNMAP with a non-zero block deallocates too (as LIO) */
	memset(blk, 0xff, 512);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x41, 0, 0, 0, 1, 0, 0, 0, 4, 0}, 10, blk, 512, NULL,
		0);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x41, 0x08, 0, 0, 1, 0, 0, 0, 4, 0}, 10, blk, 512, NULL,
		0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 1, 0, 0, 0, 4, 0}, 10, NULL, 0, r, 2048);
	assert_true(tu_is_zero(r, 2048));
	/* NDOB + UNMAP: no data-out */
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x93, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128, 0, 0},
		16, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	/* ANCHOR, wrong data-out size, beyond end, too long */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x41, 0x18, 0, 0, 0, 0, 0, 0, 1, 0}, 10, blk, 512, NULL,
		0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x41, 0x08, 0, 0, 0, 0, 0, 0, 1, 0}, 10, blk, 256, NULL,
		0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x41, 0, 0, 0x01, 0, 0, 0, 0, 1, 0}, 10, blk, 512, NULL,
		0);
	st_expect_sense(&c, 0x05, 0x21, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x93, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0},
		16, blk, 512, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	free(r);
}

static void test_compare_and_write(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t buf[1024], r[512];
	uint8_t caw[16] = {0x89, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0};

	st_clear_ua(f->n1, 0);
	/* block 10 reads zeros: compare zeros, write 0xab */
	memset(buf, 0, 512);
	memset(buf + 512, 0xab, 512);
	st_exec(f->n1, &c, 0, caw, 16, buf, 1024, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 10, 0, 0, 1, 0}, 10, NULL, 0, r, 512);
	assert_memory_equal(r, buf + 512, 512);
	/* miscompare at byte 0: MISCOMPARE, INFORMATION 0, nothing written */
	memset(buf + 512, 0xcd, 512);
	st_exec(f->n1, &c, 0, caw, 16, buf, 1024, NULL, 0);
	st_expect_sense(&c, 0x0e, 0x1d, 0x00);
	assert_int_equal(c.sense[0], 0xf0);
	assert_int_equal(st_be32(c.sense + 3), 0);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 10, 0, 0, 1, 0}, 10, NULL, 0, r, 512);
	assert_int_equal(r[0], 0xab);
	/* wrong data-out size */
	st_exec(f->n1, &c, 0, caw, 16, buf, 512, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	/* D_SENSE=1 via MODE SELECT: descriptor sense with information */
	st_set_dsense(f, 1);
	memset(buf, 0xab, 512);
	buf[300] = 0;
	st_exec(f->n1, &c, 0, caw, 16, buf, 1024, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_CHECK_CONDITION);
	assert_int_equal(c.sense[0], 0x72);
	assert_int_equal(c.sense[1], 0x0e);
	assert_int_equal(c.sense[2], 0x1d);
	assert_int_equal(c.sense[8], 0x00); /* information descriptor */
	assert_int_equal(c.sense[9], 0x0a);
	assert_int_equal(c.sense[10], 0x80);
	assert_int_equal(st_be32(c.sense + 16), 300);
	assert_int_equal(c.sense_len, 20);
	st_set_dsense(f, 0);
}

/* ---- mode pages ---------------------------------------------------------------------- */

static void test_mode_pages(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[256], sel[32], blk[512];

	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	/* MODE SENSE(6) all pages with a block descriptor */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1a, 0, 0x3f, 0, 255, 0}, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[0], 4 + 8 + 20 + 12 + 12 - 1);
	assert_int_equal(b[2], 0x10);
	assert_int_equal(b[3], 8);
	assert_int_equal(st_be32(b + 4), (16 << 20) / 512);
	assert_int_equal(b[12], 0x08); /* caching first */
	assert_int_equal(b[14] & 0x04, 0x04);
	assert_int_equal(b[32], 0x0a);
	assert_int_equal(b[44], 0x1c);
	/* residual: allocation length 4 */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1a, 0, 0x3f, 0, 4, 0}, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.data_in_len, 4);
	/* MODE SENSE(10) control page, changeable values */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x5a, 0x08, 0x4a, 0, 0, 0, 0, 0, 255, 0}, 10, NULL, 0,
		b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[1], 6 + 12);
	assert_int_equal(b[8], 0x0a);
	assert_int_equal(b[10], 0x04); /* D_SENSE changeable */
	/* saved values: not supported */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1a, 0, 0xc8, 0, 255, 0}, 6, NULL, 0, b, sizeof(b));
	st_expect_sense(&c, 0x05, 0x39, 0x00);
	/* unknown page */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1a, 0, 0x19, 0, 255, 0}, 6, NULL, 0, b, sizeof(b));
	st_expect_sense(&c, 0x05, 0x24, 0x00);

	/* MODE SELECT(6): WCE off, then a change of a fixed bit */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1a, 0x08, 0x08, 0, 255, 0}, 6, NULL, 0, b, sizeof(b));
	memset(sel, 0, sizeof(sel));
	memcpy(sel + 4, b + 4, 20);
	sel[6] &= (uint8_t)~0x04;
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x15, 0x10, 0, 0, 24, 0}, 6, sel, 24, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1a, 0x08, 0x08, 0, 255, 0}, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(b[6] & 0x04, 0);
	/* the other nexus hears MODE PARAMETERS CHANGED */
	st_tur(f->n2, &c, 0);
	st_expect_sense(&c, 0x06, 0x2a, 0x01);
	/* writes still work with the cache off (FUA on each) */
	memset(blk, 0x11, sizeof(blk));
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 1, 0, 0, 1, 0}, 10, blk, 512, NULL,
		0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	sel[6] |= 0x04;
	sel[7] = 0x01; /* RCD: not changeable */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x15, 0x10, 0, 0, 24, 0}, 6, sel, 24, NULL, 0);
	st_expect_sense(&c, 0x05, 0x26, 0x00);
	assert_int_equal(c.sense[15], 0x88); /* SKSV, parameter list, BPV bit 0 */
	assert_int_equal(c.sense[17], 7);
	sel[7] = 0;
	/* short parameter list, PF=0, SP=1 */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x15, 0x10, 0, 0, 2, 0}, 6, sel, 2, NULL, 0);
	st_expect_sense(&c, 0x05, 0x1a, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x15, 0x00, 0, 0, 24, 0}, 6, sel, 24, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x15, 0x11, 0, 0, 24, 0}, 6, sel, 24, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x15, 0x10, 0, 0, 24, 0}, 6, sel, 24, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
}

/* ---- REPORT SUPPORTED OPERATION CODES, REPORT TARGET PORT GROUPS ------------------ */

static void test_rsoc_rtpg(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t *b = malloc(8192);
	uint32_t len;
	int found = 0;

	st_clear_ua(f->n1, 0);
	/* all commands */
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0}, 12, NULL,
		0, b, 8192);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	len = st_be32(b);
	assert_int_equal(len % 8, 0);
	for (uint32_t i = 4; i < 4 + len; i += 8)
		if (b[i] == 0x9e && (b[i + 2] << 8 | b[i + 3]) == 0x10) {
			assert_int_equal(b[i + 5], 0x01); /* SERVACTV */
			assert_int_equal(b[i + 6] << 8 | b[i + 7], 16);
			found = 1;
		}
	assert_true(found);
	/* with RCTD: 20-byte descriptors */
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa3, 0x0c, 0x80, 0, 0, 0, 0, 0, 0x20, 0, 0, 0}, 12,
		NULL, 0, b, 8192);
	assert_int_equal(st_be32(b) % 20, 0);
	assert_int_equal(b[4 + 5], 0x02);
	/* one command: READ(10) */
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa3, 0x0c, 0x01, 0x28, 0, 0, 0, 0, 0, 64, 0, 0}, 12,
		NULL, 0, b, 8192);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[1], 0x03);
	assert_int_equal(b[3], 10);
	assert_int_equal(b[4], 0x28);
	assert_int_equal(b[5], 0x18);
	/* one command with service action, and errors */
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa3, 0x0c, 0x02, 0x9e, 0, 0x12, 0, 0, 0, 64, 0, 0}, 12,
		NULL, 0, b, 8192);
	assert_int_equal(b[1], 0x03);
	assert_int_equal(b[3], 16);
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa3, 0x0c, 0x01, 0x9e, 0, 0, 0, 0, 0, 64, 0, 0}, 12,
		NULL, 0, b, 8192);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa3, 0x0c, 0x02, 0x28, 0, 0, 0, 0, 0, 64, 0, 0}, 12,
		NULL, 0, b, 8192);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa3, 0x0c, 0x01, 0xc0, 0, 0, 0, 0, 0, 64, 0, 0}, 12,
		NULL, 0, b, 8192);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[1], 0x01); /* not supported */

	/* REPORT TARGET PORT GROUPS */
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, 12, NULL, 0,
		b, 256);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(st_be32(b), 12);
	assert_int_equal(b[4] & 0x0f, 0); /* active/optimized */
	assert_int_equal(b[6] << 8 | b[7], 1);
	assert_int_equal(b[11], 1);
	assert_int_equal(b[14] << 8 | b[15], 1);
	free(b);
}

/* ---- faults -------------------------------------------------------------------------- */

struct fault {
	uint32_t op, delay, err;
	int calls;
};

static void fault_fn(void *ctx, uint32_t op, uint32_t *delay_ms, uint32_t *err)
{
	struct fault *fl = ctx;

	fl->calls++;
	if (op == fl->op) {
		*delay_ms = fl->delay;
		*err = fl->err;
	}
}

static void test_fault_hook(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	struct fault fl = {.op = 0x10001, .delay = 1, .err = 5};
	uint8_t r[512];

	st_clear_ua(f->n1, 0);
	scsi_set_fault_hook(f->s, fault_fn, &fl);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, NULL, 0, r, 512);
	st_expect_sense(&c, 0x03, 0x11, 0x00);
	fl.op = 0x10002;
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, r, 512, NULL, 0);
	st_expect_sense(&c, 0x03, 0x0c, 0x00);
	fl.op = 0x10003;
	fl.err = 13; /* EOFFLINE: not ready */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x35}, 10, NULL, 0, NULL, 0);
	st_expect_sense(&c, 0x02, 0x04, 0x03);
	fl.err = 0;
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x35}, 10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(fl.calls, 4);
	scsi_set_fault_hook(f->s, NULL, NULL);
}

static void test_pool_full(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t *w = malloc(65536);
	int i;

	/* a 3 MiB pool behind a 16 MiB LUN: writes run out of chunks */
	st_free(f);
	*state = f = st_new(3 << 20, 1 << 20);
	st_clear_ua(f->n1, 0);
	memset(w, 1, 65536);
	for (i = 0; i < 256; i++) {
		uint32_t lba = (uint32_t)i * 128;

		st_exec(
		    f->n1, &c, 0,
		    (uint8_t[10]){0x2a, 0, 0, 0, (uint8_t)(lba >> 8), (uint8_t)lba, 0, 0, 128, 0},
		    10, w, 65536, NULL, 0);
		if (c.status != SAM_STAT_GOOD)
			break;
	}
	assert_true(i < 256);
	st_expect_sense(&c, 0x07, 0x27, 0x07);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_inquiry_standard, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_vpd_pages, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_identity, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_ua_power_on_and_report_luns, st_setup,
					    st_teardown),
	    cmocka_unit_test_setup_teardown(test_ua_resize_offline_reset, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_read_write, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_read_capacity16, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_unmap_get_lba_status, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_write_same, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_compare_and_write, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_mode_pages, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_rsoc_rtpg, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_fault_hook, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_pool_full, st_setup, st_teardown),
	};

	return cmocka_run_group_tests_name("scsi", tests, NULL, NULL);
}
#endif /* SCSI_TEST_FIXTURE_ONLY */
