/*
 * pdu: the iSCSI PDU codec (RFC 7143 section 11).  Pure computation on
 * buffers: big-endian field get/put helpers, one accessor per BHS field,
 * header validation and CRC32C digests.  Nothing here allocates, so the
 * parser can be fuzzed alone (tests/fuzz/fuzz_pdu.c).
 */
#ifndef ARRAYSIM_ISCSI_PDU_H
#define ARRAYSIM_ISCSI_PDU_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ISCSI_BHS_LEN	 48
#define ISCSI_DIGEST_LEN 4
#define ISCSI_RSVD_TAG	 0xffffffffu
/* RFC 7143 11.2.1.3: TotalAHSLength is in 4-byte words, one byte; we take
 * at most this much (an extended CDB of 32 bytes needs 5 words). */
#define ISCSI_AHS_MAX 64
#define ISCSI_DSL_MAX 0xffffffu /* 24-bit DataSegmentLength */

/* opcodes, RFC 7143 11.2.1.2 */
enum {
	ISCSI_OP_NOP_OUT = 0x00,
	ISCSI_OP_SCSI_CMD = 0x01,
	ISCSI_OP_TMF_REQ = 0x02,
	ISCSI_OP_LOGIN_REQ = 0x03,
	ISCSI_OP_TEXT_REQ = 0x04,
	ISCSI_OP_DATA_OUT = 0x05,
	ISCSI_OP_LOGOUT_REQ = 0x06,
	ISCSI_OP_SNACK = 0x10,
	ISCSI_OP_NOP_IN = 0x20,
	ISCSI_OP_SCSI_RSP = 0x21,
	ISCSI_OP_TMF_RSP = 0x22,
	ISCSI_OP_LOGIN_RSP = 0x23,
	ISCSI_OP_TEXT_RSP = 0x24,
	ISCSI_OP_DATA_IN = 0x25,
	ISCSI_OP_LOGOUT_RSP = 0x26,
	ISCSI_OP_R2T = 0x31,
	ISCSI_OP_ASYNC = 0x32,
	ISCSI_OP_REJECT = 0x3f,
};

#define ISCSI_OP_IMMEDIATE 0x40
#define ISCSI_OP_MASK	   0x3f

/* byte 1 flags */
#define ISCSI_F_FINAL	0x80
#define ISCSI_F_CMD_R	0x40 /* SCSI Command: read */
#define ISCSI_F_CMD_W	0x20 /* SCSI Command: write */
#define ISCSI_F_ATTR	0x07
#define ISCSI_F_TEXT_C	0x40 /* Text/Login: continue */
#define ISCSI_F_LOGIN_T 0x80 /* Login: transit */
#define ISCSI_F_DATA_A	0x40 /* Data-In: acknowledge */
#define ISCSI_F_RSP_o	0x10 /* bidi read overflow */
#define ISCSI_F_RSP_u	0x08
#define ISCSI_F_RSP_O	0x04 /* residual overflow */
#define ISCSI_F_RSP_U	0x02 /* residual underflow */
#define ISCSI_F_DATA_S	0x01 /* Data-In: status present */

/* login stages, RFC 7143 11.12.3 */
enum { ISCSI_STAGE_SEC = 0, ISCSI_STAGE_OP = 1, ISCSI_STAGE_FFP = 3 };

/* Reject reasons, RFC 7143 11.17.1 */
enum {
	ISCSI_REJ_DATA_DIGEST = 0x02,
	ISCSI_REJ_SNACK = 0x03,
	ISCSI_REJ_PROTOCOL = 0x04,
	ISCSI_REJ_NOT_SUPPORTED = 0x05,
	ISCSI_REJ_IMMEDIATE = 0x06,
	ISCSI_REJ_TASK_IN_PROGRESS = 0x07,
	ISCSI_REJ_INVALID_DATA_ACK = 0x08,
	ISCSI_REJ_INVALID_FIELD = 0x09,
	ISCSI_REJ_OUT_OF_RESOURCES = 0x0a,
	ISCSI_REJ_NEGOTIATION_RESET = 0x0b,
	ISCSI_REJ_WAITING_LOGOUT = 0x0c,
};

