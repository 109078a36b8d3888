/*
 * Unit tests of the SCSI core: READ DEFECT DATA (10/12), SANITIZE, WRITE
 * ATOMIC(16), the control page's SWP bit, and the VPD/REPORT SUPPORTED
 * OPERATION CODES entries that announce them.  The fixture is test_scsi.c's.
 */
#define SCSI_TEST_FIXTURE_ONLY
#include "test_scsi.c"

/* REPORT SUPPORTED OPERATION CODES, one command (options 1 or 2). */
static void rsoc_one(struct sfx *f, struct scsi_cmd *c, uint8_t opts, uint8_t op, uint16_t sa,
		     uint8_t *b)
{
	st_exec(
	    f->n1, c, 0,
	    (uint8_t[12]){0xa3, 0x0c, opts, op, (uint8_t)(sa >> 8), (uint8_t)sa, 0, 0, 0, 64, 0, 0},
	    12, NULL, 0, b, 64);
}

static void test_read_defect_data(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[64];

	st_clear_ua(f->n1, 0);
	/* 10: REQ_PLIST|REQ_GLIST, format 101b -> 4-byte header, empty */
	memset(b, 0xee, sizeof(b));
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x37, 0, 0x1d, 0, 0, 0, 0, 0, 32, 0}, 10, NULL, 0, b,
		32);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 4);
	assert_int_equal(b[1], 0x1d);
	assert_int_equal(b[2] | b[3], 0);
	/* allocation length 2 truncates (SPC-4 4.2.5.6) */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x37, 0, 0, 0, 0, 0, 0, 0, 2, 0}, 10, NULL, 0, b, 2);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 2);
	/* reserved bytes */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x37, 0x01, 0, 0, 0, 0, 0, 0, 32, 0}, 10, NULL, 0, b,
		32);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x37, 0, 0, 0, 0, 1, 0, 0, 32, 0}, 10, NULL, 0, b, 32);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	/* 12: format in byte 1, 8-byte header with a 4-byte length */
	memset(b, 0xee, sizeof(b));
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xb7, 0x0b, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}, 12, NULL, 0,
		b, 32);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 8);
	assert_int_equal(b[1], 0x0b);
	assert_int_equal(st_be32(b + 4), 0);
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xb7, 0x20, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}, 12, NULL, 0,
		b, 32);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	/* a read-class command: another nexus's RESERVE(6) conflicts */
	st_clear_ua(f->n2, 0);
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x16}, 6, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x37, 0, 0, 0, 0, 0, 0, 0, 32, 0}, 10, NULL, 0, b, 32);
	assert_int_equal(c.status, SAM_STAT_RESERVATION_CONFLICT);
	/* REPORT SUPPORTED OPERATION CODES lists both */
	rsoc_one(f, &c, 1, 0x37, 0, b);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[1] & 7, 3);
	assert_int_equal(b[3], 10);
	rsoc_one(f, &c, 1, 0xb7, 0, b);
	assert_int_equal(b[1] & 7, 3);
	assert_int_equal(b[3], 12);
}

