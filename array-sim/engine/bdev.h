/*
 * bdev: the block I/O layer under the pool engine.
 *
 * Every byte the engine reads or writes goes through a struct bdev, so the
 * same engine runs on a sparse file, a block device, a RAM image (unit and
 * model tests) or a recording layer that logs writes and flushes so that the
 * power-loss test can build crash states from the log.
 *
 * Contract shared by all implementations:
 *  - Functions return 0 or -errno.
 *  - pread/pwrite move exactly len bytes or fail; a short transfer is -EIO.
 *  - A write is durable only after a later flush() has returned 0.  Until
 *    then, after a power loss, each 512-byte sector of it may hold the old
 *    or the new contents, independently (a disk with a volatile cache).
 *  - pread/pwrite may be called from several threads at once; flush() may
 *    run concurrently with them and then covers at least every write that
 *    completed before it was called.
 */
#ifndef ARRAYSIM_BDEV_H
#define ARRAYSIM_BDEV_H

#include <stddef.h>
#include <stdint.h>

struct bdev;

struct bdev_ops {
	int (*pread)(struct bdev *bd, void *buf, size_t len, uint64_t off);
	int (*pwrite)(struct bdev *bd, const void *buf, size_t len, uint64_t off);
	int (*flush)(struct bdev *bd);
	/* Optional: drop the contents of a range (reads then return zeros or
	 * old data; the engine never relies on either). NULL = no-op. */
	int (*discard)(struct bdev *bd, uint64_t off, uint64_t len);
	/* Optional hint: start writing the range back now, without waiting
	 * (a later flush then has less to do).  NULL = no-op. */
	void (*writeback)(struct bdev *bd, uint64_t off, uint64_t len);
	void (*destroy)(struct bdev *bd);
};

struct bdev {
	const struct bdev_ops *ops;
	uint64_t size; /* bytes */
	void *priv;
};

static inline int bdev_pread(struct bdev *bd, void *buf, size_t len, uint64_t off)
{
	return bd->ops->pread(bd, buf, len, off);
}

static inline int bdev_pwrite(struct bdev *bd, const void *buf, size_t len, uint64_t off)
{
	return bd->ops->pwrite(bd, buf, len, off);
}

static inline int bdev_flush(struct bdev *bd)
{
	return bd->ops->flush(bd);
}

static inline int bdev_discard(struct bdev *bd, uint64_t off, uint64_t len)
{
	return bd->ops->discard ? bd->ops->discard(bd, off, len) : 0;
}

static inline void bdev_writeback(struct bdev *bd, uint64_t off, uint64_t len)
{
	if (bd->ops->writeback)
		bd->ops->writeback(bd, off, len);
}

/* Releases the bdev; for wrappers, not the device below. NULL is a no-op. */
static inline void bdev_destroy(struct bdev *bd)
{
	if (bd)
		bd->ops->destroy(bd);
}

/*
 * A sparse file or a block device.  With create != 0 and a regular file,
 * the file is created (or truncated) to size bytes; size 0 opens an existing
 * file or device at its current size.  Flush is fdatasync().
 */
int bdev_file_open(const char *path, uint64_t size, int create, struct bdev **out);

/* A zero-filled RAM image of size bytes.  Flush is a no-op. */
int bdev_mem_create(uint64_t size, struct bdev **out);
/* The RAM image behind a mem bdev (for tests that build crash images). */
uint8_t *bdev_mem_data(struct bdev *bd);

/*
 * Recording layer (the power-loss simulator's tap, after SQLite's test6.c
 * and dm-log-writes).  It forwards every call to lower and appends each
 * write (offset and a copy of the data) and each flush to an in-memory log.
 * The log is read back with the bdev_rec_* accessors below; crash states are
 * built from it by tests/engine/powerloss.c.  lower is not destroyed with it.
 */
enum rec_kind { REC_WRITE = 1, REC_FLUSH = 2 };

struct rec_entry {
	enum rec_kind kind;
	uint64_t off;  /* REC_WRITE: byte offset */
	uint32_t len;  /* REC_WRITE: byte count */
	uint8_t *data; /* REC_WRITE: copy of the bytes written */
};

int bdev_rec_create(struct bdev *lower, struct bdev **out);
size_t bdev_rec_count(struct bdev *rec);
const struct rec_entry *bdev_rec_entry(struct bdev *rec, size_t i);
/* Forget all entries (frees their data). */
void bdev_rec_reset(struct bdev *rec);

#endif
