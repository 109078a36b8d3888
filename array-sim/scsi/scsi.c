/*
 * SCSI core: contexts, I_T nexuses, the per-nexus LUN table, command
 * dispatch, task management and array events.
 *
 * Data path: scsi_execute looks the LUN up in the nexus's table (a sorted
 * array read under a rwlock, rebuilt only when array_generation() moves or
 * scsi_notify marks it stale), so READ/WRITE take neither the array's
 * mutex nor walk anything; the engine reads and writes straight into and
 * out of the fabric's buffers.
 *
 * Order of checks for a command (SAM-5 5.14, SPC-4 5.12, LIO's order):
 * LUN exists -> unit attention -> LU online -> parse (CDB fields) ->
 * reservation conflict -> execute.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scsi_int.h"

#define EOFFLINE_FAULT 13 /* PROTO_EOFFLINE: the fault hook's "not ready" */

/* ---- devices (per engine volume) ------------------------------------------ */

static struct scsi_dev *dev_get(struct scsi_ctx *s, uint64_t vol)
{
	pthread_rwlockattr_t ra;
	struct scsi_dev *d;

	pthread_mutex_lock(&s->dev_lock);
	for (d = s->devs; d; d = d->next)
		if (d->vol == vol)
			goto out;
	d = calloc(1, sizeof(*d));
	if (!d)
		goto out;
	d->vol = vol;
	/* Writer preference: a COMPARE AND WRITE must not starve behind a
	 * steady stream of ordinary writes (ESXi heartbeats with ATS). */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&d->io_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&d->lock, NULL);
	atomic_init(&d->wce, 1);
	atomic_init(&d->d_sense, 0);
	atomic_init(&d->swp, 0);
	atomic_init(&d->res_active, 0);
	/* The first use of a device reloads its APTPL reservations. */
	pr_load(s, d);
	d->next = s->devs;
	s->devs = d;
out:
	pthread_mutex_unlock(&s->dev_lock);
	return d;
}

static void dev_free(struct scsi_dev *d)
{
	pthread_rwlock_destroy(&d->io_lock);
	pthread_mutex_destroy(&d->lock);
	free(d->regs);
	free(d);
}

/* ---- context ------------------------------------------------------------------ */

int scsi_create(struct array *a, struct scsi_ctx **out)
{
	struct scsi_ctx *s = calloc(1, sizeof(*s));
	struct pool_stat st;

	if (!s)
		return -ENOMEM;
	s->array = a;
	s->pool = array_pool(a);
	s->chunk_size = POOL_DEFAULT_CHUNK;
	if (!pool_stat(s->pool, &st) && st.chunk_size)
		s->chunk_size = st.chunk_size;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->dev_lock, NULL);
	*out = s;
	return 0;
}

void scsi_destroy(struct scsi_ctx *s)
{
	if (!s)
		return;
	while (s->nexuses)
		scsi_nexus_close(s->nexuses);
	while (s->devs) {
		struct scsi_dev *d = s->devs;

		s->devs = d->next;
		dev_free(d);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->dev_lock);
	free(s);
}

void scsi_set_fault_hook(struct scsi_ctx *s,
			 void (*fn)(void *ctx, uint32_t op, uint32_t *delay_ms, uint32_t *err),
			 void *ctx)
{
	s->fault_ctx = ctx;
	s->fault_fn = fn;
}

/* ---- LUN table ------------------------------------------------------------------ */

struct collect {
	struct scsi_ctx *s;
	struct lun_ent *v;
	size_t n, cap;
	int err;
};

