/*
 * powerloss: simulated power loss for the pool engine (after SQLite's
 * test6.c and dm-log-writes).
 *
 * A seeded workload (writes with and without FUA, commits, snapshots,
 * consistency groups, unmaps, clones, deletes) runs on a pool whose device
 * is a RAM image under the recording bdev, so every device write and flush
 * lands in a log.  Crash states are then built from the log: a prefix ending
 * at a flush, plus any subset of the writes issued after it up to the crash
 * point, some torn at 512-byte sector boundaries.  Each state is checked
 * with pool_check, opened, and compared with what the durability contract
 * in pool.h promises for that crash point.
 *
 *   powerloss [--seed N] [--states N] [--ops N] [--only STATE] [--verbose]
 *
 * Every 512-byte sector the workload writes carries (write id, sector
 * index), so any sector read back names the write it came from.
 *
 * Positions: a pool call is bracketed by bdev_rec_count() at its call (p)
 * and at its return (c).  A crash at position t means log entries [0, t)
 * were issued; the call is then done if c <= t (its promises hold), not
 * started if p >= t (no trace of it may show), else in flight (either).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "testutil.h"

#define SECT	       512u
#define POOL_BYTES     (64ull << 20)
#define CHUNK	       (16u << 10)
#define MAX_IO	       (64u << 10)
#define MAX_VOL	       (4u << 20) /* largest object: read whole */
#define MAX_SNAPS      5
#define MAX_CLONES     2
#define DEFAULT_OPS    600
#define DEFAULT_STATES 2000
#define RW_EVERY       8 /* every Nth state opens writable */
#define TAG_MAGIC      0x5041474c534f4c50ull

/* ---- sector tags ------------------------------------------------------- */

static void tag_make(uint64_t *q, uint32_t w, uint32_t s)
{
	uint64_t key = (uint64_t)w << 32 | s;

	q[0] = TAG_MAGIC;
	q[1] = w;
	q[2] = s;
	for (unsigned i = 3; i < SECT / 8; i++)
		q[i] = tu_mix64(key * 64 + i);
}

/*
 * The write id a sector holds: 0 for zeros, else the tag's id.  Returns -1
 * for anything that is not an intact tag for sector s of some volume.
 */
static long tag_parse(const uint8_t *p, uint32_t s)
{
	uint64_t want[SECT / 8], hdr[3];

	if (tu_is_zero(p, SECT))
		return 0;
	memcpy(hdr, p, sizeof(hdr));
	if (hdr[0] != TAG_MAGIC || hdr[2] != s || hdr[1] == 0 || hdr[1] > UINT32_MAX)
		return -1;
	tag_make(want, (uint32_t)hdr[1], s);
	if (memcmp(p, want, SECT))
		return -1;
	return (long)hdr[1];
}

/* ---- the model --------------------------------------------------------- */

struct op {
	size_t p, c; /* log position at call and at return */
};

enum { OP_ABSENT, OP_INFLIGHT, OP_DONE };

static int op_state(const struct op *o, size_t t)
{
	if (o->c <= t)
		return OP_DONE;
	if (o->p >= t)
		return OP_ABSENT;
	return OP_INFLIGHT;
}

/* A write or unmap of sectors [s0, s0 + n) of one object. */
struct wop {
	uint32_t seq, obj, val; /* val: write id, 0 for unmap */
	uint32_t s0, n;
	int fua;
	struct op op;
};

/* A call that commits everything acknowledged before it. */
struct barrier {
	uint32_t seq;
	size_t c;
};

enum obj_kind { OBJ_VOL, OBJ_SNAP, OBJ_CLONE };

struct obj {
	char name[32];
	enum obj_kind kind;
	uint32_t bs, nsect;
	uint64_t size, id; /* id in the workload pool */
	uint32_t seq;	   /* seq of the creating call */
	struct op create;
	int deleted;
	struct op del;
	uint32_t group; /* consistency group + 1, or 0 */
	/* snapshot: exact content; clone: content at creation; NULL = zeros */
	uint32_t *init;
	uint32_t *cur;	/* writable: acknowledged content (workload only) */
	uint32_t *wops; /* indices into wl.wops, in seq order */
	size_t nwops, capwops;
};

struct wl {
	uint64_t seed;
	struct tu_rng rng;
	struct bdev *mem, *rec;
	struct pool *p;
	uint32_t seq, next_wid, ngroups;
	struct obj *objs;
	size_t nobj, capobj;
	struct wop *wops;
	size_t nwop, capwop;
	uint32_t *wid_wop; /* write id -> index in wops */
	size_t capwid;
	struct barrier *bars;
	size_t nbar, capbar;
	uint8_t *buf;
	int verbose;
};

static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	size_t cap2;
	void *n;

	if (need <= *cap)
		return arr;
	cap2 = *cap ? *cap : 16;
	while (cap2 < need)
		cap2 *= 2;
	n = realloc(arr, cap2 * elem);
	if (!n) {
		fprintf(stderr, "powerloss: out of memory\n");
		exit(2);
	}
	*cap = cap2;
	return n;
}

static uint32_t *vals_dup(const uint32_t *v, uint32_t n)
{
	uint32_t *d = calloc(n ? n : 1, sizeof(*d));

	if (!d) {
		fprintf(stderr, "powerloss: out of memory\n");
		exit(2);
	}
	if (v)
		memcpy(d, v, n * sizeof(*d));
	return d;
}

