/*
 * Control operations: one handler per message type.  Each reads its
 * request fields, calls the object model (array.c), appends STATUS,
 * MESSAGE and reply fields, and writes a one-line audit text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array.h"
#include "server.h"

#define SOFTWARE     "arraysimd 0.1"
#define PAGE_DEFAULT 1000u

typedef int (*op_fn)(struct ctl_req *req, struct proto_buf *rep);

int ctl_err(int e)
{
	switch (-e) {
	case 0:
		return PROTO_OK;
	case ENOENT:
		return PROTO_ENOENT;
	case EEXIST:
		return PROTO_EEXIST;
	case EINVAL:
		return PROTO_EINVAL;
	case EBUSY:
		return PROTO_EBUSY;
	case ENOSPC:
		return PROTO_ENOSPC;
	case EDQUOT:
		return PROTO_EDQUOT;
	case EROFS:
		return PROTO_EROFS;
	case ERANGE:
		return PROTO_ERANGE;
	case EIO:
	case EILSEQ:
		return PROTO_EIO;
	case ENOMEM:
		return PROTO_ENOMEM;
	case ENXIO:
		return PROTO_EOFFLINE;
	case EALREADY:
		return PROTO_ESTATE;
	case ENOBUFS:
		return PROTO_ETOOBIG;
	default:
		return PROTO_EINTERNAL;
	}
}

/* Put STATUS/MESSAGE for an errno result; returns the protocol code. */
static int status(struct proto_buf *rep, int e, const char *what)
{
	int code = ctl_err(e);
	char msg[320];

	if (code == PROTO_OK) {
		proto_put_status(rep, PROTO_OK, "");
		return 0;
	}
	snprintf(msg, sizeof(msg), "%s: %s", what, e ? strerror(-e) : "");
	proto_put_status(rep, code, msg);
	return code;
}

static int bad(struct proto_buf *rep, const char *msg)
{
	proto_put_status(rep, PROTO_EINVAL, msg);
	return PROTO_EINVAL;
}

static int get_str(const struct ctl_req *r, uint16_t tag, char *out, size_t n)
{
	return proto_get_str(r->payload, r->len, tag, out, n);
}

static int get_guid(const struct ctl_req *r, uint16_t tag, uint8_t g[16])
{
	struct proto_field f;
	int e = proto_find(r->payload, r->len, tag, &f);

	return e ? e : proto_field_guid(&f, g);
}

static void guid_hex(const uint8_t g[16], char out[33])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", g[i]);
}

/* A snapshot or LUN named by SNAP_ID (guid = uuid = serial) or by name. */
static int find_snap(const struct ctl_req *r, uint16_t id_tag, struct lun_info *l)
{
	char key[ARRAY_NAME_MAX + 1];
	uint8_t g[16];

	if (!get_guid(r, id_tag, g)) {
		char hex[33];

		guid_hex(g, hex);
		return array_lun_find(r->array, hex, l);
	}
	if (id_tag == PROTO_TAG_SNAP_ID && !get_str(r, PROTO_TAG_SNAP_NAME, key, sizeof(key)))
		return array_lun_find(r->array, key, l);
	return -EINVAL;
}

static void put_lun(struct proto_buf *b, const struct lun_info *l)
{
	uint32_t flags = PROTO_LUNF_THIN;
	long m = proto_list_begin(b, PROTO_TAG_LUN);

	if (l->readonly)
		flags |= PROTO_LUNF_READONLY;
	if (!l->snapshot && l->parent)
		flags |= PROTO_LUNF_CLONE;
	proto_put_str(b, PROTO_TAG_LUN_NAME, l->name);
	proto_put_str(b, PROTO_TAG_LUN_SERIAL, l->serial);
	proto_put_bytes(b, PROTO_TAG_LUN_NAA, l->naa, 16);
	proto_put_u64(b, PROTO_TAG_LUN_SIZE, l->size);
	proto_put_u32(b, PROTO_TAG_BLOCK_SIZE, l->block_size);
	proto_put_u32(b, PROTO_TAG_LUN_FLAGS, flags);
	proto_put_u8(b, PROTO_TAG_LUN_STATE, l->online ? PROTO_LUN_ONLINE : PROTO_LUN_OFFLINE);
	proto_put_u64(b, PROTO_TAG_USED, l->allocated);
	proto_put_u64(b, PROTO_TAG_CREATED, l->created_ns);
	proto_put_guid(b, PROTO_TAG_SNAP_ID, l->uuid);
	if (l->parent_name[0])
		proto_put_str(b, PROTO_TAG_SNAP_NAME, l->parent_name); /* clone source */
	proto_list_end(b, m);
}