static int collect_fn(uint32_t number, const struct lun_info *l, void *ctx)
{
	struct collect *c = ctx;
	struct lun_ent *e;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct lun_ent *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->err = -ENOMEM;
			return -ENOMEM;
		}
		c->v = v;
		c->cap = cap;
	}
	e = &c->v[c->n];
	e->number = number;
	e->vol = l->id;
	e->block_size = l->block_size ? l->block_size : 512;
	e->nblocks = l->size / e->block_size;
	e->readonly = l->readonly; /* a snapshot is, unless made writable */
	e->snapshot = l->snapshot;
	e->online = l->online;
	e->dev = dev_get(c->s, l->id);
	if (!e->dev) {
		c->err = -ENOMEM;
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

void nexus_refresh(struct scsi_nexus *n)
{
	struct scsi_ctx *s = n->s;
	struct collect c = {.s = s};
	uint64_t g = array_generation(s->array), host = 0;
	struct lun_ent *old;
	int changed;

	if (g == n->gen && !atomic_load(&n->stale))
		return;
	atomic_store(&n->stale, 0);
	if (array_host_id_by_iqn(s->array, n->iqn, &host))
		host = 0;
	atomic_store(&n->host_id, host);
	array_luns_for_iqn(s->array, n->iqn, collect_fn, &c);
	if (c.err) {
		/* Keep the old table; try again on the next command. */
		free(c.v);
		atomic_store(&n->stale, 1);
		return;
	}
	pthread_rwlock_wrlock(&n->tlock);
	old = n->luns;
	n->luns = c.v;
	n->nr_luns = c.n;
	n->gen = g;
	pthread_rwlock_unlock(&n->tlock);
	free(old);

	/* SAM-5 6.3.2: the first command to each LU of a new nexus sees
	 * POWER ON, RESET, OR BUS DEVICE RESET OCCURRED; a map change is
	 * REPORTED LUNS DATA HAS CHANGED on every LU of the nexus (Windows
	 * rescans the bus on it). */
	pthread_rwlock_rdlock(&n->tlock);
	pthread_mutex_lock(&n->ua_lock);
	changed = n->luns_changed;
	if (changed) {
		n->luns_changed = 0;
		atomic_fetch_sub(&n->ua_count, 1);
	}
	for (size_t i = 0; i < n->nr_luns; i++) {
		uint32_t num = n->luns[i].number;

		if (num <= ARRAY_MAX_LUN_NUMBER && !(n->por_done[num / 8] & (1u << (num % 8)))) {
			n->por_done[num / 8] |= (uint8_t)(1u << (num % 8));
			ua_queue_locked(n, num, 0x29, 0x00);
		} else if (changed) {
			ua_queue_locked(n, num, 0x3f, 0x0e);
		}
	}
	pthread_mutex_unlock(&n->ua_lock);
	pthread_rwlock_unlock(&n->tlock);
}

static int lun_lookup(struct scsi_nexus *n, uint64_t number, struct lun_ent *out)
{
	size_t lo = 0, hi;
	int found = 0;

	nexus_refresh(n);
	pthread_rwlock_rdlock(&n->tlock);
	hi = n->nr_luns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (n->luns[mid].number == number) {
			*out = n->luns[mid];
			found = 1;
			break;
		}
		if (n->luns[mid].number < number)
			lo = mid + 1;
		else
			hi = mid;
	}
	pthread_rwlock_unlock(&n->tlock);
	return found;
}

/* ---- nexuses ------------------------------------------------------------------ */

int scsi_nexus_open(struct scsi_ctx *s, const char *initiator_iqn, const char *initiator_port,
		    const char *target_port, uint16_t rel_port, struct scsi_nexus **out)
{
	struct scsi_nexus *n;

	if (!initiator_iqn || !initiator_port || !target_port ||
	    strlen(initiator_iqn) > ARRAY_IQN_MAX || strlen(initiator_port) >= SCSI_PORT_MAX ||
	    strlen(target_port) >= SCSI_PORT_MAX)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->s = s;
	strcpy(n->iqn, initiator_iqn);
	strcpy(n->i_port, initiator_port);
	strcpy(n->t_port, target_port);
	n->rel_port = rel_port;
	pthread_rwlock_init(&n->tlock, NULL);
	pthread_mutex_init(&n->ua_lock, NULL);
	atomic_init(&n->stale, 1);
	atomic_init(&n->ua_count, 0);
	atomic_init(&n->host_id, 0);
	nexus_refresh(n);
	pthread_mutex_lock(&s->lock);
	n->next = s->nexuses;
	s->nexuses = n;
	pthread_mutex_unlock(&s->lock);
	*out = n;
	return 0;
}

