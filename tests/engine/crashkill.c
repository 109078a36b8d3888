/*
 * crashkill: kill -9 crash test of the pool engine.
 *
 * Each cycle forks a child that opens the pool (a sparse file) and runs a
 * seeded random workload of writes (some FUA), unmaps, commits, snapshots,
 * group snapshots, snapshot deletes, clones, clone deletes and reverts,
 * publishing the number of completed operations in a MAP_SHARED page after
 * each call returns.  The parent kills it with SIGKILL after a random delay,
 * runs pool_check() on the image, then regenerates the same workload up to
 * the kill point and checks every volume and snapshot:
 *  - a snapshot's (or new clone's) content is exactly what its source held;
 *  - every 512-byte sector of a volume holds the value it had at its last
 *    durable point (a completed commit, snapshot, clone, delete or revert,
 *    all of which commit, or a completed FUA write of that sector), or the
 *    value of a write/unmap issued after that point;
 *  - operations that completed exist (or are gone), the one in flight may
 *    or may not have happened, a consistency group is all or nothing.
 * What the parent read becomes the starting state of the next cycle: the
 * pool persists across cycles so that recovery runs on recovered pools and
 * snapshot trees build up; it is recreated every --recreate cycles (default
 * 100) with a new chunk size.  Sectors carry their write's tag (cycle and op
 * number) so membership is checked exactly; every other byte of a sector is
 * derived from the tag and the sector number.
 *
 *   crashkill [--cycles N] [--seed N] [--recreate N] [--nokill OPS]
 *
 * --nokill runs OPS operations per cycle and lets the child finish: no
 * crash, so the whole run is a deterministic function of the seed (for
 * telling engine bugs that need a crash from those that do not).
 *
 * The workload of a cycle is a function of the seed and the state; the kill
 * moment is not, so a replay repeats the workloads but not the exact kills.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"
#include "testutil.h"

#define SECT	  512u
#define MAX_ENT	  16
#define MAX_SNAPS 8
#define MAX_OPS	  50000
#define MAX_LEN	  (128u * 1024)
#define POOL_SIZE (128ull << 20)

enum kind { W_WRITE, W_UNMAP, W_COMMIT, W_SNAP, W_GROUP, W_DELSNAP, W_CLONE, W_DELCLONE, W_REVERT };

struct ent {
	int used, dead; /* dead: deleted this cycle; the slot is not reused */
	char name[32];
	char origin[32]; /* snapshot: the volume it was taken of */
	int snap;
	uint32_t bs;
	uint64_t nsect;
	uint64_t *tag; /* per sector: exact for snapshots, latest write for volumes */
};

struct op {
	enum kind kind;
	int n;		   /* entities in e[] */
	int e[3];	   /* target, or created / deleted slots */
	int src;	   /* clone/snapshot source, revert snapshot */
	uint64_t off, len; /* bytes */
	unsigned fua;
	uint64_t tag;
};

/* The workload state, identical in parent and child at a cycle's start. */
struct wl {
	struct ent ent[MAX_ENT];
	uint32_t cycle;
	struct tu_rng rng;
};

struct shared {
	volatile uint64_t done; /* operations that returned */
	volatile int err;
	char msg[512];
};

static uint64_t g_seed, g_cycle;
static uint64_t g_max_ops = MAX_OPS; /* --nokill N: run N ops, no kill */
static char g_path[600];

static void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "crashkill: FAIL in cycle %llu (seed %llu): ", (unsigned long long)g_cycle,
		(unsigned long long)g_seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ncrashkill: pool image kept at %s\n", g_path);
	printf("%llu passed, 1 failed\n", (unsigned long long)g_cycle);
	exit(1);
}

/* ---- sector contents --------------------------------------------------- */

static void fill_sector(uint8_t *p, uint64_t tag, uint64_t sector)
{
	uint64_t w[SECT / 8];

	if (!tag) {
		memset(p, 0, SECT);
		return;
	}
	w[0] = tag;
	w[1] = sector;
	for (unsigned i = 2; i < SECT / 8; i++)
		w[i] = tu_mix64(tag * 0x9e3779b97f4a7c15ull + sector * 131 + i);
	memcpy(p, w, SECT);
}

