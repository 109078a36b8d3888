/*
 * The array's object model.  LUNs and snapshots are engine volumes; hosts,
 * their IQNs and CHAP settings, and maps are records in the pool's object
 * tree, encoded with the control protocol's TLV codec (private tags), so a
 * newer daemon can add fields an older one skips.
 *
 * Object keys: kind << 56 | id, one id counter for all kinds.
 */
#include "array.h"
#include "hexdigit.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

enum obj_kind { OBJ_HOST = 1, OBJ_IQN = 2, OBJ_CHAP = 3, OBJ_MAP = 4 };

/* Private TLV tags for records (outside the protocol's tag space). */
enum {
	RT_NAME = 0x7f01,
	RT_HOST = 0x7f02,
	RT_IQN = 0x7f03,
	RT_USER = 0x7f04,
	RT_SECRET = 0x7f05,
	RT_MUSER = 0x7f06,
	RT_MSECRET = 0x7f07,
	RT_LUN = 0x7f08,
	RT_LUNNUM = 0x7f09,
};

#define KEY(kind, id) ((uint64_t)(kind) << 56 | (id))
#define KIND(key)     ((unsigned)((key) >> 56))
#define KEY_ID(key)   ((key) & ((1ull << 56) - 1))

struct iqn_rec {
	uint64_t id, host;
	char iqn[ARRAY_IQN_MAX + 1];
};

struct map_rec {
	uint64_t id, lun, host;
	uint32_t num;
};

struct host_rec {
	uint64_t id;
	char name[ARRAY_NAME_MAX + 1];
	char user[ARRAY_CHAP_USER_MAX + 1], secret[ARRAY_CHAP_SECRET_MAX + 1];
	char muser[ARRAY_CHAP_USER_MAX + 1], msecret[ARRAY_CHAP_SECRET_MAX + 1];
};

struct prepared {
	uint8_t set[16];
	unsigned n;
	uint64_t *vols;
	char (*names)[ARRAY_NAME_MAX + 1];
	struct prepared *next;
};

struct array {
	struct pool *pool;
	pthread_mutex_t lock;
	uint64_t next_id;
	struct host_rec *hosts;
	size_t nr_hosts;
	struct iqn_rec *iqns;
	size_t nr_iqns;
	struct map_rec *maps;
	size_t nr_maps;
	struct prepared *sets;
	uint64_t *offline;
	size_t nr_offline;
	pthread_rwlock_t offline_lock;
	array_hook_fn hook;
	void *hook_ctx;
	uint64_t gen; /* array_generation(); __atomic builtins */
};

/* ---- small helpers -------------------------------------------------------- */

/* Room for one more element.  The tables are small (hosts, IQNs, maps),
 * so growing by one keeps the code simple at no real cost. */
static int grow(void **arr, size_t nr, size_t size)
{
	void *n = realloc(*arr, (nr + 1) * size);

	if (!n)
		return -ENOMEM;
	*arr = n;
	return 0;
}

static int valid_name(const char *s)
{
	size_t n = s ? strnlen(s, ARRAY_NAME_MAX + 1) : 0;

	if (!n || n > ARRAY_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '-' && c != '_' && c != '.' && c != '@' && c != ':')
			return 0;
	}
	return 1;
}

/* RFC 3720 3.2.6: iqn.yyyy-mm.reverse-domain[:id] or eui.16hex or naa.hex;
 * we check the shape and the length, and that it is lower case, because
 * initiator names are compared after case folding (stringprep). */
static int valid_iqn(const char *s)
{
	size_t n = s ? strnlen(s, ARRAY_IQN_MAX + 1) : 0;

	if (n < 5 || n > ARRAY_IQN_MAX)
		return 0;
	if (strncmp(s, "iqn.", 4) && strncmp(s, "eui.", 4) && strncmp(s, "naa.", 4))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((s[i] >= 'A' && s[i] <= 'Z') || s[i] <= ' ' || s[i] == 0x7f)
			return 0;
	return 1;
}

static int put_rec(struct array *a, uint64_t key, struct proto_buf *b)
{
	int r = b->err ? -EINVAL : pool_obj_put(a->pool, key, b->data, b->len);

	proto_buf_free(b);
	return r;
}

static struct host_rec *host_by_name(struct array *a, const char *name)
{
	for (size_t i = 0; i < a->nr_hosts; i++)
		if (name && !strcmp(a->hosts[i].name, name))
			return &a->hosts[i];
	return NULL;
}

static struct host_rec *host_by_id(struct array *a, uint64_t id)
{
	for (size_t i = 0; i < a->nr_hosts; i++)
		if (a->hosts[i].id == id)
			return &a->hosts[i];
	return NULL;
}

static struct iqn_rec *iqn_find(struct array *a, const char *iqn)
{
	for (size_t i = 0; i < a->nr_iqns; i++)
		if (!strcmp(a->iqns[i].iqn, iqn))
			return &a->iqns[i];
	return NULL;
}

/* Something the SCSI core caches per nexus (maps, host IQNs, LUN flags)
 * changed: bump the generation it compares on each command. */
static void changed(struct array *a)
{
	__atomic_add_fetch(&a->gen, 1, __ATOMIC_RELEASE);
}

uint64_t array_generation(struct array *a)
{
	return __atomic_load_n(&a->gen, __ATOMIC_ACQUIRE);
}

