/*
 * pdu: header checks, AHS walk, digests and LUN encoding (RFC 7143 11).
 */
#include "pdu.h"

#include <isa-l/crc.h>

int iscsi_bhs_check(const uint8_t *h, const struct iscsi_rx_limits *lim)
{
	unsigned op = bhs_opcode(h);

	/* RFC 7143 11.2.1.4: TotalAHSLength counts 4-byte words; we refuse
	 * more than we could ever use before reading it. */
	if (bhs_ahs_len(h) > ISCSI_AHS_MAX)
		return -1;
	/* 11.2.1.5 / 13.12: nothing larger than the MaxRecvDataSegmentLength
	 * we declared; refused before any buffer is sized from it. */
	if (bhs_dsl(h) > lim->max_dsl)
		return -1;
	if (lim->login) {
		/* 6.1: until the login completes only Login Requests flow,
		 * and they are always immediate (11.12.1). */
		if (op != ISCSI_OP_LOGIN_REQ || !bhs_immediate(h))
			return -1;
		if (bhs_ahs_len(h))
			return -1;
		return 0;
	}
	switch (op) {
	case ISCSI_OP_NOP_OUT:
		/* 11.18: an unsolicited-style NOP-Out (ITT reserved) must be
		 * immediate and carries no ping data we could answer. */
		if (bhs_itt(h) == ISCSI_RSVD_TAG && !bhs_immediate(h))
			return ISCSI_REJ_PROTOCOL;
		if (bhs_ahs_len(h))
			return ISCSI_REJ_PROTOCOL;
		return 0;
	case ISCSI_OP_SCSI_CMD:
		if (bhs_itt(h) == ISCSI_RSVD_TAG)
			return ISCSI_REJ_INVALID_FIELD;
		return 0;
	case ISCSI_OP_TMF_REQ:
		/* 11.5: the F bit is always 1 */
		if (!(bhs_flags(h) & ISCSI_F_FINAL) || bhs_dsl(h) || bhs_ahs_len(h))
			return ISCSI_REJ_PROTOCOL;
		return 0;
	case ISCSI_OP_TEXT_REQ:
	case ISCSI_OP_LOGOUT_REQ:
		if (bhs_ahs_len(h))
			return ISCSI_REJ_PROTOCOL;
		if (op == ISCSI_OP_LOGOUT_REQ && bhs_dsl(h))
			return ISCSI_REJ_PROTOCOL;
		return 0;
	case ISCSI_OP_DATA_OUT:
		if (bhs_ahs_len(h))
			return ISCSI_REJ_PROTOCOL;
		return 0;
	case ISCSI_OP_LOGIN_REQ:
		/* 6.2: a login on a connection in full feature phase */
		return ISCSI_REJ_PROTOCOL;
	case ISCSI_OP_SNACK:
		/* 7.1.4.2 / 13.20: SNACK needs ErrorRecoveryLevel > 0 */
		return ISCSI_REJ_PROTOCOL;
	default:
		/* vendor-specific and undefined opcodes */
		return ISCSI_REJ_NOT_SUPPORTED;
	}
}

int iscsi_ahs_parse(const uint8_t *ahs, unsigned len, uint8_t *ext, unsigned ext_max,
		    unsigned *ext_len, int *bidi)
{
	unsigned off = 0;

	*ext_len = 0;
	*bidi = 0;
	while (off < len) {
		unsigned alen, type, total;

		if (len - off < 4)
			return -1;
		alen = be16_get(ahs + off);
		type = ahs[off + 2];
		/* 11.2.2.1: AHSLength excludes the 4-byte header and the
		 * padding; the specific byte counts as data for type 1. */
		total = 4 + iscsi_pad4(alen > 0 ? alen - 1 : 0);
		if (alen == 0 || total > len - off)
			return -1;
		if (type == 1) {
			/* 11.2.2.3: extended CDB, bytes 16.. of the CDB,
			 * starting at the reserved byte after AHSType */
			unsigned n = alen - 1;

			if (*ext_len || n > ext_max)
				return -1;
			memcpy(ext, ahs + off + 4, n);
			*ext_len = n;
		} else if (type == 2) {
			if (alen != 5)
				return -1;
			*bidi = 1;
		} else {
			return -1;
		}
		off += total;
	}
	return 0;
}

uint32_t iscsi_crc32c(const void *buf, size_t len)
{
	/* ISA-L's crc32_iscsi neither seeds nor inverts: we seed with ~0
	 * and invert at the end (RFC 3720 B.4 vectors), chaining the raw
	 * value between calls. */
	return crc32_iscsi((unsigned char *)(uintptr_t)buf, (int)len, 0xffffffffu) ^ 0xffffffffu;
}

uint32_t iscsi_crc32c2(const void *a, size_t alen, const void *b, size_t blen)
{
	uint32_t c = crc32_iscsi((unsigned char *)(uintptr_t)a, (int)alen, 0xffffffffu);

	if (blen)
		c = crc32_iscsi((unsigned char *)(uintptr_t)b, (int)blen, c);
	return c ^ 0xffffffffu;
}

uint64_t iscsi_lun_decode(uint64_t lun)
{
	unsigned method = (unsigned)(lun >> 62);

	/* SAM-5 4.7.3: only the first level is used; the rest must be 0 */
	if (lun & 0x0000ffffffffffffull)
		return UINT64_MAX;
	if (method == 0) /* peripheral device addressing: bus 0 only */
		return (lun >> 56) & 0x3f ? UINT64_MAX : (lun >> 48) & 0xff;
	if (method == 1) /* flat space */
		return (lun >> 48) & 0x3fff;
	return UINT64_MAX;
}

uint64_t iscsi_lun_encode(uint64_t n)
{
	if (n < 256)
		return n << 48;
	return (0x4000ull | (n & 0x3fff)) << 48;
}

const char *iscsi_opcode_name(unsigned op)
{
	switch (op & ISCSI_OP_MASK) {
	case ISCSI_OP_NOP_OUT:
		return "NOP-Out";
	case ISCSI_OP_SCSI_CMD:
		return "SCSI-Command";
	case ISCSI_OP_TMF_REQ:
		return "TMF-Request";
	case ISCSI_OP_LOGIN_REQ:
		return "Login-Request";
	case ISCSI_OP_TEXT_REQ:
		return "Text-Request";
	case ISCSI_OP_DATA_OUT:
		return "Data-Out";
	case ISCSI_OP_LOGOUT_REQ:
		return "Logout-Request";
	case ISCSI_OP_SNACK:
		return "SNACK";
	default:
		return "unknown";
	}
}
