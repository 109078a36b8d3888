/*
 * proto.c: ASCP frame and field codec.  See proto.h and
 * docs/control-protocol.md.  No I/O and no crypto here on purpose: this
 * file is what the fuzzer and the Windows provider share bit for bit.
 */
#include "proto.h"

#include <stdlib.h>
#include <string.h>

/* ---- byte order --------------------------------------------------------- */

void proto_be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void proto_be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void proto_be64_put(uint8_t *p, uint64_t v)
{
	proto_be32_put(p, (uint32_t)(v >> 32));
	proto_be32_put(p + 4, (uint32_t)v);
}

uint16_t proto_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t proto_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

uint64_t proto_be64(const uint8_t *p)
{
	return ((uint64_t)proto_be32(p) << 32) | proto_be32(p + 4);
}

void proto_guid_pack(uint8_t out[16], uint32_t d1, uint16_t d2, uint16_t d3, const uint8_t d4[8])
{
	proto_be32_put(out, d1);
	proto_be16_put(out + 4, d2);
	proto_be16_put(out + 6, d3);
	memcpy(out + 8, d4, 8);
}

void proto_guid_unpack(const uint8_t in[16], uint32_t *d1, uint16_t *d2, uint16_t *d3,
		       uint8_t d4[8])
{
	*d1 = proto_be32(in);
	*d2 = proto_be16(in + 4);
	*d3 = proto_be16(in + 6);
	memcpy(d4, in + 8, 8);
}

/* ---- error strings ------------------------------------------------------ */

static const char *const err_names[PROTO_ERR_MAX] = {
    [PROTO_OK] = "OK",
    [PROTO_EINVAL] = "EINVAL: invalid argument",
    [PROTO_ENOENT] = "ENOENT: no such object",
    [PROTO_EEXIST] = "EEXIST: object exists",
    [PROTO_EBUSY] = "EBUSY: object busy",
    [PROTO_ENOSPC] = "ENOSPC: pool full",
    [PROTO_EROFS] = "EROFS: read-only",
    [PROTO_EAUTH] = "EAUTH: authentication failed or required",
    [PROTO_EPROTO] = "EPROTO: protocol violation",
    [PROTO_EVERSION] = "EVERSION: unsupported protocol version",
    [PROTO_ETOOBIG] = "ETOOBIG: frame too large",
    [PROTO_EINTERNAL] = "EINTERNAL: internal error",
    [PROTO_ETIMEDOUT] = "ETIMEDOUT: timed out",
    [PROTO_EOFFLINE] = "EOFFLINE: object offline",
    [PROTO_EFAULT_INJECTED] = "EFAULT_INJECTED: injected fault",
    [PROTO_ENOTSUP] = "ENOTSUP: not supported",
    [PROTO_ENOMEM] = "ENOMEM: out of memory",
    [PROTO_EIO] = "EIO: I/O error",
    [PROTO_ECLOSED] = "ECLOSED: connection closed",
    [PROTO_ETRUNC] = "ETRUNC: truncated frame or field",
    [PROTO_EOVERFLOW] = "EOVERFLOW: field length overflows its container",
    [PROTO_EBADMAC] = "EBADMAC: frame MAC mismatch",
    [PROTO_EREPLAY] = "EREPLAY: replayed sequence number",
    [PROTO_ESEQ] = "ESEQ: out-of-order sequence number",
    [PROTO_ESTATE] = "ESTATE: invalid in current state",
    [PROTO_ERANGE] = "ERANGE: value out of range",
    [PROTO_EDQUOT] = "EDQUOT: metadata space exhausted",
    [PROTO_ECONNECT] = "ECONNECT: cannot connect",
};

const char *proto_strerror(int code)
{
	if (code < 0)
		code = -code;
	if (code >= PROTO_ERR_MAX || !err_names[code])
		return "unknown error";
	return err_names[code];
}

/* ---- descriptor tables -------------------------------------------------- */

struct tag_desc {
	uint16_t tag;
	uint8_t type;
	const char *name;
};