static void put_snap(struct proto_buf *b, const struct lun_info *l)
{
	long m = proto_list_begin(b, PROTO_TAG_SNAP);

	proto_put_guid(b, PROTO_TAG_SNAP_ID, l->uuid);
	proto_put_str(b, PROTO_TAG_SNAP_NAME, l->name);
	proto_put_str(b, PROTO_TAG_LUN_NAME, l->parent_name); /* origin */
	proto_put_guid(b, PROTO_TAG_SNAPSET_ID, l->snapset);
	proto_put_u64(b, PROTO_TAG_CREATED, l->created_ns);
	proto_put_u8(b, PROTO_TAG_SNAP_STATE, PROTO_SNAP_COMMITTED);
	proto_put_u64(b, PROTO_TAG_LUN_SIZE, l->size);
	proto_put_u32(b, PROTO_TAG_BLOCK_SIZE, l->block_size);
	proto_put_str(b, PROTO_TAG_LUN_SERIAL, l->serial);
	proto_put_bytes(b, PROTO_TAG_LUN_NAA, l->naa, 16);
	proto_put_u32(b, PROTO_TAG_LUN_FLAGS,
		      PROTO_LUNF_THIN | (l->readonly ? PROTO_LUNF_READONLY : 0));
	proto_put_u64(b, PROTO_TAG_USED, l->exclusive);
	proto_list_end(b, m);
}

/* ---- version, pool ----------------------------------------------------------- */

static int op_version(struct ctl_req *r, struct proto_buf *rep)
{
	proto_put_status(rep, PROTO_OK, "");
	proto_put_u32(rep, PROTO_TAG_PROTO_VERSION, PROTO_VERSION);
	proto_put_u64(rep, PROTO_TAG_CAPS,
		      PROTO_CAP_SNAP_DIFF | PROTO_CAP_FAULTS | PROTO_CAP_AUDIT |
			  PROTO_CAP_IDEMPOTENCY);
	proto_put_str(rep, PROTO_TAG_SOFTWARE, SOFTWARE);
	proto_put_u32(rep, PROTO_TAG_MAX_FRAME, PROTO_MAX_FRAME);
	return 0;
}

struct count_ctx {
	uint32_t luns, snaps;
};

static int count_fn(const struct lun_info *l, void *ctx)
{
	struct count_ctx *c = ctx;

	if (l->snapshot)
		c->snaps++;
	else
		c->luns++;
	return 0;
}

static int op_pool_status(struct ctl_req *r, struct proto_buf *rep)
{
	struct count_ctx c = {0};
	struct pool_stat st;
	uint8_t state = PROTO_POOL_OK;
	int e = pool_stat(array_pool(r->array), &st);

	if (!e)
		e = array_lun_list(r->array, 2, NULL, count_fn, &c);
	if (e)
		return status(rep, e, "pool status");
	if (!st.free_chunks)
		state = PROTO_POOL_FULL;
	else if (st.free_meta_blocks <= st.meta_reserve)
		state = PROTO_POOL_META_LOW;
	proto_put_status(rep, PROTO_OK, "");
	proto_put_str(rep, PROTO_TAG_POOL_NAME, "default");
	proto_put_u64(rep, PROTO_TAG_CAPACITY, st.data_chunks * st.chunk_size);
	proto_put_u64(rep, PROTO_TAG_USED, (st.data_chunks - st.free_chunks) * st.chunk_size);
	proto_put_u64(rep, PROTO_TAG_FREE, st.free_chunks * st.chunk_size);
	proto_put_u32(rep, PROTO_TAG_LUN_COUNT, c.luns);
	proto_put_u32(rep, PROTO_TAG_SNAP_COUNT, c.snaps);
	proto_put_u8(rep, PROTO_TAG_POOL_STATE, state);
	return 0;
}

/* ---- LUNs ------------------------------------------------------------------------ */

static int op_lun_create(struct ctl_req *r, struct proto_buf *rep)
{
	char name[ARRAY_NAME_MAX + 1];
	uint32_t bs = 512, flags = 0;
	uint64_t size = 0;
	struct lun_info l;
	int e;

	if (get_str(r, PROTO_TAG_LUN_NAME, name, sizeof(name)) ||
	    proto_get_u64(r->payload, r->len, PROTO_TAG_LUN_SIZE, &size))
		return bad(rep, "LUN_NAME and LUN_SIZE are required");
	proto_get_u32(r->payload, r->len, PROTO_TAG_BLOCK_SIZE, &bs);
	proto_get_u32(r->payload, r->len, PROTO_TAG_LUN_FLAGS, &flags);
	snprintf(r->text, sizeof(r->text), "lun create %s size %llu bs %u", name,
		 (unsigned long long)size, bs);
	e = array_lun_create(r->array, name, size, bs, &l);
	if (!e && (flags & PROTO_LUNF_READONLY) && !(e = array_lun_set_readonly(r->array, name, 1)))
		e = array_lun_find(r->array, name, &l);
	if (e)
		return status(rep, e, "lun create");
	proto_put_status(rep, PROTO_OK, "");
	put_lun(rep, &l);
	return 0;
}

static int op_lun_delete(struct ctl_req *r, struct proto_buf *rep)
{
	char name[ARRAY_NAME_MAX + 1];

	if (get_str(r, PROTO_TAG_LUN_NAME, name, sizeof(name)))
		return bad(rep, "LUN_NAME is required");
	snprintf(r->text, sizeof(r->text), "lun delete %s", name);
	return status(rep, array_lun_delete(r->array, name), "lun delete");
}

