/*
 * proto: the arraysim control protocol ("ASCP") frame and field codec.
 *
 * The wire format is specified in docs/control-protocol.md; this header
 * is the C view of it.  Everything here is pure computation on buffers
 * (no sockets, no crypto), so it builds identically on Linux and Windows
 * and can be fuzzed on its own.
 *
 * Error rule for every function returning int: 0 (or a documented
 * positive value) on success, otherwise a negative PROTO_E* code.
 */
#ifndef ARRAYSIM_PROTO_H
#define ARRAYSIM_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* ---- framing ------------------------------------------------------------ */

#define PROTO_MAGIC	    0x41534350u /* "ASCP" */
#define PROTO_VERSION	    1		/* framing version, header byte 4 */
#define PROTO_HDR_LEN	    32
#define PROTO_MAC_LEN	    32	       /* full HMAC-SHA256, never truncated */
#define PROTO_MAX_FRAME	    (1u << 20) /* header + payload + MAC */
#define PROTO_MAX_PAYLOAD   (PROTO_MAX_FRAME - PROTO_HDR_LEN - PROTO_MAC_LEN)
#define PROTO_FIELD_HDR_LEN 8
#define PROTO_MAX_DEPTH	    8	 /* nesting limit for LIST fields */
#define PROTO_MSG_MAX	    1024 /* longest error message a reply carries */

/* header byte offsets */
#define PROTO_OFF_MAGIC	  0
#define PROTO_OFF_VERSION 4
#define PROTO_OFF_FLAGS	  5
#define PROTO_OFF_TYPE	  6
#define PROTO_OFF_LEN	  8
#define PROTO_OFF_REQID	  12
#define PROTO_OFF_SEQ	  20
#define PROTO_OFF_RSVD	  28

/* header flags */
#define PROTO_F_REPLY 0x01 /* a reply; request id echoes the request's */
#define PROTO_F_MAC   0x02 /* 32-byte MAC follows the payload */
#define PROTO_F_RETRY 0x04 /* resend of a request id already sent */

/* ---- error codes (stable, on the wire as the STATUS field) ------------- */

enum proto_err {
	PROTO_OK = 0,
	PROTO_EINVAL = 1,
	PROTO_ENOENT = 2,
	PROTO_EEXIST = 3,
	PROTO_EBUSY = 4,
	PROTO_ENOSPC = 5,
	PROTO_EROFS = 6,
	PROTO_EAUTH = 7,
	PROTO_EPROTO = 8,
	PROTO_EVERSION = 9,
	PROTO_ETOOBIG = 10,
	PROTO_EINTERNAL = 11,
	PROTO_ETIMEDOUT = 12,
	PROTO_EOFFLINE = 13,
	PROTO_EFAULT_INJECTED = 14,
	PROTO_ENOTSUP = 15,
	PROTO_ENOMEM = 16,
	PROTO_EIO = 17,
	PROTO_ECLOSED = 18,
	PROTO_ETRUNC = 19,
	PROTO_EOVERFLOW = 20,
	PROTO_EBADMAC = 21,
	PROTO_EREPLAY = 22,
	PROTO_ESEQ = 23,
	PROTO_ESTATE = 24,
	PROTO_ERANGE = 25,
	PROTO_EDQUOT = 26,
	PROTO_ECONNECT = 27,
	PROTO_ERR_MAX
};

const char *proto_strerror(int code); /* accepts code or -code */

/* ---- message types ----------------------------------------------------- */