/* TMF functions and responses, RFC 7143 11.5.1 / 11.6.1 */
enum {
	ISCSI_TMF_RSP_COMPLETE = 0,
	ISCSI_TMF_RSP_NO_TASK = 1,
	ISCSI_TMF_RSP_NO_LUN = 2,
	ISCSI_TMF_RSP_ALLEGIANT = 3,
	ISCSI_TMF_RSP_NO_REASSIGN = 4,
	ISCSI_TMF_RSP_NOT_SUPPORTED = 5,
	ISCSI_TMF_RSP_AUTH_FAILED = 6,
	ISCSI_TMF_RSP_REJECTED = 255,
};
#define ISCSI_TMF_TASK_REASSIGN 8

/* Login status (class << 8 | detail), RFC 7143 11.13.5 */
enum {
	ISCSI_LOGIN_OK = 0x0000,
	ISCSI_LOGIN_INITIATOR_ERR = 0x0200,
	ISCSI_LOGIN_AUTH_FAIL = 0x0201,
	ISCSI_LOGIN_AUTHZ_FAIL = 0x0202,
	ISCSI_LOGIN_NOT_FOUND = 0x0203,
	ISCSI_LOGIN_UNSUPPORTED_VERSION = 0x0205,
	ISCSI_LOGIN_TOO_MANY_CONNS = 0x0206,
	ISCSI_LOGIN_MISSING_PARAM = 0x0207,
	ISCSI_LOGIN_NO_SESSION_SPANNING = 0x0208,
	ISCSI_LOGIN_NO_SESSION_TYPE = 0x0209,
	ISCSI_LOGIN_NO_SESSION = 0x020a,
	ISCSI_LOGIN_INVALID_REQUEST = 0x020b,
	ISCSI_LOGIN_TARGET_ERR = 0x0300,
	ISCSI_LOGIN_UNAVAILABLE = 0x0301,
	ISCSI_LOGIN_NO_RESOURCES = 0x0302,
};

/* ---- big-endian helpers -------------------------------------------------- */

static inline uint16_t be16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be24_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t be64_get(const uint8_t *p)
{
	return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

static inline void be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void be24_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, (uint32_t)(v >> 32));
	be32_put(p + 4, (uint32_t)v);
}

/* ---- BHS fields (RFC 7143 11.2) ------------------------------------------ */

/* common to every PDU */
static inline unsigned bhs_opcode(const uint8_t *h)
{
	return h[0] & ISCSI_OP_MASK;
}
static inline int bhs_immediate(const uint8_t *h)
{
	return !!(h[0] & ISCSI_OP_IMMEDIATE);
}
static inline unsigned bhs_flags(const uint8_t *h)
{
	return h[1];
}
static inline unsigned bhs_ahs_len(const uint8_t *h) /* bytes */
{
	return h[4] * 4u;
}
static inline uint32_t bhs_dsl(const uint8_t *h)
{
	return be24_get(h + 5);
}
static inline uint64_t bhs_lun(const uint8_t *h)
{
	return be64_get(h + 8);
}
static inline uint32_t bhs_itt(const uint8_t *h)
{
	return be32_get(h + 16);
}

static inline void bhs_set_opcode(uint8_t *h, unsigned op)
{
	h[0] = (uint8_t)op;
}
static inline void bhs_set_flags(uint8_t *h, unsigned f)
{
	h[1] = (uint8_t)f;
}
static inline void bhs_set_dsl(uint8_t *h, uint32_t len)
{
	h[4] = 0; /* we never send an AHS: libiscsi refuses them */
	be24_put(h + 5, len);
}
static inline void bhs_set_lun(uint8_t *h, uint64_t lun)
{
	be64_put(h + 8, lun);
}
static inline void bhs_set_itt(uint8_t *h, uint32_t itt)
{
	be32_put(h + 16, itt);
}