static void fire(struct array *a, enum array_event ev, uint64_t host, uint64_t lun, uint32_t num)
{
	changed(a);
	if (a->hook)
		a->hook(a->hook_ctx, ev, host, lun, num);
}

void lun_ident(const uint8_t uuid[16], char serial[33], uint8_t naa[16])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		serial[2 * i] = hex[uuid[i] >> 4];
		serial[2 * i + 1] = hex[uuid[i] & 15];
	}
	serial[32] = 0;
	/* SPC-4 7.8.6.6.6 NAA IEEE Registered Extended: NAA=6, 24-bit company
	 * id, 36-bit vendor-specific id, 64-bit extension.  The uuid fills the
	 * 100 vendor bits. */
	naa[0] = (uint8_t)(0x60 | ((ARRAY_NAA_CID >> 20) & 0x0f));
	naa[1] = (uint8_t)(ARRAY_NAA_CID >> 12);
	naa[2] = (uint8_t)(ARRAY_NAA_CID >> 4);
	naa[3] = (uint8_t)((ARRAY_NAA_CID & 0x0f) << 4 | (uuid[0] & 0x0f));
	memcpy(naa + 4, uuid + 1, 4);
	memcpy(naa + 8, uuid + 8, 8);
}

static void fill_lun_parent(struct array *a, const struct vol_info *vi, const char *parent_name,
			    struct lun_info *l)
{
	memset(l, 0, sizeof(*l));
	l->id = vi->id;
	memcpy(l->name, vi->name, sizeof(l->name));
	memcpy(l->uuid, vi->uuid, 16);
	lun_ident(vi->uuid, l->serial, l->naa);
	l->size = vi->size;
	l->block_size = vi->block_size;
	l->snapshot = vi->kind == VOL_SNAPSHOT;
	l->readonly = !!(vi->flags & VOL_F_READONLY);
	l->online = array_lun_online(a, vi->id);
	l->parent = vi->parent;
	if (parent_name)
		snprintf(l->parent_name, sizeof(l->parent_name), "%s", parent_name);
	l->created_ns = vi->created_ns;
	memcpy(l->snapset, vi->tag, 16);
	l->allocated = vi->allocated;
	l->exclusive = vi->exclusive;
}

static void fill_lun(struct array *a, const struct vol_info *vi, struct lun_info *l)
{
	struct vol_info pi;

	fill_lun_parent(a, vi, vi->parent && !vol_stat(a->pool, vi->parent, &pi) ? pi.name : NULL,
			l);
}

/* Look-up for operations: no space walk (vol_stat).  What is shown to
 * users (show, list) asks vol_info for the exclusive figure itself. */
static int lun_by_name(struct array *a, const char *name, struct vol_info *vi)
{
	uint64_t id;
	int r = vol_lookup(a->pool, name, &id);

	return r ? r : vol_stat(a->pool, id, vi);
}

/* ---- load ------------------------------------------------------------------- */

static void get_str(const uint8_t *b, size_t n, uint16_t tag, char *out, size_t sz)
{
	if (proto_get_str(b, n, tag, out, sz))
		out[0] = 0;
}

static int load_rec(uint64_t key, const void *val, size_t len, void *ctx)
{
	struct array *a = ctx;
	uint64_t id = KEY_ID(key), u = 0;
	uint32_t num = 0;
	struct host_rec *h;

	if (id >= a->next_id)
		a->next_id = id + 1;
	switch (KIND(key)) {
	case OBJ_HOST:
		if (grow((void **)&a->hosts, a->nr_hosts, sizeof(*a->hosts)))
			return -ENOMEM;
		h = &a->hosts[a->nr_hosts++];
		memset(h, 0, sizeof(*h));
		h->id = id;
		get_str(val, len, RT_NAME, h->name, sizeof(h->name));
		break;
	case OBJ_IQN:
		if (grow((void **)&a->iqns, a->nr_iqns, sizeof(*a->iqns)))
			return -ENOMEM;
		a->iqns[a->nr_iqns].id = id;
		proto_get_u64(val, len, RT_HOST, &a->iqns[a->nr_iqns].host);
		get_str(val, len, RT_IQN, a->iqns[a->nr_iqns].iqn, ARRAY_IQN_MAX + 1);
		a->nr_iqns++;
		break;
	case OBJ_CHAP:
		/* Keyed by host id; hosts come first in key order. */
		h = host_by_id(a, id);
		if (!h)
			break;
		get_str(val, len, RT_USER, h->user, sizeof(h->user));
		get_str(val, len, RT_SECRET, h->secret, sizeof(h->secret));
		get_str(val, len, RT_MUSER, h->muser, sizeof(h->muser));
		get_str(val, len, RT_MSECRET, h->msecret, sizeof(h->msecret));
		break;
	case OBJ_MAP:
		if (grow((void **)&a->maps, a->nr_maps, sizeof(*a->maps)))
			return -ENOMEM;
		proto_get_u64(val, len, RT_LUN, &u);
		a->maps[a->nr_maps].lun = u;
		proto_get_u64(val, len, RT_HOST, &u);
		a->maps[a->nr_maps].host = u;
		proto_get_u32(val, len, RT_LUNNUM, &num);
		a->maps[a->nr_maps].num = num;
		a->maps[a->nr_maps++].id = id;
		break;
	default:
		break; /* a newer daemon's record: keep it, ignore it */
	}
	return 0;
}