static struct obj *obj_new(struct wl *wl, enum obj_kind kind, uint64_t size, uint32_t bs)
{
	static const char *const prefix[] = {"vol", "snap", "clone"};
	struct obj *o;

	wl->objs = grow(wl->objs, &wl->capobj, wl->nobj + 1, sizeof(*wl->objs));
	o = &wl->objs[wl->nobj];
	memset(o, 0, sizeof(*o));
	/* The number in the name is the model index: lookups are a parse. */
	snprintf(o->name, sizeof(o->name), "%s%zu", prefix[kind], wl->nobj);
	o->kind = kind;
	o->size = size;
	o->bs = bs;
	o->nsect = (uint32_t)(size / SECT);
	wl->nobj++;
	return o;
}

static struct obj *obj_by_name(struct wl *wl, const char *name)
{
	const char *d = name;
	char *end;
	unsigned long i;

	while (*d && (*d < '0' || *d > '9'))
		d++;
	if (!*d)
		return NULL;
	i = strtoul(d, &end, 10);
	if (*end || i >= wl->nobj || strcmp(wl->objs[i].name, name))
		return NULL;
	return &wl->objs[i];
}

static void add_barrier(struct wl *wl, uint32_t seq, size_t c)
{
	wl->bars = grow(wl->bars, &wl->capbar, wl->nbar + 1, sizeof(*wl->bars));
	wl->bars[wl->nbar++] = (struct barrier){.seq = seq, .c = c};
}

/* ---- the workload ------------------------------------------------------ */

static int fail_call(struct wl *wl, const char *what, int rc)
{
	fprintf(stderr, "powerloss: seed=%llu op %u: %s failed: %s\n", (unsigned long long)wl->seed,
		wl->seq, what, strerror(-rc));
	return rc;
}

static size_t pos(struct wl *wl)
{
	return bdev_rec_count(wl->rec);
}

/* Pick a live object of one of the kinds in mask (1 << kind); NULL if none. */
static struct obj *pick(struct wl *wl, unsigned mask)
{
	size_t n = 0, k;

	for (size_t i = 0; i < wl->nobj; i++)
		if (!wl->objs[i].deleted && (mask >> wl->objs[i].kind & 1))
			n++;
	if (!n)
		return NULL;
	k = tu_rng_below(&wl->rng, n);
	for (size_t i = 0; i < wl->nobj; i++)
		if (!wl->objs[i].deleted && (mask >> wl->objs[i].kind & 1) && k-- == 0)
			return &wl->objs[i];
	return NULL;
}

static unsigned live(struct wl *wl, enum obj_kind kind)
{
	unsigned n = 0;

	for (size_t i = 0; i < wl->nobj; i++)
		n += !wl->objs[i].deleted && wl->objs[i].kind == kind;
	return n;
}

#define WRITABLE (1u << OBJ_VOL | 1u << OBJ_CLONE)
#define ANY	 (WRITABLE | 1u << OBJ_SNAP)

/* A random block-aligned range of o: up to MAX_IO, often crossing chunks. */
static void pick_range(struct wl *wl, struct obj *o, uint64_t *off, uint64_t *len)
{
	uint64_t blocks = o->size / o->bs;
	uint64_t n = tu_rng_between(&wl->rng, 1, MAX_IO / o->bs);

	if (tu_rng_chance(&wl->rng, 1, 4))
		n = tu_rng_between(&wl->rng, 1, 4);
	if (n > blocks)
		n = blocks;
	*off = tu_rng_below(&wl->rng, blocks - n + 1) * o->bs;
	*len = n * o->bs;
}

static struct wop *add_wop(struct wl *wl, struct obj *o, uint32_t val, uint64_t off, uint64_t len,
			   int fua, struct op op)
{
	struct wop *w;
	size_t idx = wl->nwop;

	wl->wops = grow(wl->wops, &wl->capwop, wl->nwop + 1, sizeof(*wl->wops));
	w = &wl->wops[wl->nwop++];
	*w = (struct wop){.seq = wl->seq,
			  .obj = (uint32_t)(o - wl->objs),
			  .val = val,
			  .s0 = (uint32_t)(off / SECT),
			  .n = (uint32_t)(len / SECT),
			  .fua = fua,
			  .op = op};
	o->wops = grow(o->wops, &o->capwops, o->nwops + 1, sizeof(*o->wops));
	o->wops[o->nwops++] = (uint32_t)idx;
	for (uint32_t s = w->s0; s < w->s0 + w->n; s++)
		o->cur[s] = val;
	return w;
}

static int do_write(struct wl *wl)
{
	struct obj *o = pick(wl, WRITABLE);
	uint64_t off, len;
	int fua = tu_rng_chance(&wl->rng, 1, 5);
	uint32_t wid = wl->next_wid++;
	struct op op;
	int rc;

	pick_range(wl, o, &off, &len);
	for (uint64_t i = 0; i < len / SECT; i++) {
		uint64_t q[SECT / 8];

		tag_make(q, wid, (uint32_t)(off / SECT + i));
		memcpy(wl->buf + i * SECT, q, SECT);
	}
	op.p = pos(wl);
	rc = vol_write(wl->p, o->id, off, len, wl->buf, fua ? POOL_FUA : 0);
	op.c = pos(wl);
	if (rc)
		return fail_call(wl, "vol_write", rc);
	wl->wid_wop = grow(wl->wid_wop, &wl->capwid, wid + 1, sizeof(*wl->wid_wop));
	wl->wid_wop[wid] = (uint32_t)wl->nwop;
	add_wop(wl, o, wid, off, len, fua, op);
	return 0;
}