static const struct tag_desc tags[] = {
    {PROTO_TAG_STATUS, PROTO_T_U32, "STATUS"},
    {PROTO_TAG_MESSAGE, PROTO_T_STRING, "MESSAGE"},
    {PROTO_TAG_PROTO_VERSION, PROTO_T_U32, "PROTO_VERSION"},
    {PROTO_TAG_CAPS, PROTO_T_U64, "CAPS"},
    {PROTO_TAG_SOFTWARE, PROTO_T_STRING, "SOFTWARE"},
    {PROTO_TAG_MAX_FRAME, PROTO_T_U32, "MAX_FRAME"},
    {PROTO_TAG_CLIENT_NAME, PROTO_T_STRING, "CLIENT_NAME"},
    {PROTO_TAG_NONCE, PROTO_T_BYTES, "NONCE"},
    {PROTO_TAG_PROOF, PROTO_T_BYTES, "PROOF"},
    {PROTO_TAG_POOL_NAME, PROTO_T_STRING, "POOL_NAME"},
    {PROTO_TAG_CAPACITY, PROTO_T_U64, "CAPACITY"},
    {PROTO_TAG_USED, PROTO_T_U64, "USED"},
    {PROTO_TAG_FREE, PROTO_T_U64, "FREE"},
    {PROTO_TAG_LUN_COUNT, PROTO_T_U32, "LUN_COUNT"},
    {PROTO_TAG_SNAP_COUNT, PROTO_T_U32, "SNAP_COUNT"},
    {PROTO_TAG_POOL_STATE, PROTO_T_U8, "POOL_STATE"},
    {PROTO_TAG_LUN, PROTO_T_LIST, "LUN"},
    {PROTO_TAG_LUN_NAME, PROTO_T_STRING, "LUN_NAME"},
    {PROTO_TAG_LUN_SERIAL, PROTO_T_STRING, "LUN_SERIAL"},
    {PROTO_TAG_LUN_NAA, PROTO_T_BYTES, "LUN_NAA"},
    {PROTO_TAG_LUN_SIZE, PROTO_T_U64, "LUN_SIZE"},
    {PROTO_TAG_BLOCK_SIZE, PROTO_T_U32, "BLOCK_SIZE"},
    {PROTO_TAG_LUN_FLAGS, PROTO_T_U32, "LUN_FLAGS"},
    {PROTO_TAG_LUN_STATE, PROTO_T_U8, "LUN_STATE"},
    {PROTO_TAG_HOST, PROTO_T_LIST, "HOST"},
    {PROTO_TAG_HOST_NAME, PROTO_T_STRING, "HOST_NAME"},
    {PROTO_TAG_IQN, PROTO_T_STRING, "IQN"},
    {PROTO_TAG_CHAP_USER, PROTO_T_STRING, "CHAP_USER"},
    {PROTO_TAG_CHAP_SECRET, PROTO_T_STRING, "CHAP_SECRET"},
    {PROTO_TAG_CHAP_MUSER, PROTO_T_STRING, "CHAP_MUSER"},
    {PROTO_TAG_CHAP_MSECRET, PROTO_T_STRING, "CHAP_MSECRET"},
    {PROTO_TAG_MAPPING, PROTO_T_LIST, "MAPPING"},
    {PROTO_TAG_LUN_NUMBER, PROTO_T_U32, "LUN_NUMBER"},
    {PROTO_TAG_SNAPSET_ID, PROTO_T_GUID, "SNAPSET_ID"},
    {PROTO_TAG_SNAP, PROTO_T_LIST, "SNAP"},
    {PROTO_TAG_SNAP_ID, PROTO_T_GUID, "SNAP_ID"},
    {PROTO_TAG_SNAP_NAME, PROTO_T_STRING, "SNAP_NAME"},
    {PROTO_TAG_CREATED, PROTO_T_U64, "CREATED"},
    {PROTO_TAG_SNAP_STATE, PROTO_T_U8, "SNAP_STATE"},
    {PROTO_TAG_BASE_SNAP_ID, PROTO_T_GUID, "BASE_SNAP_ID"},
    {PROTO_TAG_EXTENT, PROTO_T_LIST, "EXTENT"},
    {PROTO_TAG_OFFSET, PROTO_T_U64, "OFFSET"},
    {PROTO_TAG_LENGTH, PROTO_T_U64, "LENGTH"},
    {PROTO_TAG_CURSOR, PROTO_T_U64, "CURSOR"},
    {PROTO_TAG_MAX_ENTRIES, PROTO_T_U32, "MAX_ENTRIES"},
    {PROTO_TAG_MORE, PROTO_T_U8, "MORE"},
    {PROTO_TAG_SESSION, PROTO_T_LIST, "SESSION"},
    {PROTO_TAG_SESSION_ID, PROTO_T_U64, "SESSION_ID"},
    {PROTO_TAG_PEER_ADDR, PROTO_T_STRING, "PEER_ADDR"},
    {PROTO_TAG_SESSION_KIND, PROTO_T_U8, "SESSION_KIND"},
    {PROTO_TAG_FAULT_ACTION, PROTO_T_U8, "FAULT_ACTION"},
    {PROTO_TAG_FAULT_OP, PROTO_T_U32, "FAULT_OP"},
    {PROTO_TAG_FAULT_COUNT, PROTO_T_U32, "FAULT_COUNT"},
    {PROTO_TAG_DELAY_MS, PROTO_T_U32, "DELAY_MS"},
    {PROTO_TAG_FAULT_ERROR, PROTO_T_U32, "FAULT_ERROR"},
    {PROTO_TAG_FAULT_ID, PROTO_T_U64, "FAULT_ID"},
    {PROTO_TAG_FAULT, PROTO_T_LIST, "FAULT"},
    {PROTO_TAG_AUDIT, PROTO_T_LIST, "AUDIT"},
    {PROTO_TAG_AUDIT_SEQ, PROTO_T_U64, "AUDIT_SEQ"},
    {PROTO_TAG_ACTOR, PROTO_T_STRING, "ACTOR"},
    {PROTO_TAG_MSG_TYPE, PROTO_T_U32, "MSG_TYPE"},
    {PROTO_TAG_TEXT, PROTO_T_STRING, "TEXT"},
    {PROTO_TAG_RESULT, PROTO_T_U32, "RESULT"},
    {PROTO_TAG_REQ_ID, PROTO_T_U64, "REQ_ID"},
};

