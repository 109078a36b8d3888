/*
 * array_ops: snapset_ops over the ASCP control client.  VSS identifies
 * LUNs by page-0x83 NAA; the array names them.  EndPrepareSnapshots
 * (slow work allowed) maps each NAA to a LUN name with LUN_SHOW, then
 * reserves the set with one SNAPSET_PREPARE; CommitSnapshots is one
 * SNAPSET_COMMIT.  Any failure returns non-zero, which snapset turns
 * into VSS_E_PROVIDER_VETO.
 */
#include "array_ops.h"

#include <string.h>

#include "client.h"
#include "proto.h"

#define LUN_NAME_MAX ARRAY_LUN_NAME_MAX

static void note(struct array_ctx *a, uint32_t status, const char *msg)
{
	size_t n = msg ? strlen(msg) : 0;

	/* the event-log line only needs the start of a long server message */
	if (n >= sizeof(a->last_msg))
		n = sizeof(a->last_msg) - 1;
	a->last_status = status;
	if (n)
		memcpy(a->last_msg, msg, n);
	a->last_msg[n] = '\0';
}

/*
 * One request/reply.  Returns 0 with *rep to free on PROTO_OK, else
 * the PROTO_E* code (positive) with the reason noted.
 */
static int call(struct array_ctx *a, uint16_t type, const struct proto_buf *fields,
		struct client_reply *rep)
{
	int rc = client_call(a->c, type, client_new_reqid(a->c), fields, rep);

	if (rc < 0) {
		note(a, (uint32_t)-rc, proto_strerror(rc));
		return -rc;
	}
	if (rep->status != PROTO_OK) {
		uint32_t st = rep->status;

		note(a, st, rep->msg[0] ? rep->msg : proto_strerror((int)st));
		client_reply_free(rep);
		return (int)st;
	}
	return 0;
}

/* LUN_NAME / LUN_SERIAL from the reply's LUN record */
static int lun_record(const struct client_reply *rep, char *name, size_t namesz, char *serial,
		      size_t serialsz)
{
	struct proto_field f;
	struct proto_iter it;
	int found = 0;

	if (proto_find(rep->payload, rep->payload_len, PROTO_TAG_LUN, &f) ||
	    proto_field_list(&f, &it))
		return PROTO_EPROTO;
	while (proto_iter_next(&it, &f) == 1) {
		if (f.tag == PROTO_TAG_LUN_NAME && name) {
			if (proto_field_str(&f, name, namesz))
				return PROTO_EPROTO;
			found = 1;
		} else if (f.tag == PROTO_TAG_LUN_SERIAL && serial) {
			/* longer than VPD 0x80 can carry here: leave it empty */
			if (proto_field_str(&f, serial, serialsz))
				serial[0] = '\0';
		}
	}
	return found || !name ? 0 : PROTO_EPROTO;
}

static int lun_by_naa(struct array_ctx *a, const uint8_t naa[16], char *name, size_t namesz,
		      char *serial, size_t serialsz)
{
	struct proto_buf req;
	struct client_reply rep;
	int rc;

	proto_buf_init(&req);
	rc = proto_put_bytes(&req, PROTO_TAG_LUN_NAA, naa, 16);
	if (rc) {
		proto_buf_free(&req);
		note(a, PROTO_ENOMEM, "out of memory");
		return PROTO_ENOMEM;
	}
	rc = call(a, PROTO_MSG_LUN_SHOW, &req, &rep);
	proto_buf_free(&req);
	if (rc)
		return rc;
	rc = lun_record(&rep, name, namesz, serial, serialsz);
	client_reply_free(&rep);
	if (rc)
		note(a, (uint32_t)rc, "LUN_SHOW reply without a LUN record");
	return rc;
}

int array_confirm_naa(void *ctx, const uint8_t naa[16], char serial[33])
{
	char name[LUN_NAME_MAX];

	serial[0] = '\0';
	return lun_by_naa(ctx, naa, name, sizeof(name), serial, 33);
}

/* request fields could not be encoded (the buffer's sticky error) */
static int enc_failed(struct array_ctx *a, const struct proto_buf *req)
{
	if (!req->err)
		return 0;
	note(a, PROTO_ENOMEM, "cannot encode the request");
	return PROTO_ENOMEM;
}