enum proto_msg {
	PROTO_MSG_AUTH_HELLO = 0x0001,
	PROTO_MSG_AUTH_PROOF = 0x0002,
	PROTO_MSG_VERSION = 0x0010,
	PROTO_MSG_POOL_STATUS = 0x0020,
	PROTO_MSG_LUN_CREATE = 0x0100,
	PROTO_MSG_LUN_DELETE = 0x0101,
	PROTO_MSG_LUN_RESIZE = 0x0102,
	PROTO_MSG_LUN_LIST = 0x0103,
	PROTO_MSG_LUN_SHOW = 0x0104,
	PROTO_MSG_LUN_SET = 0x0105, /* change flags: READONLY (snapshots too) */
	PROTO_MSG_HOST_CREATE = 0x0200,
	PROTO_MSG_HOST_DELETE = 0x0201,
	PROTO_MSG_HOST_LIST = 0x0202,
	PROTO_MSG_HOST_ADD_IQN = 0x0203,
	PROTO_MSG_HOST_REMOVE_IQN = 0x0204,
	PROTO_MSG_HOST_SET_CHAP = 0x0205,
	PROTO_MSG_MAP = 0x0300,
	PROTO_MSG_UNMAP = 0x0301,
	PROTO_MSG_MAP_LIST = 0x0302,
	PROTO_MSG_SNAPSET_PREPARE = 0x0400,
	PROTO_MSG_SNAPSET_COMMIT = 0x0401,
	PROTO_MSG_SNAPSET_ABORT = 0x0402,
	PROTO_MSG_SNAP_LIST = 0x0410,
	PROTO_MSG_SNAP_DELETE = 0x0411,
	PROTO_MSG_CLONE = 0x0420,
	PROTO_MSG_REVERT = 0x0421,
	PROTO_MSG_SNAP_DIFF = 0x0422,
	PROTO_MSG_SESSION_LIST = 0x0500,
	PROTO_MSG_FAULT_INJECT = 0x0600,
	PROTO_MSG_FAULT_LIST = 0x0601,
	PROTO_MSG_FAULT_CLEAR = 0x0602,
	PROTO_MSG_AUDIT_READ = 0x0700,
};

/* ---- field types and tags ---------------------------------------------- */

enum proto_type {
	PROTO_T_U8 = 1,
	PROTO_T_U32 = 2,
	PROTO_T_U64 = 3,
	PROTO_T_STRING = 4, /* UTF-8, no NUL, not NUL-terminated */
	PROTO_T_BYTES = 5,
	PROTO_T_GUID = 6, /* 16 bytes */
	PROTO_T_LIST = 7, /* value is a sequence of fields */
};

/*
 * Tags are global: a tag has the same type and meaning in every message,
 * which lets the decoder type-check known tags without knowing the
 * message.  Never renumber; only append.
 */
