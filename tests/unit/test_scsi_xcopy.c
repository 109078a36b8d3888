/*
 * Unit tests of the SCSI core: EXTENDED COPY (LID1) and RECEIVE COPY
 * RESULTS (xcopy.c).  The fixture is test_scsi.c's: a 16 MiB LUN of
 * 512-byte blocks mapped at LUN 0 to two nexuses.
 */
#define SCSI_TEST_FIXTURE_ONLY
#include "test_scsi.c"

#define NB ((16u << 20) / 512)

/* The LU's NAA designator, from VPD 83h (the first designator). */
static void lun_naa(struct sfx *f, uint8_t naa[16])
{
	struct scsi_cmd c;
	uint8_t b[256];

	st_exec(f->n1, &c, 0, (uint8_t[6]){0x12, 1, 0x83, 0, 255, 0}, 6, NULL, 0, b, 255);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[5] & 0x0f, 3);
	assert_int_equal(b[7], 16);
	memcpy(naa, b + 8, 16);
}

/* Identification descriptor target descriptor (E4h) naming naa. */
static uint8_t *tgt_desc(uint8_t *p, const uint8_t naa[16])
{
	memset(p, 0, 32);
	p[0] = 0xe4;
	p[4] = 0x01; /* binary */
	p[5] = 0x03; /* association LU, NAA */
	p[7] = 16;
	memcpy(p + 8, naa, 16);
	p[30] = 512 >> 8; /* DISK BLOCK LENGTH */
	return p + 32;
}

/* Block -> block segment descriptor (02h). */
static uint8_t *seg_desc(uint8_t *p, uint16_t si, uint16_t di, uint16_t n, uint64_t src,
			 uint64_t dst)
{
	memset(p, 0, 28);
	p[0] = 0x02;
	p[3] = 0x18;
	p[5] = (uint8_t)si;
	p[7] = (uint8_t)di;
	p[10] = (uint8_t)(n >> 8);
	p[11] = (uint8_t)n;
	for (int i = 0; i < 8; i++) {
		p[12 + i] = (uint8_t)(src >> (56 - 8 * i));
		p[20 + i] = (uint8_t)(dst >> (56 - 8 * i));
	}
	return p + 28;
}

static void hdr(uint8_t *p, uint8_t list_id, uint8_t usage, uint16_t tlen, uint32_t slen)
{
	memset(p, 0, 16);
	p[0] = list_id;
	p[1] = (uint8_t)(usage << 3);
	p[2] = (uint8_t)(tlen >> 8);
	p[3] = (uint8_t)tlen;
	p[10] = (uint8_t)(slen >> 8);
	p[11] = (uint8_t)slen;
}

static void xcopy(struct sfx *f, struct scsi_cmd *c, const uint8_t *pl, uint32_t len)
{
	st_exec(f->n1, c, 0,
		(uint8_t[16]){0x83, 0, [10] = (uint8_t)(len >> 24), [11] = (uint8_t)(len >> 16),
			      [12] = (uint8_t)(len >> 8), [13] = (uint8_t)len},
		16, pl, len, NULL, 0);
}

static void rcr(struct sfx *f, struct scsi_cmd *c, uint8_t sa, uint8_t list_id, uint8_t *b)
{
	st_exec(f->n1, c, 0, (uint8_t[16]){0x84, sa, list_id, [13] = 64}, 16, NULL, 0, b, 64);
}