static int op_prepare(void *ctx, const uint8_t set_id[16], const struct vds_lun_info *luns,
		      size_t n)
{
	struct array_ctx *a = ctx;
	struct proto_buf req;
	struct client_reply rep;
	int rc = 0;

	a->n_refs = 0;
	if (n > SNAPSET_MAX_LUNS) {
		note(a, PROTO_EINVAL, "too many LUNs in the set");
		return PROTO_EINVAL;
	}
	proto_buf_init(&req);
	proto_put_guid(&req, PROTO_TAG_SNAPSET_ID, set_id);
	for (size_t i = 0; !rc && i < n; i++) {
		struct array_lun_ref *r = &a->refs[i];

		if (!vds_lun_naa16(&luns[i], r->naa)) {
			note(a, PROTO_EINVAL, "LUN without an NAA-6 designator");
			rc = PROTO_EINVAL;
			break;
		}
		rc = lun_by_naa(a, r->naa, r->name, sizeof(r->name), NULL, 0);
		if (!rc)
			proto_put_str(&req, PROTO_TAG_LUN_NAME, r->name);
	}
	if (!rc)
		rc = enc_failed(a, &req);
	if (!rc) {
		a->n_refs = n;
		rc = call(a, PROTO_MSG_SNAPSET_PREPARE, &req, &rep);
		if (!rc)
			client_reply_free(&rep);
	}
	if (rc)
		a->n_refs = 0;
	proto_buf_free(&req);
	return rc;
}

/*
 * A request with only SNAPSET_ID (commit, abort).  With rep the caller
 * gets the reply (to free); without it the reply is dropped.
 */
static int set_call(struct array_ctx *a, uint16_t type, const uint8_t set_id[16],
		    struct client_reply *rep)
{
	struct proto_buf req;
	struct client_reply own;
	int rc;

	proto_buf_init(&req);
	proto_put_guid(&req, PROTO_TAG_SNAPSET_ID, set_id);
	rc = enc_failed(a, &req);
	if (!rc)
		rc = call(a, type, &req, rep ? rep : &own);
	if (!rc && !rep)
		client_reply_free(&own);
	proto_buf_free(&req);
	return rc;
}

/* one SNAP record of the commit reply; the origin's NAA from prepare's refs */
static int snap_target(const struct array_ctx *a, const struct proto_field *snap,
		       struct snapset_target *t)
{
	char origin[LUN_NAME_MAX] = "";
	struct proto_field f;
	struct proto_iter it;
	int have_naa = 0, have_origin = 0;

	memset(t, 0, sizeof(*t));
	if (proto_field_list(snap, &it))
		return PROTO_EPROTO;
	while (proto_iter_next(&it, &f) == 1) {
		if (f.tag == PROTO_TAG_SNAP_NAME) {
			if (proto_field_str(&f, t->name, sizeof(t->name)))
				return PROTO_EPROTO;
		} else if (f.tag == PROTO_TAG_LUN_NAME) {
			if (proto_field_str(&f, origin, sizeof(origin)))
				return PROTO_EPROTO;
			have_origin = 1;
		} else if (f.tag == PROTO_TAG_LUN_SERIAL) {
			if (proto_field_str(&f, t->serial, sizeof(t->serial)))
				return PROTO_EPROTO;
		} else if (f.tag == PROTO_TAG_LUN_NAA) {
			if (f.len != 16)
				return PROTO_EPROTO;
			memcpy(t->naa, f.val, 16);
			have_naa = 1;
		}
	}
	if (!have_naa || !have_origin || !t->serial[0] || !t->name[0])
		return PROTO_EPROTO;
	for (size_t i = 0; i < a->n_refs; i++)
		if (!strcmp(a->refs[i].name, origin)) {
			memcpy(t->origin_naa, a->refs[i].naa, 16);
			return 0;
		}
	return PROTO_EPROTO; /* a snapshot of a LUN this set never named */
}

int array_commit_targets(struct array_ctx *a, const uint8_t *payload, size_t len,
			 struct snapset_target *out, size_t max, size_t *n_out)
{
	struct proto_field f;
	struct proto_iter it;
	size_t n = 0;
	int rc;

	*n_out = 0;
	proto_iter_init(&it, payload, len);
	while ((rc = proto_iter_next(&it, &f)) == 1) {
		if (f.tag != PROTO_TAG_SNAP)
			continue;
		if (n == max) {
			note(a, PROTO_EOVERFLOW, "SNAPSET_COMMIT reply: more snapshots than LUNs");
			return PROTO_EOVERFLOW;
		}
		if (snap_target(a, &f, &out[n])) {
			note(a, PROTO_EPROTO, "SNAPSET_COMMIT reply: bad or unknown SNAP record");
			return PROTO_EPROTO;
		}
		n++;
	}
	if (rc < 0) {
		note(a, PROTO_EPROTO, "SNAPSET_COMMIT reply: malformed fields");
		return PROTO_EPROTO;
	}
	*n_out = n;
	return 0;
}