static const struct tag_desc *tag_lookup(uint16_t tag)
{
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (tags[i].tag == tag)
			return &tags[i];
	return NULL;
}

int proto_tag_type(uint16_t tag)
{
	const struct tag_desc *d = tag_lookup(tag);

	return d ? d->type : 0;
}

const char *proto_tag_name(uint16_t tag)
{
	const struct tag_desc *d = tag_lookup(tag);

	return d ? d->name : "UNKNOWN";
}

/* Field lists per message; the doc's message table is written from these. */
#define L(name, ...) static const uint16_t name[] = {__VA_ARGS__, 0}
#define G(x)	     PROTO_TAG_##x
static const uint16_t none[] = {0};
L(hello_req, G(NONCE), G(PROTO_VERSION), G(CLIENT_NAME));
L(hello_rep, G(NONCE), G(PROOF), G(PROTO_VERSION));
L(proof_req, G(PROOF));
L(version_req, G(PROTO_VERSION), G(CAPS), G(CLIENT_NAME));
L(version_rep, G(PROTO_VERSION), G(CAPS), G(SOFTWARE), G(MAX_FRAME));
L(pool_rep, G(POOL_NAME), G(CAPACITY), G(USED), G(FREE), G(LUN_COUNT), G(SNAP_COUNT),
  G(POOL_STATE));
