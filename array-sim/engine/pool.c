/*
 * The pool: superblock ring, transactions, volumes and objects.
 *
 * On-disk layout (all integers little-endian; docs/pool-format.md has the
 * full description):
 *
 *   block 0..7     superblock ring: 8 slots of 4 KiB, of which the first
 *                  512 bytes are used.  Commit N writes slot N % 8.
 *   block 8..      metadata area: 4 KiB copy-on-write B-tree nodes of three
 *                  kinds of tree: the volume tree (id -> record), the object
 *                  tree (key -> small value) and one mapping tree per
 *                  volume (chunk index -> data chunk).  Snapshots and clones
 *                  share mapping-tree nodes by reference count.
 *   data_start..   data area: chunk_size data chunks.
 *
 * A commit writes every dirty node to a block that the last committed
 * state does not reach (shadowing guarantees this), flushes, writes the
 * superblock to the next ring slot and flushes again.  Opening picks the
 * valid slot with the highest transaction id, so a torn superblock write
 * leaves the previous commit in force.  Reference counts are not stored:
 * open derives them from the trees (see sm.h).
 */
#include "pool_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "crc.h"
#include "le.h"

#define DEFAULT_CACHE (256u << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void random_bytes(uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = getrandom(buf, len, 0);

		if (n <= 0)
			continue; /* EINTR; getrandom does not fail otherwise */
		buf += n;
		len -= (size_t)n;
	}
}

uint64_t data_offset(const struct pool *p, uint64_t chunk)
{
	return p->data_start + (chunk << p->chunk_shift);
}

/* ---- value callbacks: data chunk references held by mapping leaves ---- */

static void map_inc(void *ctx, const uint8_t *v)
{
	struct pool *p = ctx;

	sm_inc(p->dsm, get_le64(v));
}

static void map_dec(void *ctx, const uint8_t *v)
{
	struct pool *p = ctx;

	sm_dec(p->dsm, get_le64(v));
}

/* ---- volume table ------------------------------------------------------- */

struct vol *vol_find(struct pool *p, uint64_t id)
{
	struct vol *v;

	for (v = p->vols[id % VOL_BUCKETS]; v; v = v->hnext)
		if (v->info.id == id)
			return v;
	return NULL;
}

static unsigned name_hash(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h % VOL_BUCKETS;
}

static void name_link(struct pool *p, struct vol *v)
{
	struct vol **b = &p->names[name_hash(v->info.name)];

	v->nnext = *b;
	*b = v;
}

static void name_unlink(struct pool *p, struct vol *v)
{
	struct vol **pp = &p->names[name_hash(v->info.name)];

	while (*pp != v)
		pp = &(*pp)->nnext;
	*pp = v->nnext;
}

static void vol_hash(struct pool *p, struct vol *v)
{
	struct vol **b = &p->vols[v->info.id % VOL_BUCKETS];

	v->hnext = *b;
	*b = v;
	name_link(p, v);
	p->nr_vols++;
}

static void vol_unhash(struct pool *p, struct vol *v)
{
	struct vol **pp = &p->vols[v->info.id % VOL_BUCKETS];

	while (*pp != v)
		pp = &(*pp)->hnext;
	*pp = v->hnext;
	name_unlink(p, v);
	p->nr_vols--;
}

/* O(1): a 64-volume group snapshot checks 64 names against every volume
 * in the pool, which must not grow with the number of snapshots. */
static struct vol *vol_by_name(struct pool *p, const char *name)
{
	for (struct vol *v = p->names[name_hash(name)]; v; v = v->nnext)
		if (!strcmp(v->info.name, name))
			return v;
	return NULL;
}

void vrec_encode(const struct vol *v, uint8_t *rec)
{
	memset(rec, 0, VREC_SIZE);
	put_le64(rec + VR_ID, v->info.id);
	memcpy(rec + VR_UUID, v->info.uuid, 16);
	memcpy(rec + VR_NAME, v->info.name, strnlen(v->info.name, POOL_NAME_MAX));
	put_le32(rec + VR_KIND, v->info.kind);
	put_le32(rec + VR_FLAGS, v->info.flags);
	put_le32(rec + VR_BS, v->info.block_size);
	put_le64(rec + VR_SIZE, v->info.size);
	put_le64(rec + VR_PARENT, v->info.parent);
	put_le64(rec + VR_CREATED, v->info.created_ns);
	put_le64(rec + VR_GROUP, v->info.group);
	put_le64(rec + VR_ROOT, v->root);
	put_le64(rec + VR_MAPPED, v->mapped);
	memcpy(rec + VR_TAG, v->info.tag, 16);
}

