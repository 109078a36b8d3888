/*
 * The data path: read, write, unmap and mapping status.
 *
 * A write to a chunk that this volume alone maps (every node on its path
 * and the chunk itself have one reference) goes straight to the chunk under
 * the shared lock: that is the steady state, and its cost does not depend
 * on how many snapshots exist.  Anything else -- an unmapped chunk, or one
 * a snapshot or clone shares -- takes the exclusive lock and redirects the
 * write to a new chunk: a whole-chunk write goes there as is, a partial one
 * first copies the old chunk (or zeros) around the new bytes.  See
 * docs/pool-format.md, "4 KiB writes to a shared chunk".
 */
#include "pool_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"

/* Metadata blocks one mapping change may need: a shadowed path plus a
 * split at each level and a new root. */
#define WRITE_META_NEED (2u * BTREE_MAX_HEIGHT + 2u)

static int check_io(struct pool *p, struct vol *v, uint64_t off, uint64_t len)
{
	if (!v)
		return -ENOENT;
	if (off % v->info.block_size || len % v->info.block_size)
		return -EINVAL;
	if (off > v->info.size || len > v->info.size - off)
		return -ERANGE;
	return 0;
}

/* check_io, and the volume and the pool must take writes. */
static int check_write(struct pool *p, struct vol *v, uint64_t off, uint64_t len)
{
	int r = check_io(p, v, off, len);

	if (!r && (v->info.flags & VOL_F_READONLY))
		r = -EROFS;
	if (!r && (p->read_only || p->failed))
		r = p->read_only ? -EROFS : -EIO;
	return r;
}

int vol_read(struct pool *p, uint64_t vol, uint64_t off, uint64_t len, void *buf)
{
	uint8_t *out = buf;
	uint8_t val[8];
	int r;

	pthread_rwlock_rdlock(&p->lock);
	r = check_io(p, vol_find(p, vol), off, len);
	for (struct vol *v = vol_find(p, vol); !r && len;) {
		uint64_t c = off >> p->chunk_shift;
		uint64_t o = off & (p->chunk_size - 1);
		uint64_t n = p->chunk_size - o < len ? p->chunk_size - o : len;

		r = btree_lookup(&p->map_info, v->root, c, val);
		if (r == -ENODATA) {
			memset(out, 0, n);
			r = 0;
		} else if (!r) {
			r = bdev_pread(p->dev, out, n, data_offset(p, get_le64(val)) + o);
		}
		out += n;
		off += n;
		len -= n;
	}
	pthread_rwlock_unlock(&p->lock);
	return r;
}

/* Is chunk c of v mapped to a chunk only v can see?  Sets *chunk. */
static int exclusive_chunk(struct pool *p, struct vol *v, uint64_t c, uint64_t *chunk, int *mapped)
{
	uint8_t val[8];
	int excl = 0, r = btree_lookup_excl(&p->map_info, v->root, c, val, &excl);

	*mapped = 0;
	if (r == -ENODATA)
		return 0;
	if (r)
		return r;
	*mapped = 1;
	*chunk = get_le64(val);
	/* In place only if no other volume can see the chunk now or in the
	 * committed state (a crash returns to it): sm.h explains the second
	 * test. */
	return excl && sm_get(p->dsm, *chunk) == 1 && !sm_shared_since_commit(p->dsm, *chunk);
}

/* Write n bytes at offset o of chunk c, redirecting to a new chunk.  Holds
 * the exclusive lock.  data == NULL writes zeros. */