L(lun_create_req, G(LUN_NAME), G(LUN_SIZE), G(BLOCK_SIZE), G(LUN_FLAGS), G(LUN_SERIAL));
L(lun_rep, G(LUN));
L(lun_name, G(LUN_NAME));
L(lun_resize_req, G(LUN_NAME), G(LUN_SIZE));
L(lun_list_req, G(CURSOR), G(MAX_ENTRIES));
L(lun_list_rep, G(LUN), G(CURSOR), G(MORE));
L(lun_show_req, G(LUN_NAME), G(LUN_SERIAL), G(LUN_NAA));
L(lun_set_req, G(LUN_NAME), G(LUN_FLAGS));
L(host_create_req, G(HOST_NAME), G(IQN));
L(host_name, G(HOST_NAME));
L(host_list_rep, G(HOST));
L(host_iqn_req, G(HOST_NAME), G(IQN));
L(host_chap_req, G(HOST_NAME), G(CHAP_USER), G(CHAP_SECRET), G(CHAP_MUSER), G(CHAP_MSECRET));
L(map_req, G(HOST_NAME), G(LUN_NAME), G(LUN_NUMBER));
L(map_rep, G(MAPPING));
L(map_list_req, G(HOST_NAME), G(LUN_NAME));
L(snapset_prep_req, G(SNAPSET_ID), G(LUN_NAME), G(SNAP_NAME));
L(snapset_rep, G(SNAPSET_ID), G(SNAP));
L(snapset_id, G(SNAPSET_ID));
L(snap_list_req, G(LUN_NAME), G(SNAPSET_ID), G(CURSOR), G(MAX_ENTRIES));
L(snap_list_rep, G(SNAP), G(CURSOR), G(MORE));
L(snap_delete_req, G(SNAP_ID), G(SNAPSET_ID));
L(clone_req, G(SNAP_ID), G(LUN_NAME), G(LUN_SERIAL));
L(revert_req, G(LUN_NAME), G(SNAP_ID));
L(diff_req, G(BASE_SNAP_ID), G(SNAP_ID), G(CURSOR), G(MAX_ENTRIES));
L(diff_rep, G(EXTENT), G(CURSOR), G(MORE));
L(session_rep, G(SESSION));
L(fault_req, G(FAULT_ACTION), G(FAULT_OP), G(FAULT_COUNT), G(DELAY_MS), G(FAULT_ERROR),
  G(LUN_NAME));
L(fault_rep, G(FAULT_ID));
L(fault_list_rep, G(FAULT));
L(fault_clear_req, G(FAULT_ID));
L(audit_req, G(AUDIT_SEQ), G(MAX_ENTRIES));
L(audit_rep, G(AUDIT), G(CURSOR), G(MORE));
#undef L
#undef G

#define M(t, rq, rp)                                                                               \
	{                                                                                          \
		PROTO_MSG_##t, #t, rq, rp                                                          \
	}
static const struct proto_msg_desc msgs[] = {
    M(AUTH_HELLO, hello_req, hello_rep),
    M(AUTH_PROOF, proof_req, none),
    M(VERSION, version_req, version_rep),
    M(POOL_STATUS, none, pool_rep),
    M(LUN_CREATE, lun_create_req, lun_rep),
    M(LUN_DELETE, lun_name, none),
    M(LUN_RESIZE, lun_resize_req, lun_rep),
    M(LUN_LIST, lun_list_req, lun_list_rep),
    M(LUN_SHOW, lun_show_req, lun_rep),
    M(LUN_SET, lun_set_req, lun_rep),
    M(HOST_CREATE, host_create_req, host_list_rep),
    M(HOST_DELETE, host_name, none),
    M(HOST_LIST, none, host_list_rep),
    M(HOST_ADD_IQN, host_iqn_req, none),
    M(HOST_REMOVE_IQN, host_iqn_req, none),
    M(HOST_SET_CHAP, host_chap_req, none),
    M(MAP, map_req, map_rep),
    M(UNMAP, map_req, none),
    M(MAP_LIST, map_list_req, map_rep),
    M(SNAPSET_PREPARE, snapset_prep_req, snapset_rep),
    M(SNAPSET_COMMIT, snapset_id, snapset_rep),
    M(SNAPSET_ABORT, snapset_id, none),
    M(SNAP_LIST, snap_list_req, snap_list_rep),
    M(SNAP_DELETE, snap_delete_req, none),
    M(CLONE, clone_req, lun_rep),
    M(REVERT, revert_req, lun_rep),
    M(SNAP_DIFF, diff_req, diff_rep),
    M(SESSION_LIST, none, session_rep),
    M(FAULT_INJECT, fault_req, fault_rep),
    M(FAULT_LIST, none, fault_list_rep),
    M(FAULT_CLEAR, fault_clear_req, none),
    M(AUDIT_READ, audit_req, audit_rep),
};
#undef M

const struct proto_msg_desc *proto_msg_lookup(uint16_t type)
{
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (msgs[i].type == type)
			return &msgs[i];
	return NULL;
}

const struct proto_msg_desc *proto_msg_table(size_t *count)
{
	*count = sizeof(msgs) / sizeof(msgs[0]);
	return msgs;
}

/* ---- encoder ------------------------------------------------------------ */

