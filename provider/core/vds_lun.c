/*
 * vds_lun: build and compare portable VDS_LUN_INFORMATION mirrors from
 * raw SCSI INQUIRY / VPD data.  Every length read from the device is
 * checked against the buffer before use: the pages come from a target
 * we do not control, and a bad page must fail cleanly, not overread.
 */
#include "vds_lun.h"

#include <string.h>

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* copy fixed-width INQUIRY text; a NUL byte ends it early */
static void copy_text(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && src[i]; i++)
		dst[i] = (char)src[i];
	dst[i] = '\0';
}

static int parse_inquiry(struct vds_lun_info *out, const uint8_t *inq, size_t len)
{
	if (!inq)
		return VDS_EINVAL;
	if (len < INQUIRY_MIN_LEN)
		return VDS_ETRUNC;
	out->device_type = inq[0] & 0x1f;
	out->device_type_modifier = inq[1] & 0x7f; /* SCSI-2 field, 0 on SPC targets */
	out->cmd_queueing = (inq[7] >> 1) & 1;	   /* CMDQUE */
	copy_text(out->vendor, inq + 8, 8);
	copy_text(out->product, inq + 16, 16);
	copy_text(out->revision, inq + 32, 4);
	return VDS_OK;
}

/* check the 4-byte VPD header and return the usable page body length */
static int vpd_body(const uint8_t *p, size_t len, uint8_t code, size_t *body)
{
	size_t plen;

	if (len < 4)
		return VDS_ETRUNC;
	if (p[1] != code)
		return VDS_EPAGE;
	plen = be16(p + 2);
	if (plen > len - 4)
		return VDS_ETRUNC;
	*body = plen;
	return VDS_OK;
}

static int parse_vpd80(struct vds_lun_info *out, const uint8_t *p, size_t len)
{
	size_t n;
	int rc = vpd_body(p, len, 0x80, &n);

	if (rc)
		return rc;
	if (n > VDS_SERIAL_MAX)
		return VDS_ETOOBIG;
	copy_text(out->serial, p + 4, n);
	return VDS_OK;
}

static int parse_vpd83(struct vds_lun_info *out, const uint8_t *p, size_t len)
{
	size_t n, off;
	int rc = vpd_body(p, len, 0x83, &n);

	if (rc)
		return rc;
	for (off = 4; off < 4 + n;) {
		const uint8_t *d = p + off;
		size_t dlen;
		struct vds_id *id;

		if (4 + n - off < 4)
			return VDS_EMALFORMED; /* a partial descriptor header */
		dlen = d[3];
		if (dlen > 4 + n - off - 4)
			return VDS_EMALFORMED;
		off += 4 + dlen;
		if (((d[1] >> 4) & 3) != 0)
			continue; /* port/target association: not the LU's identity */
		if (out->n_ids == VDS_LUN_MAX_IDS)
			return VDS_ETOOMANY;
		id = &out->ids[out->n_ids++];
		id->code_set = d[0] & 0x0f;
		id->type = d[1] & 0x0f;
		id->len = (uint8_t)dlen;
		memcpy(id->bytes, d + 4, dlen);
	}
	return VDS_OK;
}

int vds_lun_build(struct vds_lun_info *out, const uint8_t *inq, size_t inq_len,
		  const uint8_t *vpd80, size_t vpd80_len, const uint8_t *vpd83, size_t vpd83_len)
{
	int rc;

	if (!out)
		return VDS_EINVAL;
	memset(out, 0, sizeof(*out));
	out->version = VDS_LUN_VERSION;
	out->id_version = VDS_ID_DESC_VERSION;
	out->bus_type = VDS_BUS_SCSI; /* ignored by VSS in comparisons; what the sample sets */
	rc = parse_inquiry(out, inq, inq_len);
	if (!rc && vpd80)
		rc = parse_vpd80(out, vpd80, vpd80_len);
	if (!rc && vpd83)
		rc = parse_vpd83(out, vpd83, vpd83_len);
	return rc;
}

const char *vds_strerror(int err)
{
	switch (err) {
	case VDS_OK:
		return "ok";
	case VDS_EINVAL:
		return "invalid argument";
	case VDS_ETRUNC:
		return "page truncated";
	case VDS_EPAGE:
		return "wrong VPD page code";
	case VDS_EMALFORMED:
		return "designator runs past the page";
	case VDS_ETOOMANY:
		return "too many designators";
	case VDS_ETOOBIG:
		return "serial number too long";
	}
	return "unknown error";
}