void vrec_decode(const uint8_t *rec, struct vol *v)
{
	memset(v, 0, sizeof(*v));
	v->info.id = get_le64(rec + VR_ID);
	memcpy(v->info.uuid, rec + VR_UUID, 16);
	memcpy(v->info.name, rec + VR_NAME, POOL_NAME_MAX);
	v->info.name[POOL_NAME_MAX] = 0;
	v->info.kind = get_le32(rec + VR_KIND) ? VOL_SNAPSHOT : VOL_VOLUME;
	v->info.flags = get_le32(rec + VR_FLAGS);
	v->info.block_size = get_le32(rec + VR_BS);
	v->info.size = get_le64(rec + VR_SIZE);
	v->info.parent = get_le64(rec + VR_PARENT);
	v->info.created_ns = get_le64(rec + VR_CREATED);
	v->info.group = get_le64(rec + VR_GROUP);
	v->root = get_le64(rec + VR_ROOT);
	v->mapped = get_le64(rec + VR_MAPPED);
	memcpy(v->info.tag, rec + VR_TAG, 16);
}

/* ---- superblock --------------------------------------------------------- */

static void sb_encode(const struct pool *p, uint64_t txn, uint8_t *sb)
{
	memset(sb, 0, SB_BYTES);
	put_le32(sb + SB_MAGIC_OFF, SB_MAGIC);
	put_le32(sb + SB_VERSION_OFF, SB_VERSION);
	put_le64(sb + SB_TXN, txn);
	memcpy(sb + SB_UUID, p->uuid, 16);
	put_le32(sb + SB_BLOCK, BM_BLOCK_SIZE);
	put_le32(sb + SB_CHUNK, p->chunk_size);
	put_le64(sb + SB_META_START, p->meta_start);
	put_le64(sb + SB_META_BLOCKS, p->meta_blocks);
	put_le64(sb + SB_DATA_START, p->data_start);
	put_le64(sb + SB_DATA_CHUNKS, p->data_chunks);
	put_le64(sb + SB_VOL_ROOT, p->vol_root);
	put_le64(sb + SB_OBJ_ROOT, p->obj_root);
	put_le64(sb + SB_NEXT_VOL, p->next_vol);
	put_le64(sb + SB_NEXT_GROUP, p->next_group);
	put_le64(sb + SB_USED_DATA, p->dsm ? sm_used(p->dsm) : 0);
	put_le64(sb + SB_USED_META, p->msm ? sm_used(p->msm) : 0);
	put_le32(sb + SB_NR_VOLS, p->nr_vols);
	put_le64(sb + SB_TIME, now_ns());
	put_le64(sb + SB_DEV_SIZE, p->dev_size);
	put_le32(sb + SB_CSUM, crc32c_block(sb + 4, SB_BYTES - 4, SB_MAGIC));
}

/* A slot is valid if its checksum, magic, version and geometry hold. */
static int sb_valid(const uint8_t *sb, uint64_t dev_size)
{
	uint32_t chunk = get_le32(sb + SB_CHUNK);
	uint64_t ms = get_le64(sb + SB_META_START), mb = get_le64(sb + SB_META_BLOCKS);
	uint64_t ds = get_le64(sb + SB_DATA_START), dc = get_le64(sb + SB_DATA_CHUNKS);

	if (get_le32(sb + SB_MAGIC_OFF) != SB_MAGIC || get_le32(sb + SB_VERSION_OFF) != SB_VERSION)
		return 0;
	if (get_le32(sb + SB_CSUM) != crc32c_block(sb + 4, SB_BYTES - 4, SB_MAGIC))
		return 0;
	if (get_le32(sb + SB_BLOCK) != BM_BLOCK_SIZE || chunk < POOL_MIN_CHUNK ||
	    chunk > POOL_MAX_CHUNK || (chunk & (chunk - 1)))
		return 0;
	if (ms != META_START || !mb || mb > dev_size / BM_BLOCK_SIZE)
		return 0;
	if (ds < (ms + mb) * BM_BLOCK_SIZE || ds % chunk || ds > dev_size)
		return 0;
	return dc <= (dev_size - ds) / chunk;
}

static int sb_write(struct pool *p, uint64_t txn)
{
	uint8_t sb[SB_BYTES];

	sb_encode(p, txn, sb);
	return bdev_pwrite(p->dev, sb, SB_BYTES, (txn % SB_SLOTS) * BM_BLOCK_SIZE);
}

/* ---- create --------------------------------------------------------------- */

static unsigned log2u(uint64_t v)
{
	unsigned s = 0;

	while ((1ull << s) < v)
		s++;
	return s;
}