/* The tag a sector holds, or UINT64_MAX if it is none we could have written. */
static uint64_t decode_sector(const uint8_t *p, uint64_t sector)
{
	uint8_t want[SECT];
	uint64_t tag;

	if (tu_is_zero(p, SECT))
		return 0;
	memcpy(&tag, p, 8);
	fill_sector(want, tag, sector);
	return memcmp(p, want, SECT) ? UINT64_MAX : tag;
}

/* ---- the workload ------------------------------------------------------- */

static int ent_new(struct wl *w, const char *name, int snap, uint32_t bs, uint64_t nsect,
		   const uint64_t *src)
{
	for (int i = 0; i < MAX_ENT; i++) {
		struct ent *e = &w->ent[i];

		if (e->used || e->dead)
			continue;
		memset(e, 0, sizeof(*e));
		e->used = 1;
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->snap = snap;
		e->bs = bs;
		e->nsect = nsect;
		e->tag = calloc(nsect, 8);
		if (src)
			memcpy(e->tag, src, nsect * 8);
		return i;
	}
	return -1;
}

static int free_slots(struct wl *w)
{
	int n = 0;

	for (int i = 0; i < MAX_ENT; i++)
		n += !w->ent[i].used && !w->ent[i].dead;
	return n;
}

/* kind 1: volumes, 2: snapshots, 3: clones (deletable volumes). */
static int pick(struct wl *w, int kind)
{
	int c[MAX_ENT], n = 0;

	for (int i = 0; i < MAX_ENT; i++) {
		struct ent *e = &w->ent[i];

		if (!e->used || (kind == 2) != e->snap)
			continue;
		if (kind == 3 && e->name[0] != 'k')
			continue;
		c[n++] = i;
	}
	return n ? c[tu_rng_below(&w->rng, n)] : -1;
}

static int find_name(struct wl *w, const char *name)
{
	for (int i = 0; i < MAX_ENT; i++)
		if (w->ent[i].used && !strcmp(w->ent[i].name, name))
			return i;
	return -1;
}

static int count_snaps(struct wl *w)
{
	int n = 0;

	for (int i = 0; i < MAX_ENT; i++)
		n += w->ent[i].used && w->ent[i].snap;
	return n;
}

