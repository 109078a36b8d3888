/*
 * Unit tests of the pool API (pool.h): lifecycle, volumes, snapshots,
 * clones, the data path, objects, error codes and persistence.
 * Every test runs on a RAM bdev and ends with pool_check() == 0.
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

#include "pool.h"
#include "testutil.h"

#define MIB   (1024ull * 1024)
#define CHUNK (64u * 1024)

struct fx {
	struct bdev *dev;
	struct pool *p;
	uint32_t chunk;
};

static void fx_open(struct fx *f)
{
	assert_int_equal(pool_open(f->dev, NULL, &f->p), 0);
}

static void fx_reopen(struct fx *f)
{
	assert_int_equal(pool_close(f->p), 0);
	assert_int_equal(pool_check(f->dev, tu_report, "pool_check"), 0);
	fx_open(f);
}

static struct fx *fx_new(uint64_t dev_size, uint32_t chunk, uint64_t meta_size)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pool_create_opts co = {.chunk_size = chunk, .meta_size = meta_size};

	assert_non_null(f);
	f->chunk = chunk;
	assert_int_equal(bdev_mem_create(dev_size, &f->dev), 0);
	assert_int_equal(pool_create(f->dev, &co), 0);
	fx_open(f);
	return f;
}

static int setup(void **state)
{
	*state = fx_new(64 * MIB, CHUNK, 0);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	if (f->p) {
		assert_int_equal(pool_check_live(f->p, tu_report, "pool_check_live"), 0);
		assert_int_equal(pool_close(f->p), 0);
	}
	assert_int_equal(pool_check(f->dev, tu_report, "pool_check"), 0);
	bdev_destroy(f->dev);
	free(f);
	return 0;
}

static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
	struct tu_rng r;

	tu_rng_seed(&r, seed);
	tu_rng_fill(&r, buf, len);
}

static uint64_t mkvol(struct pool *p, const char *name, uint64_t size, uint32_t bs)
{
	uint64_t id = 0;

	assert_int_equal(vol_create(p, name, size, bs, &id), 0);
	assert_int_not_equal(id, 0);
	return id;
}

/* Write len bytes of pattern seed at off. */
static void wr(struct pool *p, uint64_t id, uint64_t off, uint64_t len, unsigned seed)
{
	uint8_t *buf = malloc(len);

	pattern(buf, len, seed);
	assert_int_equal(vol_write(p, id, off, len, buf, 0), 0);
	free(buf);
}

/* Check that [off, +len) holds pattern seed (or zeros for seed 0). */
static void rd(struct pool *p, uint64_t id, uint64_t off, uint64_t len, unsigned seed)
{
	uint8_t *want = calloc(1, len), *got = malloc(len);

	if (seed)
		pattern(want, len, seed);
	assert_int_equal(vol_read(p, id, off, len, got), 0);
	assert_memory_equal(got, want, len);
	free(want);
	free(got);
}

/* Check that [off, +len) equals want. */
static void rd_buf(struct pool *p, uint64_t id, uint64_t off, uint64_t len, const uint8_t *want)
{
	uint8_t *got = malloc(len);

	assert_int_equal(vol_read(p, id, off, len, got), 0);
	assert_memory_equal(got, want, len);
	free(got);
}

static struct vol_info info(struct pool *p, uint64_t id)
{
	struct vol_info vi;

	memset(&vi, 0xa5, sizeof(vi));
	assert_int_equal(vol_info(p, id, &vi), 0);
	return vi;
}

static struct pool_stat stat_of(struct pool *p)
{
	struct pool_stat st;