static int do_unmap(struct wl *wl)
{
	struct obj *o = pick(wl, WRITABLE);
	uint64_t off, len;
	struct op op;
	int rc;

	pick_range(wl, o, &off, &len);
	op.p = pos(wl);
	rc = vol_unmap(wl->p, o->id, off, len);
	op.c = pos(wl);
	if (rc)
		return fail_call(wl, "vol_unmap", rc);
	add_wop(wl, o, 0, off, len, 0, op);
	return 0;
}

static int do_commit(struct wl *wl)
{
	int rc = pool_commit(wl->p);

	if (rc)
		return fail_call(wl, "pool_commit", rc);
	add_barrier(wl, wl->seq, pos(wl));
	return 0;
}

static struct obj *new_snap(struct wl *wl, struct obj *origin, struct op op, uint32_t group)
{
	size_t oi = (size_t)(origin - wl->objs);
	struct obj *s = obj_new(wl, OBJ_SNAP, origin->size, origin->bs);

	origin = &wl->objs[oi]; /* obj_new may move the array */
	s->init = vals_dup(origin->cur, origin->nsect);
	s->seq = wl->seq;
	s->create = op;
	s->group = group;
	return s;
}

static int do_snapshot(struct wl *wl)
{
	struct obj *o = pick(wl, WRITABLE), *s;
	char name[32];
	struct op op;
	uint64_t id;
	int rc;

	snprintf(name, sizeof(name), "snap%zu", wl->nobj);
	op.p = pos(wl);
	rc = vol_snapshot(wl->p, o->id, name, &id);
	op.c = pos(wl);
	if (rc)
		return fail_call(wl, "vol_snapshot", rc);
	s = new_snap(wl, o, op, 0);
	s->id = id;
	add_barrier(wl, wl->seq, op.c);
	return 0;
}

static int do_group(struct wl *wl)
{
	uint64_t vols[3], ids[3];
	size_t idx[3];
	char names[3][32];
	const char *np[3];
	unsigned n = 0, want = (unsigned)tu_rng_between(&wl->rng, 2, 3);
	struct op op;
	int rc;

	for (unsigned tries = 0; tries < 20 && n < want; tries++) {
		struct obj *o = pick(wl, WRITABLE);
		int dup = 0;

		for (unsigned i = 0; i < n; i++)
			dup |= vols[i] == o->id;
		if (dup)
			continue;
		idx[n] = (size_t)(o - wl->objs);
		vols[n] = o->id;
		snprintf(names[n], sizeof(names[n]), "snap%zu", wl->nobj + n);
		np[n] = names[n];
		n++;
	}
	op.p = pos(wl);
	rc = vol_snapshot_group(wl->p, n, vols, np, ids);
	op.c = pos(wl);
	if (rc)
		return fail_call(wl, "vol_snapshot_group", rc);
	wl->ngroups++;
	for (unsigned i = 0; i < n; i++) {
		struct obj *s = new_snap(wl, &wl->objs[idx[i]], op, wl->ngroups);

		s->id = ids[i];
	}
	add_barrier(wl, wl->seq, op.c);
	return 0;
}

static int do_clone(struct wl *wl)
{
	/* Mostly snapshots; sometimes a volume's current state. */
	struct obj *src = pick(wl, tu_rng_chance(&wl->rng, 1, 3) ? WRITABLE : 1u << OBJ_SNAP);
	struct obj *c;
	size_t si;
	char name[32];
	struct op op;
	uint64_t id;
	int rc;

	if (!src)
		src = pick(wl, WRITABLE);
	si = (size_t)(src - wl->objs);
	snprintf(name, sizeof(name), "clone%zu", wl->nobj);
	op.p = pos(wl);
	rc = vol_clone(wl->p, src->id, name, &id);
	op.c = pos(wl);
	if (rc)
		return fail_call(wl, "vol_clone", rc);
	c = obj_new(wl, OBJ_CLONE, src->size, src->bs);
	src = &wl->objs[si];
	c->init = vals_dup(src->kind == OBJ_SNAP ? src->init : src->cur, src->nsect);
	c->cur = vals_dup(c->init, c->nsect);
	c->id = id;
	c->seq = wl->seq;
	c->create = op;
	add_barrier(wl, wl->seq, op.c);
	return 0;
}

static int do_delete(struct wl *wl, unsigned mask)
{
	struct obj *o = pick(wl, mask);
	struct op op;
	int rc;

	if (!o)
		return 0;
	op.p = pos(wl);
	rc = vol_delete(wl->p, o->id);
	op.c = pos(wl);
	if (rc)
		return fail_call(wl, "vol_delete", rc);
	o->deleted = 1;
	o->del = op;
	add_barrier(wl, wl->seq, op.c);
	return 0;
}