int array_open(struct pool *p, struct array **out)
{
	struct array *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->pool = p;
	a->next_id = 1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_rwlock_init(&a->offline_lock, NULL);
	r = pool_obj_iterate(p, 0, UINT64_MAX, load_rec, a);
	if (r) {
		array_close(a);
		return r;
	}
	*out = a;
	return 0;
}

void array_close(struct array *a)
{
	if (!a)
		return;
	while (a->sets) {
		struct prepared *s = a->sets;

		a->sets = s->next;
		free(s->vols);
		free(s->names);
		free(s);
	}
	free(a->hosts);
	free(a->iqns);
	free(a->maps);
	free(a->offline);
	pthread_mutex_destroy(&a->lock);
	pthread_rwlock_destroy(&a->offline_lock);
	free(a);
}

struct pool *array_pool(struct array *a)
{
	return a->pool;
}

void array_set_hook(struct array *a, array_hook_fn fn, void *ctx)
{
	pthread_mutex_lock(&a->lock);
	a->hook = fn;
	a->hook_ctx = ctx;
	pthread_mutex_unlock(&a->lock);
}

/* ---- LUNs ------------------------------------------------------------------ */

static int lun_mapped(struct array *a, uint64_t lun)
{
	for (size_t i = 0; i < a->nr_maps; i++)
		if (a->maps[i].lun == lun)
			return 1;
	return 0;
}

static int lun_in_prepared(struct array *a, uint64_t lun)
{
	for (struct prepared *s = a->sets; s; s = s->next)
		for (unsigned i = 0; i < s->n; i++)
			if (s->vols[i] == lun)
				return 1;
	return 0;
}

int array_lun_create(struct array *a, const char *name, uint64_t size, uint32_t block_size,
		     struct lun_info *out)
{
	struct vol_info vi;
	uint64_t id;
	int r;

	if (!valid_name(name))
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	r = vol_create(a->pool, name, size, block_size, &id);
	if (!r && out && !(r = vol_info(a->pool, id, &vi)))
		fill_lun(a, &vi, out);
	pthread_mutex_unlock(&a->lock);
	return r;
}

static int delete_vol(struct array *a, const struct vol_info *vi)
{
	if (lun_mapped(a, vi->id) || lun_in_prepared(a, vi->id))
		return -EBUSY;
	return vol_delete(a->pool, vi->id);
}

