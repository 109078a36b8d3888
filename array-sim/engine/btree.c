/*
 * Copy-on-write B+tree.  Changes go top-down: each node on the path is
 * shadowed before it is changed, and a full node is split before we step
 * into it, so a split never has to climb back up (the parent always has
 * room).  Removal deletes empty nodes and collapses a root with one child;
 * it does not merge half-empty siblings (see docs/pool-format.md).
 */
#include "btree.h"

#include <errno.h>
#include <string.h>

#include "le.h"

/* ---- raw node access ---------------------------------------------------- */

static unsigned n_level(const uint8_t *d)
{
	return get_le16(d + 16);
}

static unsigned n_nr(const uint8_t *d)
{
	return get_le16(d + 18);
}

static void set_nr(uint8_t *d, unsigned nr)
{
	put_le16(d + 18, (uint16_t)nr);
}

static unsigned n_max(const uint8_t *d)
{
	return get_le16(d + 20);
}

static unsigned n_vsz(const uint8_t *d)
{
	return get_le16(d + 22);
}

static uint8_t *key_ptr(uint8_t *d, unsigned i)
{
	return d + BTREE_HDR + 8u * i;
}

static uint64_t n_key(const uint8_t *d, unsigned i)
{
	return get_le64(d + BTREE_HDR + 8u * i);
}

static uint8_t *val_ptr(const uint8_t *d, unsigned i)
{
	return (uint8_t *)d + BTREE_HDR + 8u * n_max(d) + (size_t)n_vsz(d) * i;
}

static uint64_t n_child(const uint8_t *d, unsigned i)
{
	return get_le64(val_ptr(d, i));
}

static unsigned max_entries(const struct btree_info *info, unsigned level)
{
	unsigned vs = level ? 8u : info->value_size;

	return (BM_BLOCK_SIZE - BTREE_HDR) / (8u + vs);
}

static void init_node(const struct btree_info *info, uint8_t *d, unsigned level)
{
	put_le16(d + 16, (uint16_t)level);
	set_nr(d, 0);
	put_le16(d + 20, (uint16_t)max_entries(info, level));
	put_le16(d + 22, (uint16_t)(level ? 8u : info->value_size));
	put_le32(d + 24, info->type);
	put_le32(d + 28, 0);
}

/* Structural sanity of a node image: what the checksum cannot tell. */
static int node_ok(const struct btree_info *info, const uint8_t *d)
{
	unsigned level = n_level(d);

	if (get_le32(d + 24) != info->type || level >= BTREE_MAX_HEIGHT)
		return 0;
	if (n_max(d) != max_entries(info, level))
		return 0;
	if (n_vsz(d) != (level ? 8u : info->value_size))
		return 0;
	return n_nr(d) <= n_max(d);
}

