/*
 * fuzz_pool_image: libFuzzer target for the pool's on-disk format.
 *
 * A small valid pool (volumes, a snapshot, a clone, objects, several
 * commits) is built once.  Each input patches bytes into it, then the
 * checker, open and the read paths run on the result; none of them may
 * crash, hang or trip a sanitizer, whatever the metadata says.
 *
 * Input:
 *   u8 flags      bit 0: re-seal patched blocks (fix checksum and blocknr,
 *                 so the bytes get past validation into the parsers);
 *                 bit 1: also open writable, write and commit
 *   records...    u8 block selector, le16 offset, u8 length, bytes
 * The selector indexes the image's superblock slots and metadata blocks
 * (found by validating headers), so mutations land on metadata rather
 * than on data chunks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bm.h"
#include "crc.h"
#include "pool.h"
#include "pool_int.h"

#define IMG_BYTES   (4u << 20)
#define MAX_RECORDS 16
#define MAX_VOLS    32
#define READ_LIMIT  (256u << 10) /* bytes read per volume */

static uint8_t *base_img;
static uint64_t blocks[IMG_BYTES / BM_BLOCK_SIZE]; /* patchable block numbers */
static size_t nblocks;
static struct bdev *dev;

static void die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_pool_image: setup: %s: %d\n", what, rc);
	abort();
}

static void quiet(const char *msg, void *ctx)
{
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 31 + (i >> 9));
}