void proto_buf_init(struct proto_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void proto_buf_free(struct proto_buf *b)
{
	free(b->data);
	proto_buf_init(b);
}

void proto_buf_reset(struct proto_buf *b)
{
	b->len = 0;
	b->err = 0;
}

static int buf_reserve(struct proto_buf *b, size_t n)
{
	size_t want, ncap;
	uint8_t *p;

	if (b->err)
		return b->err;
	if (n > PROTO_MAX_FRAME || b->len > PROTO_MAX_FRAME - n)
		return b->err = -PROTO_ETOOBIG;
	want = b->len + n;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < want)
		ncap *= 2;
	p = realloc(b->data, ncap);
	if (!p)
		return b->err = -PROTO_ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int proto_buf_append(struct proto_buf *b, const void *p, size_t n)
{
	int rc = buf_reserve(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int proto_put_raw(struct proto_buf *b, uint16_t tag, uint8_t type, const void *p, size_t n)
{
	uint8_t h[PROTO_FIELD_HDR_LEN];
	int rc;

	if (n > PROTO_MAX_PAYLOAD) {
		if (!b->err)
			b->err = -PROTO_ETOOBIG;
		return b->err;
	}
	proto_be16_put(h, tag);
	h[2] = type;
	h[3] = 0;
	proto_be32_put(h + 4, (uint32_t)n);
	rc = buf_reserve(b, sizeof(h) + n);
	if (rc)
		return rc;
	proto_buf_append(b, h, sizeof(h));
	return proto_buf_append(b, p, n);
}

int proto_put_u8(struct proto_buf *b, uint16_t tag, uint8_t v)
{
	return proto_put_raw(b, tag, PROTO_T_U8, &v, 1);
}

int proto_put_u32(struct proto_buf *b, uint16_t tag, uint32_t v)
{
	uint8_t x[4];

	proto_be32_put(x, v);
	return proto_put_raw(b, tag, PROTO_T_U32, x, 4);
}

int proto_put_u64(struct proto_buf *b, uint16_t tag, uint64_t v)
{
	uint8_t x[8];

	proto_be64_put(x, v);
	return proto_put_raw(b, tag, PROTO_T_U64, x, 8);
}

int proto_put_str(struct proto_buf *b, uint16_t tag, const char *s)
{
	return proto_put_raw(b, tag, PROTO_T_STRING, s, s ? strlen(s) : 0);
}

int proto_put_bytes(struct proto_buf *b, uint16_t tag, const void *p, size_t n)
{
	return proto_put_raw(b, tag, PROTO_T_BYTES, p, n);
}

int proto_put_guid(struct proto_buf *b, uint16_t tag, const uint8_t guid[16])
{
	return proto_put_raw(b, tag, PROTO_T_GUID, guid, 16);
}

long proto_list_begin(struct proto_buf *b, uint16_t tag)
{
	size_t mark = b->len;
	int rc = proto_put_raw(b, tag, PROTO_T_LIST, NULL, 0);

	return rc ? rc : (long)mark;
}

int proto_list_end(struct proto_buf *b, long mark)
{
	size_t vlen;

	if (b->err)
		return b->err;
	if (mark < 0 || (size_t)mark + PROTO_FIELD_HDR_LEN > b->len)
		return b->err = -PROTO_EINVAL;
	vlen = b->len - (size_t)mark - PROTO_FIELD_HDR_LEN;
	proto_be32_put(b->data + mark + 4, (uint32_t)vlen);
	return 0;
}

int proto_put_status(struct proto_buf *b, int code, const char *msg)
{
	size_t n;

	if (code < 0)
		code = -code;
	/* bound the message so a long one cannot crowd out the payload */
	n = msg ? strlen(msg) : 0;
	if (n > PROTO_MSG_MAX)
		n = PROTO_MSG_MAX;
	proto_put_u32(b, PROTO_TAG_STATUS, (uint32_t)code);
	return proto_put_raw(b, PROTO_TAG_MESSAGE, PROTO_T_STRING, msg, n);
}

int proto_frame_build(struct proto_buf *out, uint16_t type, uint8_t flags, uint64_t reqid,
		      const void *payload, size_t plen)
{
	uint8_t h[PROTO_HDR_LEN];
	size_t maclen = (flags & PROTO_F_MAC) ? PROTO_MAC_LEN : 0;
	static const uint8_t zero[PROTO_MAC_LEN];

	if (out->err)
		return out->err;
	if (plen > PROTO_MAX_PAYLOAD)
		return out->err = -PROTO_ETOOBIG;
	memset(h, 0, sizeof(h));
	proto_be32_put(h + PROTO_OFF_MAGIC, PROTO_MAGIC);
	h[PROTO_OFF_VERSION] = PROTO_VERSION;
	h[PROTO_OFF_FLAGS] = flags;
	proto_be16_put(h + PROTO_OFF_TYPE, type);
	proto_be32_put(h + PROTO_OFF_LEN, (uint32_t)plen);
	proto_be64_put(h + PROTO_OFF_REQID, reqid);
	if (buf_reserve(out, sizeof(h) + plen + maclen))
		return out->err;
	proto_buf_append(out, h, sizeof(h));
	proto_buf_append(out, payload, plen);
	return proto_buf_append(out, zero, maclen);
}

/* ---- decoder ------------------------------------------------------------ */

long proto_hdr_decode(const uint8_t *buf, size_t avail, struct proto_hdr *h)
{
	uint64_t total;

	if (avail < PROTO_HDR_LEN)
		return -PROTO_ETRUNC;
	if (proto_be32(buf + PROTO_OFF_MAGIC) != PROTO_MAGIC)
		return -PROTO_EPROTO;
	h->version = buf[PROTO_OFF_VERSION];
	if (h->version != PROTO_VERSION)
		return -PROTO_EVERSION;
	h->flags = buf[PROTO_OFF_FLAGS];
	h->type = proto_be16(buf + PROTO_OFF_TYPE);
	h->payload_len = proto_be32(buf + PROTO_OFF_LEN);
	h->reqid = proto_be64(buf + PROTO_OFF_REQID);
	h->seq = proto_be64(buf + PROTO_OFF_SEQ);
	/* 64-bit sum: a 4 GiB length cannot wrap on 32-bit Windows builds */
	total = (uint64_t)PROTO_HDR_LEN + h->payload_len +
		((h->flags & PROTO_F_MAC) ? PROTO_MAC_LEN : 0);
	if (total > PROTO_MAX_FRAME)
		return -PROTO_ETOOBIG;
	return (long)total;
}

int proto_frame_decode(const uint8_t *buf, size_t len, struct proto_frame *f)
{
	long total = proto_hdr_decode(buf, len, &f->hdr);

	if (total < 0)
		return (int)total;
	if (len < (size_t)total)
		return -PROTO_ETRUNC;
	if (len > (size_t)total)
		return -PROTO_EPROTO;
	f->payload = buf + PROTO_HDR_LEN;
	f->payload_len = f->hdr.payload_len;
	f->mac = (f->hdr.flags & PROTO_F_MAC) ? f->payload + f->payload_len : NULL;
	return proto_fields_validate(f->payload, f->payload_len);
}

void proto_iter_init(struct proto_iter *it, const uint8_t *buf, size_t len)
{
	it->p = buf;
	it->left = len;
}

int proto_iter_next(struct proto_iter *it, struct proto_field *f)
{
	if (it->left == 0)
		return 0;
	if (it->left < PROTO_FIELD_HDR_LEN)
		return -PROTO_ETRUNC;
	f->tag = proto_be16(it->p);
	f->type = it->p[2];
	f->len = proto_be32(it->p + 4);
	if (f->len > it->left - PROTO_FIELD_HDR_LEN)
		return -PROTO_EOVERFLOW;
	f->val = it->p + PROTO_FIELD_HDR_LEN;
	it->p += PROTO_FIELD_HDR_LEN + f->len;
	it->left -= PROTO_FIELD_HDR_LEN + f->len;
	return 1;
}

static int type_size(uint8_t type)
{
	switch (type) {
	case PROTO_T_U8:
		return 1;
	case PROTO_T_U32:
		return 4;
	case PROTO_T_U64:
		return 8;
	case PROTO_T_GUID:
		return 16;
	default:
		return -1; /* variable or unknown */
	}
}

static int validate(const uint8_t *buf, size_t len, int depth)
{
	struct proto_iter it;
	struct proto_field f;
	int rc, want, size;

	/* bounded recursion: a fuzzer-built tower of lists must not blow the stack */
	if (depth > PROTO_MAX_DEPTH)
		return -PROTO_EPROTO;
	proto_iter_init(&it, buf, len);
	while ((rc = proto_iter_next(&it, &f)) > 0) {
		want = proto_tag_type(f.tag);
		if (want && want != f.type)
			return -PROTO_EPROTO;
		size = type_size(f.type);
		if (size >= 0 && f.len != (uint32_t)size)
			return -PROTO_EPROTO;
		if (f.type == PROTO_T_STRING && memchr(f.val, 0, f.len))
			return -PROTO_EPROTO;
		if (f.type == PROTO_T_LIST) {
			rc = validate(f.val, f.len, depth + 1);
			if (rc)
				return rc;
		}
	}
	return rc;
}

int proto_fields_validate(const uint8_t *buf, size_t len)
{
	return validate(buf, len, 0);
}

static int field_fixed(const struct proto_field *f, uint8_t type)
{
	if (f->type != type || (int)f->len != type_size(type))
		return -PROTO_EPROTO;
	return 0;
}

int proto_field_u8(const struct proto_field *f, uint8_t *v)
{
	int rc = field_fixed(f, PROTO_T_U8);

	if (!rc)
		*v = f->val[0];
	return rc;
}

int proto_field_u32(const struct proto_field *f, uint32_t *v)
{
	int rc = field_fixed(f, PROTO_T_U32);

	if (!rc)
		*v = proto_be32(f->val);
	return rc;
}

int proto_field_u64(const struct proto_field *f, uint64_t *v)
{
	int rc = field_fixed(f, PROTO_T_U64);

	if (!rc)
		*v = proto_be64(f->val);
	return rc;
}

int proto_field_str(const struct proto_field *f, char *out, size_t outsz)
{
	if (f->type != PROTO_T_STRING || memchr(f->val, 0, f->len))
		return -PROTO_EPROTO;
	if (outsz == 0 || f->len > outsz - 1)
		return -PROTO_ERANGE;
	memcpy(out, f->val, f->len);
	out[f->len] = '\0';
	return 0;
}

int proto_field_guid(const struct proto_field *f, uint8_t guid[16])
{
	int rc = field_fixed(f, PROTO_T_GUID);

	if (!rc)
		memcpy(guid, f->val, 16);
	return rc;
}

int proto_field_list(const struct proto_field *f, struct proto_iter *sub)
{
	if (f->type != PROTO_T_LIST)
		return -PROTO_EPROTO;
	proto_iter_init(sub, f->val, f->len);
	return 0;
}

int proto_find(const uint8_t *buf, size_t len, uint16_t tag, struct proto_field *f)
{
	struct proto_iter it;
	int rc;

	proto_iter_init(&it, buf, len);
	while ((rc = proto_iter_next(&it, f)) > 0)
		if (f->tag == tag)
			return 0;
	return rc ? rc : -PROTO_ENOENT;
}

int proto_get_u32(const uint8_t *buf, size_t len, uint16_t tag, uint32_t *v)
{
	struct proto_field f;
	int rc = proto_find(buf, len, tag, &f);

	return rc ? rc : proto_field_u32(&f, v);
}

int proto_get_u64(const uint8_t *buf, size_t len, uint16_t tag, uint64_t *v)
{
	struct proto_field f;
	int rc = proto_find(buf, len, tag, &f);

	return rc ? rc : proto_field_u64(&f, v);
}

int proto_get_str(const uint8_t *buf, size_t len, uint16_t tag, char *out, size_t outsz)
{
	struct proto_field f;
	int rc = proto_find(buf, len, tag, &f);

	return rc ? rc : proto_field_str(&f, out, outsz);
}

int proto_get_status(const uint8_t *buf, size_t len, uint32_t *status, char *msg, size_t msgsz)
{
	struct proto_field f;
	int rc = proto_get_u32(buf, len, PROTO_TAG_STATUS, status);

	if (rc)
		return rc == -PROTO_ENOENT ? -PROTO_EPROTO : rc;
	if (!msg || !msgsz)
		return 0;
	msg[0] = '\0';
	if (proto_find(buf, len, PROTO_TAG_MESSAGE, &f) == 0 &&
	    proto_field_str(&f, msg, msgsz) == -PROTO_ERANGE) {
		/* a long message is still useful cut short */
		memcpy(msg, f.val, msgsz - 1);
		msg[msgsz - 1] = '\0';
	}
	return 0;
}