	assert_int_equal(pool_stat(p, &st), 0);
	return st;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void test_create_open_close(void **state)
{
	struct fx *f = *state;
	struct pool_stat st = stat_of(f->p);
	struct pool_create_opts bad = {.chunk_size = 3000};
	struct bdev *zero;
	struct pool *p;
	int r;

	assert_int_equal(st.chunk_size, CHUNK);
	assert_true(st.data_chunks > 0 && st.data_chunks <= 64 * MIB / CHUNK);
	assert_int_equal(st.free_chunks, st.data_chunks);
	assert_int_equal(st.nr_volumes, 0);
	assert_true(st.meta_blocks > 0 && st.free_meta_blocks <= st.meta_blocks);
	assert_true(st.meta_reserve < st.free_meta_blocks);
	fx_reopen(f);
	assert_int_equal(stat_of(f->p).data_chunks, st.data_chunks);
	assert_int_equal(pool_commit(f->p), 0); /* nothing changed: a no-op */

	/* bad chunk sizes */
	assert_int_equal(bdev_mem_create(16 * MIB, &zero), 0);
	assert_int_equal(pool_create(zero, &bad), -EINVAL);
	bad.chunk_size = 2 * POOL_MAX_CHUNK;
	assert_int_equal(pool_create(zero, &bad), -EINVAL);
	bad.chunk_size = POOL_MIN_CHUNK / 2;
	assert_int_equal(pool_create(zero, &bad), -EINVAL);
	/* an unformatted device is not a pool */
	r = pool_open(zero, NULL, &p);
	assert_true(r == -EILSEQ || r == -EIO || r == -EINVAL);
	assert_true(pool_check(zero, NULL, NULL) != 0);
	/* neither is garbage */
	pattern(bdev_mem_data(zero), 16 * MIB, 7);
	r = pool_open(zero, NULL, &p);
	assert_true(r == -EILSEQ || r == -EIO || r == -EINVAL);
	assert_true(pool_check(zero, NULL, NULL) != 0);
	/* a default-chunk pool */
	assert_int_equal(pool_create(zero, NULL), 0);
	assert_int_equal(pool_open(zero, NULL, &p), 0);
	assert_int_equal(stat_of(p).chunk_size, POOL_DEFAULT_CHUNK);
	assert_int_equal(pool_close(p), 0);
	assert_int_equal(pool_check(zero, NULL, NULL), 0);
	bdev_destroy(zero);
}

static void test_read_only_open(void **state)
{
	struct fx *f = *state;
	struct pool_open_opts ro = {.read_only = 1};
	uint64_t id = mkvol(f->p, "v", MIB, 512);

	wr(f->p, id, 0, CHUNK, 1);
	assert_int_equal(pool_close(f->p), 0);
	assert_int_equal(pool_open(f->dev, &ro, &f->p), 0);
	rd(f->p, id, 0, CHUNK, 1);
	assert_int_equal(pool_close(f->p), 0);
	fx_open(f);
}

/* ---- volumes ------------------------------------------------------------ */

static void test_vol_create_errors(void **state)
{
	struct fx *f = *state;
	char name[POOL_NAME_MAX + 2];
	uint64_t id;

	mkvol(f->p, "a", MIB, 512);
	assert_int_equal(vol_create(f->p, "a", MIB, 512, &id), -EEXIST);
	assert_int_equal(vol_create(f->p, "b", MIB, 1024, &id), -EINVAL);
	assert_int_equal(vol_create(f->p, "b", MIB, 0, &id), -EINVAL);
	assert_int_equal(vol_create(f->p, "b", 0, 512, &id), -EINVAL);
	assert_int_equal(vol_create(f->p, "b", 1000, 512, &id), -EINVAL);
	assert_int_equal(vol_create(f->p, "b", 6144, 4096, &id), -EINVAL);
	assert_int_equal(vol_create(f->p, "b", POOL_MAX_VOL_SIZE + 4096, 4096, &id), -EINVAL);
	assert_int_equal(vol_create(f->p, "", MIB, 512, &id), -EINVAL);
	memset(name, 'x', POOL_NAME_MAX + 1);
	name[POOL_NAME_MAX + 1] = 0;
	assert_int_equal(vol_create(f->p, name, MIB, 512, &id), -EINVAL);
	name[POOL_NAME_MAX] = 0; /* 63 bytes is fine */
	mkvol(f->p, name, MIB, 512);
	/* 1 PiB virtual is fine */
	mkvol(f->p, "huge", POOL_MAX_VOL_SIZE, 4096);
	assert_int_equal(stat_of(f->p).nr_volumes, 3);
}

struct iter_ctx {
	unsigned n, stop_at;
	uint64_t ids[8];
};

static int iter_fn(const struct vol_info *vi, void *ctx)
{
	struct iter_ctx *c = ctx;

	assert_int_equal(vi->exclusive, 0);
	c->ids[c->n++] = vi->id;
	return c->n == c->stop_at ? 42 : 0;
}

static void test_lookup_info_iterate(void **state)
{
	struct fx *f = *state;
	uint64_t a = mkvol(f->p, "a", MIB, 512), b = mkvol(f->p, "b", 2 * MIB, 4096);
	uint64_t c = mkvol(f->p, "c", 3 * MIB, 512), id;
	struct iter_ctx ic = {0};
	struct vol_info vi = info(f->p, b), vj = info(f->p, a);
	static const uint8_t zero16[16];

	assert_true(a != b && b != c && a != c);
	assert_int_equal(vol_lookup(f->p, "b", &id), 0);
	assert_int_equal(id, b);
	assert_int_equal(vol_lookup(f->p, "nope", &id), -ENOENT);
	assert_int_equal(vi.id, b);
	assert_string_equal(vi.name, "b");
	assert_int_equal(vi.kind, VOL_VOLUME);
	assert_int_equal(vi.block_size, 4096);
	assert_int_equal(vi.size, 2 * MIB);
	assert_int_equal(vi.parent, 0);
	assert_int_equal(vi.group, 0);
	assert_int_equal(vi.allocated, 0);
	assert_int_equal(vi.exclusive, 0);
	assert_true(vi.created_ns > 1500000000ull * 1000000000ull);
	assert_memory_not_equal(vi.uuid, zero16, 16);
	assert_memory_not_equal(vi.uuid, vj.uuid, 16);
	assert_int_equal(vol_info(f->p, c + 1000, &vi), -ENOENT);

	assert_int_equal(vol_iterate(f->p, iter_fn, &ic), 0);
	assert_int_equal(ic.n, 3);
	assert_true(ic.ids[0] < ic.ids[1] && ic.ids[1] < ic.ids[2]);
	ic.n = 0;
	ic.stop_at = 2;
	assert_int_equal(vol_iterate(f->p, iter_fn, &ic), 42);
	assert_int_equal(ic.n, 2);
}

static void test_rename_flags(void **state)
{
	struct fx *f = *state;
	uint64_t a = mkvol(f->p, "a", MIB, 512), id;
	uint8_t buf[512] = {1};

	mkvol(f->p, "b", MIB, 512);
	assert_int_equal(vol_rename(f->p, a, "b"), -EEXIST);
	assert_int_equal(vol_rename(f->p, a, ""), -EINVAL);
	assert_int_equal(vol_rename(f->p, a + 1000, "z"), -ENOENT);
	assert_int_equal(vol_rename(f->p, a, "z"), 0);
	assert_int_equal(vol_lookup(f->p, "a", &id), -ENOENT);
	assert_int_equal(vol_lookup(f->p, "z", &id), 0);
	assert_int_equal(id, a);
	assert_int_equal(vol_set_flags(f->p, a, VOL_F_READONLY), 0);
	assert_int_equal(info(f->p, a).flags & VOL_F_READONLY, VOL_F_READONLY);
	assert_int_equal(vol_write(f->p, a, 0, 512, buf, 0), -EROFS);
	assert_int_equal(vol_unmap(f->p, a, 0, 512), -EROFS);
	assert_int_equal(vol_set_flags(f->p, a, 0), 0);
	assert_int_equal(vol_write(f->p, a, 0, 512, buf, 0), 0);
	assert_int_equal(vol_set_flags(f->p, a + 1000, 0), -ENOENT);
}

/* ---- data path ---------------------------------------------------------- */

static void test_read_write(void **state)
{
	struct fx *f = *state;
	uint64_t a = mkvol(f->p, "a", 4 * MIB, 512), b = mkvol(f->p, "b", 4 * MIB, 4096);
	uint8_t buf[8192];

	rd(f->p, a, 0, 4 * MIB, 0);	      /* new volumes read zeros */
	wr(f->p, a, 512, 1024, 1);	      /* sub-chunk */
	wr(f->p, a, CHUNK - 512, 1024, 2);    /* straddling */
	wr(f->p, a, 3 * CHUNK, 3 * CHUNK, 3); /* multi-chunk */
	rd(f->p, a, 0, 512, 0);
	rd(f->p, a, 512, 1024, 1);
	rd(f->p, a, CHUNK - 512, 1024, 2);
	rd(f->p, a, 3 * CHUNK, 3 * CHUNK, 3);
	rd(f->p, a, 6 * CHUNK, 4 * MIB - 6 * CHUNK, 0);
	assert_int_equal(info(f->p, a).allocated, 5 * CHUNK);
	pattern(buf, sizeof(buf), 9);
	assert_int_equal(vol_write(f->p, b, 4 * MIB - 8192, 8192, buf, POOL_FUA), 0);
	rd(f->p, b, 4 * MIB - 8192, 8192, 9);

	assert_int_equal(vol_write(f->p, a, 100, 512, buf, 0), -EINVAL);
	assert_int_equal(vol_write(f->p, a, 0, 100, buf, 0), -EINVAL);
	assert_int_equal(vol_write(f->p, b, 512, 4096, buf, 0), -EINVAL);
	assert_int_equal(vol_read(f->p, b, 0, 512, buf), -EINVAL);
	assert_int_equal(vol_unmap(f->p, b, 0, 512), -EINVAL);
	assert_int_equal(vol_write(f->p, a, 4 * MIB, 512, buf, 0), -ERANGE);
	assert_int_equal(vol_write(f->p, a, 4 * MIB - 512, 1024, buf, 0), -ERANGE);
	assert_int_equal(vol_read(f->p, b, 4 * MIB, 4096, buf), -ERANGE);
	assert_int_equal(vol_read(f->p, b, UINT64_MAX - 4095, 8192, buf), -ERANGE);
	assert_int_equal(vol_unmap(f->p, a, 4 * MIB - 512, 1024), -ERANGE);
	assert_int_equal(vol_write(f->p, b + 1000, 0, 4096, buf, 0), -ENOENT);
	assert_int_equal(vol_read(f->p, b + 1000, 0, 4096, buf), -ENOENT);
	rd(f->p, a, 512, 1024, 1); /* failed calls changed nothing */
	fx_reopen(f);
	rd(f->p, a, 3 * CHUNK, 3 * CHUNK, 3);
	rd(f->p, b, 4 * MIB - 8192, 8192, 9);
}

static void test_unmap(void **state)
{
	struct fx *f = *state;
	uint64_t a = mkvol(f->p, "a", 2 * MIB, 512);
	uint64_t free0 = stat_of(f->p).free_chunks;
	uint8_t *want = malloc(4 * CHUNK);
	int mapped;
	uint64_t run;

	wr(f->p, a, 0, 4 * CHUNK, 5);
	assert_int_equal(stat_of(f->p).free_chunks, free0 - 4);
	assert_int_equal(vol_unmap(f->p, a, CHUNK, CHUNK), 0);		/* whole chunk */
	assert_int_equal(vol_unmap(f->p, a, 3 * CHUNK + 512, 1024), 0); /* part */
	pattern(want, 4 * CHUNK, 5);
	memset(want + CHUNK, 0, CHUNK);
	memset(want + 3 * CHUNK + 512, 0, 1024);
	{
		uint8_t *got = malloc(4 * CHUNK);

		assert_int_equal(vol_read(f->p, a, 0, 4 * CHUNK, got), 0);
		assert_memory_equal(got, want, 4 * CHUNK);
		free(got);
	}
	assert_int_equal(info(f->p, a).allocated, 3 * CHUNK);
	assert_int_equal(pool_commit(f->p), 0);
	assert_int_equal(stat_of(f->p).free_chunks, free0 - 3);
	assert_int_equal(vol_map_status(f->p, a, 0, &mapped, &run), 0);
	assert_true(mapped);
	assert_int_equal(run, CHUNK);
	assert_int_equal(vol_map_status(f->p, a, CHUNK, &mapped, &run), 0);
	assert_false(mapped);
	assert_int_equal(run, CHUNK);
	assert_int_equal(vol_map_status(f->p, a, 4 * CHUNK, &mapped, &run), 0);
	assert_false(mapped);
	assert_int_equal(run, 2 * MIB - 4 * CHUNK);
	assert_int_equal(vol_map_status(f->p, a, 2 * MIB, &mapped, &run), -ERANGE);
	/* unmap all */
	assert_int_equal(vol_unmap(f->p, a, 0, 2 * MIB), 0);
	rd(f->p, a, 0, 2 * MIB, 0);
	assert_int_equal(info(f->p, a).allocated, 0);
	assert_int_equal(pool_commit(f->p), 0);
	assert_int_equal(stat_of(f->p).free_chunks, free0);
	free(want);
}

/* ---- snapshots and clones ------------------------------------------------ */

static void test_snapshot_sharing(void **state)
{
	struct fx *f = *state;
	uint64_t v = mkvol(f->p, "v", 4 * MIB, 512), s, id;
	struct vol_info vi, si;
	uint64_t free1;
	uint8_t buf[512];
	int r;

	wr(f->p, v, 0, 4 * CHUNK, 1);
	assert_int_equal(pool_commit(f->p), 0);
	free1 = stat_of(f->p).free_chunks;
	assert_int_equal(vol_snapshot(f->p, v, "s", &s), 0);
	assert_int_equal(vol_snapshot(f->p, v, "s", &id), -EEXIST);
	assert_int_equal(vol_snapshot(f->p, v + 1000, "t", &id), -ENOENT);
	assert_int_equal(stat_of(f->p).free_chunks, free1); /* O(1): no data copied */
	vi = info(f->p, v);
	si = info(f->p, s);
	assert_int_equal(si.kind, VOL_SNAPSHOT);
	assert_int_equal(si.parent, v);
	assert_int_equal(si.size, vi.size);
	assert_int_equal(si.block_size, 512);
	assert_int_equal(si.group, 0);
	assert_int_equal(vi.allocated, 4 * CHUNK);
	assert_int_equal(si.allocated, 4 * CHUNK);
	assert_int_equal(vi.exclusive, 0);
	assert_int_equal(si.exclusive, 0);

	wr(f->p, v, CHUNK, 512, 2); /* copy-on-write of one chunk */
	vi = info(f->p, v);
	si = info(f->p, s);
	assert_int_equal(vi.allocated, 4 * CHUNK);
	assert_int_equal(vi.exclusive, CHUNK);
	assert_int_equal(si.exclusive, CHUNK);
	assert_int_equal(stat_of(f->p).free_chunks, free1 - 1);
	rd(f->p, v, CHUNK, 512, 2);
	{
		uint8_t *want = malloc(4 * CHUNK), *got = malloc(4 * CHUNK);

		pattern(want, 4 * CHUNK, 1);
		assert_int_equal(vol_read(f->p, s, 0, 4 * CHUNK, got), 0);
		assert_memory_equal(got, want, 4 * CHUNK);
		free(want);
		free(got);
	}
	assert_int_equal(vol_write(f->p, s, 0, 512, buf, 0), -EROFS);
	assert_int_equal(vol_write(f->p, s, 0, 512, buf, POOL_FUA), -EROFS);
	assert_int_equal(vol_unmap(f->p, s, 0, 512), -EROFS);
	r = vol_resize(f->p, s, 8 * MIB);
	assert_true(r == -EROFS || r == -EINVAL);
	/* unmapping the origin keeps the snapshot's chunks */
	assert_int_equal(vol_unmap(f->p, v, 0, 4 * MIB), 0);
	assert_int_equal(info(f->p, s).allocated, 4 * CHUNK);
	assert_int_equal(info(f->p, s).exclusive, 4 * CHUNK);
}

static void test_group_snapshot(void **state)
{
	struct fx *f = *state;
	uint64_t v[3], ids[3], id;
	const char *names[3] = {"g0", "g1", "g2"};
	const char *clash[2] = {"h0", "v1"}, *fresh[2] = {"k0", "k1"};
	struct vol_info a, b, c;

	v[0] = mkvol(f->p, "v0", MIB, 512);
	v[1] = mkvol(f->p, "v1", 2 * MIB, 4096);
	v[2] = mkvol(f->p, "v2", MIB, 512);
	for (int i = 0; i < 3; i++)
		wr(f->p, v[i], 0, CHUNK, 10 + i);
	assert_int_equal(vol_snapshot_group(f->p, 3, v, names, ids), 0);
	for (int i = 0; i < 3; i++)
		wr(f->p, v[i], 0, CHUNK, 20 + i);
	a = info(f->p, ids[0]);
	b = info(f->p, ids[1]);
	c = info(f->p, ids[2]);
	assert_int_not_equal(a.group, 0);
	assert_int_equal(a.group, b.group);
	assert_int_equal(a.group, c.group);
	assert_int_equal(b.parent, v[1]);
	assert_int_equal(b.kind, VOL_SNAPSHOT);
	for (int i = 0; i < 3; i++) {
		rd(f->p, ids[i], 0, CHUNK, 10 + i);
		rd(f->p, v[i], 0, CHUNK, 20 + i);
	}
	/* on error nothing is made */
	assert_int_equal(vol_snapshot_group(f->p, 2, v, clash, ids), -EEXIST);
	assert_int_equal(vol_lookup(f->p, "h0", &id), -ENOENT);
	assert_int_equal(vol_snapshot_group(f->p, 0, v, names, ids), -EINVAL);
	v[1] = v[2] + 1000;
	assert_int_equal(vol_snapshot_group(f->p, 2, v, fresh, ids), -ENOENT);
	assert_int_equal(vol_lookup(f->p, "k0", &id), -ENOENT);
	assert_int_equal(stat_of(f->p).nr_volumes, 6);
}

static void test_clone(void **state)
{
	struct fx *f = *state;
	uint64_t v = mkvol(f->p, "v", 2 * MIB, 4096), s, c, id;
	struct vol_info ci;

	wr(f->p, v, 0, 2 * CHUNK, 1);
	assert_int_equal(vol_snapshot(f->p, v, "s", &s), 0);
	assert_int_equal(vol_clone(f->p, s, "c", &c), 0);
	assert_int_equal(vol_clone(f->p, s, "c", &id), -EEXIST);
	assert_int_equal(vol_clone(f->p, s + 1000, "d", &id), -ENOENT);
	ci = info(f->p, c);
	assert_int_equal(ci.kind, VOL_VOLUME);
	assert_int_equal(ci.parent, s);
	assert_int_equal(ci.block_size, 4096);
	assert_int_equal(ci.size, 2 * MIB);
	assert_int_equal(ci.exclusive, 0);
	rd(f->p, c, 0, 2 * CHUNK, 1);
	wr(f->p, c, 0, 4096, 2);
	rd(f->p, s, 0, 2 * CHUNK, 1);
	rd(f->p, v, 0, 2 * CHUNK, 1);
	rd(f->p, c, 0, 4096, 2);
	/* clone after deleting the source snapshot */
	assert_int_equal(vol_delete(f->p, s), 0);
	assert_int_equal(vol_clone(f->p, s, "c3", &id), -ENOENT);
	assert_int_equal(pool_commit(f->p), 0);
	{
		uint8_t *want = malloc(2 * CHUNK);

		pattern(want, 2 * CHUNK, 1);
		pattern(want, 4096, 2);
		rd_buf(f->p, c, 0, 2 * CHUNK, want);
		free(want);
	}
}

static void test_clone_after_delete(void **state)
{
	struct fx *f = *state;
	uint64_t v = mkvol(f->p, "v", 2 * MIB, 512), s, c, c2;
	uint8_t *want = malloc(2 * CHUNK), *got = malloc(2 * CHUNK);

	wr(f->p, v, 0, 2 * CHUNK, 1);
	assert_int_equal(vol_snapshot(f->p, v, "s", &s), 0);
	assert_int_equal(vol_clone(f->p, s, "c", &c), 0);
	wr(f->p, v, 0, 2 * CHUNK, 2); /* the origin moves on */
	assert_int_equal(vol_delete(f->p, s), 0);
	assert_int_equal(pool_commit(f->p), 0);
	assert_int_equal(pool_check_live(f->p, tu_report, "live"), 0);
	pattern(want, 2 * CHUNK, 1);
	assert_int_equal(vol_read(f->p, c, 0, 2 * CHUNK, got), 0);
	assert_memory_equal(got, want, 2 * CHUNK);
	assert_int_equal(info(f->p, c).exclusive, 2 * CHUNK); /* sole owner now */
	/* a clone of the clone, and of a volume's current state */
	assert_int_equal(vol_clone(f->p, c, "cc", &c2), 0);
	assert_int_equal(vol_read(f->p, c2, 0, 2 * CHUNK, got), 0);
	assert_memory_equal(got, want, 2 * CHUNK);
	assert_int_not_equal(info(f->p, c2).parent, 0);
	wr(f->p, c, 0, 512, 3);
	assert_int_equal(vol_read(f->p, c2, 0, 2 * CHUNK, got), 0);
	assert_memory_equal(got, want, 2 * CHUNK);
	/* deleting a volume with clones is allowed */
	assert_int_equal(vol_delete(f->p, c), 0);
	assert_int_equal(vol_read(f->p, c2, 0, 2 * CHUNK, got), 0);
	assert_memory_equal(got, want, 2 * CHUNK);
	fx_reopen(f);
	assert_int_equal(vol_read(f->p, c2, 0, 2 * CHUNK, got), 0);
	assert_memory_equal(got, want, 2 * CHUNK);
	free(want);
	free(got);
}

static void test_revert(void **state)
{
	struct fx *f = *state;
	uint64_t v = mkvol(f->p, "v", 2 * MIB, 512), s;
	struct vol_info before, after;
	uint8_t buf[512], *want = malloc(3 * CHUNK);
	int r;

	wr(f->p, v, 0, 3 * CHUNK, 1);
	assert_int_equal(vol_snapshot(f->p, v, "s", &s), 0);
	before = info(f->p, v);
	wr(f->p, v, CHUNK, CHUNK, 2);
	assert_int_equal(vol_resize(f->p, v, 4 * MIB), 0);
	wr(f->p, v, 3 * MIB, CHUNK, 3);
	assert_int_equal(vol_revert(f->p, v, s), 0);
	after = info(f->p, v);
	assert_int_equal(after.id, v);
	assert_string_equal(after.name, "v");
	assert_memory_equal(after.uuid, before.uuid, 16);
	assert_int_equal(after.size, 2 * MIB);
	rd(f->p, v, 0, 3 * CHUNK, 1);
	rd(f->p, v, 3 * CHUNK, 2 * MIB - 3 * CHUNK, 0);
	assert_int_equal(vol_read(f->p, v, 3 * MIB, 512, buf), -ERANGE);
	assert_int_equal(vol_revert(f->p, v, s + 1000), -ENOENT);
	assert_int_equal(vol_revert(f->p, v + 1000, s), -ENOENT);
	r = vol_revert(f->p, s, s);
	assert_true(r == -EROFS || r == -EINVAL);
	/* the snapshot survives and the volume stays writable */
	wr(f->p, v, 0, 512, 4);
	rd(f->p, s, 0, 3 * CHUNK, 1);
	fx_reopen(f);
	pattern(want, 3 * CHUNK, 1);
	pattern(want, 512, 4);
	rd_buf(f->p, v, 0, 3 * CHUNK, want);
	rd(f->p, s, 0, 3 * CHUNK, 1);
	free(want);
}

/* ---- delete, resize, diff ---------------------------------------------- */

static void test_delete_frees_at_commit(void **state)
{
	struct fx *f = *state;
	uint64_t v = mkvol(f->p, "v", 4 * MIB, 512), id, n;
	uint64_t free0 = stat_of(f->p).free_chunks;

	wr(f->p, v, 0, 8 * CHUNK, 1);
	assert_int_equal(pool_commit(f->p), 0);
	assert_int_equal(stat_of(f->p).free_chunks, free0 - 8);
	assert_int_equal(vol_delete(f->p, v), 0);
	assert_int_equal(vol_delete(f->p, v), -ENOENT);
	assert_int_equal(vol_lookup(f->p, "v", &id), -ENOENT);
	/* pending until the next commit, which the delete itself may be */
	n = stat_of(f->p).free_chunks;
	assert_true(n == free0 - 8 || n == free0);
	assert_int_equal(pool_commit(f->p), 0);
	assert_int_equal(stat_of(f->p).free_chunks, free0);
	assert_int_equal(stat_of(f->p).nr_volumes, 0);
	/* ids are never reused; names are */
	assert_int_equal(vol_create(f->p, "v", MIB, 512, &id), 0);
	assert_int_not_equal(id, v);
}

static void test_resize(void **state)
{
	struct fx *f = *state;
	uint64_t v = mkvol(f->p, "v", MIB, 512);
	uint8_t buf[512];

	wr(f->p, v, 0, MIB, 1);
	assert_int_equal(vol_resize(f->p, v, 3 * MIB), 0);
	assert_int_equal(info(f->p, v).size, 3 * MIB);
	rd(f->p, v, 0, MIB, 1);
	rd(f->p, v, MIB, 2 * MIB, 0);
	wr(f->p, v, 2 * MIB, CHUNK, 2);
	/* shrink to a non-chunk-aligned size: the tail is unmapped */
	assert_int_equal(vol_resize(f->p, v, MIB / 2 + 4096), 0);
	assert_int_equal(vol_read(f->p, v, MIB / 2 + 4096, 512, buf), -ERANGE);
	assert_true(info(f->p, v).allocated <= MIB / 2 + CHUNK);
	assert_int_equal(vol_resize(f->p, v, 3 * MIB), 0);
	{
		uint8_t *want = malloc(MIB), *got = malloc(MIB);

		pattern(want, MIB, 1);
		memset(want + MIB / 2 + 4096, 0, MIB / 2 - 4096);
		assert_int_equal(vol_read(f->p, v, 0, MIB, got), 0);
		assert_memory_equal(got, want, MIB);
		free(want);
		free(got);
	}
	rd(f->p, v, MIB, 2 * MIB, 0);
	assert_int_equal(vol_resize(f->p, v, 0), -EINVAL);
	assert_int_equal(vol_resize(f->p, v, MIB + 100), -EINVAL);
	assert_int_equal(vol_resize(f->p, v + 1000, MIB), -ENOENT);
	/* shrinking from a size that ends inside a chunk drops that chunk too */
	assert_int_equal(vol_resize(f->p, v, MIB / 2 + 4096), 0);
	wr(f->p, v, 0, MIB / 2 + 4096, 3);
	assert_int_equal(vol_resize(f->p, v, MIB / 4), 0);
	assert_int_equal(info(f->p, v).allocated, MIB / 4);
	assert_int_equal(vol_resize(f->p, v, MIB), 0);
	{
		int mapped;
		uint64_t run;

		assert_int_equal(vol_map_status(f->p, v, MIB / 4, &mapped, &run), 0);
		assert_false(mapped);
		assert_int_equal(run, MIB - MIB / 4);
	}
	rd(f->p, v, MIB / 4, MIB - MIB / 4, 0);
	assert_int_equal(pool_commit(f->p), 0);
}

struct ranges {
	unsigned n;
	uint64_t off[16], len[16];
};

static int range_fn(uint64_t off, uint64_t len, void *ctx)
{
	struct ranges *r = ctx;

	if (r->n == 16)
		return -E2BIG;
	r->off[r->n] = off;
	r->len[r->n++] = len;
	return 0;
}

static void test_diff(void **state)
{
	struct fx *f = *state;
	uint64_t v = mkvol(f->p, "v", 4 * MIB, 512), s, s2;
	struct ranges r = {0};

	wr(f->p, v, 0, CHUNK, 1);
	wr(f->p, v, 2 * CHUNK, CHUNK, 1);
	assert_int_equal(vol_snapshot(f->p, v, "s", &s), 0);
	assert_int_equal(vol_diff(f->p, v, s, range_fn, &r), 0);
	assert_int_equal(r.n, 0);
	wr(f->p, v, 5 * CHUNK + 512, 512, 2);
	wr(f->p, v, 6 * CHUNK, 2 * CHUNK, 3);
	wr(f->p, v, 10 * CHUNK, 512, 4);
	assert_int_equal(vol_unmap(f->p, v, 0, CHUNK), 0);
	assert_int_equal(vol_diff(f->p, s, v, range_fn, &r), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.off[0], 0);
	assert_int_equal(r.len[0], CHUNK);
	assert_int_equal(r.off[1], 5 * CHUNK);
	assert_int_equal(r.len[1], 3 * CHUNK);
	assert_int_equal(r.off[2], 10 * CHUNK);
	assert_int_equal(r.len[2], CHUNK);
	/* two snapshots of one volume */
	assert_int_equal(vol_snapshot(f->p, v, "s2", &s2), 0);
	r.n = 0;
	assert_int_equal(vol_diff(f->p, s, s2, range_fn, &r), 0);
	assert_int_equal(r.n, 3);
	r.n = 0;
	assert_int_equal(vol_diff(f->p, v, v, range_fn, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(vol_diff(f->p, v, v + 1000, range_fn, &r), -ENOENT);
	/* the callback's non-zero stops the walk and is returned */
	r.n = 15;
	assert_int_equal(vol_diff(f->p, s, v, range_fn, &r), -E2BIG);
}

/* ---- objects -------------------------------------------------------------- */

struct obj_ctx {
	unsigned n, stop_at;
	uint64_t keys[8];
};

static int obj_fn(uint64_t key, const void *val, size_t len, void *ctx)
{
	struct obj_ctx *c = ctx;

	assert_int_equal(len, 10 + (key & 0xff));
	assert_int_equal(((const uint8_t *)val)[0], (uint8_t)key);
	c->keys[c->n++] = key;
	return c->n == c->stop_at ? 7 : 0;
}

static void put(struct pool *p, uint64_t key)
{
	uint8_t val[POOL_OBJ_MAX];
	size_t len = 10 + (key & 0xff);

	memset(val, (uint8_t)key, len);
	assert_int_equal(pool_obj_put(p, key, val, len), 0);
}

static void test_objects(void **state)
{
	struct fx *f = *state;
	uint8_t val[POOL_OBJ_MAX + 1];
	struct obj_ctx c = {0};
	size_t len;

	for (uint64_t k = 1; k <= 5; k++)
		put(f->p, (2ull << 56) | k);
	put(f->p, (1ull << 56) | 9);
	put(f->p, (3ull << 56) | 9);
	len = sizeof(val);
	assert_int_equal(pool_obj_get(f->p, (2ull << 56) | 3, val, &len), 0);
	assert_int_equal(len, 13);
	assert_int_equal(val[12], 3);
	len = 5;
	assert_int_equal(pool_obj_get(f->p, (2ull << 56) | 3, val, &len), -ENOBUFS);
	assert_int_equal(len, 13);
	len = sizeof(val);
	assert_int_equal(pool_obj_get(f->p, 12345, val, &len), -ENOENT);
	assert_int_equal(pool_obj_put(f->p, 1, val, POOL_OBJ_MAX + 1), -EINVAL);
	assert_int_equal(pool_obj_put(f->p, 1, val, POOL_OBJ_MAX), 0);
	assert_int_equal(pool_obj_del(f->p, 1), 0);
	assert_int_equal(pool_obj_del(f->p, 1), -ENOENT);
	/* overwrite with another length */
	memset(val, 0x42, 200);
	assert_int_equal(pool_obj_put(f->p, (2ull << 56) | 4, val, 200), 0);
	len = sizeof(val);
	assert_int_equal(pool_obj_get(f->p, (2ull << 56) | 4, val, &len), 0);
	assert_int_equal(len, 200);
	put(f->p, (2ull << 56) | 4);
	assert_int_equal(pool_obj_del(f->p, (2ull << 56) | 2), 0);

	assert_int_equal(pool_obj_iterate(f->p, 2ull << 56, (3ull << 56) - 1, obj_fn, &c), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.keys[0], (2ull << 56) | 1);
	assert_int_equal(c.keys[1], (2ull << 56) | 3);
	assert_int_equal(c.keys[3], (2ull << 56) | 5);
	c.n = 0;
	c.stop_at = 2;
	assert_int_equal(pool_obj_iterate(f->p, 0, UINT64_MAX, obj_fn, &c), 7);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.keys[0], (1ull << 56) | 9);
	fx_reopen(f);
	c.n = 0;
	c.stop_at = 0;
	assert_int_equal(pool_obj_iterate(f->p, 0, UINT64_MAX, obj_fn, &c), 0);
	assert_int_equal(c.n, 6);
	len = sizeof(val);
	assert_int_equal(pool_obj_get(f->p, (2ull << 56) | 2, val, &len), -ENOENT);
}

/* ---- full pool, metadata reserve ----------------------------------------- */

static void test_enospc(void **state)
{
	struct fx *f = *state;
	uint64_t v, s, n, off;
	struct pool_stat st;
	uint8_t *buf = malloc(CHUNK);
	int r = 0;

	/* replace the fixture's pool by a tiny one */
	assert_int_equal(pool_close(f->p), 0);
	bdev_destroy(f->dev);
	free(f);
	*state = NULL;
	*state = f = fx_new(3 * MIB, CHUNK, MIB);
	st = stat_of(f->p);
	n = st.data_chunks;
	assert_true(n > 2 && n < 64);
	v = mkvol(f->p, "v", 16 * MIB, 4096); /* overcommitted */
	pattern(buf, CHUNK, 1);
	for (off = 0; off < 16 * MIB; off += CHUNK)
		if ((r = vol_write(f->p, v, off, CHUNK, buf, 0)))
			break;
	assert_int_equal(r, -ENOSPC);
	assert_int_equal(off, n * CHUNK);
	assert_int_equal(stat_of(f->p).free_chunks, 0);
	assert_int_equal(vol_write(f->p, v, off, 4096, buf, 0), -ENOSPC);
	rd(f->p, v, off, CHUNK, 0); /* the failed write left nothing */
	rd(f->p, v, 0, CHUNK, 1);
	/* overwrites of unshared chunks still work when full */
	assert_int_equal(vol_write(f->p, v, 0, CHUNK, buf, POOL_FUA), 0);
	/* a snapshot makes every chunk shared: overwrites need new chunks */
	assert_int_equal(vol_snapshot(f->p, v, "s", &s), 0);
	assert_int_equal(vol_write(f->p, v, 0, 4096, buf, 0), -ENOSPC);
	assert_int_equal(pool_commit(f->p), 0);
	/* deleting the snapshot and unmapping frees space at the next commit */
	assert_int_equal(vol_delete(f->p, s), 0);
	assert_int_equal(vol_unmap(f->p, v, 0, 2 * CHUNK), 0);
	assert_int_equal(pool_commit(f->p), 0);
	assert_int_equal(stat_of(f->p).free_chunks, 2);
	assert_int_equal(vol_write(f->p, v, off, CHUNK, buf, 0), 0);
	rd(f->p, v, off, CHUNK, 1);
	free(buf);
}

/* Metadata space down to the reserve: user writes get -EDQUOT, commit and
 * snapshot delete still work, and deleting frees metadata again. */
static void test_edquot(void **state)
{
	struct fx *f = *state;
	uint64_t v, s, off, n = 0;
	struct pool_stat st;
	uint8_t buf[4096];
	int r = 0;

	assert_int_equal(pool_close(f->p), 0);
	bdev_destroy(f->dev);
	free(f);
	*state = NULL;
	*state = f = fx_new(32 * MIB, 4096, 256 * 1024);
	v = mkvol(f->p, "v", 64 * 1024 * MIB, 4096);
	assert_int_equal(vol_snapshot(f->p, v, "s0", &s), 0);
	memset(buf, 0x5a, sizeof(buf));
	for (off = 0; off < 64 * 1024 * MIB; off += MIB, n++)
		if ((r = vol_write(f->p, v, off, 4096, buf, 0)))
			break;
	assert_int_equal(r, -EDQUOT);
	assert_true(n > 10);
	st = stat_of(f->p);
	assert_true(st.free_chunks > 0);
	assert_true(st.free_meta_blocks >= st.meta_reserve); /* the reserve is kept */
	assert_int_equal(vol_write(f->p, v, off, 4096, buf, 0), -EDQUOT);
	assert_int_equal(pool_commit(f->p), 0);
	rd(f->p, v, off, 4096, 0);
	assert_int_equal(vol_delete(f->p, s), 0);
	assert_int_equal(pool_commit(f->p), 0);
	/* unmapping most of the volume gives metadata back */
	assert_int_equal(vol_unmap(f->p, v, 0, off / 2), 0);
	assert_int_equal(pool_commit(f->p), 0);
	assert_int_equal(vol_write(f->p, v, off, 4096, buf, 0), 0);
	fx_reopen(f);
	assert_int_equal(vol_read(f->p, v, off - MIB, 4096, buf), 0);
	assert_int_equal(buf[0], 0x5a);
}

/* ---- persistence ----------------------------------------------------------- */

static void test_reopen_persists(void **state)
{
	struct fx *f = *state;
	uint64_t ids[6], vols[2], gs[2];
	const char *gn[2] = {"g0", "g1"};
	struct vol_info before[6], after;
	uint64_t txn;

	ids[0] = mkvol(f->p, "a", 2 * MIB, 512);
	ids[1] = mkvol(f->p, "b", MIB, 4096);
	wr(f->p, ids[0], 0, CHUNK, 1);
	wr(f->p, ids[1], CHUNK, CHUNK, 2);
	assert_int_equal(vol_snapshot(f->p, ids[0], "a-s", &ids[2]), 0);
	assert_int_equal(vol_clone(f->p, ids[2], "a-c", &ids[3]), 0);
	vols[0] = ids[0];
	vols[1] = ids[1];
	assert_int_equal(vol_snapshot_group(f->p, 2, vols, gn, gs), 0);
	ids[4] = gs[0];
	ids[5] = gs[1];
	assert_int_equal(vol_set_flags(f->p, ids[1], VOL_F_READONLY), 0);
	for (int i = 0; i < 6; i++)
		before[i] = info(f->p, ids[i]);
	txn = stat_of(f->p).txn;
	fx_reopen(f);
	assert_true(stat_of(f->p).txn >= txn);
	assert_int_equal(stat_of(f->p).nr_volumes, 6);
	for (int i = 0; i < 6; i++) {
		uint64_t id;

		after = info(f->p, ids[i]);
		assert_int_equal(vol_lookup(f->p, before[i].name, &id), 0);
		assert_int_equal(id, ids[i]);
		assert_string_equal(after.name, before[i].name);
		assert_memory_equal(after.uuid, before[i].uuid, 16);
		assert_int_equal(after.kind, before[i].kind);
		assert_int_equal(after.flags, before[i].flags);
		assert_int_equal(after.block_size, before[i].block_size);
		assert_int_equal(after.size, before[i].size);
		assert_int_equal(after.parent, before[i].parent);
		assert_int_equal(after.created_ns, before[i].created_ns);
		assert_int_equal(after.group, before[i].group);
		assert_int_equal(after.allocated, before[i].allocated);
	}
	rd(f->p, ids[3], 0, CHUNK, 1);
	rd(f->p, ids[5], CHUNK, CHUNK, 2);
	/* ids are not reused after a reopen */
	{
		uint64_t id = mkvol(f->p, "new", MIB, 512);

		for (int i = 0; i < 6; i++)
			assert_int_not_equal(id, ids[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_open_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vol_create_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lookup_info_iterate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rename_flags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_sharing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clone_after_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_frees_at_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edquot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_persists, setup, teardown),
	};

	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
