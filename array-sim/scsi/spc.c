/*
 * SPC-4 primary commands: INQUIRY and the VPD pages, MODE SENSE and MODE
 * SELECT, REPORT LUNS, REQUEST SENSE, REPORT SUPPORTED OPERATION CODES,
 * REPORT TARGET PORT GROUPS, TEST UNIT READY, START STOP UNIT and PREVENT
 * ALLOW MEDIUM REMOVAL.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scsi_int.h"

#define TPG_ID 1 /* the one target port group (ALUA, implicit) */

static void pad_copy(uint8_t *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	memset(dst, ' ', len);
	memcpy(dst, src, n < len ? n : len);
}

/* ---- INQUIRY ------------------------------------------------------------------ */

static enum sense_reason inquiry_std(struct scsi_task *t, uint32_t alloc)
{
	uint8_t b[96];
	static const uint16_t versions[] = {
	    0x00a0, /* SAM-5 (no version claimed) */
	    0x0460, /* SPC-4 (no version claimed) */
	    0x04c0, /* SBC-3 (no version claimed) */
	    0x0960, /* iSCSI (no version claimed) */
	};

	memset(b, 0, sizeof(b));
	/* SPC-4 6.4.2: PQ 011b / PDT 1Fh for a LUN with no LU behind it */
	b[0] = t->has_lun ? 0x00 : 0x7f;
	b[2] = 0x06; /* VERSION: SPC-4 */
	b[3] = 0x12; /* HISUP, RESPONSE DATA FORMAT 2 */
	b[4] = sizeof(b) - 5;
	/* TPGS 01b: implicit ALUA (REPORT TARGET PORT GROUPS); 3PC: there
	 * is a copy manager (EXTENDED COPY, xcopy.c) */
	b[5] = 0x18;
	b[7] = 0x02; /* CMDQUE */
	pad_copy(b + 8, SCSI_VENDOR, 8);
	pad_copy(b + 16, SCSI_PRODUCT, 16);
	pad_copy(b + 32, SCSI_REVISION, 4);
	for (unsigned i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		put_be16(b + 58 + 2 * i, versions[i]);
	scsi_task_data_in(t, b, sizeof(b), alloc);
	return SR_OK;
}

static const uint8_t vpd_pages[] = {0x00, 0x80, 0x83, 0x86, 0xb0, 0xb1, 0xb2};

/* One designation descriptor (SPC-4 7.8.6.1). */
static uint8_t *desig(uint8_t *p, uint8_t proto_code, uint8_t piv_assoc_type, const void *id,
		      size_t len)
{
	p[0] = proto_code;
	p[1] = piv_assoc_type;
	p[2] = 0;
	p[3] = (uint8_t)len;
	memcpy(p + 4, id, len);
	return p + 4 + len;
}

/* SCSI name string: UTF-8, NUL terminated, padded to a multiple of 4. */
static uint8_t *desig_name(uint8_t *p, uint8_t assoc_type, const char *name, size_t n)
{
	uint8_t buf[256];
	size_t len;

	if (n > 251)
		n = 251;
	len = (n + 1 + 3) & ~(size_t)3;
	memset(buf, 0, len);
	memcpy(buf, name, n);
	return desig(p, 0x53, assoc_type, buf, len);
}

static enum sense_reason vpd_83(struct scsi_task *t, uint8_t *b)
{
	struct scsi_nexus *n = t->n;
	const struct lun_ent *l = &t->lun;
	struct lun_info li;
	uint8_t *p = b + 4, t10[8 + 32], port[4] = {0};
	const char *tp = n->t_port, *comma = NULL;

