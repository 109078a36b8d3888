/*
 * model: model-based randomized test of the pool engine.
 *
 * Random sequences of write, read, unmap, flush, snapshot, consistency-group
 * snapshot, clone, revert, delete, resize and diff run against a pool on a
 * RAM bdev and against a plain byte array per volume; every read, diff,
 * vol_info and reopen is checked against the arrays.  Error paths (-EROFS,
 * -ERANGE, -EINVAL, -EEXIST, -ENOENT), pool_check_live(), close + pool_check()
 * + reopen, and simulated power losses (open a copy of the RAM image taken
 * without a commit) are mixed in.  The run is split into epochs of 10000 ops,
 * each on a fresh pool whose chunk size (4K/16K/64K) comes from the seed;
 * every third epoch uses a tiny pool so that writes hit -ENOSPC.
 *
 *   model [--seed N] [--ops N] [--trace] [--paranoid]
 *
 * Prints "model: seed=S ops=N" first; a failure prints the op number and
 * exits 1.  The first N ops of a seed do not depend on --ops, so a failure
 * at op K replays with --seed S --ops K+1 (--trace prints every op,
 * --paranoid checks vol_info and vol_map_status of every volume after every
 * op to find where an accounting error starts).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "testutil.h"

#define MAX_ENT	      16
#define MAX_IO	      (512u * 1024)
#define MAX_VOL	      (4u * 1024 * 1024)
#define MAX_RANGES    8192
#define NORMAL_POOL   (256ull << 20)
#define LIVE_INTERVAL 1000
#define CRASH_EVERY   1500  /* one simulated power loss per this many ops */
#define EPOCH_LEN     10000 /* ops per pool; every third pool is tiny */

struct ent {
	int used;
	uint64_t id;
	char name[32];
	int snap;
	uint32_t bs;
	uint64_t size;
	uint8_t *data;
	uint64_t origin; /* snapshot: id of the volume it was taken of */
};

struct model {
	struct tu_rng rng;
	uint64_t seed, op, ops;
	struct bdev *dev;
	struct pool *p;
	uint32_t chunk;
	int tiny;
	unsigned max_ent;
	uint64_t max_vol;
	struct ent ent[MAX_ENT];
	unsigned name_ctr;
	uint8_t *buf, *buf2;
	unsigned long enospc, epoch_enospc, reopens, crashes, diffs, ranges;
	int timer;		/* a commit timer runs: no simulated crashes */
	struct bdev *crash_dev; /* the copy op_crash opens; kept for the epoch */
	struct ent *last_e;	/* the range the last write/unmap touched */
	uint64_t last_off, last_len;
	int trace, paranoid; /* paranoid: check_info on every volume after every op */
	uint64_t rng_off[MAX_RANGES], rng_len[MAX_RANGES];
	unsigned nr_ranges;
};

static void fail(struct model *m, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr,
		"model: FAIL at op %llu (seed %llu, chunk %u%s): ", (unsigned long long)m->op,
		(unsigned long long)m->seed, m->chunk, m->tiny ? ", tiny pool" : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nmodel: replay with --seed %llu --ops %llu --trace\n",
		(unsigned long long)m->seed, (unsigned long long)m->op + 1);
	printf("%llu passed, 1 failed\n", (unsigned long long)m->op);
	fflush(stdout);
	_exit(1);
}