/* one SNAPSET_COMMIT; parsing its reply allocates nothing */
static int op_commit(void *ctx, const uint8_t set_id[16], struct snapset_target *out, size_t max,
		     size_t *n_out)
{
	struct array_ctx *a = ctx;
	struct client_reply rep;
	int rc;

	*n_out = 0;
	rc = set_call(a, PROTO_MSG_SNAPSET_COMMIT, set_id, &rep);
	if (rc)
		return rc;
	rc = array_commit_targets(a, rep.payload, rep.payload_len, out, max, n_out);
	client_reply_free(&rep);
	return rc;
}

static int op_abort(void *ctx, const uint8_t set_id[16])
{
	return set_call(ctx, PROTO_MSG_SNAPSET_ABORT, set_id, NULL);
}

const struct snapset_ops array_snapset_ops = {
    .prepare = op_prepare,
    .commit = op_commit,
    .abort = op_abort,
};

/* ---- LocateLuns, OnLunEmpty, ResyncLuns, OnLunStateChange ---------------- */

/* what LUN_SHOW tells about one LUN */
struct lun_desc {
	char name[LUN_NAME_MAX];
	uint32_t flags;	 /* PROTO_LUNF_* */
	int is_snapshot; /* the reply carried a SNAP record */
};

static int describe(struct array_ctx *a, const struct vds_lun_info *lun, struct lun_desc *d)
{
	uint8_t naa[16];
	struct proto_buf req;
	struct client_reply rep;
	struct proto_field f;
	struct proto_iter it;
	int rc;

	memset(d, 0, sizeof(*d));
	if (!lun || !vds_lun_naa16(lun, naa)) {
		note(a, PROTO_EINVAL, "LUN without an NAA-6 designator");
		return PROTO_EINVAL;
	}
	proto_buf_init(&req);
	proto_put_bytes(&req, PROTO_TAG_LUN_NAA, naa, 16);
	rc = enc_failed(a, &req);
	if (!rc)
		rc = call(a, PROTO_MSG_LUN_SHOW, &req, &rep);
	proto_buf_free(&req);
	if (rc)
		return rc;
	d->is_snapshot = !proto_find(rep.payload, rep.payload_len, PROTO_TAG_SNAP, &f);
	rc = lun_record(&rep, d->name, sizeof(d->name), NULL, 0);
	if (!rc && (proto_find(rep.payload, rep.payload_len, PROTO_TAG_LUN, &f) ||
		    proto_field_list(&f, &it)))
		rc = PROTO_EPROTO;
	while (!rc && proto_iter_next(&it, &f) == 1)
		if (f.tag == PROTO_TAG_LUN_FLAGS && proto_field_u32(&f, &d->flags))
			rc = PROTO_EPROTO;
	client_reply_free(&rep);
	if (rc)
		note(a, (uint32_t)rc, "LUN_SHOW reply without a usable LUN record");
	return rc;
}

/* IQNs compare case-insensitively (RFC 3720 3.2.6.1); ASCII only */
static int iqn_eq(const char *x, const char *y)
{
	for (;; x++, y++) {
		char cx = *x >= 'A' && *x <= 'Z' ? (char)(*x + 32) : *x;
		char cy = *y >= 'A' && *y <= 'Z' ? (char)(*y + 32) : *y;

		if (cx != cy)
			return 0;
		if (!cx)
			return 1;
	}
}

/* does this HOST record list iqn?  Its name goes to host on a match. */
static int host_has_iqn(const struct proto_field *hf, const char *iqn, char *host, size_t hostsz)
{
	char name[LUN_NAME_MAX] = "", v[256];
	struct proto_field f;
	struct proto_iter it;
	int match = 0;

	if (proto_field_list(hf, &it))
		return 0;
	while (proto_iter_next(&it, &f) == 1) {
		if (f.tag == PROTO_TAG_HOST_NAME)
			proto_field_str(&f, name, sizeof(name));
		else if (f.tag == PROTO_TAG_IQN && !proto_field_str(&f, v, sizeof(v)) &&
			 iqn_eq(v, iqn))
			match = 1;
	}
	if (!match || !name[0] || strlen(name) >= hostsz)
		return 0;
	strcpy(host, name);
	return 1;
}