/* offset 20..47, opcode specific; named after their use */
static inline uint32_t bhs_ttt(const uint8_t *h) /* NOP, Data-Out, Text, R2T */
{
	return be32_get(h + 20);
}
static inline uint32_t bhs_edtl(const uint8_t *h) /* SCSI Command */
{
	return be32_get(h + 20);
}
static inline uint32_t bhs_cmdsn(const uint8_t *h) /* requests */
{
	return be32_get(h + 24);
}
static inline uint32_t bhs_expstatsn(const uint8_t *h)
{
	return be32_get(h + 28);
}
static inline const uint8_t *bhs_cdb(const uint8_t *h) /* 16 bytes */
{
	return h + 32;
}
static inline uint32_t bhs_datasn(const uint8_t *h) /* Data-Out */
{
	return be32_get(h + 36);
}
static inline uint32_t bhs_buffer_offset(const uint8_t *h) /* Data-Out */
{
	return be32_get(h + 40);
}
static inline uint32_t bhs_tmf_ref_itt(const uint8_t *h) /* TMF request */
{
	return be32_get(h + 20);
}
static inline uint32_t bhs_tmf_refcmdsn(const uint8_t *h)
{
	return be32_get(h + 32);
}
static inline uint16_t bhs_logout_cid(const uint8_t *h) /* Logout request */
{
	return be16_get(h + 20);
}

/* Login request (RFC 7143 11.12) */
static inline unsigned login_csg(const uint8_t *h)
{
	return (h[1] >> 2) & 3;
}
static inline unsigned login_nsg(const uint8_t *h)
{
	return h[1] & 3;
}
static inline unsigned login_vmax(const uint8_t *h)
{
	return h[2];
}
static inline unsigned login_vmin(const uint8_t *h)
{
	return h[3];
}
static inline uint64_t login_isid(const uint8_t *h) /* 48 bits */
{
	return (uint64_t)be16_get(h + 8) << 32 | be32_get(h + 10);
}
static inline uint16_t login_tsih(const uint8_t *h)
{
	return be16_get(h + 14);
}
static inline uint16_t login_cid(const uint8_t *h)
{
	return be16_get(h + 20);
}

/* response-side setters (offsets per RFC 7143 11.4 .. 11.18) */
static inline void bhs_set_ttt(uint8_t *h, uint32_t v)
{
	be32_put(h + 20, v);
}
static inline void bhs_set_statsn(uint8_t *h, uint32_t v)
{
	be32_put(h + 24, v);
}
static inline void bhs_set_expcmdsn(uint8_t *h, uint32_t v)
{
	be32_put(h + 28, v);
}
static inline void bhs_set_maxcmdsn(uint8_t *h, uint32_t v)
{
	be32_put(h + 32, v);
}
static inline void bhs_set_datasn(uint8_t *h, uint32_t v) /* Data-In, R2T: R2TSN */
{
	be32_put(h + 36, v);
}
static inline void bhs_set_expdatasn(uint8_t *h, uint32_t v) /* SCSI Response */
{
	be32_put(h + 36, v);
}
static inline void bhs_set_buffer_offset(uint8_t *h, uint32_t v) /* Data-In, R2T */
{
	be32_put(h + 40, v);
}
static inline void bhs_set_desired_len(uint8_t *h, uint32_t v) /* R2T */
{
	be32_put(h + 44, v);
}
static inline void bhs_set_residual(uint8_t *h, uint32_t v) /* Data-In, SCSI Response */
{
	be32_put(h + 44, v);
}
static inline void bhs_set_response(uint8_t *h, unsigned v) /* SCSI/TMF/Logout Response */
{
	h[2] = (uint8_t)v;
}
static inline void bhs_set_status(uint8_t *h, unsigned v) /* SCSI Response, Data-In */
{
	h[3] = (uint8_t)v;
}
static inline void bhs_set_reject_reason(uint8_t *h, unsigned v)
{
	h[2] = (uint8_t)v;
}
static inline void bhs_set_async_event(uint8_t *h, unsigned v)
{
	h[36] = (uint8_t)v;
}
static inline void bhs_set_logout_times(uint8_t *h, uint16_t t2w, uint16_t t2r)
{
	be16_put(h + 40, t2w);
	be16_put(h + 42, t2r);
}
static inline void login_set_stages(uint8_t *h, int transit, unsigned csg, unsigned nsg)
{
	h[1] =
	    (uint8_t)((transit ? ISCSI_F_LOGIN_T : 0) | (csg & 3) << 2 | (transit ? nsg & 3 : 0));
}
static inline void login_set_versions(uint8_t *h, unsigned vmax, unsigned vact)
{
	h[2] = (uint8_t)vmax;
	h[3] = (uint8_t)vact;
}
static inline void login_set_isid(uint8_t *h, uint64_t isid)
{
	be16_put(h + 8, (uint16_t)(isid >> 32));
	be32_put(h + 10, (uint32_t)isid);
}
static inline void login_set_tsih(uint8_t *h, uint16_t tsih)
{
	be16_put(h + 14, tsih);
}
static inline void login_set_status(uint8_t *h, unsigned st)
{
	h[36] = (uint8_t)(st >> 8);
	h[37] = (uint8_t)st;
}