/* Live read-back: the running pool must match the model exactly. */
static int do_readback(struct wl *wl)
{
	struct obj *o = pick(wl, ANY);
	const uint32_t *v = o->kind == OBJ_SNAP ? o->init : o->cur;
	int rc = vol_read(wl->p, o->id, 0, o->size, wl->buf);

	if (rc)
		return fail_call(wl, "vol_read", rc);
	for (uint32_t s = 0; s < o->nsect; s++) {
		long got = tag_parse(wl->buf + (size_t)s * SECT, s);

		if (got != (long)v[s]) {
			fprintf(
			    stderr,
			    "powerloss: seed=%llu op %u: live read of %s sector %u: got %ld want "
			    "%u\n",
			    (unsigned long long)wl->seed, wl->seq, o->name, s, got, v[s]);
			return -EIO;
		}
	}
	return 0;
}

static int run_op(struct wl *wl)
{
	unsigned r = (unsigned)tu_rng_below(&wl->rng, 100);

	wl->seq++;
	if (r < 55)
		return do_write(wl);
	if (r < 63)
		return do_unmap(wl);
	if (r < 71)
		return do_commit(wl);
	if (r < 77)
		return live(wl, OBJ_SNAP) >= MAX_SNAPS ? do_delete(wl, 1u << OBJ_SNAP)
						       : do_snapshot(wl);
	if (r < 80)
		return live(wl, OBJ_SNAP) + 3 > MAX_SNAPS ? do_delete(wl, 1u << OBJ_SNAP)
							  : do_group(wl);
	if (r < 83)
		return live(wl, OBJ_CLONE) >= MAX_CLONES ? do_delete(wl, 1u << OBJ_CLONE)
							 : do_clone(wl);
	if (r < 90)
		return do_delete(wl, 1u << OBJ_SNAP);
	if (r < 92)
		return do_delete(wl, 1u << OBJ_CLONE);
	return do_readback(wl);
}

static const struct {
	uint64_t size;
	uint32_t bs;
} base_vols[] = {
    {2u << 20, 4096},
    {1u << 20, 512},
    {3u << 20, 4096},
};

/*
 * Build the base image (an empty pool with the base volumes, all durable),
 * then run the recorded workload.  Returns 0 or the failing call's error.
 */
static int run_workload(struct wl *wl, unsigned ops, uint8_t **base)
{
	struct pool_create_opts co = {.chunk_size = CHUNK};
	struct pool_open_opts oo = {.cache_bytes = 8u << 20};
	int rc;

	rc = pool_create(wl->rec, &co);
	if (rc)
		return fail_call(wl, "pool_create", rc);
	rc = pool_open(wl->rec, &oo, &wl->p);
	if (rc)
		return fail_call(wl, "pool_open", rc);
	for (size_t i = 0; i < sizeof(base_vols) / sizeof(base_vols[0]); i++) {
		struct obj *o = obj_new(wl, OBJ_VOL, base_vols[i].size, base_vols[i].bs);

		o->cur = vals_dup(NULL, o->nsect);
		rc = vol_create(wl->p, o->name, o->size, o->bs, &o->id);
		if (rc)
			return fail_call(wl, "vol_create", rc);
	}
	rc = pool_commit(wl->p);
	if (rc)
		return fail_call(wl, "pool_commit", rc);

	/* Everything so far is durable: positions 0 from here on. */
	*base = malloc(POOL_BYTES);
	if (!*base)
		return -ENOMEM;
	memcpy(*base, bdev_mem_data(wl->mem), POOL_BYTES);
	bdev_rec_reset(wl->rec);

	for (unsigned i = 0; i < ops; i++) {
		rc = run_op(wl);
		if (rc)
			return rc;
		if (i % 200 == 199) {
			rc = pool_check_live(wl->p, tu_report, "powerloss live");
			if (rc)
				return fail_call(wl, "pool_check_live", rc > 0 ? -EUCLEAN : rc);
		}
	}
	/* Close commits: the last barrier. */
	wl->seq++;
	rc = pool_close(wl->p);
	wl->p = NULL;
	if (rc)
		return fail_call(wl, "pool_close", rc);
	add_barrier(wl, wl->seq, pos(wl));
	return 0;
}

/* ---- a crash image ----------------------------------------------------- */

/*
 * The device a crash state is opened on: reads and writes go to img, and
 * every range written is remembered so it can be restored from the
 * reference image afterwards (copying 64 MiB per state would dominate the
 * run).  Discards are ignored, which the bdev contract allows.
 */
struct range {
	uint64_t off, len;
};

struct track {
	struct bdev bd;
	uint8_t *img;
	struct range *r;
	size_t nr, capr;
};

static int tr_pread(struct bdev *bd, void *buf, size_t len, uint64_t off)
{
	struct track *t = bd->priv;

	if (off > bd->size || len > bd->size - off)
		return -ERANGE;
	memcpy(buf, t->img + off, len);
	return 0;
}

static void tr_mark(struct track *t, uint64_t off, uint64_t len)
{
	t->r = grow(t->r, &t->capr, t->nr + 1, sizeof(*t->r));
	t->r[t->nr++] = (struct range){off, len};
}

static int tr_pwrite(struct bdev *bd, const void *buf, size_t len, uint64_t off)
{
	struct track *t = bd->priv;

	if (off > bd->size || len > bd->size - off)
		return -ERANGE;
	tr_mark(t, off, len);
	memcpy(t->img + off, buf, len);
	return 0;
}

static int tr_flush(struct bdev *bd)
{
	return 0;
}