static int redirect_write(struct pool *p, struct vol *v, uint64_t c, uint64_t o, uint64_t n,
			  const uint8_t *data)
{
	uint8_t val[8], old[8];
	uint64_t chunk, newc;
	int mapped, existed, r;
	uint8_t *tmp = NULL;
	const uint8_t *src;

	r = exclusive_chunk(p, v, c, &chunk, &mapped);
	if (r < 0)
		return r;
	if (r == 1) {
		/* Became exclusive while we waited for the lock (or a partial
		 * unmap of an exclusive chunk): write in place, and count it
		 * so that the next commit flushes it. */
		if (data) {
			r = bdev_pwrite(p->dev, data, n, data_offset(p, chunk) + o);
		} else {
			tmp = calloc(1, n);
			if (!tmp)
				return -ENOMEM;
			r = bdev_pwrite(p->dev, tmp, n, data_offset(p, chunk) + o);
			free(tmp);
		}
		if (!r)
			atomic_fetch_add(&p->data_gen, 1);
		return r;
	}
	if (!data && !mapped)
		return 0; /* zeroing what already reads as zeros */
	if (sm_free(p->msm) < p->tm.reserve + WRITE_META_NEED)
		return -EDQUOT;
	r = sm_alloc(p->dsm, &newc);
	if (r)
		return r; /* -ENOSPC: the pool is full */
	if (n == p->chunk_size && data) {
		src = data;
	} else {
		tmp = malloc(p->chunk_size);
		if (!tmp) {
			r = -ENOMEM;
			goto fail;
		}
		if (mapped) {
			r = bdev_pread(p->dev, tmp, p->chunk_size, data_offset(p, chunk));
			if (r)
				goto fail;
		} else {
			memset(tmp, 0, p->chunk_size);
		}
		if (data)
			memcpy(tmp + o, data, n);
		else
			memset(tmp + o, 0, n);
		src = tmp;
	}
	r = bdev_pwrite(p->dev, src, p->chunk_size, data_offset(p, newc));
	if (r)
		goto fail;
	/* A redirected chunk will be flushed by the next commit anyway; start
	 * its writeback now so that commits (a snapshot in a VSS window) do
	 * not wait for a backlog of whole chunks. */
	bdev_writeback(p->dev, data_offset(p, newc), p->chunk_size);
	put_le64(val, newc);
	r = btree_insert(&p->map_info, &v->root, c, val, old, &existed);
	if (r)
		goto fail;
	if (existed)
		sm_dec(p->dsm, get_le64(old));
	else
		v->mapped++;
	v->dirty = 1;
	p->meta_dirty = 1;
	free(tmp);
	return 0;
fail:
	free(tmp);
	sm_dec(p->dsm, newc); /* new in this transaction: free at once */
	return r;
}

/* One piece (within a chunk) of a write.  With excl == 0 the caller holds
 * the shared lock and we only do in-place writes: -EAGAIN asks for the
 * exclusive lock. */
static int write_piece(struct pool *p, struct vol *v, uint64_t c, uint64_t o, uint64_t n,
		       const uint8_t *data, int excl)
{
	uint64_t chunk;
	int mapped, r = exclusive_chunk(p, v, c, &chunk, &mapped);

	if (r < 0)
		return r;
	if (r == 1) {
		r = bdev_pwrite(p->dev, data, n, data_offset(p, chunk) + o);
		if (!r)
			atomic_fetch_add(&p->data_gen, 1);
		return r;
	}
	if (!excl)
		return -EAGAIN;
	return redirect_write(p, v, c, o, n, data);
}

int vol_write(struct pool *p, uint64_t vol, uint64_t off, uint64_t len, const void *buf,
	      unsigned flags)
{
	const uint8_t *in = buf;
	struct vol *v;
	int excl = 0, r;

	pthread_rwlock_rdlock(&p->lock);
	v = vol_find(p, vol);
	r = check_write(p, v, off, len);
	while (!r && len) {
		uint64_t c = off >> p->chunk_shift;
		uint64_t o = off & (p->chunk_size - 1);
		uint64_t n = p->chunk_size - o < len ? p->chunk_size - o : len;

		r = write_piece(p, v, c, o, n, in, excl);
		if (r == -EAGAIN) {
			/* Upgrade.  The volume may be deleted meanwhile. */
			pthread_rwlock_unlock(&p->lock);
			pthread_rwlock_wrlock(&p->lock);
			excl = 1;
			v = vol_find(p, vol);
			r = check_write(p, v, off, len);
			continue;
		}
		in += n;
		off += n;
		len -= n;
	}
	if (!r && (flags & POOL_FUA)) {
		if (!excl) {
			pthread_rwlock_unlock(&p->lock);
			pthread_rwlock_wrlock(&p->lock);
		}
		r = commit_locked(p);
	}
	pthread_rwlock_unlock(&p->lock);
	return r;
}

int vol_unmap(struct pool *p, uint64_t vol, uint64_t off, uint64_t len)
{
	uint8_t old[8];
	struct vol *v;
	int r;

	pthread_rwlock_wrlock(&p->lock);
	v = vol_find(p, vol);
	r = check_write(p, v, off, len);
	while (!r && len) {
		uint64_t c = off >> p->chunk_shift;
		uint64_t o = off & (p->chunk_size - 1);
		uint64_t n = p->chunk_size - o < len ? p->chunk_size - o : len;
		/* Bytes of chunk c inside the volume: the last chunk may be
		 * partial, and covering its in-volume part frees it whole. */
		uint64_t inside = v->info.size - (c << p->chunk_shift);
		uint64_t last = (off + len - 1) >> p->chunk_shift;
		uint64_t next;

		if (inside > p->chunk_size)
			inside = p->chunk_size;
		if (o || n < inside) {
			/* Part of a chunk: it must read back as zeros. */
			r = redirect_write(p, v, c, o, n, NULL);
			off += n;
			len -= n;
			continue;
		}
		/* Whole chunks: jump to the next mapped one, so unmapping a
		 * huge sparse range costs what is mapped, not its size. */
		r = btree_lookup_ge(&p->map_info, v->root, c, &next, old);
		if (r == -ENODATA || (!r && next > last)) {
			r = 0; /* nothing mapped in the rest of the range */
			break;
		}
		if (r)
			break;
		if (next > c) {
			len -= (next << p->chunk_shift) - off;
			off = next << p->chunk_shift;
			continue;
		}
		p->tm.use_reserve = 1; /* unmap frees space: let it through */
		r = btree_remove(&p->map_info, &v->root, c, old);
		p->tm.use_reserve = 0;
		if (r)
			break;
		sm_dec(p->dsm, get_le64(old));
		v->mapped--;
		v->dirty = 1;
		p->meta_dirty = 1;
		off += n;
		len -= n;
	}
	pthread_rwlock_unlock(&p->lock);
	return r;
}

