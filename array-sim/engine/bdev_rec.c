/*
 * bdev_rec: the power-loss simulator's tap (see bdev.h).
 *
 * Ordering is what makes the log usable: a flush covers every write that
 * completed before it was called.  So a write is appended after the lower
 * write has succeeded (before it returns to the caller), and a flush is
 * appended before the lower flush is issued.  A write racing with a flush
 * may then be logged after it, which only makes the crash states more
 * pessimistic, never wrong.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bdev.h"

struct rec_bdev {
	struct bdev bd;
	struct bdev *lower;
	pthread_mutex_t lock;
	struct rec_entry *ents;
	size_t n, cap;
};

static int rec_append(struct rec_bdev *rb, enum rec_kind kind, const void *buf, uint32_t len,
		      uint64_t off)
{
	uint8_t *copy = NULL;
	int rc = 0;

	if (kind == REC_WRITE) {
		copy = malloc(len ? len : 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, buf, len);
	}
	pthread_mutex_lock(&rb->lock);
	if (rb->n == rb->cap) {
		size_t cap = rb->cap ? rb->cap * 2 : 1024;
		struct rec_entry *e = realloc(rb->ents, cap * sizeof(*e));

		if (!e) {
			rc = -ENOMEM;
			goto out;
		}
		rb->ents = e;
		rb->cap = cap;
	}
	rb->ents[rb->n++] = (struct rec_entry){.kind = kind, .off = off, .len = len, .data = copy};
	copy = NULL;
out:
	pthread_mutex_unlock(&rb->lock);
	free(copy);
	return rc;
}

static int rec_pread(struct bdev *bd, void *buf, size_t len, uint64_t off)
{
	struct rec_bdev *rb = bd->priv;

	return bdev_pread(rb->lower, buf, len, off);
}

static int rec_pwrite(struct bdev *bd, const void *buf, size_t len, uint64_t off)
{
	struct rec_bdev *rb = bd->priv;
	int rc;

	/* The log stores 32-bit lengths; the engine writes far less. */
	if (len > UINT32_MAX)
		return -EINVAL;
	rc = bdev_pwrite(rb->lower, buf, len, off);
	if (rc)
		return rc;
	/* A write that reached the device but not the log would make the
	 * crash states silently wrong, so failing to log fails the write. */
	return rec_append(rb, REC_WRITE, buf, (uint32_t)len, off);
}

static int rec_flush(struct bdev *bd)
{
	struct rec_bdev *rb = bd->priv;
	int rc = rec_append(rb, REC_FLUSH, NULL, 0, 0);

	if (rc)
		return rc;
	return bdev_flush(rb->lower);
}

/* Not logged: a discarded range may read old data, which is what a crash
 * state built without it holds. */
static int rec_discard(struct bdev *bd, uint64_t off, uint64_t len)
{
	struct rec_bdev *rb = bd->priv;

	return bdev_discard(rb->lower, off, len);
}

static void rec_clear(struct rec_bdev *rb)
{
	for (size_t i = 0; i < rb->n; i++)
		free(rb->ents[i].data);
	rb->n = 0;
}

static void rec_destroy(struct bdev *bd)
{
	struct rec_bdev *rb = bd->priv;

	rec_clear(rb);
	free(rb->ents);
	pthread_mutex_destroy(&rb->lock);
	free(rb);
}

static const struct bdev_ops rec_ops = {
    .pread = rec_pread,
    .pwrite = rec_pwrite,
    .flush = rec_flush,
    .discard = rec_discard,
    .destroy = rec_destroy,
};

int bdev_rec_create(struct bdev *lower, struct bdev **out)
{
	struct rec_bdev *rb;

	if (!lower || !out)
		return -EINVAL;
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return -ENOMEM;
	if (pthread_mutex_init(&rb->lock, NULL)) {
		free(rb);
		return -ENOMEM;
	}
	rb->lower = lower;
	rb->bd.ops = &rec_ops;
	rb->bd.size = lower->size;
	rb->bd.priv = rb;
	*out = &rb->bd;
	return 0;
}

size_t bdev_rec_count(struct bdev *bd)
{
	struct rec_bdev *rb = bd->priv;
	size_t n;

	pthread_mutex_lock(&rb->lock);
	n = rb->n;
	pthread_mutex_unlock(&rb->lock);
	return n;
}

/*
 * The pointer stays valid until the next write, flush or reset (the array
 * may move when it grows), so read the log once the I/O has stopped.
 */
const struct rec_entry *bdev_rec_entry(struct bdev *bd, size_t i)
{
	struct rec_bdev *rb = bd->priv;
	const struct rec_entry *e = NULL;

	pthread_mutex_lock(&rb->lock);
	if (i < rb->n)
		e = &rb->ents[i];
	pthread_mutex_unlock(&rb->lock);
	return e;
}

void bdev_rec_reset(struct bdev *bd)
{
	struct rec_bdev *rb = bd->priv;

	pthread_mutex_lock(&rb->lock);
	rec_clear(rb);
	pthread_mutex_unlock(&rb->lock);
}