static int op_lun_resize(struct ctl_req *r, struct proto_buf *rep)
{
	char name[ARRAY_NAME_MAX + 1];
	struct lun_info l;
	uint64_t size;
	int e;

	if (get_str(r, PROTO_TAG_LUN_NAME, name, sizeof(name)) ||
	    proto_get_u64(r->payload, r->len, PROTO_TAG_LUN_SIZE, &size))
		return bad(rep, "LUN_NAME and LUN_SIZE are required");
	snprintf(r->text, sizeof(r->text), "lun resize %s to %llu", name, (unsigned long long)size);
	/* Grow only (protocol spec): the engine would shrink, dropping data. */
	e = array_lun_find(r->array, name, &l);
	if (!e && size < l.size) {
		proto_put_status(rep, PROTO_EINVAL, "lun resize: shrinking is not supported");
		return PROTO_EINVAL;
	}
	if (!e)
		e = array_lun_resize(r->array, name, size);
	if (!e)
		e = array_lun_find(r->array, name, &l);
	if (e)
		return status(rep, e, "lun resize");
	proto_put_status(rep, PROTO_OK, "");
	put_lun(rep, &l);
	return 0;
}

/* Paged listing: entries with id > cursor, at most max of them. */
struct page_ctx {
	struct proto_buf *rep;
	uint64_t cursor, last;
	uint32_t max, n;
	int more;
	int snaps;
	uint8_t set[16];
	int by_set;
};

static int page_fn(const struct lun_info *l, void *ctx)
{
	struct page_ctx *pc = ctx;

	if (l->id <= pc->cursor)
		return 0;
	if (pc->by_set && memcmp(l->snapset, pc->set, 16))
		return 0;
	if (pc->n == pc->max) {
		pc->more = 1;
		return 1;
	}
	if (pc->snaps)
		put_snap(pc->rep, l);
	else
		put_lun(pc->rep, l);
	pc->n++;
	pc->last = l->id;
	return 0;
}

static int list_page(struct ctl_req *r, struct proto_buf *rep, int snaps)
{
	struct page_ctx pc = {.rep = rep, .max = PAGE_DEFAULT, .snaps = snaps};
	char origin[ARRAY_NAME_MAX + 1];
	int has_origin = !get_str(r, PROTO_TAG_LUN_NAME, origin, sizeof(origin));
	int e;

	proto_get_u64(r->payload, r->len, PROTO_TAG_CURSOR, &pc.cursor);
	proto_get_u32(r->payload, r->len, PROTO_TAG_MAX_ENTRIES, &pc.max);
	if (!pc.max || pc.max > PAGE_DEFAULT)
		pc.max = PAGE_DEFAULT;
	pc.by_set = snaps && !get_guid(r, PROTO_TAG_SNAPSET_ID, pc.set);
	pc.last = pc.cursor;
	proto_put_status(rep, PROTO_OK, "");
	e = array_lun_list(r->array, snaps, snaps && has_origin ? origin : NULL, page_fn, &pc);
	if (e) {
		proto_buf_reset(rep);
		return status(rep, e, snaps ? "snapshot list" : "lun list");
	}
	proto_put_u64(rep, PROTO_TAG_CURSOR, pc.last);
	proto_put_u8(rep, PROTO_TAG_MORE, (uint8_t)pc.more);
	return 0;
}

static int op_lun_list(struct ctl_req *r, struct proto_buf *rep)
{
	return list_page(r, rep, 0);
}

static int op_lun_show(struct ctl_req *r, struct proto_buf *rep)
{
	char key[ARRAY_NAME_MAX + 1];
	struct proto_field f;
	struct lun_info l;
	int e;

	if (!get_str(r, PROTO_TAG_LUN_NAME, key, sizeof(key)) ||
	    !get_str(r, PROTO_TAG_LUN_SERIAL, key, sizeof(key))) {
		e = array_lun_find(r->array, key, &l);
	} else if (!proto_find(r->payload, r->len, PROTO_TAG_LUN_NAA, &f) && f.len == 16) {
		char hex[33];

		guid_hex(f.val, hex);
		e = array_lun_find(r->array, hex, &l);
	} else {
		return bad(rep, "LUN_NAME, LUN_SERIAL or LUN_NAA is required");
	}
	if (e)
		return status(rep, e, "lun show");
	proto_put_status(rep, PROTO_OK, "");
	if (l.snapshot)
		put_snap(rep, &l);
	put_lun(rep, &l);
	return 0;
}

static int op_lun_set(struct ctl_req *r, struct proto_buf *rep)
{
	char name[ARRAY_NAME_MAX + 1];
	struct lun_info l;
	uint32_t flags;
	int e;

	if (get_str(r, PROTO_TAG_LUN_NAME, name, sizeof(name)) ||
	    proto_get_u32(r->payload, r->len, PROTO_TAG_LUN_FLAGS, &flags))
		return bad(rep, "LUN_NAME and LUN_FLAGS are required");
	snprintf(r->text, sizeof(r->text), "lun set %s %s", name,
		 flags & PROTO_LUNF_READONLY ? "read-only" : "read-write");
	e = array_lun_set_readonly(r->array, name, !!(flags & PROTO_LUNF_READONLY));
	if (!e)
		e = array_lun_find(r->array, name, &l);
	if (e)
		return status(rep, e, "lun set");
	proto_put_status(rep, PROTO_OK, "");
	put_lun(rep, &l);
	return 0;
}