static void test_xcopy(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t naa[16], pl[1200], *p, b[64], w[4096], r[4096];

	st_clear_ua(f->n1, 0);
	lun_naa(f, naa);
	/* the copy manager is announced: 3PC in the standard INQUIRY */
	st_exec(f->n1, &c, 0, (uint8_t[6]){0x12, 0, 0, 0, 36, 0}, 6, NULL, 0, b, 36);
	assert_int_equal(b[5] & 0x08, 0x08);
	/* OPERATING PARAMETERS */
	rcr(f, &c, 0x03, 0, b);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(st_be32(b), 42);
	assert_int_equal(b[8] << 8 | b[9], 8);
	assert_int_equal(b[10] << 8 | b[11], 16);
	assert_int_equal(st_be32(b + 12), 1024);
	assert_int_equal(b[43], 2);
	assert_int_equal(b[44], 0x02);
	assert_int_equal(b[45], 0xe4);
	/* nothing held yet for list 5 */
	rcr(f, &c, 0x00, 5, b);
	st_expect_sense(&c, 0x05, 0x24, 0x00);

	/* copy 8 blocks 10 -> 1000, results held as list 5 */
	for (int i = 0; i < 4096; i++)
		w[i] = (uint8_t)(i * 7);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 10, 0, 0, 8, 0}, 10, w, 4096, NULL,
		0);
	hdr(pl, 5, 0, 32, 28);
	p = tgt_desc(pl + 16, naa);
	seg_desc(p, 0, 0, 8, 10, 1000);
	xcopy(f, &c, pl, 76);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0x03, 0xe8, 0, 0, 8, 0}, 10, NULL, 0, r,
		4096);
	assert_memory_equal(r, w, 4096);
	rcr(f, &c, 0x00, 5, b);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[4], 0x01);
	assert_int_equal(b[5] << 8 | b[6], 1);
	assert_int_equal(st_be32(b + 8), 4096);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[16]){0x83, [13] = 76}, 16, 512), 76);

	/* parameter list length 0: GOOD; shorter than the header says */
	xcopy(f, &c, pl, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	xcopy(f, &c, pl, 75);
	st_expect_sense(&c, 0x05, 0x1a, 0x00);
	/* unsupported target and segment descriptor types */
	pl[16] = 0xe0;
	xcopy(f, &c, pl, 76);
	st_expect_sense(&c, 0x05, 0x26, 0x07);
	pl[16] = 0xe4;
	pl[48] = 0x03;
	xcopy(f, &c, pl, 76);
	st_expect_sense(&c, 0x05, 0x26, 0x09);
	/* unknown destination index, beyond the end, another LU's name */
	seg_desc(pl + 48, 0, 1, 8, 10, 1000);
	xcopy(f, &c, pl, 76);
	st_expect_sense(&c, 0x0a, 0x0d, 0x02);
	seg_desc(pl + 48, 0, 0, 8, 10, NB - 1);
	xcopy(f, &c, pl, 76);
	st_expect_sense(&c, 0x0a, 0x0d, 0x02);
	seg_desc(pl + 48, 0, 0, 8, 10, 1000);
	pl[16 + 8 + 15] ^= 0xff;
	xcopy(f, &c, pl, 76);
	st_expect_sense(&c, 0x0a, 0x0d, 0x02);
	pl[16 + 8 + 15] ^= 0xff;

	/* too many target descriptors (9) and segment descriptors (17) */
	hdr(pl, 1, 0, 9 * 32, 28);
	p = pl + 16;
	for (int i = 0; i < 9; i++)
		p = tgt_desc(p, naa);
	seg_desc(p, 0, 0, 1, 0, 1);
	xcopy(f, &c, pl, 16 + 9 * 32 + 28);
	st_expect_sense(&c, 0x05, 0x26, 0x06);
	hdr(pl, 1, 0, 32, 17 * 28);
	p = tgt_desc(pl + 16, naa);
	for (int i = 0; i < 17; i++)
		p = seg_desc(p, 0, 0, 1, 0, 1);
	xcopy(f, &c, pl, 16 + 32 + 17 * 28);
	st_expect_sense(&c, 0x05, 0x26, 0x08);
	/* descriptor lists beyond MAXIMUM DESCRIPTOR LIST LENGTH */
	hdr(pl, 1, 0, 32, 38 * 28);
	p = tgt_desc(pl + 16, naa);
	for (int i = 0; i < 38; i++)
		p = seg_desc(p, 0, 0, 1, 0, 1);
	xcopy(f, &c, pl, 16 + 32 + 38 * 28);
	st_expect_sense(&c, 0x05, 0x1a, 0x00);
	/* reserved LIST ID USAGE, inline data */
	hdr(pl, 1, 1, 32, 28);
	p = tgt_desc(pl + 16, naa);
	seg_desc(p, 0, 0, 1, 0, 1);
	xcopy(f, &c, pl, 76);
	st_expect_sense(&c, 0x05, 0x26, 0x00);
	hdr(pl, 1, 0, 32, 28);
	pl[15] = 4;
	xcopy(f, &c, pl, 80);
	st_expect_sense(&c, 0x05, 0x26, 0x00);

	/* RSOC lists them */
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa3, 0x0c, 2, 0x83, 0, 0, 0, 0, 0, 64, 0, 0}, 12, NULL,
		0, b, 64);
	assert_int_equal(b[1] & 7, 3);
	st_exec(f->n1, &c, 0, (uint8_t[12]){0xa3, 0x0c, 2, 0x84, 0, 3, 0, 0, 0, 64, 0, 0}, 12, NULL,
		0, b, 64);
	assert_int_equal(b[1] & 7, 3);
}

