/*
 * bm: the block manager.  A cache of 4 KiB metadata blocks over a bdev,
 * with validation on every read from the device and checksumming on every
 * write to it (dm-block-manager's role).
 *
 * Every metadata block starts with the same 16-byte header:
 *   le32 csum     CRC32C of bytes [4, 4096), salted with the magic
 *   le32 magic    what kind of block this is
 *   le64 blocknr  where it lives, so a misdirected write is caught
 * A block read from the device that fails any of the three checks gives
 * -EILSEQ and is not cached.
 *
 * Blocks are pinned while a caller holds them (bm_read/bm_new to bm_put).
 * Dirty blocks stay in memory until bm_write_dirty() writes them; only
 * clean, unpinned blocks are evicted.  The cache has its own mutex, so
 * bm_read and bm_put may be called from several threads; bm_new,
 * bm_mark_dirty, bm_forget and bm_write_dirty need the caller to exclude
 * every other user of the blocks involved (the pool's exclusive lock).
 */
#ifndef ARRAYSIM_BM_H
#define ARRAYSIM_BM_H

#include <stddef.h>
#include <stdint.h>

#include "bdev.h"

#define BM_BLOCK_SIZE 4096u
#define BM_HDR_SIZE   16u

struct bm;

struct blk {
	uint64_t nr;   /* absolute block number (byte offset / 4096) */
	uint8_t *data; /* BM_BLOCK_SIZE bytes */
};

int bm_create(struct bdev *dev, size_t cache_bytes, int read_only, struct bm **out);
void bm_destroy(struct bm *bm);

/* Get block nr, reading and validating it on a miss.  magic: the expected
 * magic; 0 accepts any (the caller then checks).  Pins the block. */
int bm_read(struct bm *bm, uint64_t nr, uint32_t magic, struct blk **out);

/* A zeroed, dirty, pinned block for a freshly allocated nr; no device
 * read.  The caller sets the magic; the blocknr field is set here. */
int bm_new(struct bm *bm, uint64_t nr, uint32_t magic, struct blk **out);

void bm_mark_dirty(struct bm *bm, struct blk *b);
void bm_put(struct bm *bm, struct blk *b);

/* Drop nr from the cache (it was freed).  Must not be pinned. */
void bm_forget(struct bm *bm, uint64_t nr);

/* Checksum and write every dirty block, then mark them clean.  Does not
 * flush the device.  Returns the number written via *count. */
int bm_write_dirty(struct bm *bm, uint64_t *count);

/* Discard every dirty block (the transaction is being abandoned). */
void bm_drop_dirty(struct bm *bm);

size_t bm_cache_bytes(struct bm *bm);

/* Seal a block image in place: set blocknr and checksum. */
void bm_seal(uint8_t *data, uint64_t nr);
/* Validate a block image: 0, or -EILSEQ with no side effects. */
int bm_validate(const uint8_t *data, uint64_t nr, uint32_t magic);

#endif