void scsi_nexus_close(struct scsi_nexus *n)
{
	struct scsi_ctx *s;

	if (!n)
		return;
	s = n->s;
	pthread_mutex_lock(&s->lock);
	for (struct scsi_nexus **pp = &s->nexuses; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	/* SPC-4 5.12.3 / SPC-2 7.21: I_T nexus loss releases RESERVE(6/10)
	 * reservations; persistent reservations stay. */
	pr_nexus_gone(s, n);
	pthread_rwlock_destroy(&n->tlock);
	pthread_mutex_destroy(&n->ua_lock);
	free(n->luns);
	free(n);
}

int scsi_nexus_has_ua(struct scsi_nexus *n)
{
	return atomic_load(&n->ua_count) > 0;
}

unsigned scsi_nexus_luns_changed(struct scsi_nexus *n)
{
	unsigned gen = 0, pending;

	if (!atomic_load(&n->ua_count))
		return 0;
	pthread_mutex_lock(&n->ua_lock);
	pending = (unsigned)n->luns_changed;
	for (unsigned i = 0; i < n->nr_ua && !pending; i++)
		pending = n->ua[i].asc == 0x3f && n->ua[i].ascq == 0x0e;
	if (pending)
		gen = n->lun_change_gen;
	pthread_mutex_unlock(&n->ua_lock);
	return gen;
}

uint32_t scsi_lun_block_size(struct scsi_nexus *n, uint64_t lun)
{
	struct lun_ent e;

	return lun_lookup(n, lun, &e) ? e.block_size : 0;
}

/* ---- events ------------------------------------------------------------------- */

int scsi_notify(struct scsi_ctx *s, enum array_event ev, uint64_t host_id, uint64_t lun_id,
		uint32_t lun_number)
{
	int count = 0;

	pthread_mutex_lock(&s->lock);
	for (struct scsi_nexus *n = s->nexuses; n; n = n->next) {
		uint64_t h = atomic_load(&n->host_id);

		/* A nexus whose IQN had no host when its table was built may
		 * belong to this one now: it hears map changes too. */
		if (h != host_id && !(h == 0 && (ev == ARRAY_EV_MAPPED || ev == ARRAY_EV_UNMAPPED)))
			continue;
		atomic_store(&n->stale, 1);
		switch (ev) {
		case ARRAY_EV_MAPPED:
		case ARRAY_EV_UNMAPPED:
			pthread_mutex_lock(&n->ua_lock);
			if (!n->luns_changed) {
				n->luns_changed = 1;
				atomic_fetch_add(&n->ua_count, 1);
			}
			if (!++n->lun_change_gen)
				n->lun_change_gen = 1;
			pthread_mutex_unlock(&n->ua_lock);
			count++;
			break;
		case ARRAY_EV_RESIZED:
			/* SBC-3 4.6: CAPACITY DATA HAS CHANGED */
			ua_queue(n, lun_number, 0x2a, 0x09);
			count++;
			break;
		default:
			break; /* online state: read from the rebuilt table */
		}
	}
	pthread_mutex_unlock(&s->lock);
	return count;
}

/* ---- task management ------------------------------------------------------------ */

int scsi_tmf(struct scsi_nexus *n, enum scsi_tmf fn, uint64_t lun)
{
	struct scsi_ctx *s = n->s;
	struct lun_ent e;

	switch (fn) {
	case SCSI_TMF_ABORT_TASK:
	case SCSI_TMF_ABORT_TASK_SET:
	case SCSI_TMF_CLEAR_TASK_SET:
		/* Commands run to completion inside scsi_execute: nothing
		 * here is in flight by the time the TMF is processed. */
		return lun_lookup(n, lun, &e) ? 0 : -ENOENT;
	case SCSI_TMF_CLEAR_ACA:
		return -ENOTSUP; /* NACA=1 is rejected, so there is never an ACA */
	case SCSI_TMF_LUN_RESET:
		if (!lun_lookup(n, lun, &e))
			return -ENOENT;
		/* SAM-5 6.3.3 / SPC-4 5.12.3: an LU reset releases
		 * RESERVE(6/10) reservations, not persistent ones, and
		 * establishes BUS DEVICE RESET FUNCTION OCCURRED for every
		 * I_T nexus, the issuer's included (libiscsi
		 * MultipathIO.Reset checks both paths). */
		pr_spc2_reset(e.dev);
		ua_dev(s, e.dev, NULL, 0x29, 0x03);
		return 0;
	case SCSI_TMF_TARGET_WARM_RESET:
	case SCSI_TMF_TARGET_COLD_RESET:
		pthread_mutex_lock(&s->dev_lock);
		for (struct scsi_dev *d = s->devs; d; d = d->next)
			pr_spc2_reset(d);
		pthread_mutex_unlock(&s->dev_lock);
		pthread_mutex_lock(&s->lock);
		/* SAM-5 6.3 (hard reset): a target reset establishes a
		 * unit attention on every I_T nexus, the issuer's included.
		 * SAM-5 allows POWER ON, RESET, OR BUS DEVICE RESET
		 * OCCURRED (29h/00h) for any reset event instead of the
		 * specific 29h/01h (power on) or 29h/02h (bus reset), and
		 * 29h/00h is the one libiscsi's reserve6()/release6()
		 * helpers tolerate (Reserve6.Target*Reset send RESERVE(6)
		 * on the other session right after the reset). */
		for (struct scsi_nexus *o = s->nexuses; o; o = o->next) {
			pthread_rwlock_rdlock(&o->tlock);
			for (size_t i = 0; i < o->nr_luns; i++)
				ua_queue(o, o->luns[i].number, 0x29, 0x00);
			pthread_rwlock_unlock(&o->tlock);
		}
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	return -ENOTSUP;
}

/* ---- helpers for the handlers ------------------------------------------------- */

void scsi_task_data_in(struct scsi_task *t, const void *buf, uint32_t len, uint32_t alloc_len)
{
	struct scsi_cmd *c = t->cmd;
	uint32_t n = len < alloc_len ? len : alloc_len;

	c->xfer_len = n;
	if (n > c->exp_xfer_len)
		n = c->exp_xfer_len;
	if (!c->data_in)
		n = 0;
	if (n)
		memcpy(c->data_in, buf, n);
	c->data_in_len = n;
}

enum sense_reason scsi_errno_reason(int err, int writing)
{
	switch (err) {
	case 0:
		return SR_OK;
	case -ERANGE:
		return SR_LBA_OUT_OF_RANGE;
	case -EROFS:
		return SR_WRITE_PROTECTED;
	case -ENOSPC:
	case -EDQUOT:
		/* SBC-3 4.7.3.6: a thin LU out of space */
		return SR_SPACE_ALLOC_FAILED;
	case -EIO:
	case -EILSEQ:
		return writing ? SR_WRITE_ERROR : SR_READ_ERROR;
	case -ENOENT:
		return SR_LUN_NOT_SUPPORTED; /* deleted under us */
	case -ENXIO:
	case -EBUSY:
		return SR_NOT_READY_OFFLINE;
	default:
		return SR_INTERNAL;
	}
}

enum sense_reason scsi_fault(struct scsi_task *t, uint32_t op)
{
	struct scsi_ctx *s = t->n->s;
	uint32_t delay = 0, err = 0;

	if (!s->fault_fn)
		return SR_OK;
	s->fault_fn(s->fault_ctx, op, &delay, &err);
	if (delay) {
		struct timespec ts = {.tv_sec = delay / 1000,
				      .tv_nsec = (long)(delay % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	if (!err)
		return SR_OK;
	if (err == EOFFLINE_FAULT)
		return SR_NOT_READY_OFFLINE;
	return op == 0x10001u ? SR_READ_ERROR : SR_WRITE_ERROR;
}

unsigned scsi_write_flags(struct scsi_task *t, int fua)
{
	/* SBC-3 6.4.3: with WCE=0 every write completes on the medium. */
	if (fua || !atomic_load(&t->lun.dev->wce))
		return POOL_FUA;
	return 0;
}

/* ---- data-out length for the fabric --------------------------------------------- */

int64_t scsi_cdb_data_out_len(const uint8_t *cdb, unsigned cdb_len, uint32_t block_size)
{
	int sa_unknown = 0;
	const struct scsi_opdesc *op = scsi_op_find(cdb, cdb_len, &sa_unknown);
	uint64_t bs = block_size, n;

	if (!op || cdb_len < op->cdb_len)
		return -1;
	switch (cdb[0]) {
	case 0x0a: /* WRITE(6): 0 means 256 blocks (SBC-3 5.39) */
		n = cdb[4] ? cdb[4] : 256;
		return (int64_t)(n * bs);
	case 0x2a: /* WRITE(10) */
	case 0x2e: /* WRITE AND VERIFY(10) */
		return (int64_t)(get_be16(cdb + 7) * bs);
	case 0xaa:
	case 0xae:
		return (int64_t)(get_be32(cdb + 6) * bs);
	case 0x8a:
	case 0x8e:
	case 0x8b: /* ORWRITE(16) */
		return (int64_t)(get_be32(cdb + 10) * bs);
	case 0x2f: /* VERIFY(10): BYTCHK 01b N blocks, 11b one block */
	case 0xaf:
	case 0x8f: {
		unsigned bytchk = (cdb[1] >> 1) & 3;

		n = cdb[0] == 0x2f   ? get_be16(cdb + 7)
		    : cdb[0] == 0xaf ? get_be32(cdb + 6)
				     : get_be32(cdb + 10);
		if (bytchk == 1)
			return (int64_t)(n * bs);
		return bytchk == 3 && n ? (int64_t)bs : 0;
	}
	case 0x41: /* WRITE SAME */
		return (int64_t)bs;
	case 0x93:
		return cdb[1] & 1 ? 0 : (int64_t)bs; /* NDOB */
	case 0x89:				     /* COMPARE AND WRITE */
		return (int64_t)(2 * cdb[13] * bs);
	case 0x83: /* EXTENDED COPY */
		return get_be32(cdb + 10);
	case 0x9c: /* WRITE ATOMIC(16) */
		return (int64_t)(get_be16(cdb + 12) * bs);
	case 0x48: /* SANITIZE: only OVERWRITE has a parameter list */
	case 0x42: /* UNMAP */
		return get_be16(cdb + 7);
	case 0x15: /* MODE SELECT(6) */
		return cdb[4];
	case 0x55:
		return get_be16(cdb + 7);
	case 0x5f: /* PERSISTENT RESERVE OUT */
		return get_be32(cdb + 5);
	default:
		return 0;
	}
}

/* ---- dispatch ------------------------------------------------------------------------ */

static enum sense_reason dispatch(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	struct scsi_nexus *n = t->n;
	int sa_unknown = 0;
	enum sense_reason r;

	t->op = scsi_op_find(c->cdb, c->cdb_len, &sa_unknown);
	t->has_lun = c->lun <= ARRAY_MAX_LUN_NUMBER && lun_lookup(n, c->lun, &t->lun);
	/* SPC-4 4.6.2 / SAM-5 5.9: an unknown LUN answers INQUIRY (PQ=011b),
	 * REPORT LUNS and REQUEST SENSE, and LOGICAL UNIT NOT SUPPORTED to
	 * everything else. */
	if (!t->has_lun && !(t->op && (t->op->flags & OPF_NO_LUN)))
		return SR_LUN_NOT_SUPPORTED;
	/* SPC-4 7.5.8: SWP=1 write-protects the LU like a read-only volume,
	 * so every write path's read-only check covers it. */
	if (t->has_lun && atomic_load(&t->lun.dev->swp))
		t->lun.readonly = 1;
	/* SAM-5 5.14: a pending UA fails any command but INQUIRY, REPORT
	 * LUNS and REQUEST SENSE, including ones we do not know. */
	if (t->has_lun && !(t->op && (t->op->flags & OPF_NO_UA)) &&
	    ua_take(n, (uint32_t)c->lun, &t->ua_asc, &t->ua_ascq))
		return SR_UA;
	if (!t->op) {
		if (sa_unknown)
			return bad_cdb(t, 1, 4); /* SPC-4 4.2.5.1: service action */
		return SR_INVALID_OPCODE;
	}
	if (c->cdb_len < t->op->cdb_len)
		return SR_INVALID_OPCODE;
	/* SAM-5 5.3: NACA=1 needs ACA support, which we do not offer. */
	if (c->cdb[t->op->cdb_len - 1] & 0x04)
		return bad_cdb(t, t->op->cdb_len - 1u, 2);
	if (t->has_lun && !t->lun.online && !(t->op->flags & OPF_ONLINE))
		return SR_NOT_READY_OFFLINE;
	r = t->op->parse(t);
	if (r)
		return r;
	if (t->has_lun) {
		r = pr_check(t);
		if (r)
			return r;
	}
	return t->execute ? t->execute(t) : SR_OK;
}

void scsi_execute(struct scsi_nexus *n, struct scsi_cmd *cmd)
{
	struct scsi_task t;
	enum sense_reason r;

	memset(&t, 0, sizeof(t));
	t.n = n;
	t.cmd = cmd;
	t.cdb = cmd->cdb;
	t.sks_bit = -1;
	cmd->status = SAM_STAT_GOOD;
	cmd->data_in_len = 0;
	cmd->xfer_len = 0;
	cmd->sense_len = 0;
	if (cmd->cdb_len > SCSI_MAX_CDB)
		cmd->cdb_len = SCSI_MAX_CDB;
	if (!cmd->data_out)
		cmd->data_out_len = 0;
	r = dispatch(&t);
	if (r == SR_OK)
		return;
	/* Data already moved is not reported on error (SAM-5 5.5). */
	if (r != SR_OK && cmd->status == SAM_STAT_GOOD)
		cmd->data_in_len = 0;
	scsi_build_sense(&t, r, t.has_lun && atomic_load(&t.lun.dev->d_sense));
}