/* ---- hosts ------------------------------------------------------------------------ */

static void put_host(struct proto_buf *b, const struct host_info *h)
{
	long m = proto_list_begin(b, PROTO_TAG_HOST);

	proto_put_str(b, PROTO_TAG_HOST_NAME, h->name);
	for (unsigned i = 0; i < h->nr_iqns; i++)
		proto_put_str(b, PROTO_TAG_IQN, h->iqns[i]);
	/* Secrets never leave the array; users show that CHAP is set. */
	if (h->chap_user[0])
		proto_put_str(b, PROTO_TAG_CHAP_USER, h->chap_user);
	if (h->mchap_user[0])
		proto_put_str(b, PROTO_TAG_CHAP_MUSER, h->mchap_user);
	proto_list_end(b, m);
}

static int op_host_create(struct ctl_req *r, struct proto_buf *rep)
{
	char name[ARRAY_NAME_MAX + 1], iqn[ARRAY_IQN_MAX + 1] = "";
	struct host_info h;
	int e;

	if (get_str(r, PROTO_TAG_HOST_NAME, name, sizeof(name)))
		return bad(rep, "HOST_NAME is required");
	get_str(r, PROTO_TAG_IQN, iqn, sizeof(iqn));
	snprintf(r->text, sizeof(r->text), "host create %s %s", name, iqn);
	e = array_host_create(r->array, name, iqn);
	if (!e)
		e = array_host_get(r->array, name, &h);
	if (e)
		return status(rep, e, "host create");
	proto_put_status(rep, PROTO_OK, "");
	put_host(rep, &h);
	return 0;
}

static int op_host_delete(struct ctl_req *r, struct proto_buf *rep)
{
	char name[ARRAY_NAME_MAX + 1];

	if (get_str(r, PROTO_TAG_HOST_NAME, name, sizeof(name)))
		return bad(rep, "HOST_NAME is required");
	snprintf(r->text, sizeof(r->text), "host delete %s", name);
	return status(rep, array_host_delete(r->array, name), "host delete");
}

static int host_fn(const struct host_info *h, void *ctx)
{
	put_host(ctx, h);
	return 0;
}

static int op_host_list(struct ctl_req *r, struct proto_buf *rep)
{
	int e;

	proto_put_status(rep, PROTO_OK, "");
	e = array_host_list(r->array, host_fn, rep);
	if (e) {
		proto_buf_reset(rep);
		return status(rep, e, "host list");
	}
	return 0;
}

static int op_host_iqn(struct ctl_req *r, struct proto_buf *rep)
{
	char name[ARRAY_NAME_MAX + 1], iqn[ARRAY_IQN_MAX + 1];
	int add = r->type == PROTO_MSG_HOST_ADD_IQN;

	if (get_str(r, PROTO_TAG_HOST_NAME, name, sizeof(name)) ||
	    get_str(r, PROTO_TAG_IQN, iqn, sizeof(iqn)))
		return bad(rep, "HOST_NAME and IQN are required");
	snprintf(r->text, sizeof(r->text), "host %s %s %s", name, add ? "add-iqn" : "remove-iqn",
		 iqn);
	return status(rep,
		      add ? array_host_add_iqn(r->array, name, iqn)
			  : array_host_remove_iqn(r->array, name, iqn),
		      add ? "host add-iqn" : "host remove-iqn");
}

static int op_host_chap(struct ctl_req *r, struct proto_buf *rep)
{
	char name[ARRAY_NAME_MAX + 1];
	char u[ARRAY_CHAP_USER_MAX + 1] = "", s[ARRAY_CHAP_SECRET_MAX + 1] = "";
	char mu[ARRAY_CHAP_USER_MAX + 1] = "", ms[ARRAY_CHAP_SECRET_MAX + 1] = "";

	if (get_str(r, PROTO_TAG_HOST_NAME, name, sizeof(name)))
		return bad(rep, "HOST_NAME is required");
	if ((get_str(r, PROTO_TAG_CHAP_USER, u, sizeof(u)) == -PROTO_ERANGE) ||
	    (get_str(r, PROTO_TAG_CHAP_SECRET, s, sizeof(s)) == -PROTO_ERANGE) ||
	    (get_str(r, PROTO_TAG_CHAP_MUSER, mu, sizeof(mu)) == -PROTO_ERANGE) ||
	    (get_str(r, PROTO_TAG_CHAP_MSECRET, ms, sizeof(ms)) == -PROTO_ERANGE))
		return bad(rep, "CHAP field too long");
	/* Audit who changed CHAP, never the secrets. */
	snprintf(r->text, sizeof(r->text), "host %s set-chap user '%s'%s", name, u,
		 mu[0] ? " (mutual)" : "");
	return status(rep, array_host_set_chap(r->array, name, u, s, mu, ms), "host set-chap");
}

/* ---- maps ------------------------------------------------------------------------- */

static void put_map(struct proto_buf *b, const char *lun, const char *host, uint32_t num)
{
	long m = proto_list_begin(b, PROTO_TAG_MAPPING);

	proto_put_str(b, PROTO_TAG_LUN_NAME, lun);
	proto_put_str(b, PROTO_TAG_HOST_NAME, host);
	proto_put_u32(b, PROTO_TAG_LUN_NUMBER, num);
	proto_list_end(b, m);
}