int pool_create(struct bdev *dev, const struct pool_create_opts *opts)
{
	uint32_t chunk = opts && opts->chunk_size ? opts->chunk_size : POOL_DEFAULT_CHUNK;
	uint64_t meta = opts && opts->meta_size ? opts->meta_size : 0;
	struct pool p = {0};
	uint8_t zero[BM_BLOCK_SIZE] = {0};
	int r;

	if (chunk < POOL_MIN_CHUNK || chunk > POOL_MAX_CHUNK || (chunk & (chunk - 1)))
		return -EINVAL;
	if (!meta) {
		/* 1/128 of the device, at least 4 MiB: room for ~4 full
		 * copies of the mapping at 64 KiB chunks (docs/pool-format.md). */
		meta = dev->size / 128;
		if (meta < (4u << 20))
			meta = 4u << 20;
	}
	p.meta_start = META_START;
	p.meta_blocks = meta / BM_BLOCK_SIZE;
	p.data_start = (p.meta_start + p.meta_blocks) * BM_BLOCK_SIZE;
	p.data_start = (p.data_start + chunk - 1) / chunk * chunk;
	if (p.meta_blocks < 64 || p.data_start + chunk > dev->size)
		return -ENOSPC;
	p.data_chunks = (dev->size - p.data_start) / chunk;
	p.chunk_size = chunk;
	p.dev = dev;
	p.dev_size = dev->size;
	p.next_vol = 1;
	p.next_group = 1;
	random_bytes(p.uuid, 16);

	/* Clear every slot so no superblock of an earlier pool survives. */
	for (unsigned i = 0; i < SB_SLOTS; i++) {
		r = bdev_pwrite(dev, zero, sizeof(zero), (uint64_t)i * BM_BLOCK_SIZE);
		if (r)
			return r;
	}
	r = bdev_flush(dev);
	if (!r)
		r = sb_write(&p, 1);
	if (!r)
		r = bdev_flush(dev);
	return r;
}

/* ---- open / close ------------------------------------------------------ */

static void *timer_main(void *arg);

static int read_superblock(struct pool *p)
{
	uint8_t sb[SB_BYTES], best[SB_BYTES];
	uint64_t best_txn = 0;

	for (unsigned i = 0; i < SB_SLOTS; i++) {
		int r = bdev_pread(p->dev, sb, SB_BYTES, (uint64_t)i * BM_BLOCK_SIZE);

		if (r)
			return r;
		if (!sb_valid(sb, p->dev->size))
			continue;
		if (get_le64(sb + SB_TXN) % SB_SLOTS != i)
			continue; /* in the wrong slot: a misdirected write */
		if (best_txn && memcmp(sb + SB_UUID, best + SB_UUID, 16) &&
		    get_le64(sb + SB_TXN) < best_txn)
			continue;
		if (get_le64(sb + SB_TXN) > best_txn) {
			best_txn = get_le64(sb + SB_TXN);
			memcpy(best, sb, SB_BYTES);
		}
	}
	if (!best_txn)
		return -EILSEQ; /* no pool here */
	p->txn = best_txn;
	memcpy(p->uuid, best + SB_UUID, 16);
	p->chunk_size = get_le32(best + SB_CHUNK);
	p->chunk_shift = log2u(p->chunk_size);
	p->meta_start = get_le64(best + SB_META_START);
	p->meta_blocks = get_le64(best + SB_META_BLOCKS);
	p->data_start = get_le64(best + SB_DATA_START);
	p->data_chunks = get_le64(best + SB_DATA_CHUNKS);
	p->vol_root = get_le64(best + SB_VOL_ROOT);
	p->obj_root = get_le64(best + SB_OBJ_ROOT);
	p->next_vol = get_le64(best + SB_NEXT_VOL);
	p->next_group = get_le64(best + SB_NEXT_GROUP);
	p->dev_size = get_le64(best + SB_DEV_SIZE);
	return 0;
}

static int load_vol(uint64_t key, const uint8_t *rec, void *ctx)
{
	struct pool *p = ctx;
	struct vol *v = malloc(sizeof(*v));

	if (!v)
		return -ENOMEM;
	vrec_decode(rec, v);
	/* A record the data path could trip over (division by a zero block
	 * size, a nameless volume) makes the pool unopenable, not a crash;
	 * arraysim-check says what is wrong. */
	if (v->info.id != key || !v->info.id || !v->info.name[0] ||
	    (v->info.block_size != 512 && v->info.block_size != 4096) || !v->info.size ||
	    v->info.size % v->info.block_size || v->info.size > POOL_MAX_VOL_SIZE ||
	    get_le32(rec + VR_KIND) > VOL_SNAPSHOT || vol_find(p, v->info.id)) {
		free(v);
		return -EILSEQ;
	}
	vol_hash(p, v);
	return 0;
}