/* Generate operation i and apply it to the state. */
static void gen_op(struct wl *w, uint32_t i, struct op *op)
{
	struct tu_rng *r = &w->rng;
	unsigned x = tu_rng_below(r, 1000);
	char name[32];

	memset(op, 0, sizeof(*op));
	op->tag = ((uint64_t)(w->cycle + 1) << 32) | (i + 1);
	if (x >= 720 && x < 810 && count_snaps(w) < MAX_SNAPS && free_slots(w) >= 3) {
		int n = x < 780 ? 1 : (int)tu_rng_between(r, 2, 3);

		op->kind = n == 1 ? W_SNAP : W_GROUP;
		for (int k = 0; k < n; k++) {
			int v = pick(w, 1), dup = 0;

			for (int j = 0; j < op->n; j++)
				dup |= op->e[j] == v;
			if (dup)
				continue;
			/* e[k] is the origin now; replaced below by the new slot */
			op->e[op->n++] = v;
		}
		for (int k = 0; k < op->n; k++) {
			struct ent *v = &w->ent[op->e[k]];
			int s;

			snprintf(name, sizeof(name), "s%u.%u.%d", w->cycle, i, k);
			s = ent_new(w, name, 1, v->bs, v->nsect, v->tag);
			memcpy(w->ent[s].origin, v->name, sizeof(w->ent[s].origin));
			op->e[k] = s;
		}
		return;
	}
	if (x >= 810 && x < 870 && (op->e[0] = pick(w, 2)) >= 0) {
		op->kind = W_DELSNAP;
		op->n = 1;
		w->ent[op->e[0]].used = 0;
		w->ent[op->e[0]].dead = 1;
		return;
	}
	if (x >= 870 && x < 900 && free_slots(w) && (op->src = pick(w, 2)) >= 0) {
		struct ent *s = &w->ent[op->src];

		op->kind = W_CLONE;
		op->n = 1;
		snprintf(name, sizeof(name), "k%u.%u", w->cycle, i);
		op->e[0] = ent_new(w, name, 0, s->bs, s->nsect, s->tag);
		return;
	}
	if (x >= 900 && x < 920 && (op->e[0] = pick(w, 3)) >= 0) {
		op->kind = W_DELCLONE;
		op->n = 1;
		w->ent[op->e[0]].used = 0;
		w->ent[op->e[0]].dead = 1;
		return;
	}
	if (x >= 920 && x < 950 && (op->src = pick(w, 2)) >= 0 &&
	    (op->e[0] = find_name(w, w->ent[op->src].origin)) >= 0) {
		op->kind = W_REVERT;
		op->n = 1;
		memcpy(w->ent[op->e[0]].tag, w->ent[op->src].tag, w->ent[op->src].nsect * 8);
		return;
	}
	if (x >= 620 && x < 720) {
		op->kind = W_COMMIT;
		return;
	}
	/* write or unmap */
	{
		struct ent *v;
		uint64_t nblk, off, len;

		op->kind = x >= 550 && x < 620 ? W_UNMAP : W_WRITE;
		op->e[0] = pick(w, 1);
		op->n = 1;
		v = &w->ent[op->e[0]];
		nblk = v->nsect * SECT / v->bs;
		off = tu_rng_below(r, nblk);
		len = tu_rng_between(r, 1, MAX_LEN / v->bs);
		if (tu_rng_chance(r, 1, 2))
			len = tu_rng_between(r, 1, 16);
		if (len > nblk - off)
			len = nblk - off;
		op->off = off * v->bs;
		op->len = len * v->bs;
		op->fua = op->kind == W_WRITE && tu_rng_chance(r, 1, 10);
		for (uint64_t s = op->off / SECT; s < (op->off + op->len) / SECT; s++)
			v->tag[s] = op->kind == W_WRITE ? op->tag : 0;
	}
}

/* ---- the child ---------------------------------------------------------- */

static void child_fail(struct shared *sh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->msg, sizeof(sh->msg), fmt, ap);
	va_end(ap);
	sh->err = 1;
	_exit(3);
}

static void child_run(struct wl *w, struct shared *sh, unsigned timer_ms)
{
	struct pool_open_opts oo = {.commit_interval_ms = timer_ms};
	static uint8_t buf[MAX_LEN];
	uint64_t id[MAX_ENT];
	struct bdev *dev;
	struct pool *p;
	struct op op;
	int r;

	if ((r = bdev_file_open(g_path, 0, 0, &dev)))
		child_fail(sh, "bdev_file_open = %d", r);
	if ((r = pool_open(dev, &oo, &p)))
		child_fail(sh, "pool_open = %d", r);
	for (int i = 0; i < MAX_ENT; i++)
		if (w->ent[i].used && (r = vol_lookup(p, w->ent[i].name, &id[i])))
			child_fail(sh, "lookup %s = %d", w->ent[i].name, r);
	for (uint32_t i = 0; i < g_max_ops; i++) {
		const char *names[3];
		uint64_t vols[3], sid[3];

		gen_op(w, i, &op);
		switch (op.kind) {
		case W_WRITE:
			for (uint64_t s = 0; s < op.len / SECT; s++)
				fill_sector(buf + s * SECT, op.tag, op.off / SECT + s);
			r = vol_write(p, id[op.e[0]], op.off, op.len, buf, op.fua ? POOL_FUA : 0);
			break;
		case W_UNMAP:
			r = vol_unmap(p, id[op.e[0]], op.off, op.len);
			break;
		case W_COMMIT:
			r = pool_commit(p);
			break;
		case W_SNAP:
		case W_GROUP:
			for (int k = 0; k < op.n; k++) {
				struct ent *s = &w->ent[op.e[k]];

				names[k] = s->name;
				vols[k] = id[find_name(w, s->origin)];
			}
			r = op.kind == W_SNAP ? vol_snapshot(p, vols[0], names[0], sid)
					      : vol_snapshot_group(p, op.n, vols, names, sid);
			for (int k = 0; !r && k < op.n; k++)
				id[op.e[k]] = sid[k];
			break;
		case W_DELSNAP:
		case W_DELCLONE:
			r = vol_delete(p, id[op.e[0]]);
			break;
		case W_CLONE:
			r = vol_clone(p, id[op.src], w->ent[op.e[0]].name, &id[op.e[0]]);
			break;
		case W_REVERT:
			r = vol_revert(p, id[op.e[0]], id[op.src]);
			break;
		}
		if (r)
			child_fail(sh, "op %u (kind %d on %s) = %d", i, op.kind,
				   w->ent[op.e[0] >= 0 ? op.e[0] : 0].name, r);
		__atomic_store_n(&sh->done, i + 1, __ATOMIC_RELEASE);
	}
	if ((r = pool_close(p)))
		child_fail(sh, "pool_close = %d", r);
	_exit(0);
}

