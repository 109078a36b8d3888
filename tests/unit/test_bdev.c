/*
 * Unit tests for the bdev layer: file, mem and the recording tap.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bdev.h"

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* Shared round-trip checks run against any bdev of at least 1 MiB. */
static void roundtrip(struct bdev *bd)
{
	uint8_t w[8192], r[8192];
	uint64_t offs[] = {0, 512, 4096 * 3 + 512, bd->size - sizeof(w)};

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		fill(w, sizeof(w), (unsigned)i + 1);
		assert_int_equal(bdev_pwrite(bd, w, sizeof(w), offs[i]), 0);
		memset(r, 0, sizeof(r));
		assert_int_equal(bdev_pread(bd, r, sizeof(r), offs[i]), 0);
		assert_memory_equal(w, r, sizeof(w));
	}
	assert_int_equal(bdev_flush(bd), 0);
	/* Zero-length I/O at the very end is in range. */
	assert_int_equal(bdev_pwrite(bd, w, 0, bd->size), 0);
	assert_int_equal(bdev_pread(bd, r, 0, bd->size), 0);
}

static void out_of_range(struct bdev *bd)
{
	uint8_t buf[1024] = {0};

	assert_int_equal(bdev_pwrite(bd, buf, 512, bd->size - 511), -ERANGE);
	assert_int_equal(bdev_pread(bd, buf, 512, bd->size), -ERANGE);
	assert_int_equal(bdev_pread(bd, buf, 1, UINT64_MAX), -ERANGE);
	assert_int_equal(bdev_pwrite(bd, buf, 1024, UINT64_MAX - 100), -ERANGE);
	assert_int_equal(bdev_discard(bd, bd->size, 1), -ERANGE);
}

/* ---- mem --------------------------------------------------------------- */

static void test_mem_roundtrip(void **state)
{
	struct bdev *bd;

	assert_int_equal(bdev_mem_create(1 << 20, &bd), 0);
	assert_int_equal(bd->size, 1 << 20);
	roundtrip(bd);
	out_of_range(bd);
	bdev_destroy(bd);
}

static void test_mem_zero_and_data(void **state)
{
	struct bdev *bd;
	uint8_t buf[4096], zero[4096] = {0};
	uint8_t *img;

	assert_int_equal(bdev_mem_create(64 * 1024, &bd), 0);
	assert_int_equal(bdev_pread(bd, buf, sizeof(buf), 8192), 0);
	assert_memory_equal(buf, zero, sizeof(buf));

	img = bdev_mem_data(bd);
	assert_non_null(img);
	fill(buf, sizeof(buf), 9);
	assert_int_equal(bdev_pwrite(bd, buf, sizeof(buf), 4096), 0);
	assert_memory_equal(img + 4096, buf, sizeof(buf));

	/* Discard on a mem image zeroes the range. */
	assert_int_equal(bdev_discard(bd, 4096, 4096), 0);
	assert_memory_equal(img + 4096, zero, sizeof(zero));
	bdev_destroy(bd);
}

static void test_mem_bad_args(void **state)
{
	struct bdev *bd;

	assert_int_equal(bdev_mem_create(0, &bd), -EINVAL);
	bdev_destroy(NULL);
}

/* ---- file -------------------------------------------------------------- */

static void tmp_path(char *path, size_t n)
{
	const char *dir = getenv("TMPDIR");

	snprintf(path, n, "%s/test_bdev.%d.img", dir ? dir : "/tmp", (int)getpid());
}

static void test_file_roundtrip(void **state)
{
	char path[256];
	struct bdev *bd;
	struct stat st;

	tmp_path(path, sizeof(path));
	assert_int_equal(bdev_file_open(path, 2 << 20, 1, &bd), 0);
	assert_int_equal(bd->size, 2 << 20);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 2 << 20);
	/* A new image is sparse: nothing allocated yet. */
	assert_true((uint64_t)st.st_blocks * 512 < (1u << 20));
	roundtrip(bd);
	out_of_range(bd);
	bdev_destroy(bd);
	unlink(path);
}