enum proto_tag {
	PROTO_TAG_STATUS = 1,	      /* u32 proto_err, every reply */
	PROTO_TAG_MESSAGE = 2,	      /* string, every reply */
	PROTO_TAG_PROTO_VERSION = 3,  /* u32 */
	PROTO_TAG_CAPS = 4,	      /* u64 PROTO_CAP_* */
	PROTO_TAG_SOFTWARE = 5,	      /* string */
	PROTO_TAG_MAX_FRAME = 6,      /* u32 */
	PROTO_TAG_CLIENT_NAME = 7,    /* string */
	PROTO_TAG_NONCE = 8,	      /* bytes[32] */
	PROTO_TAG_PROOF = 9,	      /* bytes[32] */
	PROTO_TAG_POOL_NAME = 16,     /* string */
	PROTO_TAG_CAPACITY = 17,      /* u64 bytes */
	PROTO_TAG_USED = 18,	      /* u64 bytes */
	PROTO_TAG_FREE = 19,	      /* u64 bytes */
	PROTO_TAG_LUN_COUNT = 20,     /* u32 */
	PROTO_TAG_SNAP_COUNT = 21,    /* u32 */
	PROTO_TAG_POOL_STATE = 22,    /* u8 PROTO_POOL_* */
	PROTO_TAG_LUN = 32,	      /* list: one LUN */
	PROTO_TAG_LUN_NAME = 33,      /* string */
	PROTO_TAG_LUN_SERIAL = 34,    /* string */
	PROTO_TAG_LUN_NAA = 35,	      /* bytes[16] NAA-6 identifier */
	PROTO_TAG_LUN_SIZE = 36,      /* u64 bytes */
	PROTO_TAG_BLOCK_SIZE = 37,    /* u32 bytes */
	PROTO_TAG_LUN_FLAGS = 38,     /* u32 PROTO_LUNF_* */
	PROTO_TAG_LUN_STATE = 39,     /* u8 PROTO_LUN_* */
	PROTO_TAG_HOST = 48,	      /* list: one host */
	PROTO_TAG_HOST_NAME = 49,     /* string */
	PROTO_TAG_IQN = 50,	      /* string */
	PROTO_TAG_CHAP_USER = 51,     /* string */
	PROTO_TAG_CHAP_SECRET = 52,   /* string */
	PROTO_TAG_CHAP_MUSER = 53,    /* string, mutual CHAP */
	PROTO_TAG_CHAP_MSECRET = 54,  /* string, mutual CHAP */
	PROTO_TAG_MAPPING = 64,	      /* list: one mapping */
	PROTO_TAG_LUN_NUMBER = 65,    /* u32 SCSI LUN */
	PROTO_TAG_SNAPSET_ID = 80,    /* guid, chosen by the client */
	PROTO_TAG_SNAP = 81,	      /* list: one snapshot */
	PROTO_TAG_SNAP_ID = 82,	      /* guid, chosen by the server */
	PROTO_TAG_SNAP_NAME = 83,     /* string */
	PROTO_TAG_CREATED = 84,	      /* u64 ns since 1970 */
	PROTO_TAG_SNAP_STATE = 85,    /* u8 PROTO_SNAP_* */
	PROTO_TAG_BASE_SNAP_ID = 86,  /* guid, diff "from" */
	PROTO_TAG_EXTENT = 87,	      /* list: OFFSET + LENGTH */
	PROTO_TAG_OFFSET = 88,	      /* u64 bytes */
	PROTO_TAG_LENGTH = 89,	      /* u64 bytes */
	PROTO_TAG_CURSOR = 90,	      /* u64, paging position */
	PROTO_TAG_MAX_ENTRIES = 91,   /* u32, paging limit */
	PROTO_TAG_MORE = 92,	      /* u8, 1 = more pages */
	PROTO_TAG_SESSION = 96,	      /* list: one session */
	PROTO_TAG_SESSION_ID = 97,    /* u64 */
	PROTO_TAG_PEER_ADDR = 98,     /* string */
	PROTO_TAG_SESSION_KIND = 99,  /* u8 PROTO_SESS_* */
	PROTO_TAG_FAULT_ACTION = 112, /* u8 PROTO_FAULT_* */
	PROTO_TAG_FAULT_OP = 113,     /* u32 message type or PROTO_FOP_* */
	PROTO_TAG_FAULT_COUNT = 114,  /* u32, 0 = until cleared */
	PROTO_TAG_DELAY_MS = 115,     /* u32 */
	PROTO_TAG_FAULT_ERROR = 116,  /* u32 proto_err to return */
	PROTO_TAG_FAULT_ID = 117,     /* u64 */
	PROTO_TAG_FAULT = 118,	      /* list: one armed fault */
	PROTO_TAG_AUDIT = 128,	      /* list: one audit record */
	PROTO_TAG_AUDIT_SEQ = 129,    /* u64 */
	PROTO_TAG_ACTOR = 130,	      /* string */
	PROTO_TAG_MSG_TYPE = 131,     /* u32 message type audited */
	PROTO_TAG_TEXT = 132,	      /* string */
	PROTO_TAG_RESULT = 133,	      /* u32 proto_err */
	PROTO_TAG_REQ_ID = 134,	      /* u64 request id audited */
};

#define PROTO_CAP_SNAP_DIFF   (1ull << 0)
#define PROTO_CAP_FAULTS      (1ull << 1)
#define PROTO_CAP_AUDIT	      (1ull << 2)
#define PROTO_CAP_IDEMPOTENCY (1ull << 3)