/* The seed pool: enough structure that every tree has content. */
static void build_base(void)
{
	/* An explicit small metadata area: the default is at least 4 MiB. */
	struct pool_create_opts co = {.chunk_size = POOL_MIN_CHUNK, .meta_size = 512u << 10};
	struct pool_open_opts oo = {.cache_bytes = 1u << 20};
	static uint8_t buf[64u << 10];
	uint64_t a, b, snap, clone;
	struct pool *p;
	int rc;

	rc = bdev_mem_create(IMG_BYTES, &dev);
	if (rc)
		die("bdev_mem_create", rc);
	if ((rc = pool_create(dev, &co)))
		die("pool_create", rc);
	if ((rc = pool_open(dev, &oo, &p)))
		die("pool_open", rc);
	if ((rc = vol_create(p, "a", 1u << 20, 4096, &a)) ||
	    (rc = vol_create(p, "b", 256u << 10, 512, &b)))
		die("vol_create", rc);
	for (unsigned i = 0; i < 16; i++) {
		fill(buf, 8192, i);
		if ((rc = vol_write(p, a, (uint64_t)i * 40960, 8192, buf, 0)))
			die("vol_write", rc);
	}
	fill(buf, sizeof(buf), 99);
	if ((rc = vol_write(p, b, 4096, sizeof(buf), buf, POOL_FUA)))
		die("vol_write", rc);
	if ((rc = pool_commit(p)))
		die("pool_commit", rc);
	if ((rc = vol_snapshot(p, a, "a-snap", &snap)))
		die("vol_snapshot", rc);
	fill(buf, 4096, 7);
	if ((rc = vol_write(p, a, 40960, 4096, buf, 0)) || (rc = vol_unmap(p, a, 0, 8192)))
		die("vol_write/unmap", rc);
	if ((rc = vol_clone(p, snap, "c", &clone)))
		die("vol_clone", rc);
	if ((rc = vol_write(p, clone, 81920, 4096, buf, 0)))
		die("vol_write", rc);
	if ((rc = pool_obj_put(p, 1, "one", 3)) || (rc = pool_obj_put(p, 2, buf, 700)))
		die("pool_obj_put", rc);
	if ((rc = pool_close(p)))
		die("pool_close", rc);
	rc = pool_check(dev, NULL, NULL);
	if (rc)
		die("pool_check of the seed image", rc);

	base_img = malloc(IMG_BYTES);
	if (!base_img)
		die("malloc", -12);
	memcpy(base_img, bdev_mem_data(dev), IMG_BYTES);

	for (uint64_t nr = 0; nr < SB_SLOTS; nr++)
		blocks[nblocks++] = nr;
	for (uint64_t nr = SB_SLOTS; nr < IMG_BYTES / BM_BLOCK_SIZE; nr++)
		if (!bm_validate(base_img + nr * BM_BLOCK_SIZE, nr, 0))
			blocks[nblocks++] = nr;
	fprintf(stderr, "fuzz_pool_image: %zu patchable blocks (%u superblock slots)\n", nblocks,
		SB_SLOTS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	build_base();
	return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Make a patched block valid again so that the fields, not the checksum,
 * are what the engine sees. */
static void reseal(uint8_t *img, uint64_t nr)
{
	uint8_t *blk = img + nr * BM_BLOCK_SIZE;

	if (nr < SB_SLOTS) {
		if (get_le32(blk + SB_MAGIC_OFF) == SB_MAGIC)
			put_le32(blk + SB_CSUM, crc32c_block(blk + 4, SB_BYTES - 4, SB_MAGIC));
	} else {
		bm_seal(blk, nr);
	}
}

static void apply_input(uint8_t *img, const uint8_t *data, size_t size, int do_reseal)
{
	uint64_t patched[MAX_RECORDS];
	unsigned n = 0;

	while (size >= 4 && n < MAX_RECORDS) {
		uint64_t nr = blocks[data[0] % nblocks];
		/* A superblock is one sector: aim inside it. */
		unsigned lim = nr < SB_SLOTS ? SB_BYTES : BM_BLOCK_SIZE;
		unsigned off = (unsigned)(data[1] | data[2] << 8) % lim;
		size_t len = data[3];

		data += 4;
		size -= 4;
		if (len > size)
			len = size;
		if (len > BM_BLOCK_SIZE - off)
			len = BM_BLOCK_SIZE - off;
		memcpy(img + nr * BM_BLOCK_SIZE + off, data, len);
		data += len;
		size -= len;
		patched[n++] = nr;
	}
	if (do_reseal)
		for (unsigned i = 0; i < n; i++)
			reseal(img, patched[i]);
}

struct walk {
	struct pool *p;
	uint8_t *buf;
	unsigned n;
};

static int diff_fn(uint64_t off, uint64_t len, void *ctx)
{
	return 0;
}

static int obj_fn(uint64_t key, const void *val, size_t len, void *ctx)
{
	return 0;
}

/* Every read-side entry point on one volume, bounded in bytes. */
static int vol_fn(const struct vol_info *vi, void *ctx)
{
	struct walk *w = ctx;
	struct vol_info info;
	uint64_t run, id;
	int mapped;

	if (++w->n > MAX_VOLS)
		return 1;
	(void)vol_info(w->p, vi->id, &info);
	(void)vol_lookup(w->p, vi->name, &id);
	if (vi->block_size == 512 || vi->block_size == 4096) {
		uint64_t len = vi->size < READ_LIMIT ? vi->size : READ_LIMIT;

		len -= len % vi->block_size;
		if (len)
			(void)vol_read(w->p, vi->id, 0, len, w->buf);
		if (vi->size >= len + READ_LIMIT / 4 && vi->size <= POOL_MAX_VOL_SIZE)
			(void)vol_read(w->p, vi->id, vi->size - READ_LIMIT / 4, READ_LIMIT / 4,
				       w->buf);
		(void)vol_map_status(w->p, vi->id, 0, &mapped, &run);
	}
	if (vi->parent)
		(void)vol_diff(w->p, vi->parent, vi->id, diff_fn, NULL);
	return 0;
}

static void exercise(struct bdev *bd, int writable)
{
	struct pool_open_opts oo = {.cache_bytes = 1u << 20, .read_only = !writable};
	static uint8_t buf[READ_LIMIT];
	struct walk w = {.buf = buf};
	struct pool_stat st;
	struct pool *p;

	(void)pool_check(bd, quiet, NULL);
	if (pool_open(bd, &oo, &p))
		return;
	w.p = p;
	(void)pool_stat(p, &st);
	(void)vol_iterate(p, vol_fn, &w);
	(void)pool_obj_iterate(p, 0, UINT64_MAX, obj_fn, NULL);
	if (writable) {
		uint64_t id;

		memset(buf, 0x5a, 4096);
		if (!vol_lookup(p, "a", &id))
			(void)vol_write(p, id, 4096, 4096, buf, 0);
		(void)pool_obj_put(p, 3, buf, 100);
		(void)pool_commit(p);
		(void)pool_check_live(p, quiet, NULL);
	}
	(void)pool_close(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *img = bdev_mem_data(dev);
	uint8_t flags;

	if (!base_img)
		build_base();
	if (size < 1)
		return 0;
	flags = data[0];
	memcpy(img, base_img, IMG_BYTES);
	apply_input(img, data + 1, size - 1, flags & 1);
	exercise(dev, flags & 2);
	return 0;
}