bool vds_lun_naa16(const struct vds_lun_info *lun, uint8_t naa[16])
{
	for (uint32_t i = 0; i < lun->n_ids; i++) {
		const struct vds_id *id = &lun->ids[i];

		if (id->type == VDS_ID_NAA && id->code_set == VDS_CS_BINARY && id->len == 16 &&
		    (id->bytes[0] >> 4) == 6) {
			memcpy(naa, id->bytes, 16);
			return true;
		}
	}
	return false;
}

/*
 * What array-sim/scsi/spc.c sends for every LUN, snapshot and clone.
 * These constants mirror spc.c (the round-trip test in
 * test_provider_target.c fails if the two drift apart).
 */
#define ARRAY_T10_VENDOR "ARRAYSIM" /* T10 vendor id designator prefix */
#define ARRAY_SERIAL_LEN 32	    /* VPD 0x80 and the T10 id carry exactly this many */

void vds_lun_target(struct vds_lun_info *out, const struct vds_lun_info *origin,
		    const uint8_t naa[16], const char *serial)
{
	size_t sl = serial ? strlen(serial) : 0;
	struct vds_id *id;

	/* a copy keeps vendor, product, revision, type, queueing, bus and
	 * interconnects (VSS forbids touching m_rgInterconnects) */
	*out = *origin;
	out->version = VDS_LUN_VERSION;
	out->id_version = VDS_ID_DESC_VERSION;
	memset(out->disk_signature, 0, sizeof(out->disk_signature));
	if (sl > ARRAY_SERIAL_LEN)
		sl = ARRAY_SERIAL_LEN;
	memset(out->serial, 0, sizeof(out->serial));
	if (sl)
		memcpy(out->serial, serial, sl);

	memset(out->ids, 0, sizeof(out->ids));
	out->n_ids = 2;
	id = &out->ids[0]; /* NAA-6, binary, type 3 */
	id->code_set = VDS_CS_BINARY;
	id->type = VDS_ID_NAA;
	id->len = 16;
	memcpy(id->bytes, naa, 16);
	id = &out->ids[1]; /* T10 vendor id, ASCII: vendor (8) + serial (32) */
	id->code_set = VDS_CS_ASCII;
	id->type = VDS_ID_VENDOR_ID;
	id->len = 8 + ARRAY_SERIAL_LEN;
	memcpy(id->bytes, ARRAY_T10_VENDOR, 8);
	/* spc.c copies a fixed 32 bytes; a shorter serial never occurs, pad it */
	memset(id->bytes + 8, ' ', ARRAY_SERIAL_LEN);
	if (sl)
		memcpy(id->bytes + 8, serial, sl);
}

size_t vds_trimmed_len(const char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == ' ')
		n--;
	return n;
}

static bool text_eq(const char *a, const char *b)
{
	size_t na = vds_trimmed_len(a), nb = vds_trimmed_len(b);

	return na == nb && memcmp(a, b, na) == 0;
}

/* types 2, 3, 8: the ones SPC makes globally unique for a LU */
static bool strong(const struct vds_id *id)
{
	return id->type == VDS_ID_EUI64 || id->type == VDS_ID_NAA || id->type == VDS_ID_SCSI_NAME;
}

static bool id_eq(const struct vds_id *a, const struct vds_id *b)
{
	return a->type == b->type && a->code_set == b->code_set && a->len == b->len &&
	       memcmp(a->bytes, b->bytes, a->len) == 0;
}

static bool has_strong(const struct vds_lun_info *l)
{
	for (uint32_t i = 0; i < l->n_ids; i++)
		if (strong(&l->ids[i]))
			return true;
	return false;
}

bool vds_lun_same(const struct vds_lun_info *a, const struct vds_lun_info *b)
{
	if (has_strong(a) && has_strong(b)) {
		for (uint32_t i = 0; i < a->n_ids; i++) {
			if (!strong(&a->ids[i]))
				continue;
			for (uint32_t j = 0; j < b->n_ids; j++)
				if (id_eq(&a->ids[i], &b->ids[j]))
					return true;
		}
		return false;
	}
	/* no designators to go by: serial, qualified by vendor and product */
	if (!vds_trimmed_len(a->serial) || !vds_trimmed_len(b->serial))
		return false;
	return text_eq(a->vendor, b->vendor) && text_eq(a->product, b->product) &&
	       text_eq(a->serial, b->serial);
}
