/*
 * Reservations: SPC-2 RESERVE/RELEASE(6/10) and SPC-4 persistent
 * reservations (PERSISTENT RESERVE IN/OUT, 5.12 and 6.15/6.16).
 *
 * Registrations are kept per I_T nexus, named by the SCSI initiator port
 * ("iqn...,i,0x<ISID>") and target port ("iqn...,t,0x<TPGT>") names, or
 * per initiator port on every target port with ALL_TG_PT.  They outlive
 * the nexus (a re-login with the same ISID is the same I_T nexus).
 *
 * With APTPL the state is stored in the pool under (0x10 << 56) | vol id
 * and committed before the PR OUT command completes; it is reloaded when
 * the device is first used after a restart.  Encoding (version 1):
 *
 *   u8 version, u8 flags (1: APTPL), u8 type, u8 nr_strings, be32 gen,
 *   u8 nr_regs, then nr_strings x (u8 len, bytes), then nr_regs x
 *   (be64 key, u8 i_port string, u8 t_port string, u8 flags
 *   (1 ALL_TG_PT, 2 holder), be16 relative port)
 *
 * Port names are deduplicated (all registrations usually share the target
 * port), so about 15 registrations of typical names fit in POOL_OBJ_MAX.
 *
 * Not supported: SPEC_I_PT (INVALID FIELD IN PARAMETER LIST; SIP_C=0)
 * and scopes other than LU_SCOPE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scsi_int.h"

#define PR_KEY(vol) ((0x10ull << 56) | (vol))

enum {
	PR_WE = 1,
	PR_EA = 3,
	PR_WE_RO = 5,
	PR_EA_RO = 6,
	PR_WE_AR = 7,
	PR_EA_AR = 8,
};

static int type_valid(unsigned type)
{
	return type == PR_WE || type == PR_EA || type == PR_WE_RO || type == PR_EA_RO ||
	       type == PR_WE_AR || type == PR_EA_AR;
}

static int type_all_reg(unsigned type)
{
	return type == PR_WE_AR || type == PR_EA_AR;
}

static void update_active(struct scsi_dev *d)
{
	atomic_store(&d->res_active, d->spc2_owner != NULL || d->pr_type != 0);
}

static int reg_matches(const struct pr_reg *r, const char *i_port, const char *t_port)
{
	return !strcasecmp(r->i_port, i_port) && (r->all_tg_pt || !strcasecmp(r->t_port, t_port));
}

static struct pr_reg *find_reg(struct scsi_dev *d, struct scsi_nexus *n)
{
	for (unsigned i = 0; i < d->nr_regs; i++)
		if (reg_matches(&d->regs[i], n->i_port, n->t_port))
			return &d->regs[i];
	return NULL;
}

static int is_holder(struct scsi_dev *d, const struct pr_reg *r)
{
	if (!r || !d->pr_type)
		return 0;
	return type_all_reg(d->pr_type) || r->holder;
}

static void reg_ua(struct scsi_ctx *s, struct scsi_dev *d, const struct pr_reg *r, uint8_t ascq)
{
	ua_port(s, d, r->i_port, r->all_tg_pt ? NULL : r->t_port, 0x2a, ascq);
}

static void reg_remove(struct scsi_dev *d, unsigned i)
{
	d->regs[i] = d->regs[--d->nr_regs];
}

/* ---- persistence (APTPL) --------------------------------------------------------- */

static int str_index(const char **tab, unsigned *nr, const char *s)
{
	for (unsigned i = 0; i < *nr; i++)
		if (!strcmp(tab[i], s))
			return (int)i;
	if (*nr == 255)
		return -1;
	tab[*nr] = s;
	return (int)(*nr)++;
}

