/*
 * Changed-block diff between two mapping trees.
 *
 * Two trees that share history share nodes: a node with the same block
 * number in both holds the same mappings in both.  We descend both trees
 * together one level at a time, always expanding the highest level still
 * in either frontier, and drop every node that appears in both frontiers.
 * What reaches the leaves is only what differs, so the cost is
 * O(changed metadata), not O(volume size).
 */
#include "pool_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"

struct front {
	uint64_t *nr;
	unsigned *level;
	size_t n, cap;
};

struct ent {
	uint64_t key, val;
};

static int front_push(struct front *f, uint64_t nr, unsigned level)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		uint64_t *n = realloc(f->nr, cap * sizeof(*n));
		unsigned *l;

		if (!n)
			return -ENOMEM;
		f->nr = n;
		l = realloc(f->level, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		f->level = l;
		f->cap = cap;
	}
	f->nr[f->n] = nr;
	f->level[f->n++] = level;
	return 0;
}

static void front_free(struct front *f)
{
	free(f->nr);
	free(f->level);
	memset(f, 0, sizeof(*f));
}

static int front_init(struct pool *p, struct front *f, uint64_t root)
{
	struct btree_node n;
	int r;

	if (!root)
		return 0;
	r = btree_node_get(&p->map_info, root, &n);
	if (r)
		return r;
	r = front_push(f, root, n.level);
	btree_node_put(&p->map_info, &n);
	return r;
}