void pool_free(struct pool *p)
{
	for (unsigned i = 0; i < VOL_BUCKETS; i++) {
		struct vol *v = p->vols[i], *n;

		for (; v; v = n) {
			n = v->hnext;
			free(v);
		}
	}
	bm_destroy(p->bm);
	sm_destroy(p->msm);
	sm_destroy(p->dsm);
	pthread_rwlock_destroy(&p->lock);
	pthread_mutex_destroy(&p->timer_lock);
	pthread_cond_destroy(&p->timer_cond);
	free(p);
}

int pool_open_internal(struct bdev *dev, const struct pool_open_opts *opts, int derive,
		       struct pool **out)
{
	struct pool *p = calloc(1, sizeof(*p));
	pthread_rwlockattr_t attr;
	int r;

	if (!p)
		return -ENOMEM;
	pthread_rwlockattr_init(&attr);
	/* Writers (commits, snapshots) must not starve behind a stream of I/O. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&p->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&p->timer_lock, NULL);
	pthread_cond_init(&p->timer_cond, NULL);
	p->dev = dev;
	p->read_only = opts && opts->read_only;

	r = read_superblock(p);
	if (r)
		goto fail;
	r = bm_create(dev, opts && opts->cache_bytes ? opts->cache_bytes : DEFAULT_CACHE,
		      p->read_only, &p->bm);
	if (r)
		goto fail;
	r = sm_create(p->meta_blocks, &p->msm);
	if (!r)
		r = sm_create(p->data_chunks, &p->dsm);
	if (r)
		goto fail;
	p->tm = (struct tmgr){.bm = p->bm, .sm = p->msm, .base = p->meta_start};
	p->tm.reserve = p->meta_blocks / 64 < 256 ? 256 : p->meta_blocks / 64;
	if (p->tm.reserve > p->meta_blocks / 4)
		p->tm.reserve = p->meta_blocks / 4;
	p->map_info = (struct btree_info){.tm = &p->tm,
					  .type = TREE_MAP,
					  .value_size = 8,
					  .value_inc = map_inc,
					  .value_dec = map_dec,
					  .ctx = p};
	p->vol_info = (struct btree_info){.tm = &p->tm, .type = TREE_VOL, .value_size = VREC_SIZE};
	p->obj_info = (struct btree_info){.tm = &p->tm, .type = TREE_OBJ, .value_size = OREC_SIZE};

	r = btree_iterate(&p->vol_info, p->vol_root, 0, UINT64_MAX, load_vol, p);
	if (r)
		goto fail;
	if (derive) {
		struct derive d = {0};

		r = derive_refcounts(p, &d);
		if (r)
			goto fail;
		if (d.faults) {
			r = -EILSEQ;
			goto fail;
		}
	}
	*out = p;
	return 0;
fail:
	pool_free(p);
	return r;
}

int pool_open(struct bdev *dev, const struct pool_open_opts *opts, struct pool **out)
{
	struct pool *p;
	int r = pool_open_internal(dev, opts, 1, &p);

	if (r)
		return r;
	p->interval_ms = opts ? opts->commit_interval_ms : 0;
	if (p->interval_ms && !p->read_only) {
		if (pthread_create(&p->timer, NULL, timer_main, p) == 0)
			p->timer_running = 1;
	}
	*out = p;
	return 0;
}

int pool_close(struct pool *p)
{
	int r = 0;

	if (!p)
		return 0;
	if (p->timer_running) {
		pthread_mutex_lock(&p->timer_lock);
		p->stopping = 1;
		pthread_cond_signal(&p->timer_cond);
		pthread_mutex_unlock(&p->timer_lock);
		pthread_join(p->timer, NULL);
	}
	if (!p->read_only)
		r = pool_commit(p);
	pool_free(p);
	return r;
}

/* ---- commit ------------------------------------------------------------- */

static int write_vol_records(struct pool *p)
{
	uint8_t rec[VREC_SIZE];

	for (unsigned i = 0; i < VOL_BUCKETS; i++) {
		for (struct vol *v = p->vols[i]; v; v = v->hnext) {
			int r;

			if (!v->dirty)
				continue;
			vrec_encode(v, rec);
			r = btree_insert(&p->vol_info, &p->vol_root, v->info.id, rec, NULL, NULL);
			if (r)
				return r;
			v->dirty = 0;
		}
	}
	return 0;
}

/* The two-phase commit: i) everything but the superblock, flush;
 * ii) the superblock in the next slot, flush.  Caller holds the lock
 * exclusively. */
int commit_locked(struct pool *p)
{
	uint64_t gen = atomic_load(&p->data_gen);
	int r;

	if (p->failed)
		return -EIO;
	if (p->read_only)
		return p->meta_dirty ? -EROFS : 0;
	if (!p->meta_dirty) {
		if (gen == p->flushed_gen)
			return 0;
		r = bdev_flush(p->dev); /* in-place data writes only */
		if (!r)
			p->flushed_gen = gen;
		return r;
	}
	p->tm.use_reserve = 1;
	r = write_vol_records(p);
	p->tm.use_reserve = 0;
	if (!r)
		r = bm_write_dirty(p->bm, NULL);
	if (!r)
		r = bdev_flush(p->dev);
	if (!r)
		r = sb_write(p, p->txn + 1);
	if (!r)
		r = bdev_flush(p->dev);
	if (r) {
		/* The device failed us mid-commit; the last commit stands on
		 * disk, but memory is ahead of it.  Stop changing anything
		 * (dm-thin's read-only/needs_check mode). */
		p->failed = 1;
		return r;
	}
	p->txn++;
	sm_commit(p->msm);
	sm_commit(p->dsm);
	p->meta_dirty = 0;
	p->flushed_gen = gen;
	return 0;
}

/* Flush the data written so far before taking the exclusive lock.  The
 * commit's own flushes then only cover what was written since, so writers
 * wait for a short flush, not for everything since the last commit.  A
 * failure here is not an error: the commit flushes again. */
static void pre_flush(struct pool *p)
{
	if (!p->read_only && (p->meta_dirty || atomic_load(&p->data_gen) != p->flushed_gen))
		bdev_flush(p->dev);
}

int pool_commit(struct pool *p)
{
	int r;

	pre_flush(p);
	pthread_rwlock_wrlock(&p->lock);
	r = commit_locked(p);
	pthread_rwlock_unlock(&p->lock);
	return r;
}

static void *timer_main(void *arg)
{
	struct pool *p = arg;
	struct timespec ts;
	int dirty;

	pthread_mutex_lock(&p->timer_lock);
	while (!p->stopping) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += p->interval_ms / 1000;
		ts.tv_nsec += (long)(p->interval_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->timer_cond, &p->timer_lock, &ts);
		if (p->stopping)
			break;
		pthread_mutex_unlock(&p->timer_lock);
		/* The timer bounds how much metadata a crash can lose.  Data
		 * written in place needs no commit (the durability contract
		 * only covers flushed writes), so a transaction holding nothing
		 * else is left to SYNCHRONIZE CACHE, FUA and the kernel's own
		 * writeback: forcing it out every second costs the data path. */
		pthread_rwlock_rdlock(&p->lock);
		dirty = p->meta_dirty;
		pthread_rwlock_unlock(&p->lock);
		if (dirty)
			pool_commit(p);
		pthread_mutex_lock(&p->timer_lock);
	}
	pthread_mutex_unlock(&p->timer_lock);
	return NULL;
}