static int op_map(struct ctl_req *r, struct proto_buf *rep)
{
	char lun[ARRAY_NAME_MAX + 1], host[ARRAY_NAME_MAX + 1];
	uint32_t num = 0, got;
	int has_num, e;

	if (get_str(r, PROTO_TAG_LUN_NAME, lun, sizeof(lun)) ||
	    get_str(r, PROTO_TAG_HOST_NAME, host, sizeof(host)))
		return bad(rep, "LUN_NAME and HOST_NAME are required");
	has_num = !proto_get_u32(r->payload, r->len, PROTO_TAG_LUN_NUMBER, &num);
	if (has_num && num > ARRAY_MAX_LUN_NUMBER)
		return bad(rep, "LUN_NUMBER out of range");
	if (r->type == PROTO_MSG_UNMAP) {
		snprintf(r->text, sizeof(r->text), "unmap %s from %s", lun, host);
		return status(rep, array_unmap(r->array, lun, host), "unmap");
	}
	snprintf(r->text, sizeof(r->text), "map %s to %s", lun, host);
	e = array_map(r->array, lun, host, has_num ? (int)num : -1, &got);
	if (e)
		return status(rep, e, "map");
	snprintf(r->text + strlen(r->text), sizeof(r->text) - strlen(r->text), " as LUN %u", got);
	proto_put_status(rep, PROTO_OK, "");
	put_map(rep, lun, host, got);
	return 0;
}

struct maplist_ctx {
	struct proto_buf *rep;
	char lun[ARRAY_NAME_MAX + 1], host[ARRAY_NAME_MAX + 1];
};

static int maplist_fn(const struct map_info *m, void *ctx)
{
	struct maplist_ctx *mc = ctx;

	if ((mc->lun[0] && strcmp(mc->lun, m->lun_name)) ||
	    (mc->host[0] && strcmp(mc->host, m->host_name)))
		return 0;
	put_map(mc->rep, m->lun_name, m->host_name, m->lun_number);
	return 0;
}

static int op_map_list(struct ctl_req *r, struct proto_buf *rep)
{
	struct maplist_ctx mc = {.rep = rep};

	get_str(r, PROTO_TAG_LUN_NAME, mc.lun, sizeof(mc.lun));
	get_str(r, PROTO_TAG_HOST_NAME, mc.host, sizeof(mc.host));
	proto_put_status(rep, PROTO_OK, "");
	array_map_list(r->array, maplist_fn, &mc);
	return 0;
}

/* ---- snapshot sets, snapshots ---------------------------------------------------------- */

static int op_snapset_prepare(struct ctl_req *r, struct proto_buf *rep)
{
	char(*luns)[ARRAY_NAME_MAX + 1] = NULL, (*names)[ARRAY_NAME_MAX + 1] = NULL;
	const char *lp[ARRAY_SNAPSET_MAX], *np[ARRAY_SNAPSET_MAX];
	unsigned nl = 0, nn = 0;
	struct proto_iter it;
	struct proto_field f;
	uint8_t set[16];
	char hex[33];
	int e = 0;

	if (get_guid(r, PROTO_TAG_SNAPSET_ID, set))
		return bad(rep, "SNAPSET_ID is required");
	luns = calloc(ARRAY_SNAPSET_MAX, sizeof(*luns));
	names = calloc(ARRAY_SNAPSET_MAX, sizeof(*names));
	if (!luns || !names) {
		e = -ENOMEM;
		goto out;
	}
	/* LUN_NAME repeats, once per LUN; SNAP_NAME, if given, pairs up. */
	proto_iter_init(&it, r->payload, r->len);
	while (!e && proto_iter_next(&it, &f) > 0) {
		if (f.tag == PROTO_TAG_LUN_NAME) {
			if (nl == ARRAY_SNAPSET_MAX ||
			    proto_field_str(&f, luns[nl], sizeof(luns[nl])))
				e = -EINVAL;
			else
				lp[nl] = luns[nl], nl++;
		} else if (f.tag == PROTO_TAG_SNAP_NAME) {
			if (nn == ARRAY_SNAPSET_MAX ||
			    proto_field_str(&f, names[nn], sizeof(names[nn])))
				e = -EINVAL;
			else
				np[nn] = names[nn], nn++;
		}
	}
	guid_hex(set, hex);
	snprintf(r->text, sizeof(r->text), "snapset prepare %s with %u LUNs%s%s", hex, nl,
		 nl ? ", first " : "", nl ? luns[0] : "");
	if (!e && (!nl || (nn && nn != nl)))
		e = -EINVAL;
	if (!e)
		e = array_snapset_prepare(r->array, set, nl, lp, nn ? np : NULL);
out:
	free(luns);
	free(names);
	if (e)
		return status(rep, e, "snapset prepare");
	proto_put_status(rep, PROTO_OK, "");
	proto_put_guid(rep, PROTO_TAG_SNAPSET_ID, set);
	return 0;
}