enum { PROTO_POOL_OK = 0, PROTO_POOL_DEGRADED = 1, PROTO_POOL_FULL = 2, PROTO_POOL_META_LOW = 3 };
enum { PROTO_LUN_ONLINE = 0, PROTO_LUN_OFFLINE = 1 };
#define PROTO_LUNF_THIN	    0x1u
#define PROTO_LUNF_READONLY 0x2u
#define PROTO_LUNF_CLONE    0x4u
enum { PROTO_SNAP_PREPARED = 0, PROTO_SNAP_COMMITTED = 1 };
enum { PROTO_SESS_CONTROL = 0, PROTO_SESS_ISCSI = 1 };
enum {
	PROTO_FAULT_DELAY = 1,	     /* delay next COUNT ops of FAULT_OP */
	PROTO_FAULT_FAIL = 2,	     /* fail next COUNT ops with FAULT_ERROR */
	PROTO_FAULT_DROP_CONN = 3,   /* close control connections */
	PROTO_FAULT_LUN_OFFLINE = 4, /* take LUN_NAME offline */
	PROTO_FAULT_LUN_ONLINE = 5,  /* bring it back */
};
#define PROTO_FOP_ANY	0xffffffffu
#define PROTO_FOP_READ	0x10001u
#define PROTO_FOP_WRITE 0x10002u
#define PROTO_FOP_FLUSH 0x10003u

/* ---- descriptor tables (for validation, tests and tools) --------------- */

struct proto_msg_desc {
	uint16_t type;
	const char *name;
	const uint16_t *req; /* tags a request may carry, 0-terminated */
	const uint16_t *rep; /* tags a reply may carry besides STATUS/MESSAGE */
};

const struct proto_msg_desc *proto_msg_lookup(uint16_t type);
const struct proto_msg_desc *proto_msg_table(size_t *count);
/* expected type of a known tag, or 0 when the tag is unknown */
int proto_tag_type(uint16_t tag);
const char *proto_tag_name(uint16_t tag);

/* ---- encoder ----------------------------------------------------------- */

/*
 * A growable byte buffer with a sticky error: callers append a whole
 * message and check err once.  Growth beyond PROTO_MAX_FRAME fails with
 * PROTO_ETOOBIG so an encoder can never produce a frame peers refuse.
 */
struct proto_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* 0 or negative PROTO_E* */
};

void proto_buf_init(struct proto_buf *b);
void proto_buf_free(struct proto_buf *b);
void proto_buf_reset(struct proto_buf *b);
int proto_buf_append(struct proto_buf *b, const void *p, size_t n);

int proto_put_u8(struct proto_buf *b, uint16_t tag, uint8_t v);
int proto_put_u32(struct proto_buf *b, uint16_t tag, uint32_t v);
int proto_put_u64(struct proto_buf *b, uint16_t tag, uint64_t v);
int proto_put_str(struct proto_buf *b, uint16_t tag, const char *s);
int proto_put_bytes(struct proto_buf *b, uint16_t tag, const void *p, size_t n);
int proto_put_guid(struct proto_buf *b, uint16_t tag, const uint8_t guid[16]);
/* raw field of any type: for forward-compat tests and proxies */
int proto_put_raw(struct proto_buf *b, uint16_t tag, uint8_t type, const void *p, size_t n);
/* open a LIST field; returns a mark (>= 0) to pass to proto_list_end */
long proto_list_begin(struct proto_buf *b, uint16_t tag);
int proto_list_end(struct proto_buf *b, long mark);
/* STATUS + MESSAGE, which every reply starts with */
int proto_put_status(struct proto_buf *b, int code, const char *msg);

/*
 * Append a whole frame to out: header (seq 0), payload, and when
 * PROTO_F_MAC is in flags, PROTO_MAC_LEN zero bytes that auth_seal()
 * later fills in together with the sequence number.
 */
int proto_frame_build(struct proto_buf *out, uint16_t type, uint8_t flags, uint64_t reqid,
		      const void *payload, size_t plen);

/* ---- decoder ----------------------------------------------------------- */