/* ---- codec --------------------------------------------------------------- */

/* Round up to the 4-byte padding of a data segment (RFC 7143 11.2.3). */
static inline uint32_t iscsi_pad4(uint32_t n)
{
	return (n + 3) & ~3u;
}

/* Limits a received header is checked against before anything is read or
 * allocated for its AHS and data. */
struct iscsi_rx_limits {
	uint32_t max_dsl; /* our MaxRecvDataSegmentLength (8192 during login) */
	int login;	  /* only a Login Request is acceptable */
};

/* Header checks that need no session state (RFC 7143 11.2): the opcode is
 * one an initiator may send, TotalAHSLength and DataSegmentLength are
 * within limits, and reserved opcode-specific rules hold (Login always
 * immediate, etc.).  Returns 0, or a Reject reason (> 0) when the PDU can
 * be rejected and skipped, or -1 when the connection must be dropped
 * (the length fields cannot be trusted, so the stream cannot be resynced). */
int iscsi_bhs_check(const uint8_t *bhs, const struct iscsi_rx_limits *lim);

/* Walk the AHS (RFC 7143 11.2.2): each AHS is AHSLength(2) AHSType(1)
 * specific(1) + data padded to 4.  Fills the extended-CDB bytes (type 1)
 * into ext/ext_len (at most ext_max) and reports a bidirectional read
 * length AHS (type 2) in *bidi.  Returns 0 or -1 (malformed). */
int iscsi_ahs_parse(const uint8_t *ahs, unsigned len, uint8_t *ext, unsigned ext_max,
		    unsigned *ext_len, int *bidi);

/* CRC32C (iSCSI, RFC 7143 11.2.4 / 13.1) over one or two pieces (header
 * and data plus its padding). */
uint32_t iscsi_crc32c(const void *buf, size_t len);
uint32_t iscsi_crc32c2(const void *a, size_t alen, const void *b, size_t blen);
/* Digest bytes on the wire are little-endian (RFC 3720 B.4 vectors). */
static inline void iscsi_digest_put(uint8_t *p, uint32_t crc)
{
	p[0] = (uint8_t)crc;
	p[1] = (uint8_t)(crc >> 8);
	p[2] = (uint8_t)(crc >> 16);
	p[3] = (uint8_t)(crc >> 24);
}
static inline uint32_t iscsi_digest_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* RFC 1982 serial number arithmetic on 32-bit sequence numbers (RFC 7143
 * 4.2.2.1 uses it for CmdSN windows). */
static inline int sn_lt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) < 0;
}
static inline int sn_le(uint32_t a, uint32_t b)
{
	return a == b || (int32_t)(a - b) < 0;
}
/* Is sn inside [exp, max]?  An empty window (max == exp - 1) holds nothing. */
static inline int sn_in_window(uint32_t sn, uint32_t exp, uint32_t max)
{
	return sn_le(exp, sn) && sn_le(sn, max);
}

/* SAM LUN (8 bytes) to a LUN number: peripheral (00b) and flat (01b)
 * addressing of the first level (SAM-5 4.7). Others give UINT64_MAX. */
uint64_t iscsi_lun_decode(uint64_t lun);
uint64_t iscsi_lun_encode(uint64_t n);

const char *iscsi_opcode_name(unsigned op);

#endif