	if (array_lun_get(n->s->array, l->vol, &li))
		return SR_LUN_NOT_SUPPORTED;
	/* Association 0 (the LU): NAA-6 from the volume uuid, and a T10
	 * vendor id one (vendor + unit serial).  Both differ between a LUN,
	 * its snapshots and clones, and survive restarts: multipath drivers
	 * merge devices whose designators are equal. */
	p = desig(p, 0x01, 0x03, li.naa, 16);
	memcpy(t10, SCSI_VENDOR "        ", 8);
	memcpy(t10 + 8, li.serial, 32);
	p = desig(p, 0x02, 0x01, t10, sizeof(t10));
	/* Association 1 (the target port), PIV=1 protocol iSCSI: relative
	 * target port (type 4), target port group (type 5), and the SCSI
	 * name string of the port (type 8). */
	put_be16(port + 2, n->rel_port);
	p = desig(p, 0x51, 0x94, port, 4);
	put_be16(port + 2, TPG_ID);
	p = desig(p, 0x51, 0x95, port, 4);
	p = desig_name(p, 0x98, tp, strlen(tp));
	/* Association 2 (the target device): the target name. */
	for (const char *c = tp; *c; c++)
		if (!strncasecmp(c, ",t,", 3)) {
			comma = c;
			break;
		}
	p = desig_name(p, 0xa8, tp, comma ? (size_t)(comma - tp) : strlen(tp));
	put_be16(b + 2, (uint16_t)(p - b - 4));
	return SR_OK;
}

static enum sense_reason inquiry_vpd(struct scsi_task *t, uint8_t page, uint32_t alloc)
{
	uint8_t b[1024];
	uint32_t bs = t->lun.block_size;
	uint32_t chunk_blocks;
	struct lun_info li;
	enum sense_reason r;

	memset(b, 0, sizeof(b));
	b[0] = t->has_lun ? 0x00 : 0x7f;
	b[1] = page;
	if (!t->has_lun) {
		/* Nothing but the page list on a LUN without an LU. */
		if (page != 0x00)
			return bad_cdb(t, 2, -1);
		b[3] = 1;
		scsi_task_data_in(t, b, 5, alloc);
		return SR_OK;
	}
	chunk_blocks = t->n->s->chunk_size / bs;
	switch (page) {
	case 0x00: /* SPC-4 7.8.14: supported pages, ascending (Windows checks) */
		b[3] = sizeof(vpd_pages);
		memcpy(b + 4, vpd_pages, sizeof(vpd_pages));
		break;
	case 0x80: /* SPC-4 7.8.15 unit serial number */
		if (array_lun_get(t->n->s->array, t->lun.vol, &li))
			return SR_LUN_NOT_SUPPORTED;
		b[3] = 32;
		memcpy(b + 4, li.serial, 32);
		break;
	case 0x83:
		r = vpd_83(t, b);
		if (r)
			return r;
		break;
	case 0x86: /* SPC-4 7.8.7 extended INQUIRY data */
		b[3] = 0x3c;
		b[5] = 0x07; /* HEADSUP ORDSUP SIMPSUP */
		b[6] = 0x01; /* V_SUP: volatile cache */
		b[7] = 0x01; /* LUICLR: UAs are per I_T_L nexus */
		break;
	case 0xb0: /* SBC-3 6.5.3 block limits */
		b[3] = 0x3c;
		b[5] = SCSI_MAX_CAW_BLOCKS;
		put_be16(b + 6, (uint16_t)(chunk_blocks > 0xffff ? 0xffff : chunk_blocks));
		put_be32(b + 8, sbc_max_xfer_blocks(bs));
		put_be32(b + 12, sbc_max_xfer_blocks(bs));
		put_be32(b + 20, sbc_max_unmap_blocks(bs));
		put_be32(b + 24, SCSI_MAX_UNMAP_DESC);
		/* Unmap whole chunks to free space: the chunk is the grain. */
		put_be32(b + 28, chunk_blocks);
		put_be32(b + 32, 0x80000000u); /* UGAVALID, alignment 0 */
		put_be64(b + 36, sbc_max_ws_blocks(bs));
		/* SBC-4 6.6.4: WRITE ATOMIC(16) up to the transfer limit, any
		 * alignment and granularity (0), no atomic boundaries. */
		put_be32(b + 44, sbc_max_atomic_blocks(bs));
		break;
	case 0xb1: /* SBC-3 6.5.2 block device characteristics */
		b[3] = 0x3c;
		put_be16(b + 4, 0x0001); /* non-rotating medium */
		/* SBC-4 6.6.2 WABEREQ/WACEREQ 01b: a read after SANITIZE
		 * BLOCK ERASE / CRYPTO ERASE succeeds (the blocks are
		 * deallocated and read as zeros). */
		b[7] = 0x50;
		break;
	case 0xb2: /* SBC-3 6.5.4 logical block provisioning */
		b[3] = 0x04;
		b[5] = 0xe4; /* LBPU LBPWS LBPWS10 LBPRZ (ANC_SUP=0) */
		b[6] = 0x02; /* provisioning type: thin */
		break;
	default:
		return bad_cdb(t, 2, -1);
	}
	scsi_task_data_in(t, b, 4u + get_be16(b + 2), alloc);
	return SR_OK;
}

static enum sense_reason exec_inquiry(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	uint32_t alloc = get_be16(cdb + 3);

	if (cdb[1] & 0x02) /* CMDDT: obsolete (SPC-4 6.4.1) */
		return bad_cdb(t, 1, 1);
	if (!(cdb[1] & 0x01)) {
		if (cdb[2]) /* a page code without EVPD */
			return bad_cdb(t, 2, -1);
		return inquiry_std(t, alloc);
	}
	return inquiry_vpd(t, cdb[2], alloc);
}

enum sense_reason spc_parse_inquiry(struct scsi_task *t)
{
	t->execute = exec_inquiry;
	return SR_OK;
}

/* ---- TEST UNIT READY, START STOP UNIT, PREVENT ALLOW ---------------------------- */

enum sense_reason spc_parse_tur(struct scsi_task *t)
{
	/* Ready when online; dispatch already failed an offline LU. */
	t->execute = NULL;
	return SR_OK;
}

enum sense_reason spc_parse_start_stop(struct scsi_task *t)
{
	/* SBC-3 5.25: a virtual disk has nothing to spin or eject; the LU
	 * stays ready whatever is asked (as tgt and LIO do). */
	t->execute = NULL;
	return SR_OK;
}

enum sense_reason spc_parse_prevent_allow(struct scsi_task *t)
{
	/* SBC-3 5.12: the medium is not removable (RMB=0), nothing to lock. */
	t->execute = NULL;
	return SR_OK;
}

/* ---- REQUEST SENSE ------------------------------------------------------------------ */

static enum sense_reason exec_request_sense(struct scsi_task *t)
{
	struct scsi_cmd tmp;
	struct scsi_task tt = *t;
	int desc = t->cdb[1] & 0x01;
	enum sense_reason r = SR_NO_SENSE;

