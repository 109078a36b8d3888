/*
 * Block manager: hash table of cached metadata blocks, an LRU list of the
 * clean unpinned ones (eviction candidates) and a list of dirty ones.
 */
#include "bm.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "le.h"

struct centry {
	struct blk b;
	struct centry *hnext;	    /* hash chain */
	struct centry *prev, *next; /* LRU (clean) or dirty list */
	unsigned pins;
	int dirty;
};

struct list {
	struct centry head;
};

struct bm {
	struct bdev *dev;
	int read_only;
	size_t max_blocks;
	size_t nr_blocks;
	size_t nr_buckets; /* power of two */
	struct centry **buckets;
	struct list lru;   /* clean, unpinned; head.next is the oldest */
	struct list dirty; /* dirty, pinned or not */
	pthread_mutex_t lock;
};

static void list_init(struct list *l)
{
	l->head.prev = l->head.next = &l->head;
}

static void list_del(struct centry *e)
{
	if (e->prev) {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		e->prev = e->next = NULL;
	}
}

static void list_add_tail(struct list *l, struct centry *e)
{
	e->prev = l->head.prev;
	e->next = &l->head;
	l->head.prev->next = e;
	l->head.prev = e;
}

static size_t hash(const struct bm *bm, uint64_t nr)
{
	return (size_t)((nr * 0x9E3779B97F4A7C15ull) >> 20) & (bm->nr_buckets - 1);
}

static struct centry *lookup(struct bm *bm, uint64_t nr)
{
	struct centry *e;

	for (e = bm->buckets[hash(bm, nr)]; e; e = e->hnext)
		if (e->b.nr == nr)
			return e;
	return NULL;
}

