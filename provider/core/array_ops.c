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

#define LUN_NAME_MAX 256

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

static int op_prepare(void *ctx, const uint8_t set_id[16], const struct vds_lun_info *luns,
		      size_t n)
{
	struct array_ctx *a = ctx;
	struct proto_buf req;
	struct client_reply rep;
	int rc;

	proto_buf_init(&req);
	rc = proto_put_guid(&req, PROTO_TAG_SNAPSET_ID, set_id);
	for (size_t i = 0; !rc && i < n; i++) {
		uint8_t naa[16];
		char name[LUN_NAME_MAX];

		if (!vds_lun_naa16(&luns[i], naa)) {
			note(a, PROTO_EINVAL, "LUN without an NAA-6 designator");
			rc = PROTO_EINVAL;
			break;
		}
		rc = lun_by_naa(a, naa, name, sizeof(name), NULL, 0);
		if (!rc && proto_put_str(&req, PROTO_TAG_LUN_NAME, name)) {
			note(a, PROTO_ENOMEM, "out of memory");
			rc = PROTO_ENOMEM;
		}
	}
	if (!rc) {
		rc = call(a, PROTO_MSG_SNAPSET_PREPARE, &req, &rep);
		if (!rc)
			client_reply_free(&rep);
	}
	proto_buf_free(&req);
	return rc;
}

/* SNAPSET_ID only; shared by commit and abort */
static int set_call(struct array_ctx *a, uint16_t type, const uint8_t set_id[16])
{
	struct proto_buf req;
	struct client_reply rep;
	int rc;

	proto_buf_init(&req);
	if (proto_put_guid(&req, PROTO_TAG_SNAPSET_ID, set_id)) {
		proto_buf_free(&req);
		note(a, PROTO_ENOMEM, "out of memory");
		return PROTO_ENOMEM;
	}
	rc = call(a, type, &req, &rep);
	if (!rc)
		client_reply_free(&rep);
	proto_buf_free(&req);
	return rc;
}

static int op_commit(void *ctx, const uint8_t set_id[16])
{
	return set_call(ctx, PROTO_MSG_SNAPSET_COMMIT, set_id);
}

static int op_abort(void *ctx, const uint8_t set_id[16])
{
	return set_call(ctx, PROTO_MSG_SNAPSET_ABORT, set_id);
}

const struct snapset_ops array_snapset_ops = {
    .prepare = op_prepare,
    .commit = op_commit,
    .abort = op_abort,
};