	memset(&tmp, 0, sizeof(tmp));
	tt.cmd = &tmp;
	tt.sks_valid = 0;
	tt.info_valid = 0;
	/* SPC-4 6.29: a pending UA is reported (and cleared) as parameter
	 * data with GOOD status; so is the LU's not-ready state. */
	if (!t->has_lun)
		r = SR_LUN_NOT_SUPPORTED;
	else if (ua_take(t->n, (uint32_t)t->cmd->lun, &tt.ua_asc, &tt.ua_ascq))
		r = SR_UA;
	else if (!t->lun.online)
		r = SR_NOT_READY_OFFLINE;
	scsi_build_sense(&tt, r, desc);
	scsi_task_data_in(t, tmp.sense, tmp.sense_len, t->cdb[4]);
	return SR_OK;
}

enum sense_reason spc_parse_request_sense(struct scsi_task *t)
{
	t->execute = exec_request_sense;
	return SR_OK;
}

/* ---- REPORT LUNS ------------------------------------------------------------------- */

static enum sense_reason exec_report_luns(struct scsi_task *t)
{
	struct scsi_nexus *n = t->n;
	uint32_t alloc = get_be32(t->cdb + 6);
	uint8_t select = t->cdb[2];
	uint8_t *b;
	size_t nr = 0, len;