/* ---- the parent's check ------------------------------------------------- */

struct vstate {
	uint64_t *dur; /* per sector: the durable value */
	int64_t *dseq; /* op index that made it durable, -1 = before the cycle */
	int64_t born;  /* op index that created the entity, -1 = before */
	int64_t died;  /* op index that deleted it, or -1 */
};

static struct vstate vs[MAX_ENT];
static uint8_t rbuf[MAX_LEN];

static void vs_durable(struct wl *w, int i, int64_t seq)
{
	struct ent *e = &w->ent[i];

	memcpy(vs[i].dur, e->tag, e->nsect * 8);
	for (uint64_t s = 0; s < e->nsect; s++)
		vs[i].dseq[s] = seq;
}

static void vs_init(struct wl *w, int i, int64_t born)
{
	free(vs[i].dur);
	free(vs[i].dseq);
	vs[i].dur = malloc(w->ent[i].nsect * 8);
	vs[i].dseq = malloc(w->ent[i].nsect * 8);
	vs[i].born = born;
	vs[i].died = -1;
	vs_durable(w, i, born);
}

/* Is tag g in sector s of entity i allowed? */
static int allowed(struct op *ops, uint64_t nops, int i, uint64_t s, uint64_t g)
{
	if (g == vs[i].dur[s])
		return 1;
	if (g == 0) {
		for (uint64_t j = vs[i].dseq[s] + 1; j < nops; j++)
			if (ops[j].kind == W_UNMAP && ops[j].e[0] == i && s >= ops[j].off / SECT &&
			    s < (ops[j].off + ops[j].len) / SECT)
				return 1;
		return 0;
	}
	if ((g >> 32) != g_cycle + 1 || (g & 0xffffffff) == 0)
		return 0;
	uint64_t j = (g & 0xffffffff) - 1;

	return j < nops && (int64_t)j > vs[i].dseq[s] && ops[j].kind == W_WRITE &&
	       ops[j].e[0] == i && s >= ops[j].off / SECT && s < (ops[j].off + ops[j].len) / SECT;
}

static const char *const kind_name[] = {"write",   "unmap", "commit",	"snapshot", "group",
					"delsnap", "clone", "delclone", "revert"};

/* Report a sector that holds a value it may not hold, with the history of
 * that sector in this cycle, and fail. */
static void bad_sector(struct wl *w, struct op *ops, uint64_t nops, uint64_t done, int i,
		       uint64_t s, uint64_t g)
{
	fprintf(stderr, "crashkill: history of %s sector %llu this cycle (%llu ops done):\n",
		w->ent[i].name, (unsigned long long)s, (unsigned long long)done);
	for (uint64_t j = 0; j < nops; j++) {
		struct op *op = &ops[j];
		int hit = (op->kind == W_WRITE || op->kind == W_UNMAP) && op->e[0] == i &&
			  s >= op->off / SECT && s < (op->off + op->len) / SECT;

		if (hit || op->tag == g || op->kind > W_UNMAP || (int64_t)j > vs[i].dseq[s])
			fprintf(stderr, "  op %llu: %s%s %s%s%s [%llu,+%llu) tag %llx%s\n",
				(unsigned long long)j, kind_name[op->kind], op->fua ? " FUA" : "",
				op->n ? w->ent[op->e[0]].name : "-",
				op->kind == W_CLONE || op->kind == W_REVERT ? " from " : "",
				op->kind == W_CLONE || op->kind == W_REVERT ? w->ent[op->src].name
									    : "",
				(unsigned long long)op->off, (unsigned long long)op->len,
				(unsigned long long)op->tag,
				hit	    ? " <- this sector"
				: j == done ? " <- in flight"
					    : "");
	}
	fail("%s sector %llu holds tag %llx; durable %llx (op %lld), %llu ops done", w->ent[i].name,
	     (unsigned long long)s, (unsigned long long)g, (unsigned long long)vs[i].dur[s],
	     (long long)vs[i].dseq[s], (unsigned long long)done);
}