static void tr_destroy(struct bdev *bd)
{
}

static const struct bdev_ops track_ops = {
    .pread = tr_pread,
    .pwrite = tr_pwrite,
    .flush = tr_flush,
    .destroy = tr_destroy,
};

/* ---- checking one crash state ------------------------------------------ */

struct state {
	uint32_t pt; /* index into points */
	size_t t;    /* crash position */
	int rw;
};

struct checker {
	struct wl *wl;
	size_t t;
	uint32_t B; /* writes with seq < B are durable */
	unsigned faults;
	int quiet;
	char where[96];
	uint32_t *dval, *dseq, *zseq;
	uint8_t *buf;
	uint8_t *seen;
};

static void fault(struct checker *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fault(struct checker *ck, const char *fmt, ...)
{
	va_list ap;

	ck->faults++;
	/* Details for the first few failing states only: one engine bug
	 * tends to fail hundreds of them the same way. */
	if (ck->faults > 10 || ck->quiet)
		return;
	fprintf(stderr, "powerloss: %s: ", ck->where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void check_report(const char *msg, void *ctx)
{
	struct checker *ck = ctx;

	if (!ck->quiet)
		fprintf(stderr, "powerloss: %s: pool_check: %s\n", ck->where, msg);
}

/* Read a whole object from the crash pool into ck->buf. */
static int read_obj(struct checker *ck, struct pool *p, uint64_t id, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += 256u << 10) {
		uint64_t n = size - off < (256u << 10) ? size - off : 256u << 10;
		int rc = vol_read(p, id, off, n, ck->buf + off);

		if (rc)
			return rc;
	}
	return 0;
}

static void check_snap(struct checker *ck, const struct obj *o)
{
	for (uint32_t s = 0; s < o->nsect; s++) {
		long got = tag_parse(ck->buf + (size_t)s * SECT, s);

		if (got != (long)o->init[s]) {
			fault(ck, "%s sector %u: got write %ld, snapshot holds %u", o->name, s, got,
			      o->init[s]);
			return;
		}
	}
}

/* --verbose: the history of one sector, to tell an engine bug from a
 * model bug. */
static void dump_sector(struct checker *ck, const struct obj *o, uint32_t s)
{
	struct wl *wl = ck->wl;

	if (!wl->verbose || ck->quiet)
		return;
	fprintf(stderr, "  %s sector %u: created seq %u; durable barrier seq %u; crash at %zu\n",
		o->name, s, o->seq, ck->B, ck->t);
	for (size_t i = 0; i < o->nwops; i++) {
		const struct wop *w = &wl->wops[o->wops[i]];

		if (s < w->s0 || s >= w->s0 + w->n)
			continue;
		fprintf(stderr, "    seq %u %s %u%s, log %zu..%zu\n", w->seq,
			w->val ? "write" : "unmap", w->val, w->fua ? " FUA" : "", w->op.p, w->op.c);
	}
}

/*
 * A writable object: per sector, the last durable value (dval, from the
 * write with seq dseq) or anything written to that sector after it; zeros
 * only if an unmap came after it (zseq).
 */
static void check_vol(struct checker *ck, const struct obj *o)
{
	struct wl *wl = ck->wl;
	uint32_t oi = (uint32_t)(o - wl->objs);

	for (uint32_t s = 0; s < o->nsect; s++) {
		ck->dval[s] = o->init ? o->init[s] : 0;
		ck->dseq[s] = o->seq;
		ck->zseq[s] = 0;
	}
	for (size_t i = 0; i < o->nwops; i++) {
		const struct wop *w = &wl->wops[o->wops[i]];
		int durable = w->seq < ck->B || (w->fua && w->op.c <= ck->t);

		for (uint32_t s = w->s0; s < w->s0 + w->n; s++) {
			if (durable) {
				ck->dval[s] = w->val;
				ck->dseq[s] = w->seq;
			} else if (!w->val) {
				ck->zseq[s] = w->seq;
			}
		}
	}
	for (uint32_t s = 0; s < o->nsect; s++) {
		long got = tag_parse(ck->buf + (size_t)s * SECT, s);
		const struct wop *w;

		if (got == (long)ck->dval[s])
			continue;
		if (got < 0) {
			fault(ck, "%s sector %u: not an intact tag (durable write %u)", o->name, s,
			      ck->dval[s]);
			dump_sector(ck, o, s);
			return;
		}
		if (got == 0) {
			if (ck->zseq[s] > ck->dseq[s])
				continue;
			fault(ck, "%s sector %u: zeros, durable write %u lost", o->name, s,
			      ck->dval[s]);
			dump_sector(ck, o, s);
			return;
		}
		w = (uint32_t)got < wl->next_wid ? &wl->wops[wl->wid_wop[got]] : NULL;
		if (w && w->obj == oi && s >= w->s0 && s < w->s0 + w->n && w->seq > ck->dseq[s] &&
		    w->op.p < ck->t)
			continue;
		if (w)
			fault(ck,
			      "%s sector %u: write %ld (%s: %u sectors at %u, log %zu..%zu), want "
			      "durable write %u or a later one",
			      o->name, s, got, wl->objs[w->obj].name, w->n, w->s0, w->op.p, w->op.c,
			      ck->dval[s]);
		else
			fault(ck, "%s sector %u: write %ld, want durable write %u or a later one",
			      o->name, s, got, ck->dval[s]);
		dump_sector(ck, o, s);
		return;
	}
}

struct listing {
	struct vol_info *v;
	size_t n, cap;
};

static int list_fn(const struct vol_info *info, void *ctx)
{
	struct listing *l = ctx;

	l->v = grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = *info;
	return 0;
}

static void check_objects(struct checker *ck, struct pool *p)
{
	struct wl *wl = ck->wl;
	struct listing l = {0};
	int rc = vol_iterate(p, list_fn, &l);

	memset(ck->seen, 0, wl->nobj);
	if (rc) {
		fault(ck, "vol_iterate: %s", strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct vol_info *vi = &l.v[i];
		struct obj *o = obj_by_name(wl, vi->name);
		enum vol_kind kind;

		if (!o) {
			fault(ck, "unknown volume '%s'", vi->name);
			continue;
		}
		ck->seen[o - wl->objs] = 1;
		if (op_state(&o->create, ck->t) == OP_ABSENT) {
			fault(ck, "%s exists before its creation was issued", o->name);
			continue;
		}
		if (o->deleted && op_state(&o->del, ck->t) == OP_DONE) {
			fault(ck, "%s exists after its delete returned", o->name);
			continue;
		}
		kind = o->kind == OBJ_SNAP ? VOL_SNAPSHOT : VOL_VOLUME;
		if (vi->kind != kind || vi->size != o->size || vi->block_size != o->bs) {
			fault(ck, "%s: kind %d size %llu bs %u, want %d %llu %u", o->name, vi->kind,
			      (unsigned long long)vi->size, vi->block_size, kind,
			      (unsigned long long)o->size, o->bs);
			continue;
		}
		rc = read_obj(ck, p, vi->id, o->size);
		if (rc) {
			fault(ck, "%s: vol_read: %s", o->name, strerror(-rc));
			continue;
		}
		if (o->kind == OBJ_SNAP)
			check_snap(ck, o);
		else
			check_vol(ck, o);
	}
	for (size_t i = 0; i < wl->nobj; i++) {
		struct obj *o = &wl->objs[i];

		if (!ck->seen[i] && op_state(&o->create, ck->t) == OP_DONE &&
		    !(o->deleted && op_state(&o->del, ck->t) != OP_ABSENT))
			fault(ck, "%s is missing (created, not deleted)", o->name);
	}
	/* A consistency group appears whole or not at all (members whose
	 * delete had begun are left out). */
	for (uint32_t g = 1; g <= wl->ngroups; g++) {
		int any = 0, all = 1, members = 0;

		for (size_t i = 0; i < wl->nobj; i++) {
			struct obj *o = &wl->objs[i];

			if (o->group != g || (o->deleted && op_state(&o->del, ck->t) != OP_ABSENT))
				continue;
			members++;
			any |= ck->seen[i];
			all &= ck->seen[i];
		}
		if (members && any && !all)
			fault(ck, "consistency group %u is partly present", g);
	}
out:
	free(l.v);
}

/* After a writable open: the pool must take a write and a commit, then
 * still check clean. */
static void exercise_rw(struct checker *ck, struct pool *p, struct bdev *dev)
{
	struct wl *wl = ck->wl;
	uint64_t id;
	int rc;

	for (size_t i = 0; i < wl->nobj; i++) {
		struct obj *o = &wl->objs[i];

		if (o->kind == OBJ_SNAP || !ck->seen[i])
			continue;
		rc = vol_lookup(p, o->name, &id);
		if (!rc)
			rc = vol_write(p, id, 0, o->bs, ck->buf, 0);
		if (!rc)
			rc = pool_commit(p);
		if (rc)
			fault(ck, "write+commit after recovery on %s: %s", o->name, strerror(-rc));
		break;
	}
	rc = pool_close(p);
	if (rc) {
		fault(ck, "pool_close after recovery: %s", strerror(-rc));
		return;
	}
	rc = pool_check(dev, check_report, ck);
	if (rc)
		fault(ck, "pool_check after recovery: %d", rc);
}

static unsigned check_state(struct checker *ck, struct bdev *dev, int rw)
{
	struct pool_open_opts oo = {.cache_bytes = 8u << 20, .read_only = !rw};
	struct pool *p;
	int rc;

	ck->faults = 0;
	ck->B = 0;
	for (size_t i = 0; i < ck->wl->nbar; i++)
		if (ck->wl->bars[i].c <= ck->t)
			ck->B = ck->wl->bars[i].seq;

	rc = pool_check(dev, check_report, ck);
	if (rc)
		fault(ck, "pool_check returned %d", rc);
	rc = pool_open(dev, &oo, &p);
	if (rc) {
		fault(ck, "pool_open: %s", strerror(-rc));
		return ck->faults;
	}
	check_objects(ck, p);
	if (rw) {
		exercise_rw(ck, p, dev);
	} else {
		rc = pool_close(p);
		if (rc)
			fault(ck, "pool_close (read-only): %s", strerror(-rc));
	}
	return ck->faults;
}

/* ---- building crash states --------------------------------------------- */

struct point {
	long f;	     /* flush entry index, -1 for the start of the log */
	size_t wend; /* next flush index, or the log length */
	int has_writes;
};

static void apply(uint8_t *img, const struct rec_entry *e)
{
	memcpy(img + e->off, e->data, e->len);
}

/*
 * Apply a random subset of the writes in (f, t) to the track image; each
 * chosen write may be torn, keeping only some of its 512-byte sectors.
 */
static void build_state(struct wl *wl, struct track *tr, long f, size_t t, struct tu_rng *r)
{
	unsigned mode = (unsigned)tu_rng_below(r, 8);
	unsigned keep = (unsigned)tu_rng_between(r, 1, 3); /* of 4 */

	for (size_t j = (size_t)(f + 1); j < t; j++) {
		const struct rec_entry *e = bdev_rec_entry(wl->rec, j);

		if (e->kind != REC_WRITE)
			continue;
		if (mode == 0 || (mode > 1 && !tu_rng_chance(r, keep, 4)))
			continue; /* mode 0: none; mode 1: all, whole */
		tr_mark(tr, e->off, e->len);
		if (mode < 4 || !tu_rng_chance(r, 1, 4)) {
			apply(tr->img, e);
			continue;
		}
		/* Torn: sector by sector, on absolute 512-byte boundaries. */
		for (uint64_t o = e->off; o < e->off + e->len;) {
			uint64_t end = (o / SECT + 1) * SECT;

			if (end > e->off + e->len)
				end = e->off + e->len;
			if (tu_rng_chance(r, 1, 2))
				memcpy(tr->img + o, e->data + (o - e->off), end - o);
			o = end;
		}
	}
}

struct plan {
	struct point *pts;
	size_t npts;
	struct state *st;
	size_t nst;
};

static uint64_t state_seed(uint64_t seed, size_t i)
{
	return tu_mix64(seed ^ tu_mix64(i + 0x51));
}

/* Crash points, and the states spread over them: one per point, the rest
 * round-robin over points that have writes to choose from. */
static void make_plan(struct wl *wl, size_t want, struct plan *pl)
{
	size_t n = bdev_rec_count(wl->rec), cap = 0, capst = 0, k = 0, with = 0;

	pl->pts = NULL;
	pl->npts = 0;
	for (long j = -1; j < (long)n; j++) {
		if (j >= 0 && bdev_rec_entry(wl->rec, (size_t)j)->kind != REC_FLUSH)
			continue;
		pl->pts = grow(pl->pts, &cap, pl->npts + 1, sizeof(*pl->pts));
		pl->pts[pl->npts++] = (struct point){.f = j, .wend = n};
		if (pl->npts > 1)
			pl->pts[pl->npts - 2].wend = (size_t)j;
	}
	for (size_t i = 0; i < pl->npts; i++) {
		struct point *pt = &pl->pts[i];

		for (size_t j = (size_t)(pt->f + 1); j < pt->wend && !pt->has_writes; j++)
			pt->has_writes = bdev_rec_entry(wl->rec, j)->kind == REC_WRITE;
		with += pt->has_writes;
	}
	/* counts per point, then states in point order */
	size_t *cnt = calloc(pl->npts, sizeof(*cnt));
	size_t total = 0;

	if (!cnt) {
		fprintf(stderr, "powerloss: out of memory\n");
		exit(2);
	}
	for (size_t i = 0; i < pl->npts; i++, total++)
		cnt[i] = 1;
	while (total < want && with) {
		if (pl->pts[k].has_writes) {
			cnt[k]++;
			total++;
		}
		k = (k + 1) % pl->npts;
	}
	pl->st = NULL;
	pl->nst = 0;
	for (size_t i = 0; i < pl->npts; i++) {
		for (size_t c = 0; c < cnt[i]; c++) {
			struct point *pt = &pl->pts[i];
			struct tu_rng r;
			struct state *s;

			pl->st = grow(pl->st, &capst, pl->nst + 1, sizeof(*pl->st));
			s = &pl->st[pl->nst];
			tu_rng_seed(&r, state_seed(wl->seed, pl->nst));
			s->pt = (uint32_t)i;
			/* Half the states crash just before the next flush
			 * (every promise made by then is due), the rest at
			 * a random point of the window. */
			if (tu_rng_chance(&r, 1, 2))
				s->t = pt->wend;
			else
				s->t = (size_t)tu_rng_between(&r, (uint64_t)(pt->f + 1), pt->wend);
			s->rw = pl->nst % RW_EVERY == RW_EVERY - 1;
			pl->nst++;
		}
	}
	free(cnt);
}

static int run_states(struct wl *wl, const uint8_t *base, size_t want, long only)
{
	struct plan pl;
	uint8_t *ref = malloc(POOL_BYTES);
	struct track tr = {.bd = {.ops = &track_ops, .size = POOL_BYTES}};
	struct checker ck = {.wl = wl};
	size_t applied = 0, passed = 0, failed = 0;
	uint32_t maxs = 0;
	double t0 = tu_now();

	tr.bd.priv = &tr;
	tr.img = malloc(POOL_BYTES);
	for (size_t i = 0; i < wl->nobj; i++)
		maxs = wl->objs[i].nsect > maxs ? wl->objs[i].nsect : maxs;
	ck.dval = calloc(maxs, 4);
	ck.dseq = calloc(maxs, 4);
	ck.zseq = calloc(maxs, 4);
	ck.buf = malloc((size_t)maxs * SECT);
	ck.seen = calloc(wl->nobj, 1);
	if (!ref || !tr.img || !ck.dval || !ck.dseq || !ck.zseq || !ck.buf || !ck.seen) {
		fprintf(stderr, "powerloss: out of memory\n");
		exit(2);
	}
	memcpy(ref, base, POOL_BYTES);
	memcpy(tr.img, base, POOL_BYTES);

	make_plan(wl, want, &pl);
	printf("powerloss: log %zu entries, %zu crash points, %zu states\n",
	       bdev_rec_count(wl->rec), pl.npts, pl.nst);

	for (size_t i = 0; i < pl.nst; i++) {
		const struct state *s = &pl.st[i];
		const struct point *pt = &pl.pts[s->pt];
		struct tu_rng r;

		if (only >= 0 && (long)i != only)
			continue;
		/* The reference image: every write before the flush. */
		for (; pt->f >= 0 && applied < (size_t)pt->f; applied++) {
			const struct rec_entry *e = bdev_rec_entry(wl->rec, applied);

			if (e->kind == REC_WRITE) {
				apply(ref, e);
				apply(tr.img, e);
			}
		}
		tu_rng_seed(&r, state_seed(wl->seed, i) ^ 0xc0ffee);
		tr.nr = 0;
		build_state(wl, &tr, pt->f, s->t, &r);
		snprintf(ck.where, sizeof(ck.where), "seed=%llu state %zu (flush %ld, crash %zu%s)",
			 (unsigned long long)wl->seed, i, pt->f, s->t, s->rw ? ", rw" : "");
		ck.t = s->t;
		ck.quiet = failed >= 5;
		if (check_state(&ck, &tr.bd, s->rw)) {
			failed++;
			if (failed <= 10)
				fprintf(stderr, "powerloss: %s: FAILED (%u faults)\n", ck.where,
					ck.faults);
		} else {
			passed++;
			if (wl->verbose)
				printf("powerloss: %s: ok\n", ck.where);
		}
		for (size_t k = 0; k < tr.nr; k++)
			memcpy(tr.img + tr.r[k].off, ref + tr.r[k].off, tr.r[k].len);
	}
	printf("powerloss: %.1f s for states\n", tu_now() - t0);
	printf("%zu passed, %zu failed\n", passed, failed);

	free(pl.pts);
	free(pl.st);
	free(tr.r);
	free(tr.img);
	free(ref);
	free(ck.dval);
	free(ck.dseq);
	free(ck.zseq);
	free(ck.buf);
	free(ck.seen);
	return failed ? 1 : 0;
}

static void wl_free(struct wl *wl)
{
	for (size_t i = 0; i < wl->nobj; i++) {
		free(wl->objs[i].init);
		free(wl->objs[i].cur);
		free(wl->objs[i].wops);
	}
	free(wl->objs);
	free(wl->wops);
	free(wl->wid_wop);
	free(wl->bars);
	free(wl->buf);
	bdev_destroy(wl->rec);
	bdev_destroy(wl->mem);
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--seed N] [--states N] [--ops N] [--only STATE] [--verbose]\n",
		argv0);
	return 2;
}

int main(int argc, char **argv)
{
	struct wl wl = {.next_wid = 1};
	uint64_t states = DEFAULT_STATES, ops = DEFAULT_OPS, only = 0;
	int have_seed = 0, have_only = 0, rc;
	uint8_t *base = NULL;
	double t0 = tu_now();

	for (int i = 1; i < argc; i++) {
		uint64_t *dst = NULL;

		if (!strcmp(argv[i], "--seed")) {
			dst = &wl.seed;
			have_seed = 1;
		} else if (!strcmp(argv[i], "--states")) {
			dst = &states;
		} else if (!strcmp(argv[i], "--ops")) {
			dst = &ops;
		} else if (!strcmp(argv[i], "--only")) {
			dst = &only;
			have_only = 1;
		} else if (!strcmp(argv[i], "--verbose")) {
			wl.verbose = 1;
			continue;
		} else {
			return usage(argv[0]);
		}
		if (i + 1 >= argc || tu_parse_u64(argv[++i], dst))
			return usage(argv[0]);
	}
	if (!have_seed)
		wl.seed = tu_time_seed();
	printf("powerloss: seed=%llu ops=%llu states=%llu\n", (unsigned long long)wl.seed,
	       (unsigned long long)ops, (unsigned long long)states);
	fflush(stdout);
	tu_rng_seed(&wl.rng, wl.seed);

	wl.buf = malloc(MAX_VOL);
	if (!wl.buf || bdev_mem_create(POOL_BYTES, &wl.mem) || bdev_rec_create(wl.mem, &wl.rec)) {
		fprintf(stderr, "powerloss: setup failed\n");
		return 2;
	}
	rc = run_workload(&wl, (unsigned)ops, &base);
	if (rc) {
		if (wl.p)
			pool_close(wl.p);
		printf("0 passed, 1 failed\n");
		wl_free(&wl);
		free(base);
		return 1;
	}
	printf("powerloss: workload %u calls, %u writes, %zu objects, %.1f s\n", wl.seq,
	       wl.next_wid - 1, wl.nobj, tu_now() - t0);
	fflush(stdout);
	rc = run_states(&wl, base, (size_t)states, have_only ? (long)only : -1);
	printf("powerloss: total %.1f s\n", tu_now() - t0);
	free(base);
	wl_free(&wl);
	return rc;
}