static void write_pattern(struct sfx *f, uint64_t lba, uint8_t v)
{
	struct scsi_cmd c;
	uint8_t w[4096];

	memset(w, v, sizeof(w));
	st_exec(f->n1, &c, 0,
		(uint8_t[10]){0x2a, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
			      (uint8_t)(lba >> 8), (uint8_t)lba, 0, 0, 8, 0},
		10, w, sizeof(w), NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
}

static void expect_fill(struct sfx *f, uint64_t lba, uint8_t v)
{
	struct scsi_cmd c;
	uint8_t r[4096];

	st_exec(f->n1, &c, 0,
		(uint8_t[10]){0x28, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
			      (uint8_t)(lba >> 8), (uint8_t)lba, 0, 0, 8, 0},
		10, NULL, 0, r, sizeof(r));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	for (size_t i = 0; i < sizeof(r); i++)
		assert_int_equal(r[i], v);
}

static void test_sanitize(void **state)
{
	struct sfx *f = *state;
	uint64_t last = (16 << 20) / 512 - 8;
	struct scsi_cmd c;
	uint8_t b[64], p[8] = {0};

	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	/* BLOCK ERASE: everything deallocated, reads zeros */
	write_pattern(f, 0, 'a');
	write_pattern(f, last, 'a');
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x48, 0x02}, 10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	expect_fill(f, 0, 0);
	expect_fill(f, last, 0);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9e, 0x12, [13] = 64}, 16, NULL, 0, b, 64);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(st_be32(b), 20); /* one descriptor */
	assert_int_equal(st_be64(b + 8), 0);
	assert_int_equal(st_be32(b + 16), (16 << 20) / 512);
	assert_int_equal(b[20] & 0x0f, 1); /* deallocated */
	/* CRYPTO ERASE with IMMED, EXIT FAILURE MODE */
	write_pattern(f, 100, 'b');
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x48, 0x83}, 10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	expect_fill(f, 100, 0);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x48, 0x1f}, 10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	/* a parameter list is only for OVERWRITE */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x48, 0x02, [8] = 8}, 10, p, 8, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	assert_int_equal(c.sense[15], 0xc0); /* SKSV, C/D, byte 7 */
	assert_int_equal(c.sense[17], 7);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x48, 0x1f, [8] = 8}, 10, p, 8, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[10]){0x48, 0x02, [8] = 8}, 10, 512), 8);
	/* OVERWRITE and other service actions: INVALID FIELD IN CDB */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x48, 0x01}, 10, NULL, 0, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x48, 0x00}, 10, NULL, 0, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	/* reserved bit 6 of byte 1, reserved bytes 2-6 */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x48, 0x42}, 10, NULL, 0, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	for (unsigned i = 2; i < 7; i++) {
		uint8_t cdb[10] = {0x48, 0x03};

		cdb[i] = 1;
		st_exec(f->n1, &c, 0, cdb, 10, NULL, 0, NULL, 0);
		st_expect_sense(&c, 0x05, 0x24, 0x00);
	}
	/* another nexus's RESERVE(6): RESERVATION CONFLICT, nothing erased */
	write_pattern(f, 0, 'c');
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x16}, 6, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x48, 0x02}, 10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_RESERVATION_CONFLICT);
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x17}, 6, NULL, 0, NULL, 0);
	expect_fill(f, 0, 'c');
	/* RSOC: the three service actions, not OVERWRITE */
	rsoc_one(f, &c, 2, 0x48, 0x02, b);
	assert_int_equal(b[1] & 7, 3);
	assert_int_equal(b[5], 0xbf);
	rsoc_one(f, &c, 2, 0x48, 0x03, b);
	assert_int_equal(b[1] & 7, 3);
	rsoc_one(f, &c, 2, 0x48, 0x1f, b);
	assert_int_equal(b[1] & 7, 3);
	rsoc_one(f, &c, 2, 0x48, 0x01, b);
	assert_int_equal(b[1] & 7, 1); /* not supported */
	/* VPD B1h: WABEREQ = WACEREQ = 01b */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x12, 1, 0xb1, 0, 64, 0}, 6, NULL, 0, b, 64);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[7], 0x50);
}

/* SWP in the control mode page write-protects the LU for every nexus. */
static void set_swp(struct sfx *f, int on)
{
	struct scsi_cmd c;
	uint8_t b[64], sel[16];

	st_exec(f->n2, &c, 0, (uint8_t[6]){0x1a, 0x08, 0x0a, 0, 64, 0}, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	memset(sel, 0, sizeof(sel));
	memcpy(sel + 4, b + 4, 12);
	sel[8] = (uint8_t)((sel[8] & ~0x08) | (on ? 0x08 : 0));
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x15, 0x10, 0, 0, 16, 0}, 6, sel, 16, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
}