/* Did the revert in flight at the kill happen (volume i equals the snapshot)? */
static int reverted(struct op *ops, uint64_t nops, uint64_t done, struct wl *w, int i,
		    const uint64_t *tags)
{
	struct op *op = &ops[done];

	if (done >= nops || op->kind != W_REVERT || op->e[0] != i)
		return 0;
	return !memcmp(tags, w->ent[op->src].tag, w->ent[i].nsect * 8);
}

/* Read entity i into tags (UINT64_MAX for a garbage sector). */
static void read_tags(struct pool *p, uint64_t id, struct ent *e, uint64_t *tags)
{
	uint64_t size = e->nsect * SECT;

	for (uint64_t o = 0; o < size; o += MAX_LEN) {
		uint64_t n = size - o < MAX_LEN ? size - o : MAX_LEN;
		int r = vol_read(p, id, o, n, rbuf);

		if (r)
			fail("vol_read %s [%llu,+%llu) = %d", e->name, (unsigned long long)o,
			     (unsigned long long)n, r);
		for (uint64_t s = 0; s < n / SECT; s++)
			tags[o / SECT + s] = decode_sector(rbuf + s * SECT, o / SECT + s);
	}
}

struct names {
	unsigned n;
	char name[64][POOL_NAME_MAX + 1];
};

static int collect(const struct vol_info *vi, void *ctx)
{
	struct names *nm = ctx;

	if (nm->n == 64)
		return -E2BIG;
	snprintf(nm->name[nm->n++], POOL_NAME_MAX + 1, "%s", vi->name);
	return 0;
}

/*
 * Replay the cycle's workload up to the kill (done ops returned, op done
 * may have been in flight) and check the pool against it.  w is the state
 * at the cycle's start and becomes the state for the next cycle.
 */