int pool_stat(struct pool *p, struct pool_stat *st)
{
	pthread_rwlock_rdlock(&p->lock);
	st->chunk_size = p->chunk_size;
	st->data_chunks = p->data_chunks;
	st->free_chunks = sm_free(p->dsm);
	st->meta_blocks = p->meta_blocks;
	st->free_meta_blocks = sm_free(p->msm);
	st->meta_reserve = p->tm.reserve;
	st->txn = p->txn;
	st->nr_volumes = p->nr_vols;
	st->cache_bytes = bm_cache_bytes(p->bm);
	pthread_rwlock_unlock(&p->lock);
	return 0;
}

/* ---- volume administration ------------------------------------------- */

static int check_name(struct pool *p, const char *name)
{
	size_t n = name ? strnlen(name, POOL_NAME_MAX + 1) : 0;

	if (!n || n > POOL_NAME_MAX)
		return -EINVAL;
	return vol_by_name(p, name) ? -EEXIST : 0;
}

/* Start of every change: the pool must be writable. Lock held. */
static int writable(struct pool *p)
{
	if (p->read_only)
		return -EROFS;
	return p->failed ? -EIO : 0;
}

static struct vol *new_vol(struct pool *p, const char *name)
{
	struct vol *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->info.id = p->next_vol++;
	strncpy(v->info.name, name, POOL_NAME_MAX);
	random_bytes(v->info.uuid, 16);
	v->info.created_ns = now_ns();
	v->dirty = 1;
	return v;
}

/* Undo new_vol()s after a failed multi-volume operation. */
static void drop_new_vols(struct pool *p, struct vol **vs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (!vs[i])
			continue;
		vol_unhash(p, vs[i]);
		btree_dec(&p->map_info, vs[i]->root);
		free(vs[i]);
	}
}