int array_lun_delete(struct array *a, const char *name)
{
	struct vol_info vi;
	int r;

	pthread_mutex_lock(&a->lock);
	r = lun_by_name(a, name, &vi);
	if (!r && vi.kind != VOL_VOLUME)
		r = -EINVAL; /* a snapshot: use array_snap_delete */
	if (!r)
		r = delete_vol(a, &vi);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_lun_resize(struct array *a, const char *name, uint64_t size)
{
	struct vol_info vi;
	int r;

	pthread_mutex_lock(&a->lock);
	r = lun_by_name(a, name, &vi);
	if (!r)
		r = vol_resize(a->pool, vi.id, size);
	for (size_t i = 0; !r && i < a->nr_maps; i++)
		if (a->maps[i].lun == vi.id)
			fire(a, ARRAY_EV_RESIZED, a->maps[i].host, vi.id, a->maps[i].num);
	pthread_mutex_unlock(&a->lock);
	return r;
}

struct find_ctx {
	const char *serial;
	uint8_t naa[16];
	int by_naa;
	uint64_t id;
};

static int find_fn(const struct vol_info *vi, void *ctx)
{
	struct find_ctx *f = ctx;
	char serial[33];
	uint8_t naa[16];

	lun_ident(vi->uuid, serial, naa);
	if ((f->by_naa && !memcmp(naa, f->naa, 16)) || (!f->by_naa && !strcmp(serial, f->serial))) {
		f->id = vi->id;
		return 1;
	}
	return 0;
}

int array_lun_find(struct array *a, const char *key, struct lun_info *out)
{
	struct find_ctx f = {0};
	struct vol_info vi;
	const char *h = key;
	int r;

	if (!key)
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	r = lun_by_name(a, key, &vi);
	if (r == -ENOENT) {
		if (!strncmp(h, "naa.", 4))
			h += 4;
		if (strlen(h) == 32) {
			int ok = 1;

			for (int i = 0; i < 16 && ok; i++) {
				int hi = hexdigit_val(h[2 * i]), lo = hexdigit_val(h[2 * i + 1]);

				ok = hi >= 0 && lo >= 0;
				f.naa[i] = (uint8_t)(hi << 4 | lo);
			}
			/* A serial is lower-case hex too: try it first, then NAA. */
			f.serial = key;
			if (ok && vol_iterate(a->pool, find_fn, &f) <= 0) {
				f.by_naa = 1;
				vol_iterate(a->pool, find_fn, &f);
			}
		}
		r = f.id ? 0 : -ENOENT;
	} else if (!r) {
		f.id = vi.id;
	}
	if (!r && out && !(r = vol_info(a->pool, f.id, &vi)))
		fill_lun(a, &vi, out);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_lun_get(struct array *a, uint64_t id, struct lun_info *out)
{
	struct vol_info vi;
	int r;

	pthread_mutex_lock(&a->lock);
	r = vol_info(a->pool, id, &vi);
	if (!r)
		fill_lun(a, &vi, out);
	pthread_mutex_unlock(&a->lock);
	return r;
}

struct list_ctx {
	struct array *a;
	int which;
	uint64_t origin;
	int (*fn)(const struct lun_info *l, void *ctx);
	void *ctx;
};

static int list_fn(const struct vol_info *v, void *ctx)
{
	struct list_ctx *lc = ctx;
	struct vol_info vi;
	struct lun_info l;
	int snap = v->kind == VOL_SNAPSHOT;

	if ((lc->which == 0 && snap) || (lc->which == 1 && !snap))
		return 0;
	if (lc->origin && v->parent != lc->origin)
		return 0;
	if (vol_info(lc->a->pool, v->id, &vi))
		return 0; /* deleted meanwhile */
	fill_lun(lc->a, &vi, &l);
	return lc->fn(&l, lc->ctx);
}

int array_lun_list(struct array *a, int which, const char *origin,
		   int (*fn)(const struct lun_info *l, void *ctx), void *ctx)
{
	struct list_ctx lc = {.a = a, .which = which, .fn = fn, .ctx = ctx};
	int r = 0;

	pthread_mutex_lock(&a->lock);
	if (origin)
		r = vol_lookup(a->pool, origin, &lc.origin);
	if (!r)
		r = vol_iterate(a->pool, list_fn, &lc);
	pthread_mutex_unlock(&a->lock);
	return r < 0 ? r : 0;
}

int array_lun_set_readonly(struct array *a, const char *name, int ro)
{
	struct vol_info vi;
	int r;

	pthread_mutex_lock(&a->lock);
	r = lun_by_name(a, name, &vi);
	if (!r)
		r = vol_set_flags(a->pool, vi.id, ro ? VOL_F_READONLY : 0);
	changed(a);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_lun_set_online(struct array *a, const char *name, int online)
{
	struct vol_info vi;
	int r;

	pthread_mutex_lock(&a->lock);
	r = lun_by_name(a, name, &vi);
	if (r)
		goto out;
	pthread_rwlock_wrlock(&a->offline_lock);
	for (size_t i = 0; i < a->nr_offline; i++)
		if (a->offline[i] == vi.id) {
			a->offline[i] = a->offline[--a->nr_offline];
			break;
		}
	if (!online) {
		r = grow((void **)&a->offline, a->nr_offline, sizeof(*a->offline));
		if (!r)
			a->offline[a->nr_offline++] = vi.id;
	}
	pthread_rwlock_unlock(&a->offline_lock);
	for (size_t i = 0; !r && i < a->nr_maps; i++)
		if (a->maps[i].lun == vi.id)
			fire(a, online ? ARRAY_EV_ONLINE : ARRAY_EV_OFFLINE, a->maps[i].host, vi.id,
			     a->maps[i].num);
out:
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_lun_online(struct array *a, uint64_t id)
{
	int online = 1;

	pthread_rwlock_rdlock(&a->offline_lock);
	for (size_t i = 0; i < a->nr_offline; i++)
		if (a->offline[i] == id)
			online = 0;
	pthread_rwlock_unlock(&a->offline_lock);
	return online;
}

/* ---- hosts ------------------------------------------------------------------ */

static void host_info_fill(struct array *a, const struct host_rec *h, struct host_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = h->id;
	memcpy(out->name, h->name, sizeof(out->name));
	for (size_t i = 0; i < a->nr_iqns && out->nr_iqns < ARRAY_HOST_IQNS; i++)
		if (a->iqns[i].host == h->id)
			memcpy(out->iqns[out->nr_iqns++], a->iqns[i].iqn, ARRAY_IQN_MAX + 1);
	memcpy(out->chap_user, h->user, sizeof(out->chap_user));
	memcpy(out->chap_secret, h->secret, sizeof(out->chap_secret));
	memcpy(out->mchap_user, h->muser, sizeof(out->mchap_user));
	memcpy(out->mchap_secret, h->msecret, sizeof(out->mchap_secret));
}

static int add_iqn(struct array *a, struct host_rec *h, const char *iqn)
{
	struct proto_buf b;
	unsigned n = 0;
	uint64_t id;
	int r;

	if (!valid_iqn(iqn))
		return -EINVAL;
	if (iqn_find(a, iqn))
		return -EEXIST; /* an initiator belongs to one host */
	for (size_t i = 0; i < a->nr_iqns; i++)
		n += a->iqns[i].host == h->id;
	if (n >= ARRAY_HOST_IQNS)
		return -ENOSPC;
	r = grow((void **)&a->iqns, a->nr_iqns, sizeof(*a->iqns));
	if (r)
		return r;
	id = a->next_id++;
	proto_buf_init(&b);
	proto_put_u64(&b, RT_HOST, h->id);
	proto_put_str(&b, RT_IQN, iqn);
	r = put_rec(a, KEY(OBJ_IQN, id), &b);
	if (r)
		return r;
	a->iqns[a->nr_iqns].id = id;
	a->iqns[a->nr_iqns].host = h->id;
	snprintf(a->iqns[a->nr_iqns].iqn, ARRAY_IQN_MAX + 1, "%s", iqn);
	a->nr_iqns++;
	changed(a);
	return 0;
}

int array_host_create(struct array *a, const char *name, const char *iqn)
{
	struct proto_buf b;
	struct host_rec *h;
	int r;

	if (!valid_name(name) || (iqn && *iqn && !valid_iqn(iqn)))
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	if (host_by_name(a, name)) {
		r = -EEXIST;
		goto out;
	}
	if (iqn && *iqn && iqn_find(a, iqn)) {
		r = -EEXIST;
		goto out;
	}
	r = grow((void **)&a->hosts, a->nr_hosts, sizeof(*a->hosts));
	if (r)
		goto out;
	h = &a->hosts[a->nr_hosts];
	memset(h, 0, sizeof(*h));
	h->id = a->next_id++;
	snprintf(h->name, sizeof(h->name), "%s", name);
	proto_buf_init(&b);
	proto_put_str(&b, RT_NAME, name);
	r = put_rec(a, KEY(OBJ_HOST, h->id), &b);
	if (r)
		goto out;
	a->nr_hosts++;
	if (iqn && *iqn)
		r = add_iqn(a, h, iqn);
out:
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_host_delete(struct array *a, const char *name)
{
	struct host_rec *h;
	int r = 0;

	pthread_mutex_lock(&a->lock);
	h = host_by_name(a, name);
	if (!h) {
		r = -ENOENT;
		goto out;
	}
	for (size_t i = 0; i < a->nr_maps; i++)
		if (a->maps[i].host == h->id)
			r = -EBUSY;
	if (r)
		goto out;
	for (size_t i = 0; i < a->nr_iqns && !r;) {
		if (a->iqns[i].host != h->id) {
			i++;
			continue;
		}
		r = pool_obj_del(a->pool, KEY(OBJ_IQN, a->iqns[i].id));
		if (!r)
			a->iqns[i] = a->iqns[--a->nr_iqns];
	}
	if (!r && (h->user[0] || h->muser[0])) {
		r = pool_obj_del(a->pool, KEY(OBJ_CHAP, h->id));
		r = r == -ENOENT ? 0 : r;
	}
	if (!r)
		r = pool_obj_del(a->pool, KEY(OBJ_HOST, h->id));
	if (!r)
		*h = a->hosts[--a->nr_hosts];
	changed(a);
out:
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_host_add_iqn(struct array *a, const char *name, const char *iqn)
{
	struct host_rec *h;
	int r;

	pthread_mutex_lock(&a->lock);
	h = host_by_name(a, name);
	r = h ? add_iqn(a, h, iqn) : -ENOENT;
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_host_remove_iqn(struct array *a, const char *name, const char *iqn)
{
	struct host_rec *h;
	struct iqn_rec *q;
	int r;

	pthread_mutex_lock(&a->lock);
	h = host_by_name(a, name);
	q = iqn ? iqn_find(a, iqn) : NULL;
	r = !h || !q || q->host != h->id ? -ENOENT : 0;
	if (!r)
		r = pool_obj_del(a->pool, KEY(OBJ_IQN, q->id));
	if (!r)
		*q = a->iqns[--a->nr_iqns];
	changed(a);
	pthread_mutex_unlock(&a->lock);
	return r;
}

static int chap_field_ok(const char *s, size_t max, int secret)
{
	size_t n = s ? strnlen(s, max + 1) : 0;

	if (!n)
		return 1;
	if (n > max || (secret && n < 12))
		return 0;
	return 1;
}

int array_host_set_chap(struct array *a, const char *name, const char *user, const char *secret,
			const char *muser, const char *msecret)
{
	struct proto_buf b;
	struct host_rec *h;
	int r;

	user = user ? user : "";
	secret = secret ? secret : "";
	muser = muser ? muser : "";
	msecret = msecret ? msecret : "";
	if (!chap_field_ok(user, ARRAY_CHAP_USER_MAX, 0) ||
	    !chap_field_ok(secret, ARRAY_CHAP_SECRET_MAX, 1) ||
	    !chap_field_ok(muser, ARRAY_CHAP_USER_MAX, 0) ||
	    !chap_field_ok(msecret, ARRAY_CHAP_SECRET_MAX, 1))
		return -EINVAL;
	if (!*user != !*secret || !*muser != !*msecret || (*muser && !*user) ||
	    (*msecret && !strcmp(secret, msecret)))
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	h = host_by_name(a, name);
	if (!h) {
		r = -ENOENT;
		goto out;
	}
	if (!*user) {
		r = pool_obj_del(a->pool, KEY(OBJ_CHAP, h->id));
		r = r == -ENOENT ? 0 : r;
	} else {
		proto_buf_init(&b);
		proto_put_str(&b, RT_USER, user);
		proto_put_str(&b, RT_SECRET, secret);
		if (*muser) {
			proto_put_str(&b, RT_MUSER, muser);
			proto_put_str(&b, RT_MSECRET, msecret);
		}
		r = put_rec(a, KEY(OBJ_CHAP, h->id), &b);
	}
	if (!r) {
		snprintf(h->user, sizeof(h->user), "%s", user);
		snprintf(h->secret, sizeof(h->secret), "%s", secret);
		snprintf(h->muser, sizeof(h->muser), "%s", muser);
		snprintf(h->msecret, sizeof(h->msecret), "%s", msecret);
	}
out:
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_host_get(struct array *a, const char *name, struct host_info *out)
{
	struct host_rec *h;

	pthread_mutex_lock(&a->lock);
	h = host_by_name(a, name);
	if (h)
		host_info_fill(a, h, out);
	pthread_mutex_unlock(&a->lock);
	return h ? 0 : -ENOENT;
}

int array_host_by_iqn(struct array *a, const char *iqn, struct host_info *out)
{
	struct iqn_rec *q;
	struct host_rec *h = NULL;

	pthread_mutex_lock(&a->lock);
	q = iqn ? iqn_find(a, iqn) : NULL;
	if (q)
		h = host_by_id(a, q->host);
	if (h)
		host_info_fill(a, h, out);
	pthread_mutex_unlock(&a->lock);
	return h ? 0 : -ENOENT;
}

int array_host_list(struct array *a, int (*fn)(const struct host_info *h, void *ctx), void *ctx)
{
	struct host_info *hi = malloc(sizeof(*hi));
	int r = 0;

	if (!hi)
		return -ENOMEM;
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->nr_hosts && !r; i++) {
		host_info_fill(a, &a->hosts[i], hi);
		r = fn(hi, ctx);
	}
	pthread_mutex_unlock(&a->lock);
	free(hi);
	return r < 0 ? r : 0;
}

/* ---- maps -------------------------------------------------------------------- */

static int num_used(struct array *a, uint64_t host, uint32_t num)
{
	for (size_t i = 0; i < a->nr_maps; i++)
		if (a->maps[i].host == host && a->maps[i].num == num)
			return 1;
	return 0;
}

int array_map(struct array *a, const char *lun, const char *host, int lun_number,
	      uint32_t *assigned)
{
	struct proto_buf b;
	struct host_rec *h;
	struct vol_info vi;
	uint32_t num = 0;
	uint64_t id;
	int r;

	if (lun_number > ARRAY_MAX_LUN_NUMBER)
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	h = host_by_name(a, host);
	r = h ? lun_by_name(a, lun, &vi) : -ENOENT;
	if (r)
		goto out;
	for (size_t i = 0; i < a->nr_maps; i++)
		if (a->maps[i].host == h->id && a->maps[i].lun == vi.id)
			r = -EEXIST;
	if (r)
		goto out;
	if (lun_number >= 0) {
		num = (uint32_t)lun_number;
		if (num_used(a, h->id, num)) {
			r = -EEXIST;
			goto out;
		}
	} else {
		while (num <= ARRAY_MAX_LUN_NUMBER && num_used(a, h->id, num))
			num++;
		if (num > ARRAY_MAX_LUN_NUMBER) {
			r = -ENOSPC;
			goto out;
		}
	}
	r = grow((void **)&a->maps, a->nr_maps, sizeof(*a->maps));
	if (r)
		goto out;
	id = a->next_id++;
	proto_buf_init(&b);
	proto_put_u64(&b, RT_LUN, vi.id);
	proto_put_u64(&b, RT_HOST, h->id);
	proto_put_u32(&b, RT_LUNNUM, num);
	r = put_rec(a, KEY(OBJ_MAP, id), &b);
	if (r)
		goto out;
	a->maps[a->nr_maps++] = (struct map_rec){.id = id, .lun = vi.id, .host = h->id, .num = num};
	if (assigned)
		*assigned = num;
	fire(a, ARRAY_EV_MAPPED, h->id, vi.id, num);
out:
	pthread_mutex_unlock(&a->lock);
	return r;
}

static int unmap_index(struct array *a, size_t i)
{
	struct map_rec m = a->maps[i];
	int r = pool_obj_del(a->pool, KEY(OBJ_MAP, m.id));

	if (r)
		return r;
	a->maps[i] = a->maps[--a->nr_maps];
	fire(a, ARRAY_EV_UNMAPPED, m.host, m.lun, m.num);
	return 0;
}

int array_unmap(struct array *a, const char *lun, const char *host)
{
	struct host_rec *h;
	struct vol_info vi;
	int r;

	pthread_mutex_lock(&a->lock);
	h = host_by_name(a, host);
	r = h ? lun_by_name(a, lun, &vi) : -ENOENT;
	if (!r) {
		r = -ENOENT;
		for (size_t i = 0; i < a->nr_maps; i++)
			if (a->maps[i].host == h->id && a->maps[i].lun == vi.id) {
				r = unmap_index(a, i);
				break;
			}
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

static int cmp_map(const void *x, const void *y)
{
	const struct map_rec *a = x, *b = y;

	if (a->host != b->host)
		return a->host < b->host ? -1 : 1;
	return a->num < b->num ? -1 : a->num > b->num;
}

int array_map_list(struct array *a, int (*fn)(const struct map_info *m, void *ctx), void *ctx)
{
	struct map_info mi;
	struct vol_info vi;
	int r = 0;

	pthread_mutex_lock(&a->lock);
	/* qsort(NULL, 0) is undefined behaviour: an empty table has no array */
	if (a->nr_maps)
		qsort(a->maps, a->nr_maps, sizeof(*a->maps), cmp_map);
	for (size_t i = 0; i < a->nr_maps && !r; i++) {
		struct host_rec *h = host_by_id(a, a->maps[i].host);

		memset(&mi, 0, sizeof(mi));
		mi.lun_id = a->maps[i].lun;
		mi.host_id = a->maps[i].host;
		mi.lun_number = a->maps[i].num;
		if (h)
			memcpy(mi.host_name, h->name, sizeof(mi.host_name));
		if (!vol_info(a->pool, mi.lun_id, &vi))
			memcpy(mi.lun_name, vi.name, sizeof(mi.lun_name));
		r = fn(&mi, ctx);
	}
	pthread_mutex_unlock(&a->lock);
	return r < 0 ? r : 0;
}

int array_host_id_by_iqn(struct array *a, const char *iqn, uint64_t *host_id)
{
	struct iqn_rec *q;

	pthread_mutex_lock(&a->lock);
	q = iqn ? iqn_find(a, iqn) : NULL;
	if (q)
		*host_id = q->host;
	pthread_mutex_unlock(&a->lock);
	return q ? 0 : -ENOENT;
}

int array_lun_for_host(struct array *a, uint64_t host_id, uint32_t lun_number, struct lun_info *out)
{
	struct vol_info vi;
	int r = -ENOENT;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->nr_maps; i++) {
		if (a->maps[i].host != host_id || a->maps[i].num != lun_number)
			continue;
		r = vol_stat(a->pool, a->maps[i].lun, &vi);
		if (!r)
			fill_lun(a, &vi, out);
		break;
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_luns_for_iqn(struct array *a, const char *iqn,
		       int (*fn)(uint32_t lun_number, const struct lun_info *l, void *ctx),
		       void *ctx)
{
	struct iqn_rec *q;
	struct vol_info vi;
	struct lun_info l;
	int r = 0;

	pthread_mutex_lock(&a->lock);
	q = iqn ? iqn_find(a, iqn) : NULL;
	if (q) {
		/* qsort(NULL, 0) is undefined behaviour: an empty table has no array */
		if (a->nr_maps)
			qsort(a->maps, a->nr_maps, sizeof(*a->maps), cmp_map);
		for (size_t i = 0; i < a->nr_maps && !r; i++) {
			if (a->maps[i].host != q->host || vol_stat(a->pool, a->maps[i].lun, &vi))
				continue;
			fill_lun(a, &vi, &l);
			r = fn(a->maps[i].num, &l, ctx);
		}
	}
	pthread_mutex_unlock(&a->lock);
	return r < 0 ? r : 0;
}

/* ---- snapshot sets ------------------------------------------------------------ */

static struct prepared **set_find(struct array *a, const uint8_t set[16])
{
	struct prepared **pp;

	for (pp = &a->sets; *pp; pp = &(*pp)->next)
		if (!memcmp((*pp)->set, set, 16))
			return pp;
	return NULL;
}

static void set_free(struct prepared *s)
{
	free(s->vols);
	free(s->names);
	free(s);
}

struct tag_ctx {
	const uint8_t *set;
	uint64_t *ids;
	unsigned n, cap;
};

static int tag_fn(const struct vol_info *vi, void *ctx)
{
	struct tag_ctx *t = ctx;

	if (vi->kind != VOL_SNAPSHOT || memcmp(vi->tag, t->set, 16))
		return 0;
	if (t->n == t->cap) {
		uint64_t *n = realloc(t->ids, (t->cap ? t->cap * 2 : 16) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->ids = n;
		t->cap = t->cap ? t->cap * 2 : 16;
	}
	t->ids[t->n++] = vi->id;
	return 0;
}

static const uint8_t zero_guid[16];

int array_snapset_prepare(struct array *a, const uint8_t set[16], unsigned n,
			  const char *const *luns, const char *const *names)
{
	struct tag_ctx t = {.set = set};
	struct prepared *s, **old;
	struct pool_stat st;
	struct vol_info vi;
	int r = 0;

	if (!n || n > ARRAY_SNAPSET_MAX || !memcmp(set, zero_guid, 16))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->vols = calloc(n, sizeof(*s->vols));
	s->names = calloc(n, sizeof(*s->names));
	if (!s->vols || !s->names) {
		set_free(s);
		return -ENOMEM;
	}
	memcpy(s->set, set, 16);
	s->n = n;
	pthread_mutex_lock(&a->lock);
	r = vol_iterate(a->pool, tag_fn, &t);
	free(t.ids);
	if (!r && t.n)
		r = -EALREADY;
	for (unsigned i = 0; i < n && !r; i++) {
		r = lun_by_name(a, luns[i], &vi);
		if (!r && vi.kind != VOL_VOLUME)
			r = -EINVAL;
		if (!r && !array_lun_online(a, vi.id))
			r = -ENXIO;
		for (unsigned j = 0; j < i && !r; j++)
			if (s->vols[j] == vi.id)
				r = -EINVAL;
		if (r)
			break;
		s->vols[i] = vi.id;
		if (names && names[i])
			snprintf(s->names[i], sizeof(s->names[i]), "%s", names[i]);
		else
			snprintf(s->names[i], sizeof(s->names[i]),
				 "%.45s@%02x%02x%02x%02x%02x%02x%02x%02x", vi.name, set[0], set[1],
				 set[2], set[3], set[4], set[5], set[6], set[7]);
		if (!valid_name(s->names[i]) || !vol_lookup(a->pool, s->names[i], NULL))
			r = valid_name(s->names[i]) ? -EEXIST : -EINVAL;
		for (unsigned j = 0; j < i && !r; j++)
			if (!strcmp(s->names[i], s->names[j]))
				r = -EEXIST;
	}
	/* Flush now what the commit would otherwise have to: prepare may be
	 * slow (VSS calls it before the freeze), commit must be fast (it runs
	 * in the flush-and-hold window), and the commit then only writes back
	 * what arrived in between. */
	if (!r)
		r = pool_commit(a->pool);
	/* Reserve: the commit must not be the step that finds the pool full.
	 * Each snapshot record needs at most a volume-tree path. */
	if (!r && !(r = pool_stat(a->pool, &st)) &&
	    st.free_meta_blocks < st.meta_reserve + 4ull * n)
		r = -ENOSPC;
	if (r) {
		pthread_mutex_unlock(&a->lock);
		set_free(s);
		return r;
	}
	old = set_find(a, set);
	if (old) {
		struct prepared *o = *old;

		*old = o->next;
		set_free(o);
	}
	s->next = a->sets;
	a->sets = s;
	pthread_mutex_unlock(&a->lock);
	return 0;
}

int array_snapset_commit(struct array *a, const uint8_t set[16],
			 int (*fn)(const struct lun_info *snap, void *ctx), void *ctx)
{
	struct prepared **pp, *s;
	const char **names = NULL;
	uint64_t *ids = NULL;
	struct lun_info l;
	int r;

	pthread_mutex_lock(&a->lock);
	pp = set_find(a, set);
	if (!pp) {
		struct tag_ctx t = {.set = set};

		r = vol_iterate(a->pool, tag_fn, &t);
		free(t.ids);
		r = r ? r : t.n ? -EALREADY : -ENOENT;
		goto out;
	}
	s = *pp;
	names = calloc(s->n, sizeof(*names));
	ids = calloc(s->n, sizeof(*ids));
	if (!names || !ids) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < s->n; i++)
		names[i] = s->names[i];
	/* The one engine commit of the set. */
	r = vol_snapshot_group_tag(a->pool, s->n, s->vols, names, set, ids);
	if (r)
		goto out;
	*pp = s->next;
	if (fn) {
		/* Two lock acquisitions for the whole set, not two per member:
		 * writers queue for the pool's lock right after a commit. */
		struct vol_info *vis = calloc(2 * (size_t)s->n, sizeof(*vis));

		if (vis) {
			vol_stat_many(a->pool, s->n, ids, vis);
			vol_stat_many(a->pool, s->n, s->vols, vis + s->n);
			for (unsigned i = 0; i < s->n; i++) {
				if (!vis[i].id)
					continue;
				fill_lun_parent(a, &vis[i], vis[s->n + i].name, &l);
				fn(&l, ctx);
			}
			free(vis);
		}
	}
	set_free(s);
out:
	pthread_mutex_unlock(&a->lock);
	free(names);
	free(ids);
	return r;
}

/* Unmap a snapshot from every host, then delete it.  Lock held. */
static int drop_snapshot(struct array *a, uint64_t id)
{
	int r = 0;

	for (size_t i = 0; i < a->nr_maps && !r;) {
		if (a->maps[i].lun == id)
			r = unmap_index(a, i);
		else
			i++;
	}
	return r ? r : vol_delete(a->pool, id);
}

int array_snapset_abort(struct array *a, const uint8_t set[16])
{
	struct tag_ctx t = {.set = set};
	struct prepared **pp;
	int r;

	pthread_mutex_lock(&a->lock);
	pp = set_find(a, set);
	if (pp) {
		struct prepared *s = *pp;

		*pp = s->next;
		set_free(s);
		r = 0;
		goto out;
	}
	r = vol_iterate(a->pool, tag_fn, &t);
	if (!r && !t.n)
		r = -ENOENT;
	for (unsigned i = 0; i < t.n && !r; i++)
		r = drop_snapshot(a, t.ids[i]);
out:
	pthread_mutex_unlock(&a->lock);
	free(t.ids);
	return r;
}

int array_snap_delete(struct array *a, const char *name)
{
	struct vol_info vi;
	int r;

	pthread_mutex_lock(&a->lock);
	r = lun_by_name(a, name, &vi);
	if (!r && vi.kind != VOL_SNAPSHOT)
		r = -EINVAL;
	if (!r)
		r = delete_vol(a, &vi);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_clone(struct array *a, const char *snap, const char *name, struct lun_info *out)
{
	struct vol_info vi;
	uint64_t id;
	int r;

	if (!valid_name(name))
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	r = lun_by_name(a, snap, &vi);
	if (!r)
		r = vol_clone(a->pool, vi.id, name, &id);
	if (!r && out && !(r = vol_info(a->pool, id, &vi)))
		fill_lun(a, &vi, out);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_revert(struct array *a, const char *lun, const char *snap)
{
	struct vol_info v, s;
	int r;

	pthread_mutex_lock(&a->lock);
	r = lun_by_name(a, lun, &v);
	if (!r)
		r = lun_by_name(a, snap, &s);
	if (!r && (v.kind != VOL_VOLUME || s.kind != VOL_SNAPSHOT))
		r = -EINVAL;
	if (!r)
		r = vol_revert(a->pool, v.id, s.id);
	for (size_t i = 0; !r && v.size != s.size && i < a->nr_maps; i++)
		if (a->maps[i].lun == v.id)
			fire(a, ARRAY_EV_RESIZED, a->maps[i].host, v.id, a->maps[i].num);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int array_diff(struct array *a, const char *from, const char *to,
	       int (*fn)(uint64_t off, uint64_t len, void *ctx), void *ctx)
{
	struct vol_info x, y;
	int r;

	pthread_mutex_lock(&a->lock);
	r = lun_by_name(a, from, &x);
	if (!r)
		r = lun_by_name(a, to, &y);
	if (!r)
		r = vol_diff(a->pool, x.id, y.id, fn, ctx);
	pthread_mutex_unlock(&a->lock);
	return r;
}