/* Encode d into buf; returns the length, or -1 if it does not fit. */
static int pr_encode(struct scsi_dev *d, uint8_t *buf, size_t cap)
{
	const char *tab[2 * SCSI_PR_REG_MAX];
	uint8_t idx[SCSI_PR_REG_MAX][2];
	unsigned nr = 0;
	size_t off = 9;

	for (unsigned i = 0; i < d->nr_regs; i++) {
		int a = str_index(tab, &nr, d->regs[i].i_port);
		int b = str_index(tab, &nr, d->regs[i].t_port);

		if (a < 0 || b < 0)
			return -1;
		idx[i][0] = (uint8_t)a;
		idx[i][1] = (uint8_t)b;
	}
	buf[0] = 1;
	buf[1] = d->aptpl ? 1 : 0;
	buf[2] = d->pr_type;
	buf[3] = (uint8_t)nr;
	put_be32(buf + 4, d->pr_gen);
	buf[8] = (uint8_t)d->nr_regs;
	for (unsigned i = 0; i < nr; i++) {
		size_t l = strlen(tab[i]);

		if (l > 255 || off + 1 + l > cap)
			return -1;
		buf[off++] = (uint8_t)l;
		memcpy(buf + off, tab[i], l);
		off += l;
	}
	for (unsigned i = 0; i < d->nr_regs; i++) {
		const struct pr_reg *r = &d->regs[i];

		if (off + 13 > cap)
			return -1;
		put_be64(buf + off, r->key);
		buf[off + 8] = idx[i][0];
		buf[off + 9] = idx[i][1];
		buf[off + 10] = (uint8_t)((r->all_tg_pt ? 1 : 0) | (r->holder ? 2 : 0));
		put_be16(buf + off + 11, r->rel_port);
		off += 13;
	}
	return (int)off;
}

/* Decode; anything malformed leaves d without reservations. */
static int pr_decode(struct scsi_dev *d, const uint8_t *buf, size_t len)
{
	const uint8_t *str[256];
	uint8_t slen[256];
	unsigned nstr, nreg;
	size_t off = 9;

	if (len < 9 || buf[0] != 1)
		return -EINVAL;
	nstr = buf[3];
	nreg = buf[8];
	if (nreg > SCSI_PR_REG_MAX || (buf[2] && !type_valid(buf[2])))
		return -EINVAL;
	for (unsigned i = 0; i < nstr; i++) {
		if (off >= len || off + 1 + buf[off] > len)
			return -EINVAL;
		slen[i] = buf[off];
		str[i] = buf + off + 1;
		off += 1u + buf[off];
	}
	if (off + 13 * (size_t)nreg != len)
		return -EINVAL;
	d->regs = calloc(SCSI_PR_REG_MAX, sizeof(*d->regs));
	if (!d->regs)
		return -ENOMEM;
	for (unsigned i = 0; i < nreg; i++, off += 13) {
		struct pr_reg *r = &d->regs[i];
		unsigned a = buf[off + 8], b = buf[off + 9];

		if (a >= nstr || b >= nstr) {
			d->nr_regs = 0;
			return -EINVAL;
		}
		r->key = get_be64(buf + off);
		memcpy(r->i_port, str[a], slen[a]);
		memcpy(r->t_port, str[b], slen[b]);
		r->all_tg_pt = buf[off + 10] & 1;
		r->holder = !!(buf[off + 10] & 2);
		r->rel_port = get_be16(buf + off + 11);
		d->nr_regs++;
	}
	d->aptpl = buf[1] & 1;
	d->pr_type = buf[2];
	d->pr_gen = get_be32(buf + 4);
	if (d->pr_type && !type_all_reg(d->pr_type)) {
		unsigned h = 0;

		for (unsigned i = 0; i < d->nr_regs; i++)
			h += d->regs[i].holder;
		if (h != 1)
			d->pr_type = 0; /* no single holder: drop the reservation */
	}
	return 0;
}

void pr_load(struct scsi_ctx *s, struct scsi_dev *d)
{
	uint8_t buf[POOL_OBJ_MAX];
	size_t len = sizeof(buf);

	if (pool_obj_get(s->pool, PR_KEY(d->vol), buf, &len))
		return;
	d->aptpl_stored = 1;
	if (pr_decode(d, buf, len)) {
		d->nr_regs = 0;
		d->pr_type = 0;
		d->aptpl = 0;
	}
	update_active(d);
}