/* the array host an initiator belongs to (HOST_LIST); ENOENT: none */
static int host_by_iqn(struct array_ctx *a, const char *iqn, char *host, size_t hostsz)
{
	struct proto_buf req;
	struct client_reply rep;
	struct proto_field f;
	struct proto_iter it;
	int rc, found = 0;

	if (!iqn || !iqn[0]) {
		note(a, PROTO_EINVAL, "no initiator IQN");
		return PROTO_EINVAL;
	}
	proto_buf_init(&req);
	rc = call(a, PROTO_MSG_HOST_LIST, &req, &rep);
	proto_buf_free(&req);
	if (rc)
		return rc;
	proto_iter_init(&it, rep.payload, rep.payload_len);
	while (!found && proto_iter_next(&it, &f) == 1)
		if (f.tag == PROTO_TAG_HOST)
			found = host_has_iqn(&f, iqn, host, hostsz);
	client_reply_free(&rep);
	if (!found) {
		note(a, PROTO_ENOENT, "no host on the array has this initiator IQN");
		return PROTO_ENOENT;
	}
	return 0;
}

/* a request of string fields only: tags[i] = vals[i] */
static int str_call(struct array_ctx *a, uint16_t type, const uint16_t *tags,
		    const char *const *vals, size_t n, struct client_reply *rep)
{
	struct proto_buf req;
	int rc;

	proto_buf_init(&req);
	for (size_t i = 0; i < n; i++)
		proto_put_str(&req, tags[i], vals[i]);
	rc = enc_failed(a, &req);
	if (!rc)
		rc = call(a, type, &req, rep);
	proto_buf_free(&req);
	return rc;
}

static int map_call(struct array_ctx *a, uint16_t type, const char *lun, const char *host)
{
	static const uint16_t tags[] = {PROTO_TAG_LUN_NAME, PROTO_TAG_HOST_NAME};
	const char *vals[] = {lun, host};
	struct client_reply rep;
	int rc = str_call(a, type, tags, vals, 2, &rep);

	if (!rc)
		client_reply_free(&rep);
	return rc;
}

/* MAP_LIST filtered by LUN (and host when given): is there a mapping? */
static int is_mapped(struct array_ctx *a, const char *lun, const char *host, int *mapped)
{
	static const uint16_t tags[] = {PROTO_TAG_LUN_NAME, PROTO_TAG_HOST_NAME};
	const char *vals[] = {lun, host};
	struct client_reply rep;
	struct proto_field f;
	int rc = str_call(a, PROTO_MSG_MAP_LIST, tags, vals, host ? 2 : 1, &rep);

	if (rc)
		return rc;
	*mapped = !proto_find(rep.payload, rep.payload_len, PROTO_TAG_MAPPING, &f);
	client_reply_free(&rep);
	return 0;
}

int array_locate(struct array_ctx *a, const struct vds_lun_info *luns, size_t n, const char *iqn)
{
	char host[LUN_NAME_MAX];
	int rc;

	if (n && !luns) {
		note(a, PROTO_EINVAL, "no LUNs");
		return PROTO_EINVAL;
	}
	rc = host_by_iqn(a, iqn, host, sizeof(host));
	for (size_t i = 0; !rc && i < n; i++) {
		struct lun_desc d;
		int mapped = 0;

		rc = describe(a, &luns[i], &d);
		if (!rc)
			rc = map_call(a, PROTO_MSG_MAP, d.name, host);
		/* EEXIST: mapped already (a repeated import), or no LUN number
		 * left; only the first is fine */
		if (rc == PROTO_EEXIST && !is_mapped(a, d.name, host, &mapped) && mapped)
			rc = 0;
	}
	return rc;
}