static void unhash(struct bm *bm, struct centry *e)
{
	struct centry **pp = &bm->buckets[hash(bm, e->b.nr)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
}

static void free_entry(struct centry *e)
{
	free(e->b.data);
	free(e);
}

/* Evict clean unpinned blocks until we are under the limit. Caller holds lock. */
static void evict(struct bm *bm)
{
	while (bm->nr_blocks > bm->max_blocks && bm->lru.head.next != &bm->lru.head) {
		struct centry *e = bm->lru.head.next;

		list_del(e);
		unhash(bm, e);
		bm->nr_blocks--;
		free_entry(e);
	}
}

static struct centry *alloc_entry(uint64_t nr)
{
	struct centry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	if (posix_memalign((void **)&e->b.data, 4096, BM_BLOCK_SIZE)) {
		free(e);
		return NULL;
	}
	e->b.nr = nr;
	return e;
}

static void insert(struct bm *bm, struct centry *e)
{
	size_t h = hash(bm, e->b.nr);

	e->hnext = bm->buckets[h];
	bm->buckets[h] = e;
	bm->nr_blocks++;
}

int bm_create(struct bdev *dev, size_t cache_bytes, int read_only, struct bm **out)
{
	struct bm *bm = calloc(1, sizeof(*bm));

	if (!bm)
		return -ENOMEM;
	bm->dev = dev;
	bm->read_only = read_only;
	bm->max_blocks = cache_bytes / BM_BLOCK_SIZE;
	if (bm->max_blocks < 64)
		bm->max_blocks = 64;
	bm->nr_buckets = 1024;
	while (bm->nr_buckets < bm->max_blocks && bm->nr_buckets < (1u << 22))
		bm->nr_buckets <<= 1;
	bm->buckets = calloc(bm->nr_buckets, sizeof(*bm->buckets));
	if (!bm->buckets) {
		free(bm);
		return -ENOMEM;
	}
	list_init(&bm->lru);
	list_init(&bm->dirty);
	pthread_mutex_init(&bm->lock, NULL);
	*out = bm;
	return 0;
}

void bm_destroy(struct bm *bm)
{
	if (!bm)
		return;
	for (size_t i = 0; i < bm->nr_buckets; i++) {
		struct centry *e = bm->buckets[i], *n;

		for (; e; e = n) {
			n = e->hnext;
			free_entry(e);
		}
	}
	free(bm->buckets);
	pthread_mutex_destroy(&bm->lock);
	free(bm);
}

void bm_seal(uint8_t *data, uint64_t nr)
{
	uint32_t magic = get_le32(data + 4);

	put_le64(data + 8, nr);
	put_le32(data, crc32c_block(data + 4, BM_BLOCK_SIZE - 4, magic));
}

int bm_validate(const uint8_t *data, uint64_t nr, uint32_t magic)
{
	uint32_t m = get_le32(data + 4);

	if (magic && m != magic)
		return -EILSEQ;
	if (get_le64(data + 8) != nr)
		return -EILSEQ;
	if (get_le32(data) != crc32c_block(data + 4, BM_BLOCK_SIZE - 4, m))
		return -EILSEQ;
	return 0;
}

static void pin(struct bm *bm, struct centry *e)
{
	if (!e->pins++ && !e->dirty)
		list_del(e); /* off the LRU while pinned */
}

int bm_read(struct bm *bm, uint64_t nr, uint32_t magic, struct blk **out)
{
	struct centry *e, *n;
	int r;

	pthread_mutex_lock(&bm->lock);
	e = lookup(bm, nr);
	if (e) {
		pin(bm, e);
		pthread_mutex_unlock(&bm->lock);
		if (magic && get_le32(e->b.data + 4) != magic) {
			bm_put(bm, &e->b);
			return -EILSEQ;
		}
		*out = &e->b;
		return 0;
	}
	pthread_mutex_unlock(&bm->lock);

	/* Miss: read outside the lock so other threads' hits go on. */
	n = alloc_entry(nr);
	if (!n)
		return -ENOMEM;
	r = bdev_pread(bm->dev, n->b.data, BM_BLOCK_SIZE, nr * BM_BLOCK_SIZE);
	if (!r)
		r = bm_validate(n->b.data, nr, magic);
	if (r) {
		free_entry(n);
		return r;
	}

	pthread_mutex_lock(&bm->lock);
	e = lookup(bm, nr);
	if (e) {
		free_entry(n); /* another thread won the race */
	} else {
		e = n;
		insert(bm, e);
	}
	pin(bm, e);
	evict(bm);
	pthread_mutex_unlock(&bm->lock);
	*out = &e->b;
	return 0;
}

int bm_new(struct bm *bm, uint64_t nr, uint32_t magic, struct blk **out)
{
	struct centry *e;

	if (bm->read_only)
		return -EROFS;
	pthread_mutex_lock(&bm->lock);
	e = lookup(bm, nr);
	if (e) {
		/* A stale copy of a block freed earlier: reuse its memory. */
		pin(bm, e);
	} else {
		e = alloc_entry(nr);
		if (!e) {
			pthread_mutex_unlock(&bm->lock);
			return -ENOMEM;
		}
		insert(bm, e);
		e->pins = 1;
	}
	memset(e->b.data, 0, BM_BLOCK_SIZE);
	put_le32(e->b.data + 4, magic);
	put_le64(e->b.data + 8, nr);
	if (!e->dirty) {
		e->dirty = 1;
		list_add_tail(&bm->dirty, e);
	}
	pthread_mutex_unlock(&bm->lock);
	*out = &e->b;
	return 0;
}

static struct centry *entry_of(struct blk *b)
{
	return (struct centry *)((char *)b - offsetof(struct centry, b));
}

void bm_mark_dirty(struct bm *bm, struct blk *b)
{
	struct centry *e = entry_of(b);

	pthread_mutex_lock(&bm->lock);
	if (!e->dirty) {
		e->dirty = 1;
		list_add_tail(&bm->dirty, e); /* pinned, so not on the LRU */
	}
	pthread_mutex_unlock(&bm->lock);
}

void bm_put(struct bm *bm, struct blk *b)
{
	struct centry *e = entry_of(b);

	pthread_mutex_lock(&bm->lock);
	if (!--e->pins && !e->dirty) {
		list_add_tail(&bm->lru, e);
		evict(bm);
	}
	pthread_mutex_unlock(&bm->lock);
}

void bm_forget(struct bm *bm, uint64_t nr)
{
	struct centry *e;

	pthread_mutex_lock(&bm->lock);
	e = lookup(bm, nr);
	if (e && !e->pins) {
		list_del(e);
		unhash(bm, e);
		bm->nr_blocks--;
		free_entry(e);
	}
	pthread_mutex_unlock(&bm->lock);
}

int bm_write_dirty(struct bm *bm, uint64_t *count)
{
	struct centry *e, *n;
	uint64_t c = 0;
	int r = 0;

	pthread_mutex_lock(&bm->lock);
	for (e = bm->dirty.head.next; e != &bm->dirty.head; e = e->next) {
		bm_seal(e->b.data, e->b.nr);
		r = bdev_pwrite(bm->dev, e->b.data, BM_BLOCK_SIZE, e->b.nr * BM_BLOCK_SIZE);
		if (r)
			break;
		c++;
	}
	if (!r) {
		for (e = bm->dirty.head.next; e != &bm->dirty.head; e = n) {
			n = e->next;
			list_del(e);
			e->dirty = 0;
			if (!e->pins)
				list_add_tail(&bm->lru, e);
		}
		evict(bm);
	}
	pthread_mutex_unlock(&bm->lock);
	if (count)
		*count = c;
	return r;
}

void bm_drop_dirty(struct bm *bm)
{
	struct centry *e, *n;

	pthread_mutex_lock(&bm->lock);
	for (e = bm->dirty.head.next; e != &bm->dirty.head; e = n) {
		n = e->next;
		list_del(e);
		e->dirty = 0;
		if (e->pins) {
			continue;
		}
		unhash(bm, e);
		bm->nr_blocks--;
		free_entry(e);
	}
	pthread_mutex_unlock(&bm->lock);
}

size_t bm_cache_bytes(struct bm *bm)
{
	size_t n;

	pthread_mutex_lock(&bm->lock);
	n = bm->nr_blocks * BM_BLOCK_SIZE;
	pthread_mutex_unlock(&bm->lock);
	return n;
}