int vol_create(struct pool *p, const char *name, uint64_t size, uint32_t block_size, uint64_t *id)
{
	struct vol *v;
	int r;

	if ((block_size != 512 && block_size != 4096) || !size || size % block_size ||
	    size > POOL_MAX_VOL_SIZE)
		return -EINVAL;
	pthread_rwlock_wrlock(&p->lock);
	r = writable(p);
	if (!r)
		r = check_name(p, name);
	if (r)
		goto out;
	v = new_vol(p, name);
	if (!v) {
		r = -ENOMEM;
		goto out;
	}
	v->info.kind = VOL_VOLUME;
	v->info.block_size = block_size;
	v->info.size = size;
	vol_hash(p, v);
	p->meta_dirty = 1;
	r = commit_locked(p);
	if (!r && id)
		*id = v->info.id;
out:
	pthread_rwlock_unlock(&p->lock);
	return r;
}

/* Shared by snapshots and clones: a new volume whose tree is src's. */
static struct vol *share_vol(struct pool *p, struct vol *src, const char *name)
{
	struct vol *v = new_vol(p, name);

	if (!v)
		return NULL;
	v->info.block_size = src->info.block_size;
	v->info.size = src->info.size;
	v->info.parent = src->info.id;
	v->root = src->root;
	v->mapped = src->mapped;
	btree_inc(&p->map_info, v->root);
	vol_hash(p, v);
	return v;
}

int vol_snapshot_group(struct pool *p, unsigned n, const uint64_t *vols, const char *const *names,
		       uint64_t *snap_ids)
{
	return vol_snapshot_group_tag(p, n, vols, names, NULL, snap_ids);
}

int vol_snapshot_group_tag(struct pool *p, unsigned n, const uint64_t *vols,
			   const char *const *names, const uint8_t *tag, uint64_t *snap_ids)
{
	struct vol **made;
	uint64_t group;
	int r;

	if (!n)
		return -EINVAL;
	made = calloc(n, sizeof(*made));
	if (!made)
		return -ENOMEM;
	pre_flush(p);
	/* The exclusive lock waits for writes in flight: each one that was
	 * acknowledged is in the trees we share below. */
	pthread_rwlock_wrlock(&p->lock);
	r = writable(p);
	for (unsigned i = 0; i < n && !r; i++) {
		r = check_name(p, names[i]);
		for (unsigned j = 0; j < i && !r; j++)
			if (!strcmp(names[i], names[j]))
				r = -EEXIST;
		if (!r && !vol_find(p, vols[i]))
			r = -ENOENT;
	}
	if (r)
		goto out;
	group = n > 1 ? p->next_group++ : 0;
	for (unsigned i = 0; i < n; i++) {
		made[i] = share_vol(p, vol_find(p, vols[i]), names[i]);
		if (!made[i]) {
			drop_new_vols(p, made, i);
			r = -ENOMEM;
			goto out;
		}
		/* One commit, one point in time: the whole group shares it. */
		made[i]->info.created_ns = made[0]->info.created_ns;
		made[i]->info.kind = VOL_SNAPSHOT;
		made[i]->info.flags = VOL_F_READONLY;
		made[i]->info.group = group;
		if (tag)
			memcpy(made[i]->info.tag, tag, 16);
	}
	p->meta_dirty = 1;
	p->tm.use_reserve = 1;
	r = commit_locked(p);
	p->tm.use_reserve = 0;
	for (unsigned i = 0; i < n && !r; i++)
		if (snap_ids)
			snap_ids[i] = made[i]->info.id;
out:
	pthread_rwlock_unlock(&p->lock);
	free(made);
	return r;
}

int vol_snapshot(struct pool *p, uint64_t vol, const char *name, uint64_t *snap_id)
{
	return vol_snapshot_group(p, 1, &vol, &name, snap_id);
}

int vol_clone(struct pool *p, uint64_t src, const char *name, uint64_t *id)
{
	struct vol *s, *v;
	int r;

	pthread_rwlock_wrlock(&p->lock);
	r = writable(p);
	if (!r)
		r = check_name(p, name);
	if (r)
		goto out;
	s = vol_find(p, src);
	if (!s) {
		r = -ENOENT;
		goto out;
	}
	v = share_vol(p, s, name);
	if (!v) {
		r = -ENOMEM;
		goto out;
	}
	v->info.kind = VOL_VOLUME;
	p->meta_dirty = 1;
	r = commit_locked(p);
	if (!r && id)
		*id = v->info.id;
out:
	pthread_rwlock_unlock(&p->lock);
	return r;
}

