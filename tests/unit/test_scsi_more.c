/*
 * Unit tests of the SCSI core, continued: the fabric helpers
 * (scsi_cdb_data_out_len, scsi_lun_block_size, scsi_notify), a nexus whose
 * initiator belongs to no host yet, COMPARE AND WRITE atomicity under
 * contention from two nexuses and a writer thread, LOG SENSE and ORWRITE.
 * The fixture is test_scsi.c's.
 */
#include <pthread.h>

#define SCSI_TEST_FIXTURE_ONLY
#include "test_scsi.c"

/* ---- fabric helpers, host-less nexus, COMPARE AND WRITE under contention ----------- */

static void test_fabric_helpers(void **state)
{
	struct sfx *f = *state;
	struct scsi_nexus *n3;
	struct scsi_cmd c;
	uint8_t b[64];
	const char *iqn3 = "iqn.2024-01.org.arraysim:init3";

	assert_int_equal(
	    scsi_cdb_data_out_len((uint8_t[10]){0x2a, 0, 0, 0, 0, 0, 0, 0, 4, 0}, 10, 512), 2048);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[6]){0x0a, 0, 0, 0, 0, 0}, 6, 4096),
			 256 * 4096);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[16]){0x89, [13] = 2}, 16, 512), 2048);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[16]){0x93, 0x01}, 16, 512), 0);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[10]){0x42, [7] = 1, [8] = 2}, 10, 512),
			 258);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[10]){0x5f, [8] = 24}, 10, 512), 24);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[10]){0x28, [8] = 4}, 10, 512), 0);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[6]){0xc0}, 6, 512), -1);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[6]){0x2a}, 6, 512), -1);

	/* an initiator in no host: LUN 0 answers INQUIRY (7Fh) and an empty
	 * REPORT LUNS, until its host appears and gets a map */
	assert_int_equal(
	    scsi_nexus_open(f->s, iqn3, "iqn.2024-01.org.arraysim:init3,i,0x1", TPORT, 1, &n3), 0);
	st_exec(n3, &c, 0, (uint8_t[6]){0x12, 0, 0, 0, 36, 0}, 6, NULL, 0, b, 36);
	assert_int_equal(b[0], 0x7f);
	st_exec(n3, &c, 0, (uint8_t[12]){0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0}, 12, NULL, 0, b,
		16);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(c.data_in_len, 8);
	assert_int_equal(st_be32(b), 0);
	assert_int_equal(array_host_create(f->a, "h3", iqn3), 0);
	assert_false(scsi_nexus_has_ua(n3));
	assert_int_equal(array_map(f->a, "lun0", "h3", 5, NULL), 0);
	assert_true(scsi_nexus_has_ua(n3));
	/* n1 and n2 belong to h1: untouched */
	st_clear_ua(f->n1, 0);
	assert_int_equal(scsi_notify(f->s, ARRAY_EV_RESIZED, 999, 0, 0), 0);
	assert_false(scsi_nexus_has_ua(f->n1));
	st_tur(n3, &c, 5);
	st_expect_sense(&c, 0x06, 0x29, 0x00);
	st_exec(n3, &c, 0, (uint8_t[12]){0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0}, 12, NULL, 0, b,
		16);
	assert_int_equal(st_be32(b), 8);
	assert_int_equal(b[9], 5);
	scsi_nexus_close(n3);
}

struct caw_arg {
	struct scsi_nexus *n;
	int iters, misses;
};

/* Increment a 64-bit counter in block 20 with COMPARE AND WRITE, retrying
 * on miscompare: the final count shows whether any update was lost. */
static void *caw_thread(void *p)
{
	struct caw_arg *a = p;
	uint8_t cur[512], buf[1024];
	struct scsi_cmd c;

	for (int i = 0; i < a->iters;) {
		st_exec(a->n, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 20, 0, 0, 1, 0}, 10, NULL, 0,
			cur, 512);
		if (c.status != SAM_STAT_GOOD)
			continue;
		memcpy(buf, cur, 512);
		memcpy(buf + 512, cur, 512);
		{
			uint64_t v = st_be64(cur) + 1;

			for (int k = 0; k < 8; k++)
				buf[512 + k] = (uint8_t)(v >> (56 - 8 * k));
		}
		st_exec(a->n, &c, 0,
			(uint8_t[16]){0x89, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0}, 16, buf,
			1024, NULL, 0);
		if (c.status == SAM_STAT_GOOD)
			i++;
		else
			a->misses++;
	}
	return NULL;
}