static int snap_out(const struct lun_info *l, void *ctx)
{
	put_snap(ctx, l);
	return 0;
}

struct set_ctx {
	struct proto_buf *rep;
	uint8_t set[16];
};

static int set_snap_out(const struct lun_info *l, void *ctx)
{
	struct set_ctx *sc = ctx;

	if (!memcmp(l->snapset, sc->set, 16))
		put_snap(sc->rep, l);
	return 0;
}

static int op_snapset_commit(struct ctl_req *r, struct proto_buf *rep)
{
	struct proto_buf snaps;
	uint8_t set[16];
	char hex[33];
	int e;

	if (get_guid(r, PROTO_TAG_SNAPSET_ID, set))
		return bad(rep, "SNAPSET_ID is required");
	guid_hex(set, hex);
	snprintf(r->text, sizeof(r->text), "snapset commit %s", hex);
	proto_buf_init(&snaps);
	e = array_snapset_commit(r->array, set, snap_out, &snaps);
	if (e == -EALREADY) {
		/* Spec section 6: COMMIT of a committed set succeeds and reports
		 * the set as it is (a VSS retry under a new request id). */
		struct set_ctx sc = {.rep = &snaps};

		memcpy(sc.set, set, 16);
		proto_buf_reset(&snaps);
		e = array_lun_list(r->array, 1, NULL, set_snap_out, &sc);
	}
	if (e) {
		proto_buf_free(&snaps);
		return status(rep, e, "snapset commit");
	}
	proto_put_status(rep, PROTO_OK, "");
	proto_put_guid(rep, PROTO_TAG_SNAPSET_ID, set);
	proto_buf_append(rep, snaps.data, snaps.len);
	if (snaps.err)
		rep->err = snaps.err;
	proto_buf_free(&snaps);
	return 0;
}

static int op_snapset_abort(struct ctl_req *r, struct proto_buf *rep)
{
	uint8_t set[16];
	char hex[33];
	int e;

	if (get_guid(r, PROTO_TAG_SNAPSET_ID, set))
		return bad(rep, "SNAPSET_ID is required");
	guid_hex(set, hex);
	snprintf(r->text, sizeof(r->text), "snapset abort %s", hex);
	e = array_snapset_abort(r->array, set);
	/* Spec section 6: ABORT of an unknown or already aborted set
	 * succeeds (a retried abort must not report a failure). */
	if (e == -ENOENT) {
		proto_put_status(rep, PROTO_OK, "no such snapshot set: nothing to abort");
		return 0;
	}
	return status(rep, e, "snapset abort");
}

static int op_snap_list(struct ctl_req *r, struct proto_buf *rep)
{
	return list_page(r, rep, 1);
}

static int op_snap_delete(struct ctl_req *r, struct proto_buf *rep)
{
	struct lun_info l;
	uint8_t set[16];
	int e;

	if (!get_guid(r, PROTO_TAG_SNAPSET_ID, set) &&
	    proto_find(r->payload, r->len, PROTO_TAG_SNAP_ID, &(struct proto_field){0})) {
		char hex[33];

		guid_hex(set, hex);
		snprintf(r->text, sizeof(r->text), "snapshot delete set %s", hex);
		return status(rep, array_snapset_abort(r->array, set), "snapshot delete");
	}
	e = find_snap(r, PROTO_TAG_SNAP_ID, &l);
	if (e)
		return e == -EINVAL ? bad(rep, "SNAP_ID or SNAP_NAME is required")
				    : status(rep, e, "snapshot delete");
	snprintf(r->text, sizeof(r->text), "snapshot delete %s", l.name);
	return status(rep, array_snap_delete(r->array, l.name), "snapshot delete");
}

static int op_clone(struct ctl_req *r, struct proto_buf *rep)
{
	char name[ARRAY_NAME_MAX + 1];
	struct lun_info s, l;
	int e;

	if (get_str(r, PROTO_TAG_LUN_NAME, name, sizeof(name)))
		return bad(rep, "LUN_NAME is required");
	e = find_snap(r, PROTO_TAG_SNAP_ID, &s);
	if (e == -EINVAL)
		return bad(rep, "SNAP_ID or SNAP_NAME is required");
	snprintf(r->text, sizeof(r->text), "clone %s from %s", name, e ? "?" : s.name);
	if (!e)
		e = array_clone(r->array, s.name, name, &l);
	if (e)
		return status(rep, e, "clone");
	proto_put_status(rep, PROTO_OK, "");
	put_lun(rep, &l);
	return 0;
}

static int op_revert(struct ctl_req *r, struct proto_buf *rep)
{
	char name[ARRAY_NAME_MAX + 1];
	struct lun_info s, l;
	int e;

	if (get_str(r, PROTO_TAG_LUN_NAME, name, sizeof(name)))
		return bad(rep, "LUN_NAME is required");
	e = find_snap(r, PROTO_TAG_SNAP_ID, &s);
	if (e == -EINVAL)
		return bad(rep, "SNAP_ID or SNAP_NAME is required");
	snprintf(r->text, sizeof(r->text), "revert %s to %s", name, e ? "?" : s.name);
	if (!e)
		e = array_revert(r->array, name, s.name);
	if (!e)
		e = array_lun_find(r->array, name, &l);
	if (e)
		return status(rep, e, "revert");
	proto_put_status(rep, PROTO_OK, "");
	put_lun(rep, &l);
	return 0;
}

