/*
 * bdev_mem: a RAM image, for unit and model tests and for the crash states
 * of the power-loss test.  No locking: concurrent I/O to disjoint ranges is
 * plain memcpy on disjoint bytes, and the engine never issues overlapping
 * concurrent writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev.h"

struct mem_bdev {
	struct bdev bd;
	uint8_t *data;
};

static int mem_check(struct bdev *bd, uint64_t len, uint64_t off)
{
	if (off > bd->size || len > bd->size - off)
		return -ERANGE;
	return 0;
}

static int mem_pread(struct bdev *bd, void *buf, size_t len, uint64_t off)
{
	struct mem_bdev *mb = bd->priv;
	int rc = mem_check(bd, len, off);

	if (rc)
		return rc;
	if (len)
		memcpy(buf, mb->data + off, len);
	return 0;
}

static int mem_pwrite(struct bdev *bd, const void *buf, size_t len, uint64_t off)
{
	struct mem_bdev *mb = bd->priv;
	int rc = mem_check(bd, len, off);

	if (rc)
		return rc;
	if (len)
		memcpy(mb->data + off, buf, len);
	return 0;
}

static int mem_flush(struct bdev *bd)
{
	return 0;
}

static int mem_discard(struct bdev *bd, uint64_t off, uint64_t len)
{
	struct mem_bdev *mb = bd->priv;
	int rc = mem_check(bd, len, off);

	if (rc)
		return rc;
	if (len)
		memset(mb->data + off, 0, len);
	return 0;
}

static void mem_destroy(struct bdev *bd)
{
	struct mem_bdev *mb = bd->priv;

	free(mb->data);
	free(mb);
}

static const struct bdev_ops mem_ops = {
    .pread = mem_pread,
    .pwrite = mem_pwrite,
    .flush = mem_flush,
    .discard = mem_discard,
    .destroy = mem_destroy,
};

int bdev_mem_create(uint64_t size, struct bdev **out)
{
	struct mem_bdev *mb;

	if (!out || size == 0 || size > SIZE_MAX)
		return -EINVAL;
	mb = calloc(1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	mb->data = calloc(1, (size_t)size);
	if (!mb->data) {
		free(mb);
		return -ENOMEM;
	}
	mb->bd.ops = &mem_ops;
	mb->bd.size = size;
	mb->bd.priv = mb;
	*out = &mb->bd;
	return 0;
}

uint8_t *bdev_mem_data(struct bdev *bd)
{
	if (!bd || bd->ops != &mem_ops)
		return NULL;
	return ((struct mem_bdev *)bd->priv)->data;
}