	/* SPC-4 6.33: select report 00h all LUs but well-known ones, 01h
	 * well-known only (we have none), 02h all. */
	if (select > 0x02)
		return bad_cdb(t, 2, -1);
	if (alloc < 16)
		return bad_cdb(t, 6, -1);
	nexus_refresh(n);
	pthread_rwlock_rdlock(&n->tlock);
	if (select != 0x01)
		nr = n->nr_luns;
	len = 8 + 8 * nr;
	b = calloc(1, len);
	if (!b) {
		pthread_rwlock_unlock(&n->tlock);
		return SR_INTERNAL;
	}
	put_be32(b, (uint32_t)(8 * nr));
	for (size_t i = 0; i < nr; i++) {
		uint32_t num = n->luns[i].number;
		uint8_t *e = b + 8 + 8 * i;

		/* SAM-5 4.7: peripheral device addressing below 256, flat
		 * space addressing (01b) above. */
		if (num < 256) {
			e[1] = (uint8_t)num;
		} else {
			e[0] = (uint8_t)(0x40 | ((num >> 8) & 0x3f));
			e[1] = (uint8_t)num;
		}
	}
	pthread_rwlock_unlock(&n->tlock);
	/* SPC-4 6.33: REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED for
	 * the I_T nexus. */
	ua_clear(n, 0x3f, 0x0e);
	scsi_task_data_in(t, b, (uint32_t)len, alloc);
	free(b);
	return SR_OK;
}

enum sense_reason spc_parse_report_luns(struct scsi_task *t)
{
	t->execute = exec_report_luns;
	return SR_OK;
}

/* ---- MODE SENSE / MODE SELECT --------------------------------------------------------- */

enum { PC_CURRENT = 0, PC_CHANGEABLE = 1, PC_DEFAULT = 2, PC_SAVED = 3 };

#define PAGE_CACHING 0x08
#define PAGE_CONTROL 0x0a
#define PAGE_IEC     0x1c
#define PAGE_ALL     0x3f

/* Write mode page `page` for page control pc at p; returns its length, 0
 * if the page does not exist. */
static unsigned mode_page(struct scsi_dev *d, uint8_t page, int pc, uint8_t *p)
{
	switch (page) {
	case PAGE_CACHING: /* SBC-3 6.4.3 */
		memset(p, 0, 20);
		p[0] = PAGE_CACHING;
		p[1] = 0x12;
		if (pc == PC_CHANGEABLE)
			p[2] = 0x04; /* WCE */
		else if (pc == PC_DEFAULT || atomic_load(&d->wce))
			p[2] = 0x04;
		return 20;
	case PAGE_CONTROL: /* SPC-4 7.5.8 */
		memset(p, 0, 12);
		p[0] = PAGE_CONTROL;
		p[1] = 0x0a;
		if (pc == PC_CHANGEABLE) {
			p[2] = 0x04; /* D_SENSE */
			p[4] = 0x08; /* SWP (libiscsi Sanitize.Readonly sets it) */
			return 12;
		}
		if (pc == PC_CURRENT && atomic_load(&d->d_sense))
			p[2] |= 0x04;
		if (pc == PC_CURRENT && atomic_load(&d->swp))
			p[4] |= 0x08;
		p[3] = 0x10;		 /* QUEUE ALGORITHM MODIFIER 1: unrestricted */
		put_be16(p + 8, 0xffff); /* BUSY TIMEOUT PERIOD: unlimited */
		return 12;
	case PAGE_IEC: /* SPC-4 7.5.13: exceptions reporting disabled */
		memset(p, 0, 12);
		p[0] = PAGE_IEC;
		p[1] = 0x0a;
		if (pc != PC_CHANGEABLE)
			p[2] = 0x08; /* DEXCPT */
		return 12;
	default:
		return 0;
	}
}

static enum sense_reason exec_mode_sense(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	int ten = cdb[0] == 0x5a;
	int dbd = cdb[1] & 0x08, llbaa = ten && (cdb[1] & 0x10);
	int pc = cdb[2] >> 6;
	uint8_t page = cdb[2] & 0x3f, sub = cdb[3];
	uint32_t alloc = ten ? get_be16(cdb + 7) : cdb[4];
	unsigned hdr = ten ? 8 : 4, len, bdl = 0;
	uint8_t b[256];
	uint64_t nb = t->lun.nblocks;

	if (pc == PC_SAVED)
		return SR_SAVING_NOT_SUPPORTED; /* SPC-4 6.11: no saved pages */
	/* Subpage 00h, or FFh (all subpages) - we have no subpages. */
	if (sub != 0x00 && sub != 0xff)
		return bad_cdb(t, 3, -1);
	memset(b, 0, sizeof(b));
	len = hdr;
	if (!dbd) {
		/* SPC-4 7.5.5 block descriptor: short, or long if LLBAA */
		uint8_t *bd = b + hdr;

		if (llbaa) {
			put_be64(bd, nb);
			put_be32(bd + 12, t->lun.block_size);
			bdl = 16;
		} else {
			put_be32(bd, nb > 0xffffffffull ? 0xffffffffu : (uint32_t)nb);
			put_be32(bd + 4, t->lun.block_size & 0xffffff);
			bdl = 8;
		}
		len += bdl;
	}
	if (page == PAGE_ALL) {
		len += mode_page(t->lun.dev, PAGE_CACHING, pc, b + len);
		len += mode_page(t->lun.dev, PAGE_CONTROL, pc, b + len);
		len += mode_page(t->lun.dev, PAGE_IEC, pc, b + len);
	} else {
		unsigned n = mode_page(t->lun.dev, page, pc, b + len);

		if (!n)
			return bad_cdb(t, 2, 5);
		len += n;
	}
	/* Device-specific parameter (SBC-3 6.4.1): WP and DPOFUA. */
	if (ten) {
		put_be16(b, (uint16_t)(len - 2));
		b[3] = (uint8_t)((t->lun.readonly ? 0x80 : 0) | 0x10);
		b[4] = llbaa && bdl ? 0x01 : 0; /* LONGLBA */
		put_be16(b + 6, (uint16_t)bdl);
	} else {
		b[0] = (uint8_t)(len - 1);
		b[2] = (uint8_t)((t->lun.readonly ? 0x80 : 0) | 0x10);
		b[3] = (uint8_t)bdl;
	}
	scsi_task_data_in(t, b, len, alloc);
	return SR_OK;
}

enum sense_reason spc_parse_mode_sense(struct scsi_task *t)
{
	t->execute = exec_mode_sense;
	return SR_OK;
}

static enum sense_reason exec_mode_select(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	int ten = cdb[0] == 0x55;
	uint32_t plen = ten ? get_be16(cdb + 7) : cdb[4];
	const uint8_t *d = t->cmd->data_out;
	unsigned hdr = ten ? 8 : 4, off, bdl;
	struct scsi_dev *dev = t->lun.dev;
	int wce = atomic_load(&dev->wce), dsense = atomic_load(&dev->d_sense);
	int swp = atomic_load(&dev->swp);
	int pass;

	if (cdb[1] & 0x01) /* SP: SPC-4 6.9, no saved pages */
		return bad_cdb(t, 1, 0);
	if (!plen)
		return SR_OK;
	if (!(cdb[1] & 0x10)) /* PF=0: vendor-specific page format */
		return bad_cdb(t, 1, 4);
	if (t->cmd->data_out_len < plen)
		return SR_PARAM_LIST_LENGTH;
	if (plen < hdr)
		return SR_PARAM_LIST_LENGTH;
	bdl = ten ? get_be16(d + 6) : d[3];
	if (bdl != 0 && bdl != 8 && !(ten && bdl == 16 && (d[4] & 1)))
		return bad_param(t, ten ? 6 : 3, -1);
	if (hdr + bdl > plen)
		return SR_PARAM_LIST_LENGTH;
	if (bdl) {
		/* SPC-4 7.5.5: the block length cannot change. */
		const uint8_t *bd = d + hdr;
		uint32_t blen = bdl == 16 ? get_be32(bd + 12) : get_be24(bd + 5);

		if (blen != t->lun.block_size)
			return bad_param(t, hdr + (bdl == 16 ? 12 : 5), -1);
	}
	/* Pass 0 validates every page, pass 1 applies: all or nothing. */
	for (pass = 0; pass < 2; pass++) {
		for (off = hdr + bdl; off < plen;) {
			uint8_t cur[32], chg[32];
			unsigned plen_page, n;

			if (plen - off < 2)
				return SR_PARAM_LIST_LENGTH;
			if (d[off] & 0x40) /* SPF: no subpages */
				return bad_param(t, off, 6);
			plen_page = 2u + d[off + 1];
			n = mode_page(dev, d[off] & 0x3f, PC_CURRENT, cur);
			if (!n)
				return bad_param(t, off, 5);
			if (plen_page != n)
				return bad_param(t, off + 1, -1);
			if (off + n > plen)
				return SR_PARAM_LIST_LENGTH;
			mode_page(dev, d[off] & 0x3f, PC_CHANGEABLE, chg);
			/* SPC-4 6.9: a bit that is not changeable must be
			 * sent with its current value. */
			for (unsigned i = 2; i < n && pass == 0; i++) {
				uint8_t diff = (uint8_t)((d[off + i] ^ cur[i]) & ~chg[i]);

				if (diff) {
					int bit = 7;

					while (!(diff & (1u << bit)))
						bit--;
					return bad_param(t, off + i, bit);
				}
			}
			if (pass == 1) {
				if ((d[off] & 0x3f) == PAGE_CACHING)
					wce = !!(d[off + 2] & 0x04);
				if ((d[off] & 0x3f) == PAGE_CONTROL) {
					dsense = !!(d[off + 2] & 0x04);
					swp = !!(d[off + 4] & 0x08);
				}
			}
			off += n;
		}
	}
	if (wce != atomic_load(&dev->wce) || dsense != atomic_load(&dev->d_sense) ||
	    swp != atomic_load(&dev->swp)) {
		atomic_store(&dev->wce, wce);
		atomic_store(&dev->d_sense, dsense);
		atomic_store(&dev->swp, swp);
		/* SPC-4 7.5.1: MODE PARAMETERS CHANGED for the other nexuses */
		ua_dev(t->n->s, dev, t->n, 0x2a, 0x01);
	}
	return SR_OK;
}

enum sense_reason spc_parse_mode_select(struct scsi_task *t)
{
	t->execute = exec_mode_select;
	return SR_OK;
}

/* ---- REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) ---------------------------------- */

static uint8_t *timeouts_desc(uint8_t *p)
{
	/* SPC-4 6.35.4 command timeouts descriptor: no nominal time,
	 * 30 s recommended. */
	memset(p, 0, 12);
	put_be16(p, 0x0a);
	put_be32(p + 8, 30);
	return p + 12;
}

static enum sense_reason exec_rsoc(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	int rctd = cdb[2] & 0x80;
	unsigned opt = cdb[2] & 0x07;
	uint8_t req_op = cdb[3];
	uint16_t req_sa = get_be16(cdb + 4);
	uint32_t alloc = get_be32(cdb + 6);
	const struct scsi_opdesc *o, *found = NULL;
	int op_has_sa = 0, op_exists = 0;
	uint8_t *b, *p;
	size_t cap = 4096;
	enum sense_reason r = SR_OK;

	b = calloc(1, cap);
	if (!b)
		return SR_INTERNAL;
	if (opt == 0) {
		p = b + 4;
		for (unsigned i = 0; (o = scsi_op_at(i)); i++) {
			p[0] = o->opcode;
			put_be16(p + 2, o->sa);
			p[5] = (uint8_t)((rctd ? 0x02 : 0) | (o->has_sa ? 0x01 : 0));
			put_be16(p + 6, o->cdb_len);
			p += 8;
			if (rctd)
				p = timeouts_desc(p);
		}
		put_be32(b, (uint32_t)(p - b - 4));
		scsi_task_data_in(t, b, (uint32_t)(p - b), alloc);
		goto out;
	}
	for (unsigned i = 0; (o = scsi_op_at(i)); i++) {
		if (o->opcode != req_op)
			continue;
		op_exists = 1;
		op_has_sa |= o->has_sa;
		if (!o->has_sa || o->sa == req_sa)
			found = found ? found : o;
	}
	switch (opt) {
	case 1: /* opcode only: an opcode with service actions is an error */
		if (op_has_sa) {
			r = bad_cdb(t, 3, -1);
			goto out;
		}
		break;
	case 2: /* opcode and service action */
		if (op_exists && !op_has_sa) {
			r = bad_cdb(t, 3, -1);
			goto out;
		}
		break;
	case 3: /* opcode, and service action if it has them */
		break;
	default:
		r = bad_cdb(t, 2, 2);
		goto out;
	}
	memset(b, 0, 4);
	if (!found) {
		b[1] = 0x01; /* SUPPORT 001b: not supported */
		scsi_task_data_in(t, b, 4, alloc);
		goto out;
	}
	b[1] = (uint8_t)((rctd ? 0x80 : 0) | 0x03); /* supported as the standard says */
	put_be16(b + 2, found->cdb_len);
	memcpy(b + 4, found->usage, found->cdb_len);
	p = b + 4 + found->cdb_len;
	if (rctd)
		p = timeouts_desc(p);
	scsi_task_data_in(t, b, (uint32_t)(p - b), alloc);
out:
	free(b);
	return r;
}

enum sense_reason spc_parse_rsoc(struct scsi_task *t)
{
	t->execute = exec_rsoc;
	return SR_OK;
}

/* ---- REPORT TARGET PORT GROUPS (SPC-4 6.36) -------------------------------------- */

static enum sense_reason exec_rtpg(struct scsi_task *t)
{
	uint8_t b[32];
	unsigned fmt = t->cdb[1] >> 5, off;
	uint32_t alloc = get_be32(t->cdb + 6);