struct diff_ctx {
	struct proto_buf *rep;
	uint64_t cursor, next;
	uint32_t max, n;
	int more;
};

static int diff_fn(uint64_t off, uint64_t len, void *ctx)
{
	struct diff_ctx *d = ctx;
	long m;

	if (off + len <= d->cursor)
		return 0;
	if (off < d->cursor) {
		len -= d->cursor - off;
		off = d->cursor;
	}
	if (d->n == d->max) {
		d->more = 1;
		return 1;
	}
	m = proto_list_begin(d->rep, PROTO_TAG_EXTENT);
	proto_put_u64(d->rep, PROTO_TAG_OFFSET, off);
	proto_put_u64(d->rep, PROTO_TAG_LENGTH, len);
	proto_list_end(d->rep, m);
	d->n++;
	d->next = off + len;
	return 0;
}

static int op_diff(struct ctl_req *r, struct proto_buf *rep)
{
	struct diff_ctx d = {.rep = rep, .max = 10000};
	char name[ARRAY_NAME_MAX + 1];
	struct lun_info a, b;
	int e;

	/* From BASE_SNAP_ID to SNAP_ID, or to the live LUN_NAME. */
	e = find_snap(r, PROTO_TAG_BASE_SNAP_ID, &a);
	if (!e) {
		if (!get_str(r, PROTO_TAG_LUN_NAME, name, sizeof(name)))
			e = array_lun_find(r->array, name, &b);
		else
			e = find_snap(r, PROTO_TAG_SNAP_ID, &b);
	}
	if (e == -EINVAL)
		return bad(rep, "BASE_SNAP_ID and SNAP_ID (or LUN_NAME) are required");
	if (e)
		return status(rep, e, "diff");
	proto_get_u64(r->payload, r->len, PROTO_TAG_CURSOR, &d.cursor);
	proto_get_u32(r->payload, r->len, PROTO_TAG_MAX_ENTRIES, &d.max);
	if (!d.max || d.max > 10000)
		d.max = 10000;
	d.next = d.cursor;
	proto_put_status(rep, PROTO_OK, "");
	e = array_diff(r->array, a.name, b.name, diff_fn, &d);
	if (e < 0) {
		proto_buf_reset(rep);
		return status(rep, e, "diff");
	}
	proto_put_u64(rep, PROTO_TAG_CURSOR, d.next);
	proto_put_u8(rep, PROTO_TAG_MORE, (uint8_t)d.more);
	return 0;
}

/* ---- sessions, faults, audit ------------------------------------------------------------- */

static int op_sessions(struct ctl_req *r, struct proto_buf *rep)
{
	proto_put_status(rep, PROTO_OK, "");
	ctl_sessions(r->srv, rep);
	return 0;
}

static int op_fault_inject(struct ctl_req *r, struct proto_buf *rep)
{
	uint32_t op = PROTO_FOP_ANY, count = 1, delay = 0, err = 0;
	char lun[ARRAY_NAME_MAX + 1] = "";
	struct proto_field f;
	uint8_t action = 0;
	uint64_t id = 0;
	int e = 0;

	if (proto_find(r->payload, r->len, PROTO_TAG_FAULT_ACTION, &f) ||
	    proto_field_u8(&f, &action))
		return bad(rep, "FAULT_ACTION is required");
	proto_get_u32(r->payload, r->len, PROTO_TAG_FAULT_OP, &op);
	proto_get_u32(r->payload, r->len, PROTO_TAG_FAULT_COUNT, &count);
	proto_get_u32(r->payload, r->len, PROTO_TAG_DELAY_MS, &delay);
	proto_get_u32(r->payload, r->len, PROTO_TAG_FAULT_ERROR, &err);
	get_str(r, PROTO_TAG_LUN_NAME, lun, sizeof(lun));
	switch (action) {
	case PROTO_FAULT_DELAY:
	case PROTO_FAULT_FAIL:
		if (err >= PROTO_ERR_MAX || (action == PROTO_FAULT_DELAY && !delay))
			return bad(rep, "bad FAULT_ERROR or DELAY_MS");
		snprintf(r->text, sizeof(r->text), "fault %s op 0x%x count %u delay %u err %u",
			 action == PROTO_FAULT_DELAY ? "delay" : "fail", op, count, delay, err);
		e = ctl_fault_add(r->srv, action, op, count, delay, err, &id);
		break;
	case PROTO_FAULT_DROP_CONN:
		snprintf(r->text, sizeof(r->text), "fault drop control connections");
		r->drop_conns = 1;
		break;
	case PROTO_FAULT_LUN_OFFLINE:
	case PROTO_FAULT_LUN_ONLINE:
		if (!lun[0])
			return bad(rep, "LUN_NAME is required");
		snprintf(r->text, sizeof(r->text), "fault lun %s %s", lun,
			 action == PROTO_FAULT_LUN_OFFLINE ? "offline" : "online");
		e = array_lun_set_online(r->array, lun, action == PROTO_FAULT_LUN_ONLINE);
		break;
	default:
		return bad(rep, "unknown FAULT_ACTION");
	}
	if (e)
		return status(rep, e, "fault inject");
	proto_put_status(rep, PROTO_OK, "");
	proto_put_u64(rep, PROTO_TAG_FAULT_ID, id);
	return 0;
}