int vol_revert(struct pool *p, uint64_t vol, uint64_t snap)
{
	struct vol *v, *s;
	uint64_t old;
	int r;

	pthread_rwlock_wrlock(&p->lock);
	r = writable(p);
	if (r)
		goto out;
	v = vol_find(p, vol);
	s = vol_find(p, snap);
	if (!v || !s) {
		r = -ENOENT;
		goto out;
	}
	if (v == s || v->info.kind != VOL_VOLUME || v->info.block_size != s->info.block_size) {
		r = -EINVAL;
		goto out;
	}
	/* Root swap: take a reference on the snapshot's tree, drop ours. */
	old = v->root;
	btree_inc(&p->map_info, s->root);
	v->root = s->root;
	v->mapped = s->mapped;
	v->info.size = s->info.size;
	v->dirty = 1;
	p->meta_dirty = 1;
	p->tm.use_reserve = 1;
	r = btree_dec(&p->map_info, old);
	if (!r)
		r = commit_locked(p);
	p->tm.use_reserve = 0;
out:
	pthread_rwlock_unlock(&p->lock);
	return r;
}

/* Take the exclusive lock for a change to volume id: the pool must be
 * writable and the volume must exist.  The lock is held on return, even on
 * error, so callers unlock on one path. */
static int lock_vol(struct pool *p, uint64_t id, struct vol **v)
{
	int r;

	pthread_rwlock_wrlock(&p->lock);
	r = writable(p);
	if (r)
		return r;
	*v = vol_find(p, id);
	return *v ? 0 : -ENOENT;
}

int vol_delete(struct pool *p, uint64_t id)
{
	struct vol *v;
	int r;

	r = lock_vol(p, id, &v);
	if (r)
		goto out;
	p->tm.use_reserve = 1; /* deleting must work on a full pool */
	r = btree_remove(&p->vol_info, &p->vol_root, id, NULL);
	if (r == -ENODATA)
		r = 0; /* never committed */
	if (!r)
		r = btree_dec(&p->map_info, v->root);
	if (!r) {
		vol_unhash(p, v);
		free(v);
		p->meta_dirty = 1;
		r = commit_locked(p);
	}
	p->tm.use_reserve = 0;
out:
	pthread_rwlock_unlock(&p->lock);
	return r;
}

int vol_rename(struct pool *p, uint64_t id, const char *name)
{
	struct vol *v;
	int r;

	r = lock_vol(p, id, &v);
	if (r)
		goto out;
	if (!strcmp(v->info.name, name ? name : ""))
		goto out;
	r = check_name(p, name);
	if (r)
		goto out;
	name_unlink(p, v);
	memset(v->info.name, 0, sizeof(v->info.name));
	strncpy(v->info.name, name, POOL_NAME_MAX);
	name_link(p, v);
	v->dirty = 1;
	p->meta_dirty = 1;
	r = commit_locked(p);
out:
	pthread_rwlock_unlock(&p->lock);
	return r;
}

int vol_set_flags(struct pool *p, uint64_t id, uint32_t flags)
{
	struct vol *v;
	int r;

	if (flags & ~VOL_F_READONLY)
		return -EINVAL;
	r = lock_vol(p, id, &v);
	if (r)
		goto out;
	v->info.flags = flags;
	v->dirty = 1;
	p->meta_dirty = 1;
	r = commit_locked(p);
out:
	pthread_rwlock_unlock(&p->lock);
	return r;
}

int vol_lookup(struct pool *p, const char *name, uint64_t *id)
{
	struct vol *v;

	pthread_rwlock_rdlock(&p->lock);
	v = name ? vol_by_name(p, name) : NULL;
	if (v && id)
		*id = v->info.id;
	pthread_rwlock_unlock(&p->lock);
	return v ? 0 : -ENOENT;
}

static void fill_info(const struct pool *p, const struct vol *v, struct vol_info *info)
{
	*info = v->info;
	info->allocated = v->mapped << p->chunk_shift;
	info->exclusive = 0;
}

int vol_info(struct pool *p, uint64_t id, struct vol_info *info)
{
	struct vol *v;
	uint64_t excl = 0;
	int r = 0;

	pthread_rwlock_rdlock(&p->lock);
	v = vol_find(p, id);
	if (!v) {
		r = -ENOENT;
	} else {
		fill_info(p, v, info);
		r = vol_exclusive_chunks(p, v, &excl);
		info->exclusive = excl << p->chunk_shift;
	}
	pthread_rwlock_unlock(&p->lock);
	return r;
}