/* MAP_LIST by LUN, then UNMAP each; one at a time, as the list shrinks */
static int unmap_all(struct array_ctx *a, const char *lun)
{
	static const uint16_t tag = PROTO_TAG_LUN_NAME;
	/* a bound, not a count: each round removes one mapping or fails */
	for (int round = 0; round < 4096; round++) {
		struct client_reply rep;
		struct proto_field f, g;
		struct proto_iter it;
		char host[LUN_NAME_MAX] = "";
		int rc = str_call(a, PROTO_MSG_MAP_LIST, &tag, &lun, 1, &rep);

		if (rc)
			return rc;
		if (proto_find(rep.payload, rep.payload_len, PROTO_TAG_MAPPING, &f)) {
			client_reply_free(&rep);
			return 0; /* no mapping left */
		}
		rc = proto_field_list(&f, &it) ? PROTO_EPROTO : 0;
		while (!rc && proto_iter_next(&it, &g) == 1)
			if (g.tag == PROTO_TAG_HOST_NAME && proto_field_str(&g, host, sizeof(host)))
				rc = PROTO_EPROTO;
		client_reply_free(&rep);
		if (!rc && !host[0])
			rc = PROTO_EPROTO;
		if (rc) {
			note(a, (uint32_t)rc, "MAP_LIST reply without a host name");
			return rc;
		}
		rc = map_call(a, PROTO_MSG_UNMAP, lun, host);
		if (rc && rc != PROTO_ENOENT) /* ENOENT: someone else unmapped it */
			return rc;
	}
	note(a, PROTO_EINTERNAL, "UNMAP does not remove the mapping");
	return PROTO_EINTERNAL;
}

int array_lun_empty(struct array_ctx *a, const struct vds_lun_info *lun)
{
	static const uint16_t snap_tag = PROTO_TAG_SNAP_NAME, lun_tag = PROTO_TAG_LUN_NAME;
	struct client_reply rep;
	struct lun_desc d;
	const char *name = d.name;
	int rc = describe(a, lun, &d);

	if (rc == PROTO_ENOENT)
		return 0; /* gone already: a repeated OnLunEmpty */
	if (rc)
		return rc;
	if (!d.is_snapshot && !(d.flags & PROTO_LUNF_CLONE)) {
		/* the one thing this provider must never do */
		note(a, PROTO_EINVAL, "refusing to delete an original LUN");
		return PROTO_EINVAL;
	}
	rc = unmap_all(a, d.name);
	if (!rc)
		rc = d.is_snapshot ? str_call(a, PROTO_MSG_SNAP_DELETE, &snap_tag, &name, 1, &rep)
				   : str_call(a, PROTO_MSG_LUN_DELETE, &lun_tag, &name, 1, &rep);
	if (!rc)
		client_reply_free(&rep);
	return rc;
}

int array_resync(struct array_ctx *a, const struct vds_lun_info *snap,
		 const struct vds_lun_info *target)
{
	static const uint16_t tags[] = {PROTO_TAG_LUN_NAME, PROTO_TAG_SNAP_NAME};
	struct lun_desc s, t;
	struct client_reply rep;
	const char *vals[2];
	int rc = describe(a, snap, &s);

	if (!rc)
		rc = describe(a, target, &t);
	if (rc)
		return rc;
	if (!s.is_snapshot || t.is_snapshot) {
		note(a, PROTO_EINVAL, "resync needs a snapshot source and a LUN target");
		return PROTO_EINVAL;
	}
	vals[0] = t.name;
	vals[1] = s.name;
	rc = str_call(a, PROTO_MSG_REVERT, tags, vals, 2, &rep);
	if (!rc)
		client_reply_free(&rep);
	return rc;
}

int array_mask(struct array_ctx *a, const struct vds_lun_info *lun, const char *iqn)
{
	char host[LUN_NAME_MAX];
	struct lun_desc d;
	int rc = host_by_iqn(a, iqn, host, sizeof(host));

	if (!rc)
		rc = describe(a, lun, &d);
	if (rc)
		return rc;
	rc = map_call(a, PROTO_MSG_UNMAP, d.name, host);
	/* both names resolved, so ENOENT means "not mapped": masked already */
	return rc == PROTO_ENOENT ? 0 : rc;
}

int array_make_rw(struct array_ctx *a, const struct vds_lun_info *lun)
{
	struct proto_buf req;
	struct client_reply rep;
	struct lun_desc d;
	int rc = describe(a, lun, &d);

	if (rc || !(d.flags & PROTO_LUNF_READONLY))
		return rc; /* read-write already: nothing to change */
	proto_buf_init(&req);
	proto_put_str(&req, PROTO_TAG_LUN_NAME, d.name);
	proto_put_u32(&req, PROTO_TAG_LUN_FLAGS, d.flags & ~PROTO_LUNF_READONLY);
	rc = enc_failed(a, &req);
	if (!rc)
		rc = call(a, PROTO_MSG_LUN_SET, &req, &rep);
	if (!rc)
		client_reply_free(&rep);
	proto_buf_free(&req);
	return rc;
}