static void verify(struct bdev *dev, struct wl *w, uint64_t done, int ro)
{
	uint64_t nops = done < g_max_ops ? done + 1 : g_max_ops, *tags;
	struct op *ops = calloc(nops, sizeof(*ops));
	struct pool_open_opts oo = {.read_only = ro};
	struct names nm = {0};
	int gone[MAX_ENT] = {0};
	struct pool *p;
	int r;

	for (int i = 0; i < MAX_ENT; i++)
		if (w->ent[i].used)
			vs_init(w, i, -1);
	for (uint64_t j = 0; j < nops; j++) {
		struct op *op = &ops[j];
		int completed = j < done;

		gen_op(w, j, op);
		if (op->kind == W_SNAP || op->kind == W_GROUP || op->kind == W_CLONE)
			for (int k = 0; k < op->n; k++)
				vs_init(w, op->e[k], j);
		if (op->kind == W_DELSNAP || op->kind == W_DELCLONE)
			vs[op->e[0]].died = j;
		if (op->kind == W_WRITE && op->fua && completed)
			for (uint64_t s = op->off / SECT; s < (op->off + op->len) / SECT; s++) {
				vs[op->e[0]].dur[s] = op->tag;
				vs[op->e[0]].dseq[s] = j;
			}
		if (op->kind != W_WRITE && op->kind != W_UNMAP && completed)
			for (int i = 0; i < MAX_ENT; i++)
				if (w->ent[i].used && !w->ent[i].snap)
					vs_durable(w, i, j);
	}

	if ((r = pool_open(dev, &oo, &p)))
		fail("pool_open after the kill = %d", r);
	if ((r = vol_iterate(p, collect, &nm)))
		fail("vol_iterate = %d", r);
	for (unsigned k = 0; k < nm.n; k++) {
		int i = -1;

		for (int j = 0; j < MAX_ENT && i < 0; j++)
			if ((w->ent[j].used || w->ent[j].dead) &&
			    !strcmp(w->ent[j].name, nm.name[k]))
				i = j;
		if (i < 0)
			fail("unexpected volume '%s' in the pool", nm.name[k]);
	}
	for (int i = 0; i < MAX_ENT; i++) {
		struct ent *e = &w->ent[i];
		int64_t last = (int64_t)done; /* the op in flight */
		uint64_t id;
		int must, may;

		if (!e->used && !e->dead)
			continue;
		must = vs[i].born < last && (vs[i].died < 0 || vs[i].died > last);
		may = vs[i].born <= last && (vs[i].died < 0 || vs[i].died >= last);
		r = vol_lookup(p, e->name, &id);
		if (r && r != -ENOENT)
			fail("vol_lookup %s = %d", e->name, r);
		if ((r == 0 && !may) || (r && must))
			fail("%s %s after the kill (born op %lld, deleted op %lld, %llu done)",
			     e->name, r ? "missing" : "present", (long long)vs[i].born,
			     (long long)vs[i].died, (unsigned long long)done);
		if (r) { /* gone: free the slot for the next cycle (below) */
			gone[i] = 1;
			continue;
		}
		e->used = 1;
		e->dead = 0;
		tags = malloc(e->nsect * 8);
		read_tags(p, id, e, tags);
		if (e->snap || vs[i].born == last) {
			/* exact: snapshots and a clone made by the op in flight */
			for (uint64_t s = 0; s < e->nsect; s++)
				if (tags[s] != e->tag[s])
					fail("%s sector %llu holds tag %llx, want exactly %llx",
					     e->name, (unsigned long long)s,
					     (unsigned long long)tags[s],
					     (unsigned long long)e->tag[s]);
		} else if (!reverted(ops, nops, done, w, i, tags)) {
			for (uint64_t s = 0; s < e->nsect; s++)
				if (!allowed(ops, nops, i, s, tags[s]))
					bad_sector(w, ops, nops, done, i, s, tags[s]);
		}
		memcpy(e->tag, tags, e->nsect * 8);
		free(tags);
	}
	for (int i = 0; i < MAX_ENT; i++)
		if (gone[i]) {
			free(w->ent[i].tag);
			memset(&w->ent[i], 0, sizeof(w->ent[i]));
		}
	/* a consistency group is all or nothing */
	if (done < nops && ops[done].kind == W_GROUP)
		for (int k = 1; k < ops[done].n; k++)
			if (w->ent[ops[done].e[k]].used != w->ent[ops[done].e[0]].used)
				fail("consistency group of op %llu only partly exists",
				     (unsigned long long)done);
	if ((r = pool_close(p)))
		fail("pool_close after the check = %d", r);
	free(ops);
}

/* ---- cycles ------------------------------------------------------------- */