int vol_stat(struct pool *p, uint64_t id, struct vol_info *info)
{
	struct vol *v;

	pthread_rwlock_rdlock(&p->lock);
	v = vol_find(p, id);
	if (v)
		fill_info(p, v, info);
	pthread_rwlock_unlock(&p->lock);
	return v ? 0 : -ENOENT;
}

int vol_stat_many(struct pool *p, unsigned n, const uint64_t *ids, struct vol_info *infos)
{
	pthread_rwlock_rdlock(&p->lock);
	for (unsigned i = 0; i < n; i++) {
		struct vol *v = vol_find(p, ids[i]);

		if (v)
			fill_info(p, v, &infos[i]);
		else
			memset(&infos[i], 0, sizeof(infos[i]));
	}
	pthread_rwlock_unlock(&p->lock);
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	const struct vol_info *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int vol_iterate(struct pool *p, int (*fn)(const struct vol_info *info, void *ctx), void *ctx)
{
	struct vol_info *all;
	uint32_t n = 0;
	int r = 0;

	/* Copy under the lock, call back without it: callbacks may call in. */
	pthread_rwlock_rdlock(&p->lock);
	all = malloc((p->nr_vols + 1) * sizeof(*all));
	if (all)
		for (unsigned i = 0; i < VOL_BUCKETS; i++)
			for (struct vol *v = p->vols[i]; v; v = v->hnext)
				fill_info(p, v, &all[n++]);
	pthread_rwlock_unlock(&p->lock);
	if (!all)
		return -ENOMEM;
	qsort(all, n, sizeof(*all), cmp_id);
	for (uint32_t i = 0; i < n && !r; i++)
		r = fn(&all[i], ctx);
	free(all);
	return r;
}

/* ---- objects ------------------------------------------------------------ */

int pool_obj_put(struct pool *p, uint64_t key, const void *val, size_t len)
{
	uint8_t rec[OREC_SIZE] = {0};
	int r;

	if (len > POOL_OBJ_MAX || (len && !val))
		return -EINVAL;
	put_le32(rec, (uint32_t)len);
	if (len)
		memcpy(rec + 4, val, len);
	pthread_rwlock_wrlock(&p->lock);
	r = writable(p);
	if (!r)
		r = btree_insert(&p->obj_info, &p->obj_root, key, rec, NULL, NULL);
	if (!r) {
		p->meta_dirty = 1;
		r = commit_locked(p);
	}
	pthread_rwlock_unlock(&p->lock);
	return r;
}

int pool_obj_get(struct pool *p, uint64_t key, void *val, size_t *len)
{
	uint8_t rec[OREC_SIZE];
	uint32_t n;
	int r;

	pthread_rwlock_rdlock(&p->lock);
	r = btree_lookup(&p->obj_info, p->obj_root, key, rec);
	pthread_rwlock_unlock(&p->lock);
	if (r == -ENODATA)
		return -ENOENT;
	if (r)
		return r;
	n = get_le32(rec);
	if (n > POOL_OBJ_MAX)
		return -EILSEQ;
	if (*len < n) {
		*len = n;
		return -ENOBUFS;
	}
	memcpy(val, rec + 4, n);
	*len = n;
	return 0;
}

int pool_obj_del(struct pool *p, uint64_t key)
{
	int r;

	pthread_rwlock_wrlock(&p->lock);
	r = writable(p);
	if (!r) {
		p->tm.use_reserve = 1;
		r = btree_remove(&p->obj_info, &p->obj_root, key, NULL);
		p->tm.use_reserve = 0;
	}
	if (r == -ENODATA)
		r = -ENOENT;
	if (!r) {
		p->meta_dirty = 1;
		r = commit_locked(p);
	}
	pthread_rwlock_unlock(&p->lock);
	return r;
}

struct obj_iter {
	int (*fn)(uint64_t key, const void *val, size_t len, void *ctx);
	void *ctx;
};

static int obj_fn(uint64_t key, const uint8_t *rec, void *ctx)
{
	struct obj_iter *it = ctx;
	uint32_t n = get_le32(rec);

	if (n > POOL_OBJ_MAX)
		return -EILSEQ;
	return it->fn(key, rec + 4, n, it->ctx);
}

int pool_obj_iterate(struct pool *p, uint64_t lo, uint64_t hi,
		     int (*fn)(uint64_t key, const void *val, size_t len, void *ctx), void *ctx)
{
	struct obj_iter it = {fn, ctx};
	int r;

	/* The callback runs under the shared lock: it must not change the pool. */
	pthread_rwlock_rdlock(&p->lock);
	r = btree_iterate(&p->obj_info, p->obj_root, lo, hi, obj_fn, &it);
	pthread_rwlock_unlock(&p->lock);
	return r;
}