	if (fmt > 1)
		return bad_cdb(t, 1, 7);
	memset(b, 0, sizeof(b));
	off = 4;
	if (fmt == 1) {
		b[4] = 0x10; /* FORMAT TYPE 001b: extended header */
		b[5] = 0;    /* IMPLICIT TRANSITION TIME */
		off = 8;
	}
	/* One group, active/optimized (the array has one controller). */
	b[off] = 0x80 | 0x00; /* PREF, ASYMMETRIC ACCESS STATE 0h */
	b[off + 1] = 0x01;    /* AO_SUP */
	put_be16(b + off + 2, TPG_ID);
	b[off + 7] = 1; /* target port count */
	put_be16(b + off + 10, t->n->rel_port);
	off += 12;
	put_be32(b, off - 4);
	scsi_task_data_in(t, b, off, alloc);
	return SR_OK;
}

enum sense_reason spc_parse_rtpg(struct scsi_task *t)
{
	t->execute = exec_rtpg;
	return SR_OK;
}

/* ---- LOG SENSE (SPC-4 6.6): supported pages and logical block provisioning ---- */

/* One LBP resource count parameter (SBC-3 6.3.4.2): counts in blocks
 * (threshold exponent 0), scope 10b: the pool is shared by all LUs. */
static uint8_t *lbp_param(uint8_t *p, uint16_t code, uint64_t blocks)
{
	put_be16(p, code);
	p[2] = 0x03; /* FORMAT AND LINKING 11b */
	p[3] = 8;
	put_be32(p + 4, blocks > 0xffffffffull ? 0xffffffffu : (uint32_t)blocks);
	p[8] = 0;
	p[9] = 0x02;
	p[10] = p[11] = 0;
	return p + 12;
}

static enum sense_reason exec_log_sense(struct scsi_task *t)
{
	const uint8_t *cdb = t->cdb;
	uint8_t page = cdb[2] & 0x3f, sub = cdb[3];
	uint16_t ptr = get_be16(cdb + 5);
	uint32_t alloc = get_be16(cdb + 7);
	uint8_t b[64], *p = b + 4;
	struct pool_stat st;

	if (cdb[1] & 0x01) /* SP: no saved parameters */
		return bad_cdb(t, 1, 0);
	if (sub)
		return bad_cdb(t, 3, -1);
	memset(b, 0, sizeof(b));
	b[0] = page;
	switch (page) {
	case 0x00: /* supported log pages */
		*p++ = 0x00;
		*p++ = 0x0c;
		break;
	case 0x0c: /* logical block provisioning (SBC-3 6.3.4) */
		if (pool_stat(t->n->s->pool, &st))
			return SR_INTERNAL;
		if (ptr <= 1)
			p = lbp_param(p, 0x0001,
				      st.free_chunks * (st.chunk_size / t->lun.block_size));
		if (ptr <= 2)
			p = lbp_param(p, 0x0002,
				      (st.data_chunks - st.free_chunks) *
					  (st.chunk_size / t->lun.block_size));
		break;
	default:
		return bad_cdb(t, 2, 5);
	}
	put_be16(b + 2, (uint16_t)(p - b - 4));
	scsi_task_data_in(t, b, (uint32_t)(p - b), alloc);
	return SR_OK;
}

enum sense_reason spc_parse_log_sense(struct scsi_task *t)
{
	t->execute = exec_log_sense;
	return SR_OK;
}