static void test_swp(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[64], w[512] = {0};

	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	/* changeable */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1a, 0x08, 0x4a, 0, 64, 0}, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[8] & 0x08, 0x08);
	set_swp(f, 1);
	/* MODE PARAMETERS CHANGED to the other nexus, then write-protected */
	st_tur(f->n1, &c, 0);
	st_expect_sense(&c, 0x06, 0x2a, 0x01);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, w, 512, NULL, 0);
	st_expect_sense(&c, 0x07, 0x27, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x48, 0x02}, 10, NULL, 0, NULL, 0);
	st_expect_sense(&c, 0x07, 0x27, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9c, 0, [13] = 1}, 16, w, 512, NULL, 0);
	st_expect_sense(&c, 0x07, 0x27, 0x00);
	/* WP in the mode parameter header, SWP in the current page */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x1a, 0x08, 0x0a, 0, 64, 0}, 6, NULL, 0, b, sizeof(b));
	assert_int_equal(b[2] & 0x80, 0x80);
	assert_int_equal(b[8] & 0x08, 0x08);
	/* reads still work; MODE SELECT can clear it */
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, NULL, 0, w, 512);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	set_swp(f, 0);
	st_clear_ua(f->n1, 0);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, w, 512, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
}

static void test_write_atomic(void **state)
{
	struct sfx *f = *state;
	uint64_t nb = (16 << 20) / 512;
	struct scsi_cmd c;
	uint8_t b[64], w[4096];

	st_clear_ua(f->n1, 0);
	/* VPD B0h: MAXIMUM ATOMIC TRANSFER LENGTH, alignment/granularity 0 */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x12, 1, 0xb0, 0, 64, 0}, 6, NULL, 0, b, 64);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(st_be32(b + 44), 16384);
	assert_true(st_be32(b + 44) <= st_be32(b + 8));
	assert_int_equal(st_be32(b + 48), 0);
	assert_int_equal(st_be32(b + 52), 0);
	/* 8 blocks at 50 with FUA and DPO */
	memset(w, 0x5a, sizeof(w));
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9c, 0x18, [9] = 50, [13] = 8}, 16, w, sizeof(w), NULL,
		0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	expect_fill(f, 50, 0x5a);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[16]){0x9c, [13] = 8}, 16, 512), 4096);
	/* zero blocks: GOOD at LBA 0 and at the capacity, beyond it not */
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9c}, 16, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0,
		(uint8_t[16]){0x9c, 0, [7] = (uint8_t)((nb + 1) >> 16),
			      [8] = (uint8_t)((nb + 1) >> 8), [9] = (uint8_t)(nb + 1)},
		16, NULL, 0, NULL, 0);
	st_expect_sense(&c, 0x05, 0x21, 0x00);
	/* last block plus one more: out of range */
	st_exec(f->n1, &c, 0,
		(uint8_t[16]){0x9c, 0, [7] = (uint8_t)((nb - 1) >> 16),
			      [8] = (uint8_t)((nb - 1) >> 8), [9] = (uint8_t)(nb - 1), [13] = 2},
		16, w, 1024, NULL, 0);
	st_expect_sense(&c, 0x05, 0x21, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9c, 0, 0x80, [13] = 1}, 16, w, 512, NULL, 0);
	st_expect_sense(&c, 0x05, 0x21, 0x00);
	/* WRPROTECT, ATOMIC BOUNDARY, beyond the atomic limit */
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9c, 0x20, [13] = 1}, 16, w, 512, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9c, 0, [11] = 1, [13] = 1}, 16, w, 512, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9c, 0, [12] = 0x40, [13] = 1}, 16, w, 512, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	/* short data-out: nothing written */
	memset(w, 0x11, sizeof(w));
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x9c, 0, [9] = 50, [13] = 8}, 16, w, 2048, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_CHECK_CONDITION);
	expect_fill(f, 50, 0x5a);
	/* RSOC: DPO and FUA in the usage data */
	rsoc_one(f, &c, 1, 0x9c, 0, b);
	assert_int_equal(b[1] & 7, 3);
	assert_int_equal(b[5] & 0x18, 0x18);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read_defect_data, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_sanitize, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_swp, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_write_atomic, st_setup, st_teardown),
	};

	return cmocka_run_group_tests_name("scsi_sbc2", tests, NULL, NULL);
}