/* After a change: store (APTPL) or drop the stored copy; durable when it
 * returns, as SPC-4 5.12.5 wants for APTPL. */
static enum sense_reason pr_persist(struct scsi_ctx *s, struct scsi_dev *d)
{
	uint8_t buf[POOL_OBJ_MAX];
	int len, err = 0;

	if (!d->aptpl) {
		if (!d->aptpl_stored)
			return SR_OK;
		err = pool_obj_del(s->pool, PR_KEY(d->vol));
		if (err && err != -ENOENT)
			return scsi_errno_reason(err, 1);
		d->aptpl_stored = 0;
		return scsi_errno_reason(pool_commit(s->pool), 1);
	}
	len = pr_encode(d, buf, sizeof(buf));
	if (len < 0)
		return SR_INSUFFICIENT_REG_RESOURCES;
	err = pool_obj_put(s->pool, PR_KEY(d->vol), buf, (size_t)len);
	if (!err)
		err = pool_commit(s->pool);
	if (err)
		return err == -ENOSPC || err == -EDQUOT ? SR_INSUFFICIENT_REG_RESOURCES
							: scsi_errno_reason(err, 1);
	d->aptpl_stored = 1;
	return SR_OK;
}

/* ---- conflicts (SPC-4 5.12.1 table 66, SBC-3 4.16 table 13) ----------------------- */

enum sense_reason pr_check(struct scsi_task *t)
{
	struct scsi_dev *d = t->lun.dev;
	struct scsi_nexus *n = t->n;
	enum sense_reason r = SR_OK;
	struct pr_reg *reg;
	unsigned type;

	if (!atomic_load(&d->res_active))
		return SR_OK;
	pthread_mutex_lock(&d->lock);
	if (d->spc2_owner) {
		/* SPC-2 7.21: everything but a few commands conflicts for
		 * the other I_T nexuses. */
		if (d->spc2_owner != n && !(t->op->flags & OPF_SPC2_OK))
			r = SR_RESERVATION_CONFLICT;
		goto out;
	}
	type = d->pr_type;
	if (!type)
		goto out;
	reg = find_reg(d, n);
	if (is_holder(d, reg))
		goto out;
	switch (t->op->pr_class) {
	case PRC_READ:
		if (type == PR_EA || ((type == PR_EA_RO || type == PR_EA_AR) && !reg))
			r = SR_RESERVATION_CONFLICT;
		break;
	case PRC_WRITE:
		if (!(reg && type >= PR_WE_RO))
			r = SR_RESERVATION_CONFLICT;
		break;
	default: /* ALLOW; PR IN/OUT and RESERVE/RELEASE decide themselves */
		break;
	}
out:
	pthread_mutex_unlock(&d->lock);
	return r;
}

void pr_spc2_reset(struct scsi_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->spc2_owner = NULL;
	update_active(d);
	pthread_mutex_unlock(&d->lock);
}

void pr_nexus_gone(struct scsi_ctx *s, struct scsi_nexus *n)
{
	pthread_mutex_lock(&s->dev_lock);
	for (struct scsi_dev *d = s->devs; d; d = d->next) {
		pthread_mutex_lock(&d->lock);
		if (d->spc2_owner == n) {
			d->spc2_owner = NULL;
			update_active(d);
		}
		pthread_mutex_unlock(&d->lock);
	}
	pthread_mutex_unlock(&s->dev_lock);
}

/* ---- RESERVE / RELEASE (6/10) ------------------------------------------------------ */

static enum sense_reason exec_reserve(struct scsi_task *t)
{
	struct scsi_dev *d = t->lun.dev;
	enum sense_reason r = SR_OK;