/* A read-only LU or another nexus's reservation: nothing is copied. */
static void test_xcopy_protect(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t naa[16], pl[80], *p;

	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	lun_naa(f, naa);
	hdr(pl, 2, 0, 32, 28);
	p = tgt_desc(pl + 16, naa);
	seg_desc(p, 0, 0, 1, 0, 1);
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x16}, 6, NULL, 0, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	xcopy(f, &c, pl, 76);
	assert_int_equal(c.status, SAM_STAT_RESERVATION_CONFLICT);
	st_exec(f->n2, &c, 0, (uint8_t[6]){0x17}, 6, NULL, 0, NULL, 0);
	assert_int_equal(array_lun_set_readonly(f->a, "lun0", 1), 0);
	xcopy(f, &c, pl, 76);
	st_expect_sense(&c, 0x07, 0x27, 0x00);
	assert_int_equal(array_lun_set_readonly(f->a, "lun0", 0), 0);
	xcopy(f, &c, pl, 76);
	assert_int_equal(c.status, SAM_STAT_GOOD);
}

/* Overlapping source and destination, larger than the 1 MiB bounce
 * buffer: the result is as if the source had been read first. */
static void test_xcopy_overlap(void **state)
{
	struct sfx *f = *state;
	const uint32_t n = 4096, shift = 100; /* 2 MiB, destination inside */
	uint8_t naa[16], pl[80], *p, *w = malloc(n * 512), *r = malloc((n + shift) * 512);
	struct scsi_cmd c;

	assert_non_null(w);
	assert_non_null(r);
	st_clear_ua(f->n1, 0);
	lun_naa(f, naa);
	for (uint32_t i = 0; i < n * 512; i++)
		w[i] = (uint8_t)(i / 512 + i);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 0, 0, n >> 8, n & 0xff, 0}, 10, w,
		n * 512, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	hdr(pl, 3, 2, 32, 28);
	p = tgt_desc(pl + 16, naa);
	seg_desc(p, 0, 0, (uint16_t)n, 0, shift);
	xcopy(f, &c, pl, 76);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0,
		(uint8_t[10]){0x28, 0, 0, 0, 0, 0, 0, (n + shift) >> 8, (n + shift) & 0xff, 0}, 10,
		NULL, 0, r, (n + shift) * 512);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_memory_equal(r, w, shift * 512);		  /* untouched */
	assert_memory_equal(r + shift * 512, w, n * 512); /* the copy */
	/* LIST ID USAGE 10b: nothing held for list 3 */
	rcr(f, &c, 0x00, 3, pl);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	free(w);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_xcopy, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_xcopy_protect, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_xcopy_overlap, st_setup, st_teardown),
	};

	return cmocka_run_group_tests_name("scsi_xcopy", tests, NULL, NULL);
}