static void new_pool(struct bdev **dev, struct wl *w, struct tu_rng *r)
{
	static const uint32_t chunks[] = {4096, 16384, 65536};
	static const struct {
		uint32_t bs;
		uint64_t size;
	} base[] = {{512, 1 << 20}, {4096, 2 << 20}, {512, (1 << 20) + 8192}};
	struct pool_create_opts co = {.chunk_size = chunks[tu_rng_below(r, 3)]};
	struct pool *p;
	int rc;

	bdev_destroy(*dev);
	for (int i = 0; i < MAX_ENT; i++)
		free(w->ent[i].tag);
	memset(w->ent, 0, sizeof(w->ent));
	if ((rc = bdev_file_open(g_path, POOL_SIZE, 1, dev)))
		fail("bdev_file_open(create) = %d", rc);
	if ((rc = pool_create(*dev, &co)) || (rc = pool_open(*dev, NULL, &p)))
		fail("pool_create/open = %d", rc);
	for (unsigned i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		char name[32];
		uint64_t id;

		snprintf(name, sizeof(name), "base%u", i);
		if ((rc = vol_create(p, name, base[i].size, base[i].bs, &id)))
			fail("vol_create %s = %d", name, rc);
		ent_new(w, name, 0, base[i].bs, base[i].size / SECT, NULL);
	}
	if ((rc = pool_close(p)))
		fail("pool_close = %d", rc);
	printf("crashkill: cycle %llu: new pool, chunk %u\n", (unsigned long long)g_cycle,
	       co.chunk_size);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	uint64_t cycles = 200, recreate = 100, ops_total = 0, kills = 0;
	static struct wl w;
	struct bdev *dev = NULL;
	struct shared *sh;
	char dir[512];
	double t0 = tu_now();
	int r;

	g_seed = tu_time_seed();
	for (int i = 1; i < argc; i++) {
		uint64_t *dst = !strcmp(argv[i], "--cycles")	 ? &cycles
				: !strcmp(argv[i], "--seed")	 ? &g_seed
				: !strcmp(argv[i], "--recreate") ? &recreate
				: !strcmp(argv[i], "--nokill")	 ? &g_max_ops
								 : NULL;

		if (!dst || i + 1 >= argc || tu_parse_u64(argv[++i], dst)) {
			fprintf(stderr,
				"usage: %s [--cycles N] [--seed N] [--recreate N] [--nokill OPS]\n",
				argv[0]);
			return 2;
		}
	}
	if (recreate == 0)
		recreate = 1;
	printf("crashkill: seed=%llu cycles=%llu\n", (unsigned long long)g_seed,
	       (unsigned long long)cycles);
	fflush(stdout);
	if ((r = tu_mkdtemp("crashkill", dir, sizeof(dir))))
		fail("mkdtemp = %d", r);
	snprintf(g_path, sizeof(g_path), "%s/pool.img", dir);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		fail("mmap: %s", strerror(errno));

	for (g_cycle = 0; g_cycle < cycles; g_cycle++) {
		struct tu_rng cr;
		unsigned timer_ms, delay_us;
		struct timespec ts;
		int status;
		pid_t pid;

		tu_rng_seed(&cr, tu_mix64(g_seed ^ (g_cycle * 0x100000001b3ull)));
		if (g_cycle % recreate == 0)
			new_pool(&dev, &w, &cr);
		w.cycle = g_cycle;
		tu_rng_seed(&w.rng, tu_rng_next(&cr));
		timer_ms = tu_rng_chance(&cr, 1, 3) ? tu_rng_between(&cr, 2, 30) : 0;
		delay_us = tu_rng_chance(&cr, 1, 20) ? tu_rng_below(&cr, 2000)
						     : tu_rng_between(&cr, 2000, 100000);
		memset(sh, 0, sizeof(*sh));
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			fail("fork: %s", strerror(errno));
		if (pid == 0)
			child_run(&w, sh, timer_ms);
		ts.tv_sec = 0;
		ts.tv_nsec = delay_us * 1000l;
		if (g_max_ops == MAX_OPS) {
			nanosleep(&ts, NULL);
			kill(pid, SIGKILL);
		}
		if (waitpid(pid, &status, 0) != pid)
			fail("waitpid: %s", strerror(errno));
		if (sh->err)
			fail("child: %s", sh->msg);
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			kills++;
		else if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail("child died with status 0x%x", status);
		if ((r = pool_check(dev, tu_report, "pool_check")))
			fail("pool_check after the kill at %llu ops = %d",
			     (unsigned long long)sh->done, r);
		ops_total += sh->done;
		verify(dev, &w, sh->done, (int)(g_cycle & 1));
	}
	bdev_destroy(dev);
	for (int i = 0; i < MAX_ENT; i++)
		free(w.ent[i].tag);
	for (int i = 0; i < MAX_ENT; i++) {
		free(vs[i].dur);
		free(vs[i].dseq);
	}
	tu_rmtree(dir);
	printf("crashkill: %llu cycles, %llu killed, %llu ops completed, %.1f s\n",
	       (unsigned long long)cycles, (unsigned long long)kills, (unsigned long long)ops_total,
	       tu_now() - t0);
	printf("%llu passed, 0 failed\n", (unsigned long long)cycles);
	return 0;
}