static void test_file_reopen(void **state)
{
	char path[256];
	struct bdev *bd;
	uint8_t w[4096], r[4096];

	tmp_path(path, sizeof(path));
	assert_int_equal(bdev_file_open(path, 1 << 20, 1, &bd), 0);
	fill(w, sizeof(w), 3);
	assert_int_equal(bdev_pwrite(bd, w, sizeof(w), 65536), 0);
	assert_int_equal(bdev_flush(bd), 0);
	bdev_destroy(bd);

	/* size 0: open an existing file at its current size. */
	assert_int_equal(bdev_file_open(path, 0, 0, &bd), 0);
	assert_int_equal(bd->size, 1 << 20);
	assert_int_equal(bdev_pread(bd, r, sizeof(r), 65536), 0);
	assert_memory_equal(w, r, sizeof(w));
	bdev_destroy(bd);

	/* create again: the old contents are gone. */
	assert_int_equal(bdev_file_open(path, 1 << 20, 1, &bd), 0);
	assert_int_equal(bdev_pread(bd, r, sizeof(r), 65536), 0);
	memset(w, 0, sizeof(w));
	assert_memory_equal(w, r, sizeof(w));
	bdev_destroy(bd);
	unlink(path);
}

static void test_file_discard(void **state)
{
	char path[256];
	struct bdev *bd;
	uint8_t w[65536], r[65536];

	tmp_path(path, sizeof(path));
	assert_int_equal(bdev_file_open(path, 1 << 20, 1, &bd), 0);
	fill(w, sizeof(w), 5);
	assert_int_equal(bdev_pwrite(bd, w, sizeof(w), 0), 0);
	assert_int_equal(bdev_discard(bd, 0, sizeof(w)), 0);
	/* Either zeros (hole punched) or old data is allowed. */
	assert_int_equal(bdev_pread(bd, r, sizeof(r), 0), 0);
	assert_true(r[100] == 0 || r[100] == w[100]);
	bdev_destroy(bd);
	unlink(path);
}

static void test_file_missing(void **state)
{
	struct bdev *bd;

	assert_int_equal(bdev_file_open("/nonexistent-dir/x.img", 1 << 20, 1, &bd), -ENOENT);
	assert_int_equal(bdev_file_open("/nonexistent-dir/x.img", 0, 0, &bd), -ENOENT);
}

/* ---- rec --------------------------------------------------------------- */

static void test_rec_order(void **state)
{
	struct bdev *mem, *rec;
	uint8_t a[512], b[1024], r[1024];
	const struct rec_entry *e;

	assert_int_equal(bdev_mem_create(1 << 20, &mem), 0);
	assert_int_equal(bdev_rec_create(mem, &rec), 0);
	assert_int_equal(rec->size, mem->size);
	assert_int_equal(bdev_rec_count(rec), 0);

	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	assert_int_equal(bdev_pwrite(rec, a, sizeof(a), 4096), 0);
	assert_int_equal(bdev_flush(rec), 0);
	assert_int_equal(bdev_pwrite(rec, b, sizeof(b), 8192), 0);
	assert_int_equal(bdev_pwrite(rec, a, sizeof(a), 0), 0);
	assert_int_equal(bdev_flush(rec), 0);
	/* Reads and discards are not logged. */
	assert_int_equal(bdev_pread(rec, r, sizeof(r), 8192), 0);
	assert_memory_equal(r, b, sizeof(b));
	assert_int_equal(bdev_discard(rec, 0, 512), 0);
	assert_int_equal(bdev_rec_count(rec), 5);

	e = bdev_rec_entry(rec, 0);
	assert_int_equal(e->kind, REC_WRITE);
	assert_int_equal(e->off, 4096);
	assert_int_equal(e->len, 512);
	assert_memory_equal(e->data, a, 512);
	assert_int_equal(bdev_rec_entry(rec, 1)->kind, REC_FLUSH);
	e = bdev_rec_entry(rec, 2);
	assert_int_equal(e->kind, REC_WRITE);
	assert_int_equal(e->off, 8192);
	assert_int_equal(e->len, 1024);
	assert_memory_equal(e->data, b, 1024);
	assert_int_equal(bdev_rec_entry(rec, 3)->off, 0);
	assert_int_equal(bdev_rec_entry(rec, 4)->kind, REC_FLUSH);
	assert_null(bdev_rec_entry(rec, 5));

	/* The logged data is a copy: changing the caller's buffer later does
	 * not change the record. */
	memset(b, 0xee, sizeof(b));
	fill(r, sizeof(r), 2);
	assert_memory_equal(bdev_rec_entry(rec, 2)->data, r, 1024);

	/* The lower device got the writes. */
	assert_memory_equal(bdev_mem_data(mem) + 4096, a, 512);

	bdev_rec_reset(rec);
	assert_int_equal(bdev_rec_count(rec), 0);
	assert_null(bdev_rec_entry(rec, 0));
	assert_int_equal(bdev_pwrite(rec, a, sizeof(a), 512), 0);
	assert_int_equal(bdev_rec_count(rec), 1);
	assert_int_equal(bdev_rec_entry(rec, 0)->off, 512);

	bdev_destroy(rec);
	/* The lower bdev survives its wrapper. */
	assert_int_equal(bdev_pread(mem, r, 512, 512), 0);
	assert_memory_equal(r, a, 512);
	bdev_destroy(mem);
}