	pthread_mutex_lock(&d->lock);
	/* SPC-4 5.12.3 (CRH=1): under a persistent reservation RESERVE
	 * conflicts unless the nexus holds it, and then does nothing. */
	if (d->pr_type) {
		if (!is_holder(d, find_reg(d, t->n)))
			r = SR_RESERVATION_CONFLICT;
	} else if (d->spc2_owner && d->spc2_owner != t->n) {
		r = SR_RESERVATION_CONFLICT;
	} else {
		d->spc2_owner = t->n;
		update_active(d);
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

static enum sense_reason exec_release(struct scsi_task *t)
{
	struct scsi_dev *d = t->lun.dev;

	pthread_mutex_lock(&d->lock);
	/* Releasing a reservation one does not hold is not an error
	 * (SPC-2 7.17), and never touches a persistent reservation. */
	if (d->spc2_owner == t->n) {
		d->spc2_owner = NULL;
		update_active(d);
	}
	pthread_mutex_unlock(&d->lock);
	return SR_OK;
}

enum sense_reason pr_parse_reserve(struct scsi_task *t)
{
	/* Third-party and extent reservations are not supported. */
	if (t->cdb[0] == 0x56 && (t->cdb[1] & 0x12))
		return bad_cdb(t, 1, t->cdb[1] & 0x10 ? 4 : 1);
	if (t->cdb[0] == 0x16 && (t->cdb[1] & 0x01))
		return bad_cdb(t, 1, 0);
	t->execute = exec_reserve;
	return SR_OK;
}

enum sense_reason pr_parse_release(struct scsi_task *t)
{
	if (t->cdb[0] == 0x57 && (t->cdb[1] & 0x12))
		return bad_cdb(t, 1, t->cdb[1] & 0x10 ? 4 : 1);
	t->execute = exec_release;
	return SR_OK;
}

/* ---- PERSISTENT RESERVE IN (SPC-4 6.15) ------------------------------------------- */

/* iSCSI TransportID, format 01b: "name,i,0x<ISID>" (SPC-4 7.6.4.6). */
static size_t transport_id(uint8_t *p, const char *i_port)
{
	size_t n = strlen(i_port), len = (n + 1 + 3) & ~(size_t)3;

	if (len < 20)
		len = 20;
	memset(p, 0, 4 + len);
	p[0] = 0x40 | 0x05; /* FORMAT CODE 01b, PROTOCOL IDENTIFIER iSCSI */
	put_be16(p + 2, (uint16_t)len);
	memcpy(p + 4, i_port, n);
	return 4 + len;
}

static enum sense_reason exec_pr_in(struct scsi_task *t)
{
	struct scsi_dev *d = t->lun.dev;
	unsigned sa = t->cdb[1] & 0x1f;
	uint32_t alloc = get_be16(t->cdb + 7);
	size_t cap = 8 + (size_t)SCSI_PR_REG_MAX * (24 + 4 + SCSI_PORT_MAX + 4), len = 8;
	uint8_t *b = calloc(1, cap);

	if (!b)
		return SR_INTERNAL;
	pthread_mutex_lock(&d->lock);
	put_be32(b, d->pr_gen);
	switch (sa) {
	case 0: /* READ KEYS */
		for (unsigned i = 0; i < d->nr_regs; i++, len += 8)
			put_be64(b + len, d->regs[i].key);
		put_be32(b + 4, (uint32_t)(len - 8));
		break;
	case 1: /* READ RESERVATION */
		if (d->pr_type) {
			uint64_t key = 0;

			/* SPC-4 6.15.3.3: key 0 for all-registrants types */
			for (unsigned i = 0; i < d->nr_regs && !type_all_reg(d->pr_type); i++)
				if (d->regs[i].holder)
					key = d->regs[i].key;
			put_be64(b + 8, key);
			b[21] = d->pr_type; /* scope 0h: LU_SCOPE */
			len = 24;
		}
		put_be32(b + 4, (uint32_t)(len - 8));
		break;
	case 2: /* REPORT CAPABILITIES (SPC-4 6.15.4) */
		memset(b, 0, 8);
		put_be16(b, 8);
		b[2] = 0x10 | 0x04 | 0x01;			/* CRH, ATP_C, PTPL_C (SIP_C=0) */
		b[3] = (uint8_t)(0x80 | (d->aptpl ? 0x01 : 0)); /* TMV, PTPL_A */
		b[4] =
		    0x80 | 0x40 | 0x20 | 0x08 | 0x02; /* WR_EX_AR EX_AC_RO WR_EX_RO EX_AC WR_EX */
		b[5] = 0x01;			      /* EX_AC_AR */
		len = 8;
		break;
	case 3: /* READ FULL STATUS (SPC-4 6.15.5) */
		for (unsigned i = 0; i < d->nr_regs; i++) {
			const struct pr_reg *r = &d->regs[i];
			uint8_t *p = b + len;
			size_t tl;

			put_be64(p, r->key);
			p[12] = (uint8_t)((r->all_tg_pt ? 0x02 : 0) | (is_holder(d, r) ? 0x01 : 0));
			if (is_holder(d, r))
				p[13] = d->pr_type;
			put_be16(p + 18, r->rel_port);
			tl = transport_id(p + 24, r->i_port);
			put_be32(p + 20, (uint32_t)tl);
			len += 24 + tl;
		}
		put_be32(b + 4, (uint32_t)(len - 8));
		break;
	default:
		pthread_mutex_unlock(&d->lock);
		free(b);
		return bad_cdb(t, 1, 4);
	}
	pthread_mutex_unlock(&d->lock);
	scsi_task_data_in(t, b, (uint32_t)len, alloc);
	free(b);
	return SR_OK;
}

enum sense_reason pr_parse_in(struct scsi_task *t)
{
	t->execute = exec_pr_in;
	return SR_OK;
}

/* ---- PERSISTENT RESERVE OUT (SPC-4 6.16, 5.12.7-5.12.11) --------------------------- */

struct prout {
	struct scsi_task *t;
	struct scsi_dev *d;
	struct scsi_ctx *s;
	struct scsi_nexus *n;
	struct pr_reg *reg; /* the nexus's registration, if any */
	uint64_t key, sakey;
	unsigned sa, type, scope;
	int all_tg_pt, aptpl, spec_i_pt;
	const uint8_t *p;
	uint32_t plen;
};

/* Drop registration i (not the issuer's) with ascq 05h REGISTRATIONS
 * PREEMPTED, or whatever the caller says. */
static void drop_reg(struct prout *o, unsigned i, uint8_t ascq)
{
	reg_ua(o->s, o->d, &o->d->regs[i], ascq);
	reg_remove(o->d, i);
}

/* Remove the registrations with key k other than the issuer's; returns
 * how many went. */
static unsigned drop_key(struct prout *o, uint64_t k)
{
	unsigned n = 0;

	for (unsigned i = 0; i < o->d->nr_regs;) {
		struct pr_reg *r = &o->d->regs[i];

		if (r->key == k && !reg_matches(r, o->n->i_port, o->n->t_port)) {
			drop_reg(o, i, 0x05);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

/* Registrants other than the issuer hear ascq (03h/04h). */
static void ua_others(struct prout *o, uint8_t ascq)
{
	for (unsigned i = 0; i < o->d->nr_regs; i++)
		if (!reg_matches(&o->d->regs[i], o->n->i_port, o->n->t_port))
			reg_ua(o->s, o->d, &o->d->regs[i], ascq);
}

static void release_res(struct prout *o, int ua)
{
	unsigned old = o->d->pr_type;

	for (unsigned i = 0; i < o->d->nr_regs; i++)
		o->d->regs[i].holder = 0;
	o->d->pr_type = 0;
	/* SPC-4 5.12.11.2: releasing an RO/AR reservation tells the
	 * other registrants RESERVATIONS RELEASED. */
	if (ua && old >= PR_WE_RO)
		ua_others(o, 0x04);
}

static enum sense_reason pro_register(struct prout *o)
{
	struct scsi_dev *d = o->d;
	struct pr_reg *r = o->reg;

	if (o->spec_i_pt)
		return bad_param(o->t, 20, 3);
	if (!r) {
		if (o->sa == 0 && o->key) /* REGISTER: SPC-4 5.12.7 */
			return SR_RESERVATION_CONFLICT;
		if (!o->sakey)
			return SR_OK;
		if (d->nr_regs == SCSI_PR_REG_MAX)
			return SR_INSUFFICIENT_REG_RESOURCES;
		r = &d->regs[d->nr_regs++];
		memset(r, 0, sizeof(*r));
		r->key = o->sakey;
		r->all_tg_pt = o->all_tg_pt;
		r->rel_port = o->n->rel_port;
		strcpy(r->i_port, o->n->i_port);
		strcpy(r->t_port, o->n->t_port);
	} else {
		if (o->sa == 0 && o->key != r->key)
			return SR_RESERVATION_CONFLICT;
		if (o->sakey) {
			r->key = o->sakey;
		} else {
			/* Unregister (SPC-4 5.12.11.2.3): the holder's
			 * reservation goes with it, except for AR types
			 * while other registrants remain. */
			int holder = is_holder(d, r);

			reg_remove(d, (unsigned)(r - d->regs));
			o->reg = NULL;
			if (holder && (!type_all_reg(d->pr_type) || !d->nr_regs))
				release_res(o, 1);
		}
	}
	d->pr_gen++;
	d->aptpl = o->aptpl;
	return SR_OK;
}

static enum sense_reason pro_reserve(struct prout *o)
{
	struct scsi_dev *d = o->d;

	if (!o->reg || o->reg->key != o->key)
		return SR_RESERVATION_CONFLICT;
	if (o->scope)
		return bad_cdb(o->t, 2, 7);
	if (!type_valid(o->type))
		return bad_cdb(o->t, 2, 3);
	if (d->pr_type) {
		/* SPC-4 5.12.9: the holder may repeat its reservation */
		if (is_holder(d, o->reg) && d->pr_type == o->type)
			return SR_OK;
		return SR_RESERVATION_CONFLICT;
	}
	d->pr_type = (uint8_t)o->type;
	o->reg->holder = !type_all_reg(o->type);
	return SR_OK;
}

static enum sense_reason pro_release(struct prout *o)
{
	struct scsi_dev *d = o->d;

	if (!o->reg || o->reg->key != o->key)
		return SR_RESERVATION_CONFLICT;
	if (!d->pr_type || !is_holder(d, o->reg))
		return SR_OK; /* SPC-4 5.12.11.2.2: nothing to release */
	if (o->scope || o->type != d->pr_type)
		return SR_INVALID_RELEASE;
	release_res(o, 1);
	return SR_OK;
}

static enum sense_reason pro_clear(struct prout *o)
{
	struct scsi_dev *d = o->d;

	if (!o->reg || o->reg->key != o->key)
		return SR_RESERVATION_CONFLICT;
	/* SPC-4 5.12.11.6: RESERVATIONS PREEMPTED for everyone else */
	ua_others(o, 0x03);
	d->nr_regs = 0;
	d->pr_type = 0;
	o->reg = NULL;
	d->pr_gen++;
	return SR_OK;
}

static enum sense_reason pro_preempt(struct prout *o)
{
	struct scsi_dev *d = o->d;
	struct pr_reg *holder = NULL;

	if (!o->reg || o->reg->key != o->key)
		return SR_RESERVATION_CONFLICT;
	for (unsigned i = 0; i < d->nr_regs; i++)
		if (d->regs[i].holder)
			holder = &d->regs[i];
	if (!d->pr_type) {
		/* 5.12.11.4.2: no reservation, only registrations go */
		if (!o->sakey)
			return bad_param(o->t, 8, -1);
		if (!drop_key(o, o->sakey))
			return SR_RESERVATION_CONFLICT;
	} else if (type_all_reg(d->pr_type) && !o->sakey) {
		/* 5.12.11.4.3: key 0 under an AR type removes every other
		 * registrant and makes a new reservation. */
		if (o->scope)
			return bad_cdb(o->t, 2, 7);
		if (!type_valid(o->type))
			return bad_cdb(o->t, 2, 3);
		for (unsigned i = 0; i < d->nr_regs;) {
			if (&d->regs[i] != o->reg &&
			    !reg_matches(&d->regs[i], o->n->i_port, o->n->t_port))
				drop_reg(o, i, 0x05);
			else
				i++;
		}
		o->reg = find_reg(d, o->n);
		d->pr_type = (uint8_t)o->type;
		if (o->reg)
			o->reg->holder = !type_all_reg(o->type);
	} else if (!type_all_reg(d->pr_type) && holder && o->sakey == holder->key) {
		/* 5.12.11.4.3: preempting the holder moves the reservation */
		unsigned old = d->pr_type;

		if (o->scope)
			return bad_cdb(o->t, 2, 7);
		if (!type_valid(o->type))
			return bad_cdb(o->t, 2, 3);
		drop_key(o, o->sakey);
		o->reg = find_reg(d, o->n);
		for (unsigned i = 0; i < d->nr_regs; i++)
			d->regs[i].holder = 0;
		d->pr_type = (uint8_t)o->type;
		if (o->reg)
			o->reg->holder = !type_all_reg(o->type);
		if (old != o->type)
			ua_others(o, 0x04);
	} else {
		if (!o->sakey)
			return bad_param(o->t, 8, -1);
		if (!drop_key(o, o->sakey))
			return SR_RESERVATION_CONFLICT;
		o->reg = find_reg(d, o->n);
	}
	d->pr_gen++;
	return SR_OK;
}

static enum sense_reason pro_register_move(struct prout *o)
{
	struct scsi_dev *d = o->d;
	const uint8_t *p = o->p, *tid;
	char i_port[SCSI_PORT_MAX];
	const char *t_port = NULL;
	uint32_t tlen;
	uint16_t rel;
	size_t nlen;
	struct pr_reg *dst = NULL;

	if (!o->reg || o->reg->key != o->key)
		return SR_RESERVATION_CONFLICT;
	/* SPC-4 5.12.8: only the holder of a non-AR reservation moves it */
	if (!d->pr_type || type_all_reg(d->pr_type) || !o->reg->holder)
		return SR_RESERVATION_CONFLICT;
	if (!o->sakey)
		return bad_param(o->t, 8, -1);
	rel = get_be16(p + 18);
	tlen = get_be32(p + 20);
	if (tlen < 24 || 24 + (uint64_t)tlen > o->plen)
		return SR_PARAM_LIST_LENGTH;
	tid = p + 24;
	if ((tid[0] & 0x0f) != 0x05) /* iSCSI */
		return bad_param(o->t, 24, 3);
	if ((tid[0] >> 6) != 0x01) /* needs the ISID to name a port */
		return bad_param(o->t, 24, 7);
	nlen = get_be16(tid + 2);
	if (nlen + 4 > tlen)
		return bad_param(o->t, 26, -1);
	nlen = strnlen((const char *)tid + 4, nlen);
	if (!nlen || nlen >= SCSI_PORT_MAX)
		return bad_param(o->t, 28, -1);
	memcpy(i_port, tid + 4, nlen);
	i_port[nlen] = 0;
	if (rel == o->n->rel_port) {
		t_port = o->n->t_port;
	} else {
		pthread_mutex_lock(&o->s->lock);
		for (struct scsi_nexus *x = o->s->nexuses; x; x = x->next)
			if (x->rel_port == rel)
				t_port = x->t_port;
		pthread_mutex_unlock(&o->s->lock);
	}
	if (!t_port)
		return bad_param(o->t, 18, -1);
	if (!strcasecmp(i_port, o->n->i_port) && !strcasecmp(t_port, o->n->t_port))
		return bad_param(o->t, 24, -1); /* moving to itself */
	for (unsigned i = 0; i < d->nr_regs; i++)
		if (reg_matches(&d->regs[i], i_port, t_port))
			dst = &d->regs[i];
	if (!dst) {
		if (d->nr_regs == SCSI_PR_REG_MAX)
			return SR_INSUFFICIENT_REG_RESOURCES;
		dst = &d->regs[d->nr_regs++];
		memset(dst, 0, sizeof(*dst));
		strcpy(dst->i_port, i_port);
		strcpy(dst->t_port, t_port);
		dst->rel_port = rel;
	}
	dst->key = o->sakey;
	/* the registration pointer may have moved with the new entry */
	o->reg = find_reg(d, o->n);
	o->reg->holder = 0;
	dst->holder = 1;
	if (p[17] & 0x02) /* UNREG */
		reg_remove(d, (unsigned)(o->reg - d->regs));
	d->aptpl = p[17] & 0x01;
	d->pr_gen++;
	return SR_OK;
}

static enum sense_reason exec_pr_out(struct scsi_task *t)
{
	struct scsi_cmd *c = t->cmd;
	struct scsi_dev *d = t->lun.dev;
	struct prout o = {.t = t, .d = d, .s = t->n->s, .n = t->n};
	struct pr_reg *saved = NULL;
	unsigned saved_nr, saved_type;
	uint32_t saved_gen;
	int saved_aptpl;
	enum sense_reason r;

	o.sa = t->cdb[1] & 0x1f;
	o.scope = t->cdb[2] >> 4;
	o.type = t->cdb[2] & 0x0f;
	o.plen = get_be32(t->cdb + 5);
	o.p = c->data_out;
	c->xfer_len = o.plen;
	/* SPC-4 6.16.3: the basic parameter list is 24 bytes; REGISTER AND
	 * MOVE has its own (at least 24 plus a TransportID). */
	if (o.sa == 7 ? o.plen < 24 : o.plen != 24)
		return SR_PARAM_LIST_LENGTH;
	if (c->data_out_len < o.plen)
		return SR_INVALID_FIELD_IU;
	o.key = get_be64(o.p);
	o.sakey = get_be64(o.p + 8);
	if (o.sa != 7) {
		o.spec_i_pt = o.p[20] & 0x08;
		o.all_tg_pt = !!(o.p[20] & 0x04);
		o.aptpl = o.p[20] & 0x01;
	}
	pthread_mutex_lock(&d->lock);
	if (!d->regs) {
		d->regs = calloc(SCSI_PR_REG_MAX, sizeof(*d->regs));
		if (!d->regs) {
			r = SR_INTERNAL;
			goto out;
		}
	}
	/* Keep a copy to undo a change that cannot be made persistent. */
	saved = malloc(SCSI_PR_REG_MAX * sizeof(*saved));
	if (!saved) {
		r = SR_INTERNAL;
		goto out;
	}
	memcpy(saved, d->regs, d->nr_regs * sizeof(*saved));
	saved_nr = d->nr_regs;
	saved_type = d->pr_type;
	saved_gen = d->pr_gen;
	saved_aptpl = d->aptpl;
	o.reg = find_reg(d, t->n);
	switch (o.sa) {
	case 0:
	case 6:
		r = pro_register(&o);
		break;
	case 1:
		r = pro_reserve(&o);
		break;
	case 2:
		r = pro_release(&o);
		break;
	case 3:
		r = pro_clear(&o);
		break;
	case 4:
	case 5: /* PREEMPT AND ABORT: commands complete synchronously, so
		 * there are no tasks left to abort. */
		r = pro_preempt(&o);
		break;
	case 7:
		r = pro_register_move(&o);
		break;
	default:
		r = bad_cdb(t, 1, 4);
		break;
	}
	if (r == SR_OK)
		r = pr_persist(o.s, d);
	if (r != SR_OK && r != SR_RESERVATION_CONFLICT) {
		memcpy(d->regs, saved, saved_nr * sizeof(*saved));
		d->nr_regs = saved_nr;
		d->pr_type = (uint8_t)saved_type;
		d->pr_gen = saved_gen;
		d->aptpl = saved_aptpl;
	}
	update_active(d);
out:
	pthread_mutex_unlock(&d->lock);
	free(saved);
	return r;
}

enum sense_reason pr_parse_out(struct scsi_task *t)
{
	t->execute = exec_pr_out;
	return SR_OK;
}