/* Plain writers to the neighbouring block keep the rwlock busy. */
static void *write_thread(void *p)
{
	struct caw_arg *a = p;
	uint8_t blk[512];
	struct scsi_cmd c;

	memset(blk, 0x77, sizeof(blk));
	for (int i = 0; i < a->iters; i++)
		st_exec(a->n, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 21, 0, 0, 1, 0}, 10, blk, 512,
			NULL, 0);
	return NULL;
}

static void test_caw_concurrent(void **state)
{
	struct sfx *f = *state;
	struct caw_arg a[3] = {{f->n1, 300, 0}, {f->n2, 300, 0}, {f->n1, 600, 0}};
	pthread_t th[3];
	struct scsi_cmd c;
	uint8_t b[512];

	st_clear_ua(f->n1, 0);
	st_clear_ua(f->n2, 0);
	assert_int_equal(pthread_create(&th[0], NULL, caw_thread, &a[0]), 0);
	assert_int_equal(pthread_create(&th[1], NULL, caw_thread, &a[1]), 0);
	assert_int_equal(pthread_create(&th[2], NULL, write_thread, &a[2]), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 20, 0, 0, 1, 0}, 10, NULL, 0, b, 512);
	assert_int_equal(st_be64(b), 600);
}

static void test_log_sense(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t b[64], w[512] = {1};
	uint32_t avail, used;

	st_clear_ua(f->n1, 0);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x4d, 0, 0x00, 0, 0, 0, 0, 0, 64, 0}, 10, NULL, 0, b,
		64);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[3], 2);
	assert_int_equal(b[4], 0x00);
	assert_int_equal(b[5], 0x0c);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, w, 512, NULL, 0);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x4d, 0, 0x4c, 0, 0, 0, 0, 0, 64, 0}, 10, NULL, 0, b,
		64);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	assert_int_equal(b[0], 0x0c);
	assert_int_equal(b[3], 24);
	assert_int_equal(b[4] << 8 | b[5], 1);
	assert_int_equal(b[16] << 8 | b[17], 2);
	avail = st_be32(b + 8);
	used = st_be32(b + 20);
	assert_int_equal(used % 128, 0); /* whole chunks */
	assert_true(used >= 128);
	assert_true(avail > 0);
	assert_int_equal(b[25] & 3, 2);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x4d, 0, 0x4d, 0, 0, 0, 0, 0, 64, 0}, 10, NULL, 0, b,
		64);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
}

static void test_orwrite(void **state)
{
	struct sfx *f = *state;
	struct scsi_cmd c;
	uint8_t a[1024], o[1024], r[1024];

	st_clear_ua(f->n1, 0);
	memset(a, 0x0f, sizeof(a));
	memset(o, 0x30, sizeof(o));
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x2a, 0, 0, 0, 0, 40, 0, 0, 2, 0}, 10, a, 1024, NULL,
		0);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 2, 0, 0},
		16, o, 1024, NULL, 0);
	assert_int_equal(c.status, SAM_STAT_GOOD);
	st_exec(f->n1, &c, 0, (uint8_t[10]){0x28, 0, 0, 0, 0, 40, 0, 0, 2, 0}, 10, NULL, 0, r,
		1024);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(r[i], 0x3f);
	st_exec(f->n1, &c, 0, (uint8_t[16]){0x8b, 0x20, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 2, 0, 0},
		16, o, 1024, NULL, 0);
	st_expect_sense(&c, 0x05, 0x24, 0x00);
	assert_int_equal(scsi_cdb_data_out_len((uint8_t[16]){0x8b, [13] = 2}, 16, 512), 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fabric_helpers, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_caw_concurrent, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_log_sense, st_setup, st_teardown),
	    cmocka_unit_test_setup_teardown(test_orwrite, st_setup, st_teardown),
	};

	return cmocka_run_group_tests_name("scsi_more", tests, NULL, NULL);
}