static void test_rec_failed_write_not_logged(void **state)
{
	struct bdev *mem, *rec;
	uint8_t a[512] = {0};

	assert_int_equal(bdev_mem_create(64 * 1024, &mem), 0);
	assert_int_equal(bdev_rec_create(mem, &rec), 0);
	assert_int_equal(bdev_pwrite(rec, a, sizeof(a), 64 * 1024), -ERANGE);
	assert_int_equal(bdev_rec_count(rec), 0);
	bdev_destroy(rec);
	bdev_destroy(mem);
}

/* Concurrent writers: every write is logged exactly once. */
struct writer {
	struct bdev *bd;
	unsigned id;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint8_t buf[512];

	for (unsigned i = 0; i < 500; i++) {
		memset(buf, (int)w->id, sizeof(buf));
		if (bdev_pwrite(w->bd, buf, sizeof(buf), ((uint64_t)w->id * 500 + i) * 512))
			return (void *)1;
		if (i % 50 == 0 && bdev_flush(w->bd))
			return (void *)1;
	}
	return NULL;
}

static void test_rec_threads(void **state)
{
	struct bdev *mem, *rec;
	struct writer w[4];
	pthread_t t[4];
	size_t writes = 0, flushes = 0;

	assert_int_equal(bdev_mem_create(4 * 500 * 512, &mem), 0);
	assert_int_equal(bdev_rec_create(mem, &rec), 0);
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct writer){.bd = rec, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		void *ret;

		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	for (size_t i = 0; i < bdev_rec_count(rec); i++) {
		const struct rec_entry *e = bdev_rec_entry(rec, i);

		if (e->kind == REC_FLUSH) {
			flushes++;
			continue;
		}
		writes++;
		assert_int_equal(e->data[0], (e->off / 512) / 500);
	}
	assert_int_equal(writes, 2000);
	assert_int_equal(flushes, 40);
	bdev_destroy(rec);
	bdev_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mem_roundtrip),
	    cmocka_unit_test(test_mem_zero_and_data),
	    cmocka_unit_test(test_mem_bad_args),
	    cmocka_unit_test(test_file_roundtrip),
	    cmocka_unit_test(test_file_reopen),
	    cmocka_unit_test(test_file_discard),
	    cmocka_unit_test(test_file_missing),
	    cmocka_unit_test(test_rec_order),
	    cmocka_unit_test(test_rec_failed_write_not_logged),
	    cmocka_unit_test(test_rec_threads),
	};

	return cmocka_run_group_tests_name("bdev", tests, NULL, NULL);
}
