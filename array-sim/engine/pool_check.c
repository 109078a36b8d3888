/*
 * Deriving reference counts, and the checkers built on it.
 *
 * A block's reference count is the number of parents pointing at it: tree
 * nodes for nodes, volume records for mapping-tree roots, the superblock
 * for the volume and object tree roots.  A data chunk's count is the number
 * of distinct mapping leaves holding it.  Walking every tree once, and
 * stepping into a node only on its first visit, gives all counts in
 * O(metadata blocks).
 *
 * In strict mode (the offline checker) the walk also verifies what a
 * checksum cannot: key order and bounds, levels, value ranges, per-volume
 * mapped counts, unique names, and the superblock's counters.
 */
#include "pool_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"

void pool_fault(struct derive *d, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	d->faults++;
	if (!d->report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->report(msg, d->ctx);
}

struct walk {
	struct pool *p;
	struct derive *d;
	const struct btree_info *info;
	uint8_t *type;	     /* per metadata block: tree type seen first */
	uint64_t max_key;    /* keys must be below this (mapping: chunks) */
	uint64_t leaf_count; /* entries reached through this walk */
	const char *what;
};

/* Visit node nr, reached from a parent that says its keys are in
 * [lo, hi).  counting: take references (first time through this edge).
 * A node seen before is not walked again unless strict, and then only to
 * check bounds and count the owner's leaves, not to count references. */
static void walk_node(struct walk *w, uint64_t nr, uint64_t lo, uint64_t hi, int level,
		      unsigned depth, int counting)
{
	struct pool *p = w->p;
	struct derive *d = w->d;
	struct btree_node n;
	uint64_t i = nr - p->meta_start, prev = 0;
	int r;

	if (nr < p->meta_start || i >= p->meta_blocks) {
		pool_fault(d, "%s: block %llu outside the metadata area", w->what,
			   (unsigned long long)nr);
		return;
	}
	if (depth >= BTREE_MAX_HEIGHT) {
		pool_fault(d, "%s: tree deeper than %u at block %llu", w->what, BTREE_MAX_HEIGHT,
			   (unsigned long long)nr);
		return;
	}
	if (counting) {
		if (w->type[i] && w->type[i] != w->info->type)
			pool_fault(d, "%s: block %llu is in trees of two kinds", w->what,
				   (unsigned long long)nr);
		w->type[i] = (uint8_t)w->info->type;
		if (d->meta[i]++) {
			if (!d->strict)
				return; /* shared: its subtree was walked once */
			counting = 0;
		}
	}
	r = btree_node_get(w->info, nr, &n);
	if (r) {
		pool_fault(d, "%s: block %llu %s", w->what, (unsigned long long)nr,
			   r == -EILSEQ ? "fails its checksum, magic, location or layout check"
					: strerror(-r));
		return;
	}
	if (level >= 0 && (int)n.level != level)
		pool_fault(d, "%s: block %llu has level %u, expected %d", w->what,
			   (unsigned long long)nr, n.level, level);
	if (!n.nr)
		pool_fault(d, "%s: block %llu is an empty node", w->what, (unsigned long long)nr);
	for (unsigned k = 0; d->strict && k < n.nr; k++) {
		uint64_t key = btree_node_key(&n, k);

		if ((k && key <= prev) || key < lo || key >= hi || key >= w->max_key) {
			pool_fault(d, "%s: block %llu key %llu out of order or bounds", w->what,
				   (unsigned long long)nr, (unsigned long long)key);
			break;
		}
		prev = key;
	}
	for (unsigned k = 0; k < n.nr; k++) {
		if (n.level) {
			uint64_t khi = k + 1 < n.nr ? btree_node_key(&n, k + 1) : hi;

			walk_node(w, btree_node_child(&n, k), btree_node_key(&n, k), khi,
				  (int)n.level - 1, depth + 1, counting);
			continue;
		}
		w->leaf_count++;
		if (w->info->type == TREE_MAP && counting) {
			uint64_t c = get_le64(btree_node_value(&n, k));

			if (c >= p->data_chunks)
				pool_fault(d, "%s: block %llu maps to chunk %llu beyond the pool",
					   w->what, (unsigned long long)nr, (unsigned long long)c);
			else
				d->data[c]++;
		}
	}
	btree_node_put(w->info, &n);
}

static void walk_tree(struct walk *w, uint64_t root)
{
	if (root)
		walk_node(w, root, 0, UINT64_MAX, -1, 0, 1);
}

static int check_vol(struct pool *p, struct derive *d, const struct vol *v, struct walk *w)
{
	char what[96];
	uint64_t chunks;

	snprintf(what, sizeof(what), "volume %llu", (unsigned long long)v->info.id);
	w->what = what;
	if (d->strict) {
		if (!v->info.name[0] || strnlen(v->info.name, POOL_NAME_MAX + 1) > POOL_NAME_MAX)
			pool_fault(d, "%s: bad name", what);
		if (v->info.block_size != 512 && v->info.block_size != 4096)
			pool_fault(d, "%s: bad block size %u", what, v->info.block_size);
		if (!v->info.size || v->info.size > POOL_MAX_VOL_SIZE ||
		    (v->info.block_size && v->info.size % v->info.block_size))
			pool_fault(d, "%s: bad size %llu", what, (unsigned long long)v->info.size);
		if (v->info.id >= p->next_vol)
			pool_fault(d, "%s: id not below next id %llu", what,
				   (unsigned long long)p->next_vol);
		if (v->info.group >= p->next_group)
			pool_fault(d, "%s: group %llu not below next group", what,
				   (unsigned long long)v->info.group);
	}
	chunks = (v->info.size + p->chunk_size - 1) >> p->chunk_shift;
	w->info = &p->map_info;
	w->max_key = chunks;
	w->leaf_count = 0;
	walk_tree(w, v->root);
	if (d->strict && w->leaf_count != v->mapped)
		pool_fault(d, "%s: record says %llu chunks mapped, tree has %llu", what,
			   (unsigned long long)v->mapped, (unsigned long long)w->leaf_count);
	return 0;
}

int derive_refcounts(struct pool *p, struct derive *d)
{
	struct walk w = {.p = p, .d = d};
	int r = 0;

	d->meta = calloc(p->meta_blocks, sizeof(*d->meta));
	d->data = calloc(p->data_chunks ? p->data_chunks : 1, sizeof(*d->data));
	w.type = calloc(p->meta_blocks, 1);
	if (!d->meta || !d->data || !w.type) {
		r = -ENOMEM;
		goto out;
	}
	w.info = &p->vol_info;
	w.max_key = UINT64_MAX;
	w.what = "volume tree";
	walk_tree(&w, p->vol_root);
	w.info = &p->obj_info;
	w.what = "object tree";
	walk_tree(&w, p->obj_root);
	for (unsigned b = 0; b < VOL_BUCKETS; b++)
		for (struct vol *v = p->vols[b]; v; v = v->hnext) {
			check_vol(p, d, v, &w);
			d->vols++;
		}
	if (!d->report && !d->strict) {
		/* pool_open: load the counts into the space maps. */
		for (uint64_t i = 0; i < p->meta_blocks; i++)
			sm_set(p->msm, i, d->meta[i]);
		for (uint64_t i = 0; i < p->data_chunks; i++)
			sm_set(p->dsm, i, d->data[i]);
		sm_recount(p->msm);
		sm_recount(p->dsm);
	}
out:
	free(w.type);
	if (r || (!d->report && !d->strict)) {
		free(d->meta);
		free(d->data);
		d->meta = NULL;
		d->data = NULL;
	}
	return r;
}

static uint64_t count_used(const uint32_t *c, uint64_t n)
{
	uint64_t u = 0;

	for (uint64_t i = 0; i < n; i++)
		u += c[i] != 0;
	return u;
}

static int check_names(struct pool *p, struct derive *d)
{
	for (unsigned a = 0; a < VOL_BUCKETS; a++)
		for (struct vol *v = p->vols[a]; v; v = v->hnext)
			for (struct vol *u = v->hnext; u; u = u->hnext)
				if (!strcmp(u->info.name, v->info.name))
					pool_fault(d, "volumes %llu and %llu share a name",
						   (unsigned long long)u->info.id,
						   (unsigned long long)v->info.id);
	return 0;
}

int pool_check(struct bdev *dev, void (*report)(const char *msg, void *ctx), void *ctx)
{
	struct pool_open_opts o = {.read_only = 1, .cache_bytes = 64u << 20};
	struct derive d = {.report = report, .ctx = ctx, .strict = 1};
	uint8_t sb[SB_BYTES];
	struct pool *p;
	int r = pool_open_internal(dev, &o, 0, &p);

	if (r) {
		if (report) {
			char msg[128];

			snprintf(msg, sizeof(msg), "cannot open pool: %s",
				 r == -EILSEQ ? "no valid superblock, or a corrupt volume tree"
					      : strerror(-r));
			report(msg, ctx);
		}
		return r; /* pool.h: negative when it cannot be opened at all */
	}
	r = derive_refcounts(p, &d);
	if (r) {
		pool_free(p);
		return r;
	}
	check_names(p, &d);
	/* The superblock's counters must match what the trees say. */
	if (!bdev_pread(dev, sb, SB_BYTES, (p->txn % SB_SLOTS) * BM_BLOCK_SIZE)) {
		uint64_t ud = count_used(d.data, p->data_chunks);
		uint64_t um = count_used(d.meta, p->meta_blocks);

		if (get_le64(sb + SB_USED_DATA) != ud)
			pool_fault(&d, "superblock: %llu data chunks in use, trees reach %llu",
				   (unsigned long long)get_le64(sb + SB_USED_DATA),
				   (unsigned long long)ud);
		if (get_le64(sb + SB_USED_META) != um)
			pool_fault(&d, "superblock: %llu metadata blocks in use, trees reach %llu",
				   (unsigned long long)get_le64(sb + SB_USED_META),
				   (unsigned long long)um);
		if (get_le32(sb + SB_NR_VOLS) != p->nr_vols)
			pool_fault(&d, "superblock: %u volumes, tree has %u",
				   get_le32(sb + SB_NR_VOLS), p->nr_vols);
	}
	free(d.meta);
	free(d.data);
	pool_free(p);
	return d.faults > INT32_MAX ? INT32_MAX : (int)d.faults;
}

int pool_check_live(struct pool *p, void (*report)(const char *msg, void *ctx), void *ctx)
{
	struct derive d = {.report = report, .ctx = ctx, .strict = 0};
	int r;

	/* Exclusive: the trees and counts must not move while we compare.
	 * Dirty volume roots are in memory, which is what the walk reads. */
	pthread_rwlock_wrlock(&p->lock);
	r = derive_refcounts(p, &d);
	if (!r) {
		for (uint64_t i = 0; i < p->meta_blocks; i++)
			if (d.meta[i] != sm_get(p->msm, i))
				pool_fault(&d, "metadata block %llu: count %u, trees say %u",
					   (unsigned long long)(i + p->meta_start),
					   sm_get(p->msm, i), d.meta[i]);
		for (uint64_t i = 0; i < p->data_chunks; i++)
			if (d.data[i] != sm_get(p->dsm, i))
				pool_fault(&d, "data chunk %llu: count %u, trees say %u",
					   (unsigned long long)i, sm_get(p->dsm, i), d.data[i]);
	}
	pthread_rwlock_unlock(&p->lock);
	free(d.meta);
	free(d.data);
	if (r)
		return r;
	return d.faults > INT32_MAX ? INT32_MAX : (int)d.faults;
}