/* Largest i with key[i] <= key, or 0. */
static unsigned child_index(const uint8_t *d, uint64_t key)
{
	unsigned lo = 0, hi = n_nr(d);

	while (hi - lo > 1) {
		unsigned mid = (lo + hi) / 2;

		if (n_key(d, mid) <= key)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* First i with key[i] >= key (== nr if none). */
static unsigned lower_bound(const uint8_t *d, uint64_t key)
{
	unsigned lo = 0, hi = n_nr(d);

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (n_key(d, mid) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void insert_at(uint8_t *d, unsigned i, uint64_t key, const void *value)
{
	unsigned nr = n_nr(d), vs = n_vsz(d);

	memmove(key_ptr(d, i + 1), key_ptr(d, i), 8u * (nr - i));
	memmove(val_ptr(d, i + 1), val_ptr(d, i), (size_t)vs * (nr - i));
	put_le64(key_ptr(d, i), key);
	memcpy(val_ptr(d, i), value, vs);
	set_nr(d, nr + 1);
}

static void delete_at(uint8_t *d, unsigned i)
{
	unsigned nr = n_nr(d), vs = n_vsz(d);

	memmove(key_ptr(d, i), key_ptr(d, i + 1), 8u * (nr - i - 1));
	memmove(val_ptr(d, i), val_ptr(d, i + 1), (size_t)vs * (nr - i - 1));
	set_nr(d, nr - 1);
}

/* ---- node get/put for callers -------------------------------------------- */

int btree_node_get(const struct btree_info *info, uint64_t nr, struct btree_node *n)
{
	int r = bm_read(info->tm->bm, nr, BTREE_MAGIC, &n->b);

	if (r)
		return r;
	if (!node_ok(info, n->b->data)) {
		bm_put(info->tm->bm, n->b);
		return -EILSEQ;
	}
	n->level = n_level(n->b->data);
	n->nr = n_nr(n->b->data);
	n->max = n_max(n->b->data);
	n->value_size = n_vsz(n->b->data);
	n->type = info->type;
	return 0;
}

void btree_node_put(const struct btree_info *info, struct btree_node *n)
{
	bm_put(info->tm->bm, n->b);
}

uint64_t btree_node_key(const struct btree_node *n, unsigned i)
{
	return n_key(n->b->data, i);
}

const uint8_t *btree_node_value(const struct btree_node *n, unsigned i)
{
	return val_ptr(n->b->data, i);
}

uint64_t btree_node_child(const struct btree_node *n, unsigned i)
{
	return n_child(n->b->data, i);
}

static int get(const struct btree_info *info, uint64_t nr, struct blk **b)
{
	int r = bm_read(info->tm->bm, nr, BTREE_MAGIC, b);

	if (r)
		return r;
	if (!node_ok(info, (*b)->data)) {
		bm_put(info->tm->bm, *b);
		return -EILSEQ;
	}
	return 0;
}

static void put(const struct btree_info *info, struct blk *b)
{
	bm_put(info->tm->bm, b);
}

/* The copy of a shared node now also points at everything it points at. */
static void inc_children(const struct btree_info *info, const uint8_t *d)
{
	unsigned nr = n_nr(d);

	if (n_level(d)) {
		for (unsigned i = 0; i < nr; i++)
			tm_inc(info->tm, n_child(d, i));
	} else if (info->value_inc) {
		for (unsigned i = 0; i < nr; i++)
			info->value_inc(info->ctx, val_ptr(d, i));
	}
}

static int shadow(const struct btree_info *info, uint64_t nr, struct blk **out)
{
	int inc, r = tm_shadow(info->tm, nr, BTREE_MAGIC, out, &inc);

	if (r)
		return r;
	if (!node_ok(info, (*out)->data)) {
		put(info, *out);
		return -EILSEQ;
	}
	if (inc)
		inc_children(info, (*out)->data);
	return 0;
}

static int new_node(const struct btree_info *info, unsigned level, struct blk **out)
{
	int r = tm_alloc(info->tm, BTREE_MAGIC, out);

	if (!r)
		init_node(info, (*out)->data, level);
	return r;
}

/* ---- lookups ---------------------------------------------------------------- */

int btree_lookup_excl(const struct btree_info *info, uint64_t root, uint64_t key, void *value,
		      int *exclusive)
{
	uint64_t nr = root;
	int excl = 1, r;

	if (!root)
		return -ENODATA;
	for (unsigned depth = 0; depth < BTREE_MAX_HEIGHT; depth++) {
		struct blk *b;
		unsigned i;

		if (tm_ref(info->tm, nr) != 1)
			excl = 0;
		r = get(info, nr, &b);
		if (r)
			return r;
		if (!n_nr(b->data)) {
			put(info, b);
			return -ENODATA;
		}
		if (n_level(b->data)) {
			nr = n_child(b->data, child_index(b->data, key));
			put(info, b);
			continue;
		}
		i = lower_bound(b->data, key);
		if (i < n_nr(b->data) && n_key(b->data, i) == key) {
			if (value)
				memcpy(value, val_ptr(b->data, i), info->value_size);
			r = 0;
		} else {
			r = -ENODATA;
		}
		put(info, b);
		if (exclusive)
			*exclusive = excl;
		return r;
	}
	return -EILSEQ; /* deeper than any tree we build: a loop on disk */
}

int btree_lookup(const struct btree_info *info, uint64_t root, uint64_t key, void *value)
{
	return btree_lookup_excl(info, root, key, value, NULL);
}

static int iter(const struct btree_info *info, uint64_t nr, uint64_t lo, uint64_t hi,
		int (*fn)(uint64_t, const uint8_t *, void *), void *ctx, unsigned depth)
{
	struct blk *b;
	int r;

	if (depth >= BTREE_MAX_HEIGHT)
		return -EILSEQ;
	r = get(info, nr, &b);
	if (r)
		return r;
	if (!n_level(b->data)) {
		for (unsigned i = lower_bound(b->data, lo); i < n_nr(b->data) && !r; i++) {
			uint64_t k = n_key(b->data, i);

			if (k > hi)
				break;
			r = fn(k, val_ptr(b->data, i), ctx);
		}
	} else {
		for (unsigned i = child_index(b->data, lo); i < n_nr(b->data) && !r; i++) {
			if (n_key(b->data, i) > hi)
				break;
			r = iter(info, n_child(b->data, i), lo, hi, fn, ctx, depth + 1);
		}
	}
	put(info, b);
	return r;
}

int btree_iterate(const struct btree_info *info, uint64_t root, uint64_t lo, uint64_t hi,
		  int (*fn)(uint64_t key, const uint8_t *value, void *ctx), void *ctx)
{
	if (!root || lo > hi)
		return 0;
	return iter(info, root, lo, hi, fn, ctx, 0);
}

struct ge_ctx {
	uint64_t key;
	void *value;
	size_t vs;
};

static int ge_fn(uint64_t key, const uint8_t *value, void *ctx)
{
	struct ge_ctx *g = ctx;

	g->key = key;
	if (g->value)
		memcpy(g->value, value, g->vs);
	return 1;
}

int btree_lookup_ge(const struct btree_info *info, uint64_t root, uint64_t key, uint64_t *found,
		    void *value)
{
	struct ge_ctx g = {.value = value, .vs = info->value_size};
	int r = btree_iterate(info, root, key, UINT64_MAX, ge_fn, &g);

	if (r < 0)
		return r;
	if (!r)
		return -ENODATA;
	*found = g.key;
	return 0;
}

/* ---- insert ------------------------------------------------------------------ */

/* Split full child c (entry i of parent p) in two; the upper half moves to
 * a new node, returned pinned in *sib. */
static int split_child(const struct btree_info *info, uint8_t *p, unsigned i, struct blk *c,
		       struct blk **sib)
{
	uint8_t *cd = c->data, *sd;
	unsigned nr = n_nr(cd), mid = nr / 2, vs = n_vsz(cd);
	uint8_t ptr[8];
	int r = new_node(info, n_level(cd), sib);

	if (r)
		return r;
	sd = (*sib)->data;
	memcpy(key_ptr(sd, 0), key_ptr(cd, mid), 8u * (nr - mid));
	memcpy(val_ptr(sd, 0), val_ptr(cd, mid), (size_t)vs * (nr - mid));
	set_nr(sd, nr - mid);
	set_nr(cd, mid);
	put_le64(ptr, (*sib)->nr);
	insert_at(p, i + 1, n_key(sd, 0), ptr);
	return 0;
}

int btree_insert(const struct btree_info *info, uint64_t *root, uint64_t key, const void *value,
		 void *old, int *existed)
{
	struct blk *b, *c, *s;
	uint8_t ptr[8];
	unsigned i;
	int r;

	if (existed)
		*existed = 0;
	if (!*root) {
		r = new_node(info, 0, &b);
		if (r)
			return r;
		insert_at(b->data, 0, key, value);
		*root = b->nr;
		put(info, b);
		return 0;
	}
	r = shadow(info, *root, &b);
	if (r)
		return r;
	*root = b->nr;
	if (n_nr(b->data) == n_max(b->data)) {
		/* Grow a level: a new root above the full one, then split it. */
		r = new_node(info, n_level(b->data) + 1, &c);
		if (r)
			goto out_b;
		put_le64(ptr, b->nr);
		insert_at(c->data, 0, n_key(b->data, 0), ptr);
		*root = c->nr;
		r = split_child(info, c->data, 0, b, &s);
		if (!r)
			put(info, s);
		put(info, b);
		b = c;
		if (r)
			goto out_b;
	}
	for (unsigned depth = 0; n_level(b->data); depth++) {
		if (depth >= BTREE_MAX_HEIGHT) {
			r = -EILSEQ;
			goto out_b;
		}
		i = child_index(b->data, key);
		if (key < n_key(b->data, i))
			put_le64(key_ptr(b->data, i), key); /* keep key[0] a lower bound */
		r = shadow(info, n_child(b->data, i), &c);
		if (r)
			goto out_b;
		if (c->nr != n_child(b->data, i))
			put_le64(val_ptr(b->data, i), c->nr);
		if (n_nr(c->data) == n_max(c->data)) {
			r = split_child(info, b->data, i, c, &s);
			if (r) {
				put(info, c);
				goto out_b;
			}
			if (key >= n_key(s->data, 0)) {
				put(info, c);
				c = s;
			} else {
				put(info, s);
			}
		}
		put(info, b);
		b = c;
	}
	i = lower_bound(b->data, key);
	if (i < n_nr(b->data) && n_key(b->data, i) == key) {
		if (old)
			memcpy(old, val_ptr(b->data, i), info->value_size);
		if (existed)
			*existed = 1;
		memcpy(val_ptr(b->data, i), value, info->value_size);
	} else {
		insert_at(b->data, i, key, value);
	}
	r = 0;
out_b:
	put(info, b);
	return r;
}

/* ---- remove ------------------------------------------------------------------ */

int btree_remove(const struct btree_info *info, uint64_t *root, uint64_t key, void *old)
{
	struct blk *stack[BTREE_MAX_HEIGHT], *b, *c;
	unsigned idx[BTREE_MAX_HEIGHT], depth = 0, i;
	int r;

	r = btree_lookup(info, *root, key, old);
	if (r)
		return r; /* absent: change nothing */
	r = shadow(info, *root, &b);
	if (r)
		return r;
	*root = b->nr;
	while (n_level(b->data)) {
		if (depth >= BTREE_MAX_HEIGHT - 1) {
			r = -EILSEQ;
			goto out;
		}
		i = child_index(b->data, key);
		r = shadow(info, n_child(b->data, i), &c);
		if (r)
			goto out;
		if (c->nr != n_child(b->data, i))
			put_le64(val_ptr(b->data, i), c->nr);
		stack[depth] = b;
		idx[depth++] = i;
		b = c;
	}
	i = lower_bound(b->data, key);
	delete_at(b->data, i);
	/* Empty nodes below the root go away; the parent drops its entry. */
	while (!n_nr(b->data) && depth) {
		uint64_t nr = b->nr;

		put(info, b);
		tm_dec(info->tm, nr);
		b = stack[--depth];
		delete_at(b->data, idx[depth]);
	}
	r = 0;
out:
	put(info, b);
	while (depth)
		put(info, stack[--depth]);
	if (r)
		return r;

	/* Shrink the root: an empty leaf is the empty tree, and an internal
	 * root with one child hands its reference on that child to the owner. */
	for (;;) {
		uint64_t nr = *root, child;

		r = get(info, nr, &b);
		if (r)
			return r;
		if (!n_nr(b->data)) {
			put(info, b);
			tm_dec(info->tm, nr);
			*root = 0;
			return 0;
		}
		if (!n_level(b->data) || n_nr(b->data) > 1) {
			put(info, b);
			return 0;
		}
		child = n_child(b->data, 0);
		put(info, b);
		tm_dec(info->tm, nr);
		*root = child;
	}
}

/* ---- whole-tree references ------------------------------------------------------ */

void btree_inc(const struct btree_info *info, uint64_t root)
{
	if (root)
		tm_inc(info->tm, root);
}

static int dec(const struct btree_info *info, uint64_t nr, unsigned depth)
{
	struct blk *b;
	int r = 0;

	if (tm_ref(info->tm, nr) > 1) {
		tm_dec(info->tm, nr);
		return 0;
	}
	if (depth >= BTREE_MAX_HEIGHT)
		return -EILSEQ;
	r = get(info, nr, &b);
	if (r)
		return r;
	for (unsigned i = 0; i < n_nr(b->data) && !r; i++) {
		if (n_level(b->data))
			r = dec(info, n_child(b->data, i), depth + 1);
		else if (info->value_dec)
			info->value_dec(info->ctx, val_ptr(b->data, i));
	}
	put(info, b);
	tm_dec(info->tm, nr);
	return r;
}

int btree_dec(const struct btree_info *info, uint64_t root)
{
	return root ? dec(info, root, 0) : 0;
}