/* Replace each node of level L by its children, keeping key order. */
static int front_expand(struct pool *p, struct front *f, unsigned L)
{
	struct front out = {0};
	int r = 0;

	for (size_t i = 0; i < f->n && !r; i++) {
		struct btree_node n;

		if (f->level[i] != L) {
			r = front_push(&out, f->nr[i], f->level[i]);
			continue;
		}
		r = btree_node_get(&p->map_info, f->nr[i], &n);
		if (r)
			break;
		for (unsigned k = 0; k < n.nr && !r; k++)
			r = front_push(&out, btree_node_child(&n, k), L - 1);
		btree_node_put(&p->map_info, &n);
	}
	front_free(f);
	*f = out;
	return r;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int in_sorted(const uint64_t *s, size_t n, uint64_t v)
{
	return bsearch(&v, s, n, sizeof(*s), cmp_u64) != NULL;
}

/* Drop the nodes both frontiers hold. */
static int front_prune(struct front *a, struct front *b)
{
	uint64_t *sa = malloc((a->n + 1) * sizeof(*sa));
	uint64_t *sb = malloc((b->n + 1) * sizeof(*sb));
	size_t ka = 0, kb = 0;

	if (!sa || !sb) {
		free(sa);
		free(sb);
		return -ENOMEM;
	}
	if (a->n)
		memcpy(sa, a->nr, a->n * sizeof(*sa));
	if (b->n)
		memcpy(sb, b->nr, b->n * sizeof(*sb));
	qsort(sa, a->n, sizeof(*sa), cmp_u64);
	qsort(sb, b->n, sizeof(*sb), cmp_u64);
	for (size_t i = 0; i < a->n; i++)
		if (!in_sorted(sb, b->n, a->nr[i])) {
			a->nr[ka] = a->nr[i];
			a->level[ka++] = a->level[i];
		}
	for (size_t i = 0; i < b->n; i++)
		if (!in_sorted(sa, a->n, b->nr[i])) {
			b->nr[kb] = b->nr[i];
			b->level[kb++] = b->level[i];
		}
	a->n = ka;
	b->n = kb;
	free(sa);
	free(sb);
	return 0;
}

static unsigned front_max_level(const struct front *f)
{
	unsigned m = 0;

	for (size_t i = 0; i < f->n; i++)
		if (f->level[i] > m)
			m = f->level[i];
	return m;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int leaves(struct pool *p, const struct front *f, struct ent **out, size_t *nout)
{
	struct ent *e = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	for (size_t i = 0; i < f->n && !r; i++) {
		struct btree_node nd;

		r = btree_node_get(&p->map_info, f->nr[i], &nd);
		if (r)
			break;
		if (n + nd.nr > cap) {
			size_t c = (n + nd.nr) * 2;
			struct ent *ne = realloc(e, c * sizeof(*ne));

			if (!ne) {
				r = -ENOMEM;
				btree_node_put(&p->map_info, &nd);
				break;
			}
			e = ne;
			cap = c;
		}
		for (unsigned k = 0; k < nd.nr; k++) {
			e[n].key = btree_node_key(&nd, k);
			e[n++].val = get_le64(btree_node_value(&nd, k));
		}
		btree_node_put(&p->map_info, &nd);
	}
	if (r) {
		free(e);
		return r;
	}
	if (n)
		qsort(e, n, sizeof(*e), cmp_ent);
	*out = e;
	*nout = n;
	return 0;
}

struct coalesce {
	uint64_t start, end; /* chunk range [start, end) pending */
	int have;
	uint64_t limit; /* bytes: clip to the larger volume */
	unsigned shift;
	int (*fn)(uint64_t off, uint64_t len, void *ctx);
	void *ctx;
};

static int emit(struct coalesce *c)
{
	uint64_t off = c->start << c->shift, end = c->end << c->shift;

	if (!c->have)
		return 0;
	c->have = 0;
	if (end > c->limit)
		end = c->limit;
	return end > off ? c->fn(off, end - off, c->ctx) : 0;
}

static int changed(struct coalesce *c, uint64_t key)
{
	int r = 0;

	if (c->have && key == c->end) {
		c->end++;
		return 0;
	}
	r = emit(c);
	c->start = key;
	c->end = key + 1;
	c->have = 1;
	return r;
}

int vol_diff(struct pool *p, uint64_t a, uint64_t b,
	     int (*fn)(uint64_t off, uint64_t len, void *ctx), void *ctx)
{
	struct front fa = {0}, fb = {0};
	struct ent *ea = NULL, *eb = NULL;
	size_t na = 0, nb = 0, i = 0, j = 0;
	struct coalesce c = {.fn = fn, .ctx = ctx};
	struct vol *va, *vb;
	int r;

	pthread_rwlock_rdlock(&p->lock);
	va = vol_find(p, a);
	vb = vol_find(p, b);
	if (!va || !vb) {
		r = -ENOENT;
		goto out;
	}
	c.shift = p->chunk_shift;
	c.limit = va->info.size > vb->info.size ? va->info.size : vb->info.size;
	if (va->root == vb->root) {
		r = 0;
		goto out;
	}
	r = front_init(p, &fa, va->root);
	if (!r)
		r = front_init(p, &fb, vb->root);
	while (!r) {
		unsigned la = front_max_level(&fa), lb = front_max_level(&fb);
		unsigned L = la > lb ? la : lb;

		r = front_prune(&fa, &fb);
		if (r || !L)
			break;
		r = front_expand(p, &fa, L);
		if (!r)
			r = front_expand(p, &fb, L);
	}
	if (!r)
		r = leaves(p, &fa, &ea, &na);
	if (!r)
		r = leaves(p, &fb, &eb, &nb);
	/* fn runs under the shared lock: it must not call back into the pool. */
	while (!r && (i < na || j < nb)) {
		if (j == nb || (i < na && ea[i].key < eb[j].key)) {
			r = changed(&c, ea[i++].key);
		} else if (i == na || eb[j].key < ea[i].key) {
			r = changed(&c, eb[j++].key);
		} else {
			if (ea[i].val != eb[j].val)
				r = changed(&c, ea[i].key);
			i++;
			j++;
		}
	}
	if (!r)
		r = emit(&c);
out:
	pthread_rwlock_unlock(&p->lock);
	front_free(&fa);
	front_free(&fb);
	free(ea);
	free(eb);
	return r;
}