struct proto_hdr {
	uint8_t version;
	uint8_t flags;
	uint16_t type;
	uint32_t payload_len;
	uint64_t reqid;
	uint64_t seq;
};

/*
 * Check a 32-byte header and return the total frame length (header,
 * payload and MAC) that must be read next, or a negative error:
 * ETRUNC (avail < 32), EPROTO (magic), EVERSION, ETOOBIG.  Called before
 * any buffer is allocated for the rest of the frame.
 */
long proto_hdr_decode(const uint8_t *buf, size_t avail, struct proto_hdr *h);

struct proto_frame {
	struct proto_hdr hdr;
	const uint8_t *payload; /* points into the caller's buffer */
	uint32_t payload_len;
	const uint8_t *mac; /* NULL unless PROTO_F_MAC */
};

/*
 * Decode one complete frame of exactly len bytes and validate every
 * field (does not check the MAC: see auth_open()).  ETRUNC when len is
 * short of the declared length, EPROTO when it is longer.
 */
int proto_frame_decode(const uint8_t *buf, size_t len, struct proto_frame *f);

struct proto_field {
	uint16_t tag;
	uint8_t type;
	uint32_t len;
	const uint8_t *val;
};

struct proto_iter {
	const uint8_t *p;
	size_t left;
};

/*
 * Walk a field sequence: bounds, nesting depth, fixed sizes, no NUL in
 * strings, known tags carry their declared type.  Unknown tags and
 * types are skipped (forward compatibility).  ETRUNC: less than a field
 * header left; EOVERFLOW: a length runs past the end; EPROTO: others.
 */
int proto_fields_validate(const uint8_t *buf, size_t len);

void proto_iter_init(struct proto_iter *it, const uint8_t *buf, size_t len);
/* 1 and *f filled, 0 at the end, negative on malformed input */
int proto_iter_next(struct proto_iter *it, struct proto_field *f);

int proto_field_u8(const struct proto_field *f, uint8_t *v);
int proto_field_u32(const struct proto_field *f, uint32_t *v);
int proto_field_u64(const struct proto_field *f, uint64_t *v);
/* copy and NUL-terminate; ERANGE when it does not fit in outsz */
int proto_field_str(const struct proto_field *f, char *out, size_t outsz);
int proto_field_guid(const struct proto_field *f, uint8_t guid[16]);
int proto_field_list(const struct proto_field *f, struct proto_iter *sub);

/* first top-level field with tag; ENOENT when absent */
int proto_find(const uint8_t *buf, size_t len, uint16_t tag, struct proto_field *f);
int proto_get_u32(const uint8_t *buf, size_t len, uint16_t tag, uint32_t *v);
int proto_get_u64(const uint8_t *buf, size_t len, uint16_t tag, uint64_t *v);
int proto_get_str(const uint8_t *buf, size_t len, uint16_t tag, char *out, size_t outsz);
/* STATUS and MESSAGE of a reply payload; msg may be NULL */
int proto_get_status(const uint8_t *buf, size_t len, uint32_t *status, char *msg, size_t msgsz);

/*
 * GUID wire form is the RFC 4122 byte order (Data1..Data3 big-endian).
 * A Windows GUID is little-endian in memory, so the provider must go
 * through these instead of copying the struct.
 */
void proto_guid_pack(uint8_t out[16], uint32_t d1, uint16_t d2, uint16_t d3, const uint8_t d4[8]);
void proto_guid_unpack(const uint8_t in[16], uint32_t *d1, uint16_t *d2, uint16_t *d3,
		       uint8_t d4[8]);

/* big-endian helpers, shared with auth.c */
void proto_be16_put(uint8_t *p, uint16_t v);
void proto_be32_put(uint8_t *p, uint32_t v);
void proto_be64_put(uint8_t *p, uint64_t v);
uint16_t proto_be16(const uint8_t *p);
uint32_t proto_be32(const uint8_t *p);
uint64_t proto_be64(const uint8_t *p);

#endif