int vol_resize(struct pool *p, uint64_t id, uint64_t size)
{
	struct vol *v;
	uint64_t old;
	int r;

	pthread_rwlock_rdlock(&p->lock);
	v = vol_find(p, id);
	r = v ? 0 : -ENOENT;
	if (!r && (!size || size % v->info.block_size || size > POOL_MAX_VOL_SIZE))
		r = -EINVAL;
	if (!r && v->info.kind != VOL_VOLUME)
		r = -EROFS;
	old = r ? 0 : v->info.size;
	pthread_rwlock_unlock(&p->lock);
	if (r)
		return r;
	if (size < old) {
		/* Drop the tail first so growing again later shows zeros. */
		r = vol_unmap(p, id, size, old - size);
		if (r)
			return r;
	}
	pthread_rwlock_wrlock(&p->lock);
	v = vol_find(p, id);
	if (!v) {
		r = -ENOENT;
	} else {
		v->info.size = size;
		v->dirty = 1;
		p->meta_dirty = 1;
		r = commit_locked(p);
	}
	pthread_rwlock_unlock(&p->lock);
	return r;
}

struct run_ctx {
	uint64_t next, end;
};

static int run_fn(uint64_t key, const uint8_t *val, void *ctx)
{
	struct run_ctx *rc = ctx;

	if (key != rc->next)
		return 1;
	rc->next++;
	return rc->next >= rc->end;
}

int vol_map_status(struct pool *p, uint64_t vol, uint64_t off, int *mapped, uint64_t *run_len)
{
	struct vol *v;
	uint64_t c, end_chunk, next, run_end;
	int r;

	pthread_rwlock_rdlock(&p->lock);
	v = vol_find(p, vol);
	r = v ? 0 : -ENOENT;
	if (!r && (off % v->info.block_size || off >= v->info.size))
		r = off % v->info.block_size ? -EINVAL : -ERANGE;
	if (r)
		goto out;
	c = off >> p->chunk_shift;
	end_chunk = (v->info.size + p->chunk_size - 1) >> p->chunk_shift;
	r = btree_lookup(&p->map_info, v->root, c, NULL);
	if (r == -ENODATA) {
		*mapped = 0;
		r = btree_lookup_ge(&p->map_info, v->root, c, &next, NULL);
		run_end = r == -ENODATA || next > end_chunk ? end_chunk : next;
		r = r == -ENODATA ? 0 : r;
	} else if (!r) {
		struct run_ctx rc = {.next = c, .end = end_chunk};

		*mapped = 1;
		r = btree_iterate(&p->map_info, v->root, c, end_chunk - 1, run_fn, &rc);
		r = r > 0 ? 0 : r;
		run_end = rc.next;
	}
	if (!r) {
		uint64_t end = run_end << p->chunk_shift;

		if (end > v->info.size)
			end = v->info.size;
		*run_len = end - off;
	}
out:
	pthread_rwlock_unlock(&p->lock);
	return r;
}

/* ---- exclusive space ---------------------------------------------------- */

static int excl_walk(struct pool *p, uint64_t nr, uint64_t *count, unsigned depth)
{
	struct btree_node n;
	int r;

	/* A node others share: nothing below it is ours alone. */
	if (tm_ref(&p->tm, nr) != 1 || depth >= BTREE_MAX_HEIGHT)
		return 0;
	r = btree_node_get(&p->map_info, nr, &n);
	if (r)
		return r;
	for (unsigned i = 0; i < n.nr && !r; i++) {
		if (n.level)
			r = excl_walk(p, btree_node_child(&n, i), count, depth + 1);
		else if (sm_get(p->dsm, get_le64(btree_node_value(&n, i))) == 1)
			(*count)++;
	}
	btree_node_put(&p->map_info, &n);
	return r;
}

int vol_exclusive_chunks(struct pool *p, const struct vol *v, uint64_t *out)
{
	*out = 0;
	return v->root ? excl_walk(p, v->root, out, 0) : 0;
}