#define TRACE(m, ...)                                                                              \
	do {                                                                                       \
		if ((m)->trace) {                                                                  \
			fprintf(stderr, "op %llu: ", (unsigned long long)(m)->op);                 \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

/* -ENOSPC / -EDQUOT are allowed only on the tiny pool. */
static int soft_err(struct model *m, int r)
{
	if (m->tiny && (r == -ENOSPC || r == -EDQUOT)) {
		m->enospc++;
		m->epoch_enospc++;
		return 1;
	}
	return 0;
}

static uint64_t rnd(struct model *m, uint64_t n)
{
	return tu_rng_below(&m->rng, n);
}

static uint64_t between(struct model *m, uint64_t lo, uint64_t hi)
{
	return tu_rng_between(&m->rng, lo, hi);
}

static int chance(struct model *m, unsigned num, unsigned den)
{
	return tu_rng_chance(&m->rng, num, den);
}

static uint64_t roundup(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

/* ---- entity table ------------------------------------------------------ */

static unsigned nr_used(struct model *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->max_ent; i++)
		n += m->ent[i].used;
	return n;
}

/* kind: 0 any, 1 writable volumes, 2 snapshots. */
static struct ent *pick(struct model *m, int kind)
{
	struct ent *c[MAX_ENT];
	unsigned n = 0;

	for (unsigned i = 0; i < m->max_ent; i++) {
		struct ent *e = &m->ent[i];

		if (e->used && (kind == 0 || (kind == 1 && !e->snap) || (kind == 2 && e->snap)))
			c[n++] = e;
	}
	return n ? c[rnd(m, n)] : NULL;
}

static struct ent *find_id(struct model *m, uint64_t id)
{
	for (unsigned i = 0; i < m->max_ent; i++)
		if (m->ent[i].used && m->ent[i].id == id)
			return &m->ent[i];
	return NULL;
}

static struct ent *slot(struct model *m)
{
	for (unsigned i = 0; i < m->max_ent; i++)
		if (!m->ent[i].used)
			return &m->ent[i];
	return NULL;
}

static void ent_free(struct ent *e)
{
	free(e->data);
	memset(e, 0, sizeof(*e));
}

static void ent_set(struct ent *e, uint64_t id, const char *name, int snap, uint32_t bs,
		    uint64_t size, const uint8_t *src)
{
	e->used = 1;
	e->id = id;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->snap = snap;
	e->bs = bs;
	e->size = size;
	e->data = calloc(1, size);
	if (!e->data) {
		perror("calloc");
		exit(2);
	}
	if (src)
		memcpy(e->data, src, size);
}

static uint64_t rand_size(struct model *m, uint32_t bs)
{
	uint64_t lo = m->tiny ? m->max_vol / 4 : 64 * 1024;
	uint64_t s = between(m, lo / 4096, m->max_vol / 4096) * 4096;

	if (bs == 512 && chance(m, 1, 4))
		s += 512 * between(m, 1, 7);
	return s;
}

static void new_name(struct model *m, char *buf, size_t n, char tag)
{
	snprintf(buf, n, "%c%u", tag, ++m->name_ctr);
}

/* ---- I/O helpers ------------------------------------------------------- */

/* A block-aligned range inside e: sub-chunk, chunk-straddling or multi-chunk. */
static void gen_range(struct model *m, struct ent *e, uint64_t *off, uint64_t *len)
{
	uint64_t bs = e->bs, nblk = e->size / bs, c = m->chunk, o, l;
	unsigned kind = rnd(m, 10);

	if (kind < 4) { /* inside one chunk */
		o = rnd(m, nblk) * bs;
		l = bs * between(m, 1, c / bs);
	} else if (kind < 7 && e->size > c) { /* straddle a chunk boundary */
		uint64_t b = between(m, 1, (e->size - 1) / c) * c;
		uint64_t before = bs * between(m, 1, c / bs);

		o = before > b ? 0 : b - before;
		l = (b - o) + bs * between(m, 1, c / bs);
	} else if (kind < 9) { /* several chunks */
		o = rnd(m, nblk) * bs;
		l = bs * between(m, c / bs, (MAX_IO < 4 * c ? MAX_IO : 4 * c) / bs + 3);
	} else { /* whole chunks */
		o = rnd(m, (e->size + c - 1) / c) * c;
		l = c * between(m, 1, 3);
	}
	if (o >= e->size)
		o = (nblk - 1) * bs;
	if (l > MAX_IO)
		l = MAX_IO;
	if (l > e->size - o)
		l = e->size - o;
	*off = o;
	*len = l;
}

/*
 * After a write or unmap failed with -ENOSPC it may have partly happened:
 * every block must hold either the old contents or the new (alt; NULL means
 * zeros), and the model takes what the pool now holds.
 */
static void reconcile(struct model *m, struct ent *e, uint64_t off, uint64_t len,
		      const uint8_t *alt)
{
	int r = vol_read(m->p, e->id, off, len, m->buf2);

	if (r)
		fail(m, "read %s [%llu,+%llu) after failed I/O: %d", e->name,
		     (unsigned long long)off, (unsigned long long)len, r);
	for (uint64_t b = 0; b < len; b += e->bs) {
		const uint8_t *got = m->buf2 + b;

		if (!memcmp(got, e->data + off + b, e->bs))
			continue;
		if (alt ? !memcmp(got, alt + b, e->bs) : tu_is_zero(got, e->bs))
			continue;
		fail(m, "%s block at %llu is neither old nor new after a failed write/unmap",
		     e->name, (unsigned long long)(off + b));
	}
	memcpy(e->data + off, m->buf2, len);
}

static void check_read(struct model *m, struct ent *e, uint64_t off, uint64_t len, const char *why)
{
	int r = vol_read(m->p, e->id, off, len, m->buf2);
	size_t d;

	if (r)
		fail(m, "%s: vol_read %s [%llu,+%llu) = %d", why, e->name, (unsigned long long)off,
		     (unsigned long long)len, r);
	d = tu_first_diff(m->buf2, e->data + off, len);
	if (d != len)
		fail(m,
		     "%s: %s (id %llu, %s, bs %u, size %llu) differs at byte %llu: got %02x want "
		     "%02x",
		     why, e->name, (unsigned long long)e->id, e->snap ? "snapshot" : "volume",
		     e->bs, (unsigned long long)e->size, (unsigned long long)(off + d), m->buf2[d],
		     e->data[off + d]);
}

static void check_all(struct model *m, const char *why)
{
	for (unsigned i = 0; i < m->max_ent; i++) {
		struct ent *e = &m->ent[i];

		for (uint64_t o = 0; e->used && o < e->size; o += MAX_IO)
			check_read(m, e, o, e->size - o < MAX_IO ? e->size - o : MAX_IO, why);
	}
}

static void expect_gone(struct model *m, const char *name)
{
	uint64_t id;
	int r = vol_lookup(m->p, name, &id);

	if (r != -ENOENT)
		fail(m, "failed create left '%s' behind (lookup %d)", name, r);
}

/* ---- operations -------------------------------------------------------- */

static struct ent *op_create(struct model *m)
{
	struct ent *e = slot(m);
	uint32_t bs = chance(m, 1, 2) ? 512 : 4096;
	uint64_t size = rand_size(m, bs), id;
	struct vol_info vi;
	char name[32];
	int r;

	if (!e)
		return NULL;
	new_name(m, name, sizeof(name), 'v');
	TRACE(m, "create %s size %llu bs %u", name, (unsigned long long)size, bs);
	r = vol_create(m->p, name, size, bs, &id);
	if (soft_err(m, r)) {
		expect_gone(m, name);
		return NULL;
	}
	if (r)
		fail(m, "vol_create %s = %d", name, r);
	ent_set(e, id, name, 0, bs, size, NULL);
	r = vol_info(m->p, id, &vi);
	if (r || vi.kind != VOL_VOLUME || vi.size != size || vi.block_size != bs || vi.parent ||
	    vi.allocated || strcmp(vi.name, name))
		fail(m,
		     "vol_info of new volume %s: r=%d kind %d size %llu bs %u parent %llu alloc "
		     "%llu",
		     name, r, vi.kind, (unsigned long long)vi.size, vi.block_size,
		     (unsigned long long)vi.parent, (unsigned long long)vi.allocated);
	return e;
}

static struct ent *writable(struct model *m)
{
	struct ent *e = pick(m, 1);

	return e ? e : op_create(m);
}

static void do_write(struct model *m, struct ent *e, uint64_t off, uint64_t len)
{
	unsigned flags = chance(m, 1, 8) ? POOL_FUA : 0;
	int r;

	tu_rng_fill(&m->rng, m->buf, len);
	TRACE(m, "write %s [%llu,+%llu)%s", e->name, (unsigned long long)off,
	      (unsigned long long)len, flags ? " FUA" : "");
	m->last_e = e;
	m->last_off = off;
	m->last_len = len;
	r = vol_write(m->p, e->id, off, len, m->buf, flags);
	if (r == 0)
		memcpy(e->data + off, m->buf, len);
	else if (soft_err(m, r))
		reconcile(m, e, off, len, m->buf);
	else
		fail(m, "vol_write %s [%llu,+%llu) = %d", e->name, (unsigned long long)off,
		     (unsigned long long)len, r);
}

static void op_write(struct model *m)
{
	struct ent *e = writable(m);
	uint64_t off, len;

	if (!e)
		return;
	gen_range(m, e, &off, &len);
	do_write(m, e, off, len);
}

/* Tiny pool only: write a whole volume chunk by chunk until the pool is full. */
static void op_fill(struct model *m)
{
	struct ent *e = writable(m);
	unsigned long before = m->epoch_enospc;

	for (uint64_t off = 0; e && off < e->size && m->epoch_enospc == before; off += m->chunk)
		do_write(m, e, off, e->size - off < m->chunk ? e->size - off : m->chunk);
}

static void op_read(struct model *m)
{
	struct ent *e = pick(m, 0);
	uint64_t off, len;

	if (!e)
		return;
	gen_range(m, e, &off, &len);
	TRACE(m, "read %s [%llu,+%llu)", e->name, (unsigned long long)off, (unsigned long long)len);
	check_read(m, e, off, len, "read");
}

static void op_unmap(struct model *m)
{
	struct ent *e = writable(m);
	uint64_t off, len;
	int r;

	if (!e)
		return;
	gen_range(m, e, &off, &len);
	TRACE(m, "unmap %s [%llu,+%llu)", e->name, (unsigned long long)off,
	      (unsigned long long)len);
	m->last_e = e;
	m->last_off = off;
	m->last_len = len;
	r = vol_unmap(m->p, e->id, off, len);
	if (r == 0)
		memset(e->data + off, 0, len);
	else if (soft_err(m, r))
		reconcile(m, e, off, len, NULL);
	else
		fail(m, "vol_unmap %s [%llu,+%llu) = %d", e->name, (unsigned long long)off,
		     (unsigned long long)len, r);
}

static void op_commit(struct model *m)
{
	int r;

	TRACE(m, "commit");
	r = pool_commit(m->p);
	if (r)
		fail(m, "pool_commit = %d", r);
}

static int diff_cb(uint64_t off, uint64_t len, void *ctx)
{
	struct model *m = ctx;

	if (m->nr_ranges == MAX_RANGES)
		return -E2BIG;
	m->rng_off[m->nr_ranges] = off;
	m->rng_len[m->nr_ranges++] = len;
	return 0;
}

/* Diff a and b and check the ranges (tu_check_diff).  expect_none: the two
 * were just made to share everything. */
static void check_diff(struct model *m, struct ent *a, struct ent *b, int expect_none)
{
	char err[200];
	int r;

	m->nr_ranges = 0;
	TRACE(m, "diff %s %s", a->name, b->name);
	r = vol_diff(m->p, a->id, b->id, diff_cb, m);
	if (r)
		fail(m, "vol_diff %s %s = %d", a->name, b->name, r);
	m->diffs++;
	m->ranges += m->nr_ranges;
	if (expect_none && m->nr_ranges)
		fail(m, "vol_diff %s %s reports [%llu,+%llu) right after snapshot/clone", a->name,
		     b->name, (unsigned long long)m->rng_off[0], (unsigned long long)m->rng_len[0]);
	if (tu_check_diff(m->rng_off, m->rng_len, m->nr_ranges, m->chunk, a->data, a->size, b->data,
			  b->size, err, sizeof(err)))
		fail(m, "vol_diff %s %s: %s", a->name, b->name, err);
}

static void op_diff(struct model *m)
{
	struct ent *a = pick(m, 0), *b = NULL;

	if (!a)
		return;
	if (chance(m, 2, 3)) { /* a related pair */
		if (a->snap)
			b = find_id(m, a->origin);
		for (unsigned i = 0; !b && i < m->max_ent; i++)
			if (m->ent[i].used && m->ent[i].snap && m->ent[i].origin == a->id)
				b = &m->ent[i];
	}
	if (!b)
		b = pick(m, 0);
	check_diff(m, a, b, 0);
}

static void check_shared(struct model *m, struct ent *a, struct ent *b)
{
	struct vol_info va, vb;

	if (chance(m, 1, 3))
		check_diff(m, a, b, 1);
	if (vol_info(m->p, a->id, &va) || vol_info(m->p, b->id, &vb))
		fail(m, "vol_info %s/%s failed", a->name, b->name);
	if (va.exclusive || vb.exclusive || va.allocated != vb.allocated)
		fail(m,
		     "%s and %s should share everything: allocated %llu/%llu exclusive %llu/%llu",
		     a->name, b->name, (unsigned long long)va.allocated,
		     (unsigned long long)vb.allocated, (unsigned long long)va.exclusive,
		     (unsigned long long)vb.exclusive);
}

static void op_snapshot(struct model *m)
{
	struct ent *v = writable(m), *s = slot(m);
	struct vol_info vi;
	char name[32];
	uint64_t id;
	int r;

	if (!v || !s)
		return;
	new_name(m, name, sizeof(name), 's');
	TRACE(m, "snapshot %s -> %s", v->name, name);
	r = vol_snapshot(m->p, v->id, name, &id);
	if (soft_err(m, r)) {
		expect_gone(m, name);
		return;
	}
	if (r)
		fail(m, "vol_snapshot %s = %d", v->name, r);
	ent_set(s, id, name, 1, v->bs, v->size, v->data);
	s->origin = v->id;
	r = vol_info(m->p, id, &vi);
	if (r || vi.kind != VOL_SNAPSHOT || vi.parent != v->id || vi.size != v->size ||
	    vi.block_size != v->bs || vi.group)
		fail(m, "vol_info of snapshot %s: r=%d kind %d parent %llu size %llu group %llu",
		     name, r, vi.kind, (unsigned long long)vi.parent, (unsigned long long)vi.size,
		     (unsigned long long)vi.group);
	check_shared(m, v, s);
}

static void op_group(struct model *m)
{
	struct ent *v[4], *s[4];
	uint64_t vols[4], ids[4], group = 0;
	char names[4][32];
	const char *np[4];
	unsigned n = between(m, 2, 4), k = 0;
	int r;

	for (unsigned i = 0; i < 3 * n && k < n; i++) {
		struct ent *e = pick(m, 1);
		int dup = !e;

		for (unsigned j = 0; j < k && !dup; j++)
			dup = v[j] == e;
		if (!dup)
			v[k++] = e;
	}
	if (k < 2 || m->max_ent - nr_used(m) < k)
		return;
	for (unsigned i = 0; i < k; i++) {
		new_name(m, names[i], sizeof(names[i]), 'g');
		np[i] = names[i];
		vols[i] = v[i]->id;
	}
	TRACE(m, "group snapshot of %u volumes (%s...)", k, v[0]->name);
	r = vol_snapshot_group(m->p, k, vols, np, ids);
	if (soft_err(m, r)) {
		for (unsigned i = 0; i < k; i++)
			expect_gone(m, names[i]);
		return;
	}
	if (r)
		fail(m, "vol_snapshot_group (%u) = %d", k, r);
	for (unsigned i = 0; i < k; i++) {
		struct vol_info vi;

		s[i] = slot(m);
		ent_set(s[i], ids[i], names[i], 1, v[i]->bs, v[i]->size, v[i]->data);
		s[i]->origin = v[i]->id;
		r = vol_info(m->p, ids[i], &vi);
		if (i == 0)
			group = vi.group;
		if (r || vi.kind != VOL_SNAPSHOT || vi.parent != v[i]->id || !vi.group ||
		    vi.group != group)
			fail(m,
			     "group snapshot %s: r=%d kind %d parent %llu group %llu (first %llu)",
			     names[i], r, vi.kind, (unsigned long long)vi.parent,
			     (unsigned long long)vi.group, (unsigned long long)group);
	}
}

static void op_clone(struct model *m)
{
	struct ent *src = pick(m, chance(m, 3, 4) ? 2 : 1), *c = slot(m);
	struct vol_info vi;
	char name[32];
	uint64_t id;
	int r;

	if (!src || !c)
		return;
	new_name(m, name, sizeof(name), 'c');
	TRACE(m, "clone %s -> %s", src->name, name);
	r = vol_clone(m->p, src->id, name, &id);
	if (soft_err(m, r)) {
		expect_gone(m, name);
		return;
	}
	if (r)
		fail(m, "vol_clone %s = %d", src->name, r);
	ent_set(c, id, name, 0, src->bs, src->size, src->data);
	r = vol_info(m->p, id, &vi);
	if (r || vi.kind != VOL_VOLUME || vi.size != src->size || vi.block_size != src->bs ||
	    (src->snap && vi.parent != src->id) || (!src->snap && !vi.parent))
		fail(m, "vol_info of clone %s of %s: r=%d kind %d size %llu parent %llu", name,
		     src->name, r, vi.kind, (unsigned long long)vi.size,
		     (unsigned long long)vi.parent);
	check_shared(m, src, c);
}

static void op_revert(struct model *m)
{
	struct ent *s = pick(m, 2), *v;
	char name[32];
	int r;

	if (!s || !(v = find_id(m, s->origin)))
		return;
	TRACE(m, "revert %s to %s", v->name, s->name);
	r = vol_revert(m->p, v->id, s->id);
	if (soft_err(m, r)) {
		check_read(m, v, 0, v->size < MAX_IO ? v->size : MAX_IO, "failed revert");
		return;
	}
	if (r)
		fail(m, "vol_revert %s %s = %d", v->name, s->name, r);
	snprintf(name, sizeof(name), "%s", v->name);
	free(v->data);
	ent_set(v, v->id, name, 0, v->bs, s->size, s->data);
	if (chance(m, 1, 3))
		check_diff(m, v, s, 1);
}

static void op_delete(struct model *m)
{
	struct ent *e = pick(m, 0);
	struct vol_info vi;
	uint64_t id;
	int r;

	if (!e)
		return;
	TRACE(m, "delete %s", e->name);
	r = vol_delete(m->p, e->id);
	if (r)
		fail(m, "vol_delete %s = %d", e->name, r);
	if ((r = vol_info(m->p, e->id, &vi)) != -ENOENT ||
	    (r = vol_lookup(m->p, e->name, &id)) != -ENOENT)
		fail(m, "deleted %s still visible: %d", e->name, r);
	ent_free(e);
}

static void op_resize(struct model *m)
{
	struct ent *e = writable(m);
	uint64_t size, old;
	struct vol_info vi;
	int r;

	if (!e)
		return;
	old = e->size;
	size = rand_size(m, e->bs);
	TRACE(m, "resize %s %llu -> %llu", e->name, (unsigned long long)old,
	      (unsigned long long)size);
	r = vol_resize(m->p, e->id, size);
	if (r && !soft_err(m, r))
		fail(m, "vol_resize %s to %llu = %d", e->name, (unsigned long long)size, r);
	if (vol_info(m->p, e->id, &vi) || (vi.size != size && (r == 0 || vi.size != old)))
		fail(m, "%s size %llu after resize to %llu (r=%d)", e->name,
		     (unsigned long long)vi.size, (unsigned long long)size, r);
	e->data = realloc(e->data, vi.size);
	if (vi.size > old)
		memset(e->data + old, 0, vi.size - old);
	e->size = vi.size;
	if (r) /* a failed shrink may have unmapped part of the tail */
		for (uint64_t o = 0; o < e->size; o += MAX_IO)
			reconcile(m, e, o, e->size - o < MAX_IO ? e->size - o : MAX_IO, NULL);
}

/* vol_info against the model, and allocated against a vol_map_status walk. */
static void check_info(struct model *m, struct ent *e)
{
	uint64_t id, busy = 0, mapped_chunks = 0, last = UINT64_MAX, run;
	struct vol_info vi;
	int r, mapped;

	for (uint64_t c = 0; c < e->size; c += m->chunk)
		busy += !tu_is_zero(e->data + c, e->size - c < m->chunk ? e->size - c : m->chunk);
	r = vol_info(m->p, e->id, &vi);
	if (r || strcmp(vi.name, e->name) || vi.id != e->id || vi.size != e->size ||
	    vi.block_size != e->bs || vi.kind != (e->snap ? VOL_SNAPSHOT : VOL_VOLUME))
		fail(m, "vol_info %s: r=%d name %s size %llu bs %u kind %d", e->name, r, vi.name,
		     (unsigned long long)vi.size, vi.block_size, vi.kind);
	if ((r = vol_lookup(m->p, e->name, &id)) || id != e->id)
		fail(m, "vol_lookup %s = %d id %llu", e->name, r, (unsigned long long)id);
	for (uint64_t off = 0; off < e->size; off += run) {
		r = vol_map_status(m->p, e->id, off, &mapped, &run);
		if (r || run == 0 || run > e->size - off)
			fail(m, "vol_map_status %s at %llu = %d run %llu", e->name,
			     (unsigned long long)off, r, (unsigned long long)run);
		if (!mapped && !tu_is_zero(e->data + off, run))
			fail(m, "vol_map_status %s: [%llu,+%llu) unmapped but holds data", e->name,
			     (unsigned long long)off, (unsigned long long)run);
		for (uint64_t c = off / m->chunk; mapped && c <= (off + run - 1) / m->chunk; c++)
			if (c != last) {
				mapped_chunks++;
				last = c;
			}
	}
	if (vi.allocated % m->chunk || vi.allocated > roundup(e->size, m->chunk) ||
	    vi.exclusive > vi.allocated || vi.allocated < busy * m->chunk ||
	    vi.allocated != mapped_chunks * m->chunk)
		fail(m,
		     "vol_info %s: allocated %llu exclusive %llu, size %llu, %llu chunks hold "
		     "data, vol_map_status maps %llu chunks",
		     e->name, (unsigned long long)vi.allocated, (unsigned long long)vi.exclusive,
		     (unsigned long long)e->size, (unsigned long long)busy,
		     (unsigned long long)mapped_chunks);
}

static void op_info(struct model *m)
{
	struct ent *e = pick(m, 0);

	if (!e)
		return;
	TRACE(m, "info %s", e->name);
	check_info(m, e);
}

static void op_rename(struct model *m)
{
	struct ent *e = pick(m, 0), *o = pick(m, 0);
	char name[32];
	uint64_t id;
	int r;

	if (!e)
		return;
	if (o != e && (r = vol_rename(m->p, e->id, o->name)) != -EEXIST)
		fail(m, "rename %s to taken name %s = %d", e->name, o->name, r);
	new_name(m, name, sizeof(name), 'r');
	TRACE(m, "rename %s -> %s", e->name, name);
	if ((r = vol_rename(m->p, e->id, name)))
		fail(m, "vol_rename %s %s = %d", e->name, name, r);
	if (vol_lookup(m->p, e->name, &id) != -ENOENT || vol_lookup(m->p, name, &id) || id != e->id)
		fail(m, "rename %s -> %s not visible", e->name, name);
	snprintf(e->name, sizeof(e->name), "%s", name);
}

static void expect_err(struct model *m, int r, int want, const char *what)
{
	if (r != want)
		fail(m, "%s = %d, want %d", what, r, want);
}

/* Error paths: -EROFS, -ERANGE, -EINVAL, -EEXIST, -ENOENT.  None may change
 * any content (later reads check). */
static void op_errors(struct model *m)
{
	struct ent *s = pick(m, 2), *v = writable(m);
	uint64_t id;

	TRACE(m, "error paths");
	if (s) {
		uint64_t off = rnd(m, s->size / s->bs) * s->bs;

		expect_err(m, vol_write(m->p, s->id, off, s->bs, m->buf, 0), -EROFS,
			   "write to snapshot");
		expect_err(m, vol_unmap(m->p, s->id, off, s->bs), -EROFS, "unmap of snapshot");
		if (v)
			expect_err(m, vol_snapshot(m->p, v->id, s->name, &id), -EEXIST,
				   "snapshot with a taken name");
	}
	if (!v)
		return;
	expect_err(m, vol_write(m->p, v->id, v->size, v->bs, m->buf, 0), -ERANGE, "write at end");
	expect_err(m, vol_write(m->p, v->id, v->size - v->bs, 2 * v->bs, m->buf, 0), -ERANGE,
		   "write across end");
	expect_err(m, vol_read(m->p, v->id, v->size - v->bs, 2 * v->bs, m->buf2), -ERANGE,
		   "read across end");
	expect_err(m, vol_unmap(m->p, v->id, v->size, v->bs), -ERANGE, "unmap at end");
	expect_err(m, vol_write(m->p, v->id, v->bs / 2, v->bs, m->buf, 0), -EINVAL,
		   "unaligned write");
	expect_err(m, vol_read(m->p, v->id, 0, v->bs + v->bs / 2, m->buf2), -EINVAL,
		   "unaligned read");
	expect_err(m, vol_create(m->p, v->name, 1 << 20, 512, &id), -EEXIST,
		   "create with a taken name");
	expect_err(m, vol_clone(m->p, v->id, v->name, &id), -EEXIST, "clone with a taken name");
	expect_err(m, vol_create(m->p, "bad-bs", 1 << 20, 1024, &id), -EINVAL,
		   "create with block size 1024");
	expect_err(m, vol_create(m->p, "zero", 0, 512, &id), -EINVAL, "create with size 0");
	expect_err(m, vol_create(m->p, "", 1 << 20, 512, &id), -EINVAL, "create with empty name");
	expect_err(m, vol_resize(m->p, v->id, 0), -EINVAL, "resize to 0");
	expect_err(m, vol_read(m->p, 1ull << 60, 0, 512, m->buf2), -ENOENT, "read of no volume");
	expect_err(m, vol_delete(m->p, 1ull << 60), -ENOENT, "delete of no volume");
	expect_err(m, vol_lookup(m->p, "no-such-volume", &id), -ENOENT, "lookup of no name");
}

static void live_check(struct model *m)
{
	struct pool_stat st;
	int r = pool_check_live(m->p, tu_report, "pool_check_live");

	if (r)
		fail(m, "pool_check_live = %d", r);
	if (pool_stat(m->p, &st) || st.chunk_size != m->chunk || st.free_chunks > st.data_chunks ||
	    st.nr_volumes != nr_used(m))
		fail(m, "pool_stat: chunk %u free %llu of %llu, %u volumes (model %u)",
		     st.chunk_size, (unsigned long long)st.free_chunks,
		     (unsigned long long)st.data_chunks, st.nr_volumes, nr_used(m));
}

static void reopen(struct model *m)
{
	struct vol_info before[MAX_ENT], vi;
	struct pool_open_opts oo = {0};
	int r;

	TRACE(m, "close + check + reopen");
	for (unsigned i = 0; i < m->max_ent; i++)
		if (m->ent[i].used && vol_info(m->p, m->ent[i].id, &before[i]))
			fail(m, "vol_info %s before reopen", m->ent[i].name);
	if ((r = pool_close(m->p)))
		fail(m, "pool_close = %d", r);
	m->p = NULL;
	if ((r = pool_check(m->dev, tu_report, "pool_check")))
		fail(m, "pool_check after close = %d", r);
	/* A commit timer never changes what the model sees; not on the tiny
	 * pool, where frees at commit decide -ENOSPC and replays must match. */
	if (!m->tiny && chance(m, 1, 3))
		oo.commit_interval_ms = between(m, 1, 20);
	m->timer = oo.commit_interval_ms != 0;
	if ((r = pool_open(m->dev, &oo, &m->p)))
		fail(m, "pool_open = %d", r);
	m->reopens++;
	for (unsigned i = 0; i < m->max_ent; i++) {
		struct ent *e = &m->ent[i];
		uint64_t id;

		if (!e->used)
			continue;
		if ((r = vol_lookup(m->p, e->name, &id)) || id != e->id)
			fail(m, "after reopen: lookup %s = %d", e->name, r);
		if ((r = vol_info(m->p, e->id, &vi)) || memcmp(vi.uuid, before[i].uuid, 16) ||
		    vi.parent != before[i].parent || vi.created_ns != before[i].created_ns ||
		    vi.group != before[i].group || vi.size != before[i].size ||
		    vi.kind != before[i].kind || vi.allocated != before[i].allocated ||
		    strcmp(vi.name, before[i].name))
			fail(m, "after reopen: vol_info %s changed (r=%d)", e->name, r);
	}
	check_all(m, "after reopen");
}

/* Did one of the logged writes/unmaps leave block at off of e as got? */
static int logged(struct ent *e, uint64_t off, const uint8_t *got, unsigned n,
		  struct ent *const *log_e, const uint64_t *log_off, const uint64_t *log_len,
		  uint8_t *const *log)
{
	for (unsigned k = 0; k < n; k++)
		if (log_e[k] == e && off >= log_off[k] && off < log_off[k] + log_len[k] &&
		    !memcmp(got, log[k] + (off - log_off[k]), e->bs))
			return 1;
	return 0;
}

/*
 * Simulated power loss: commit, run a few writes and unmaps, then open a
 * copy of the RAM image as it is now, without a commit.  The copy must pass
 * pool_check() and every block must hold its contents at the commit or one
 * it had after a later write/unmap (the RAM bdev has no volatile cache, so
 * nothing older); snapshots and blocks not written since must be exact.
 */
static void op_crash(struct model *m)
{
	uint8_t *saved[MAX_ENT] = {0}, *log[40];
	struct ent *log_e[40];
	uint64_t log_off[40], log_len[40];
	unsigned n = between(m, 2, 40);
	struct ent *pair[2];
	uint64_t poff = 0, plen = 0;
	struct bdev *copy;
	struct pool *q;
	int r;

	TRACE(m, "crash: commit, %u writes/unmaps, open a copy of the image", n);
	m->crashes++;
	op_commit(m);
	for (unsigned i = 0; i < m->max_ent; i++)
		if (m->ent[i].used) {
			saved[i] = malloc(m->ent[i].size);
			memcpy(saved[i], m->ent[i].data, m->ent[i].size);
		}
	pair[0] = pick(m, 1);
	pair[1] = pick(m, 1);
	/* Half the time start with the same range written in two volumes: if
	 * they share chunks at the commit, neither may overwrite them in place. */
	if (pair[0] && pair[0] != pair[1] && chance(m, 1, 2)) {
		struct ent *big = pair[0]->bs > pair[1]->bs ? pair[0] : pair[1];
		uint64_t min = pair[0]->size < pair[1]->size ? pair[0]->size : pair[1]->size;

		gen_range(m, big, &poff, &plen);
		plen = poff < min ? (min - poff < plen ? min - poff : plen) / big->bs * big->bs : 0;
	}
	for (unsigned k = 0; k < n; k++) {
		m->last_e = NULL;
		if (k < 2 && plen)
			do_write(m, pair[k], poff, plen);
		else if (chance(m, 4, 5))
			op_write(m);
		else
			op_unmap(m);
		/* what the range held after the op: an allowed value */
		log_e[k] = m->last_e;
		log_off[k] = m->last_off;
		log_len[k] = m->last_e ? m->last_len : 0;
		log[k] = malloc(log_len[k] + 1);
		if (log_e[k])
			memcpy(log[k], log_e[k]->data + log_off[k], log_len[k]);
	}
	if (!m->crash_dev && (r = bdev_mem_create(m->dev->size, &m->crash_dev)))
		fail(m, "bdev_mem_create = %d", r);
	copy = m->crash_dev;
	memcpy(bdev_mem_data(copy), bdev_mem_data(m->dev), m->dev->size);
	if ((r = pool_check(copy, tu_report, "pool_check (crash image)")))
		fail(m, "pool_check of the crash image = %d", r);
	if ((r = pool_open(copy, NULL, &q)))
		fail(m, "pool_open of the crash image = %d", r);
	for (unsigned i = 0; i < m->max_ent; i++) {
		struct ent *e = &m->ent[i];

		/* a volume made in between (op_write makes one if there is
		 * none) was committed empty */
		if (e->used && !saved[i])
			saved[i] = calloc(1, e->size);
		for (uint64_t o = 0; e->used && o < e->size; o += MAX_IO) {
			uint64_t len = e->size - o < MAX_IO ? e->size - o : MAX_IO;

			if ((r = vol_read(q, e->id, o, len, m->buf2)))
				fail(m, "crash image: vol_read %s = %d", e->name, r);
			for (uint64_t b = 0; b < len; b += e->bs) {
				const uint8_t *got = m->buf2 + b;

				/* sizes do not change in between: no resizes */
				if (!memcmp(got, e->data + o + b, e->bs) ||
				    !memcmp(got, saved[i] + o + b, e->bs) ||
				    logged(e, o + b, got, n, log_e, log_off, log_len, log))
					continue;
				fail(m,
				     "crash image: %s block at %llu holds neither its "
				     "committed contents nor a later one",
				     e->name, (unsigned long long)(o + b));
			}
		}
		free(saved[i]);
	}
	for (unsigned k = 0; k < n; k++)
		free(log[k]);
	if ((r = pool_close(q)))
		fail(m, "pool_close of the crash image = %d", r);
}

/* ---- epochs ------------------------------------------------------------- */

static void epoch_start(struct model *m, unsigned idx)
{
	static const uint32_t chunks[] = {4096, 16384, 65536};
	struct pool_create_opts co = {0};
	uint64_t size = NORMAL_POOL;
	struct pool_stat st;
	int r;

	m->chunk = chunks[rnd(m, 3)];
	m->timer = 0;
	m->tiny = idx % 3 == 1;
	m->epoch_enospc = 0;
	co.chunk_size = m->chunk;
	for (size = m->tiny ? 1ull << 20 : NORMAL_POOL;; size *= 2) {
		if ((r = bdev_mem_create(size, &m->dev)))
			fail(m, "bdev_mem_create(%llu) = %d", (unsigned long long)size, r);
		r = pool_create(m->dev, &co);
		if (r == 0 && (r = pool_open(m->dev, NULL, &m->p)))
			fail(m, "pool_open of new pool = %d", r);
		if (r == 0 && (r = pool_stat(m->p, &st)))
			fail(m, "pool_stat = %d", r);
		if (r == 0 && (!m->tiny || st.data_chunks >= 24))
			break;
		if (r == 0)
			pool_close(m->p);
		else if (r != -ENOSPC && r != -EINVAL)
			fail(m, "pool_create on %llu bytes = %d", (unsigned long long)size, r);
		bdev_destroy(m->dev);
		if (size > NORMAL_POOL)
			fail(m, "cannot create a pool of %llu bytes", (unsigned long long)size);
	}
	m->max_ent = m->tiny ? 6 : MAX_ENT;
	m->max_vol = MAX_VOL;
	if (m->tiny) /* a few volumes overcommit the pool */
		m->max_vol = roundup(st.data_chunks * m->chunk / 2, 4096);
	if (m->max_vol > MAX_VOL)
		m->max_vol = MAX_VOL;
	printf("model: epoch %u: op %llu, chunk %u, %s pool (%llu data chunks)\n", idx,
	       (unsigned long long)m->op, m->chunk, m->tiny ? "tiny" : "normal",
	       (unsigned long long)st.data_chunks);
	fflush(stdout);
}

/* full: the epoch ran its whole length (a short run may end one early) */
static void epoch_end(struct model *m, int full)
{
	int r;

	check_all(m, "epoch end");
	live_check(m);
	if (m->tiny && full && !m->epoch_enospc)
		fail(m, "tiny pool epoch never hit -ENOSPC");
	if ((r = pool_close(m->p)))
		fail(m, "pool_close = %d", r);
	m->p = NULL;
	if ((r = pool_check(m->dev, tu_report, "pool_check")))
		fail(m, "final pool_check = %d", r);
	bdev_destroy(m->dev);
	bdev_destroy(m->crash_dev);
	m->crash_dev = NULL;
	for (unsigned i = 0; i < MAX_ENT; i++)
		if (m->ent[i].used)
			ent_free(&m->ent[i]);
}

static void step(struct model *m)
{
	unsigned x = rnd(m, 1000), full = nr_used(m) >= m->max_ent;

	if (m->tiny && x < 40)
		op_fill(m);
	else if (x < 300)
		op_write(m);
	else if (x < 520)
		op_read(m);
	else if (x < 580)
		op_unmap(m);
	else if (x < 620)
		op_commit(m);
	else if (x < 640 || (full && x < 700))
		op_delete(m);
	else if (x < 670)
		op_create(m);
	else if (x < 700)
		op_snapshot(m);
	else if (x < 712)
		op_group(m);
	else if (x < 735)
		op_clone(m);
	else if (x < 750)
		op_revert(m);
	else if (x < 765)
		op_resize(m);
	else if (x < 820)
		op_diff(m);
	else if (x < 900)
		op_info(m);
	else if (x < 910)
		op_rename(m);
	else if (x < 920)
		op_errors(m);
	else
		op_write(m);
}

int main(int argc, char **argv)
{
	static struct model mod;
	struct model *m = &mod;
	uint64_t epoch_len, next_epoch = 0, reopen_every;
	unsigned epoch = 0;
	double t0 = tu_now();

	m->seed = tu_time_seed();
	m->ops = 100000;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc &&
		    !tu_parse_u64(argv[i + 1], &m->seed))
			i++;
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc &&
			 !tu_parse_u64(argv[i + 1], &m->ops))
			i++;
		else if (!strcmp(argv[i], "--trace"))
			m->trace = 1;
		else if (!strcmp(argv[i], "--paranoid"))
			m->paranoid = 1;
		else {
			fprintf(stderr, "usage: %s [--seed N] [--ops N] [--trace] [--paranoid]\n",
				argv[0]);
			return 2;
		}
	}
	printf("model: seed=%llu ops=%llu\n", (unsigned long long)m->seed,
	       (unsigned long long)m->ops);
	fflush(stdout);
	tu_rng_seed(&m->rng, m->seed);
	m->buf = malloc(MAX_IO);
	m->buf2 = malloc(MAX_IO);
	/* Fixed, so that a run's first N ops do not depend on --ops. */
	epoch_len = EPOCH_LEN;
	reopen_every = EPOCH_LEN / 4;
	for (m->op = 0; m->op < m->ops; m->op++) {
		if (m->op == next_epoch) {
			if (m->op)
				epoch_end(m, 1);
			epoch_start(m, epoch++);
			next_epoch += epoch_len;
		}
		step(m);
		for (unsigned i = 0; m->paranoid && i < m->max_ent; i++)
			if (m->ent[i].used)
				check_info(m, &m->ent[i]);
		if (m->op % LIVE_INTERVAL == LIVE_INTERVAL - 1)
			live_check(m);
		if (rnd(m, reopen_every) == 0)
			reopen(m);
		else if (!m->timer && rnd(m, CRASH_EVERY) == 0)
			op_crash(m);
	}
	if (m->p)
		epoch_end(m, m->ops % EPOCH_LEN == 0);
	printf("model: %u epochs, %lu reopens, %lu power losses, %lu diffs (%lu ranges), "
	       "%lu ENOSPC/EDQUOT, %.1f s\n",
	       epoch, m->reopens, m->crashes, m->diffs, m->ranges, m->enospc, tu_now() - t0);
	printf("%llu passed, 0 failed\n", (unsigned long long)m->ops);
	free(m->buf);
	free(m->buf2);
	return 0;
}