static int op_fault_list(struct ctl_req *r, struct proto_buf *rep)
{
	proto_put_status(rep, PROTO_OK, "");
	ctl_fault_list(r->srv, rep);
	return 0;
}

static int op_fault_clear(struct ctl_req *r, struct proto_buf *rep)
{
	uint64_t id = 0;

	proto_get_u64(r->payload, r->len, PROTO_TAG_FAULT_ID, &id);
	snprintf(r->text, sizeof(r->text), "fault clear %llu", (unsigned long long)id);
	return status(rep, ctl_fault_clear(r->srv, id), "fault clear");
}

static int op_audit_read(struct ctl_req *r, struct proto_buf *rep)
{
	uint64_t from = 0;
	uint32_t max = 0;

	proto_get_u64(r->payload, r->len, PROTO_TAG_AUDIT_SEQ, &from);
	proto_get_u32(r->payload, r->len, PROTO_TAG_MAX_ENTRIES, &max);
	proto_put_status(rep, PROTO_OK, "");
	ctl_audit_read(r->srv, from, max, rep);
	return 0;
}

/* ---- dispatch ------------------------------------------------------------------------ */

static const struct {
	uint16_t type;
	op_fn fn;
	int mutating;
} ops[] = {
    {PROTO_MSG_VERSION, op_version, 0},
    {PROTO_MSG_POOL_STATUS, op_pool_status, 0},
    {PROTO_MSG_LUN_CREATE, op_lun_create, 1},
    {PROTO_MSG_LUN_DELETE, op_lun_delete, 1},
    {PROTO_MSG_LUN_RESIZE, op_lun_resize, 1},
    {PROTO_MSG_LUN_LIST, op_lun_list, 0},
    {PROTO_MSG_LUN_SHOW, op_lun_show, 0},
    {PROTO_MSG_LUN_SET, op_lun_set, 1},
    {PROTO_MSG_HOST_CREATE, op_host_create, 1},
    {PROTO_MSG_HOST_DELETE, op_host_delete, 1},
    {PROTO_MSG_HOST_LIST, op_host_list, 0},
    {PROTO_MSG_HOST_ADD_IQN, op_host_iqn, 1},
    {PROTO_MSG_HOST_REMOVE_IQN, op_host_iqn, 1},
    {PROTO_MSG_HOST_SET_CHAP, op_host_chap, 1},
    {PROTO_MSG_MAP, op_map, 1},
    {PROTO_MSG_UNMAP, op_map, 1},
    {PROTO_MSG_MAP_LIST, op_map_list, 0},
    {PROTO_MSG_SNAPSET_PREPARE, op_snapset_prepare, 1},
    {PROTO_MSG_SNAPSET_COMMIT, op_snapset_commit, 1},
    {PROTO_MSG_SNAPSET_ABORT, op_snapset_abort, 1},
    {PROTO_MSG_SNAP_LIST, op_snap_list, 0},
    {PROTO_MSG_SNAP_DELETE, op_snap_delete, 1},
    {PROTO_MSG_CLONE, op_clone, 1},
    {PROTO_MSG_REVERT, op_revert, 1},
    {PROTO_MSG_SNAP_DIFF, op_diff, 0},
    {PROTO_MSG_SESSION_LIST, op_sessions, 0},
    {PROTO_MSG_FAULT_INJECT, op_fault_inject, 1},
    {PROTO_MSG_FAULT_LIST, op_fault_list, 0},
    {PROTO_MSG_FAULT_CLEAR, op_fault_clear, 1},
    {PROTO_MSG_AUDIT_READ, op_audit_read, 0},
};

int ctl_mutating(uint16_t type)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].type == type)
			return ops[i].mutating;
	return 0;
}

/* Fault injection never applies to the fault and audit operations
 * themselves, so a test can always clear what it armed. */
static int faultable(uint16_t type)
{
	return type != PROTO_MSG_FAULT_INJECT && type != PROTO_MSG_FAULT_LIST &&
	       type != PROTO_MSG_FAULT_CLEAR && type != PROTO_MSG_AUDIT_READ &&
	       type != PROTO_MSG_VERSION;
}

int ctl_dispatch(struct ctl_req *req, struct proto_buf *rep)
{
	uint32_t delay, err;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i].type != req->type)
			continue;
		if (faultable(req->type)) {
			ctl_fault_take(req->srv, req->type, &delay, &err);
			if (delay) {
				struct timespec ts = {delay / 1000,
						      (long)(delay % 1000) * 1000000L};

				nanosleep(&ts, NULL);
			}
			if (err) {
				snprintf(req->text, sizeof(req->text), "injected failure");
				proto_put_status(rep, (int)err, "injected fault");
				return (int)err;
			}
		}
		return ops[i].fn(req, rep);
	}
	proto_put_status(rep, PROTO_ENOTSUP, "unknown message type");
	return PROTO_ENOTSUP;
}
