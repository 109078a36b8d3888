/*
 * lunparse: INQUIRY/VPD bytes -> VDS_LUN_INFORMATION, comparison and a
 * one-line text form (a transportable set's GetTargetLuns output is kept
 * in a file between harness processes, as VSS keeps it in the Backup
 * Components Document).
 */
#define COBJMACROS
#include "lunparse.h"

#include <stdlib.h>
#include <string.h>

#include <objbase.h>

#include "hexdigit.h"
#include "spy.h"

#define SCSI_VPD_MAX 1024
/* vdslun.h has no name for the descriptor's version; Windows sets 1 */
#define ID_DESCRIPTOR_VERSION 1

static void say(char *why, size_t sz, const char *msg)
{
	if (why && sz)
		snprintf(why, sz, "%s", msg);
}

int hex_decode(const char *hex, unsigned char *out, size_t max)
{
	size_t n = 0;

	while (hex[0] && hex[0] != ' ' && hex[0] != '\n' && hex[0] != '\r') {
		int hi = hexdigit_val(hex[0]), lo = hex[1] ? hexdigit_val(hex[1]) : -1;

		if (hi < 0 || lo < 0 || n == max)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		hex += 2;
	}
	return (int)n;
}

static void *dup_bytes(const void *p, size_t n)
{
	void *q = CoTaskMemAlloc(n ? n : 1);

	if (q && n)
		memcpy(q, p, n);
	return q;
}

/* fixed-width SCSI text field as the stack hands it: bytes as sent, NUL added */
static char *dup_field(const unsigned char *p, size_t n)
{
	char *s = CoTaskMemAlloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

int lun_from_pages(VDS_LUN_INFORMATION *out, const char *inq_hex, const char *vpd80_hex,
		   const char *vpd83_hex, const char *portal, unsigned lun, char *why, size_t whysz)
{
	unsigned char inq[256], v80[SCSI_VPD_MAX], v83[SCSI_VPD_MAX];
	int ni = hex_decode(inq_hex, inq, sizeof(inq));
	int n80 = hex_decode(vpd80_hex, v80, sizeof(v80));
	int n83 = hex_decode(vpd83_hex, v83, sizeof(v83));
	VDS_STORAGE_IDENTIFIER ids[32];
	size_t nids = 0, off, end;
	unsigned char lunaddr[8] = {0};

	memset(out, 0, sizeof(*out));
	if (ni < 36 || n80 < 4 || n83 < 4) {
		say(why, whysz, "INQUIRY or VPD page too short");
		return -1;
	}
	if (v80[1] != 0x80 || v83[1] != 0x83) {
		say(why, whysz, "wrong VPD page code");
		return -1;
	}
	out->m_version = VER_VDS_LUN_INFORMATION;
	out->m_DeviceType = inq[0] & 0x1f;
	out->m_DeviceTypeModifier = inq[1] & 0x7f;
	out->m_bCommandQueueing = (inq[7] & 0x02) != 0;
	out->m_BusType = VDSBusTypeiScsi;
	out->m_szVendorId = dup_field(inq + 8, 8);
	out->m_szProductId = dup_field(inq + 16, 16);
	out->m_szProductRevision = dup_field(inq + 32, 4);
	off = (4 + (size_t)v80[3] <= (size_t)n80) ? v80[3] : (size_t)n80 - 4;
	out->m_szSerialNumber = dup_field(v80 + 4, off);
	/* VPD 0x83: 4-byte header, then designators: CODE SET (low nibble of
	 * byte 0), ASSOCIATION (bits 5:4 of byte 1), TYPE (low nibble of
	 * byte 1), LENGTH (byte 3), designator.  VSS wants association 0. */
	end = 4 + ((size_t)v83[2] << 8 | v83[3]);
	if (end > (size_t)n83)
		end = (size_t)n83;
	for (off = 4; off + 4 <= end && nids < 32;) {
		size_t len = v83[off + 3];

		if (off + 4 + len > end) {
			say(why, whysz, "VPD 0x83 designator runs past the page");
			lun_free(out);
			return -1;
		}
		if (((v83[off + 1] >> 4) & 3) == 0) {
			ids[nids].m_CodeSet = (VDS_STORAGE_IDENTIFIER_CODE_SET)(v83[off] & 0x0f);
			ids[nids].m_Type = (VDS_STORAGE_IDENTIFIER_TYPE)(v83[off + 1] & 0x0f);
			ids[nids].m_cbIdentifier = (ULONG)len;
			ids[nids].m_rgbIdentifier = dup_bytes(v83 + off + 4, len);
			nids++;
		}
		off += 4 + len;
	}
	out->m_deviceIdDescriptor.m_version = ID_DESCRIPTOR_VERSION;
	out->m_deviceIdDescriptor.m_cIdentifiers = (ULONG)nids;
	out->m_deviceIdDescriptor.m_rgIdentifiers = dup_bytes(ids, nids * sizeof(ids[0]));
	/* the path the disk arrived on: providers must never touch it */
	out->m_cInterconnects = 1;
	out->m_rgInterconnects = CoTaskMemAlloc(sizeof(VDS_INTERCONNECT));
	if (out->m_rgInterconnects) {
		lunaddr[1] = (unsigned char)lun;
		out->m_rgInterconnects->m_addressType = VDS_IA_SCSI;
		out->m_rgInterconnects->m_cbPort = (ULONG)strlen(portal);
		out->m_rgInterconnects->m_pbPort = dup_bytes(portal, strlen(portal));
		out->m_rgInterconnects->m_cbAddress = sizeof(lunaddr);
		out->m_rgInterconnects->m_pbAddress = dup_bytes(lunaddr, sizeof(lunaddr));
	}
	return 0;
}

void lun_free(VDS_LUN_INFORMATION *l)
{
	VDS_STORAGE_DEVICE_ID_DESCRIPTOR *d = &l->m_deviceIdDescriptor;

	CoTaskMemFree(l->m_szVendorId);
	CoTaskMemFree(l->m_szProductId);
	CoTaskMemFree(l->m_szProductRevision);
	CoTaskMemFree(l->m_szSerialNumber);
	if (d->m_rgIdentifiers)
		for (ULONG i = 0; i < d->m_cIdentifiers; i++)
			CoTaskMemFree(d->m_rgIdentifiers[i].m_rgbIdentifier);
	CoTaskMemFree(d->m_rgIdentifiers);
	if (l->m_rgInterconnects)
		for (ULONG i = 0; i < l->m_cInterconnects; i++) {
			CoTaskMemFree(l->m_rgInterconnects[i].m_pbPort);
			CoTaskMemFree(l->m_rgInterconnects[i].m_pbAddress);
		}
	CoTaskMemFree(l->m_rgInterconnects);
	memset(l, 0, sizeof(*l));
}

static char *dup_str(const char *s)
{
	return s ? dup_bytes(s, strlen(s) + 1) : NULL;
}

int lun_copy(VDS_LUN_INFORMATION *dst, const VDS_LUN_INFORMATION *src)
{
	const VDS_STORAGE_DEVICE_ID_DESCRIPTOR *sd = &src->m_deviceIdDescriptor;
	VDS_STORAGE_DEVICE_ID_DESCRIPTOR *dd = &dst->m_deviceIdDescriptor;

	*dst = *src;
	dst->m_szVendorId = dup_str(src->m_szVendorId);
	dst->m_szProductId = dup_str(src->m_szProductId);
	dst->m_szProductRevision = dup_str(src->m_szProductRevision);
	dst->m_szSerialNumber = dup_str(src->m_szSerialNumber);
	dd->m_rgIdentifiers =
	    dup_bytes(sd->m_rgIdentifiers, sd->m_cIdentifiers * sizeof(VDS_STORAGE_IDENTIFIER));
	for (ULONG i = 0; i < sd->m_cIdentifiers; i++)
		dd->m_rgIdentifiers[i].m_rgbIdentifier = dup_bytes(
		    sd->m_rgIdentifiers[i].m_rgbIdentifier, sd->m_rgIdentifiers[i].m_cbIdentifier);
	dst->m_rgInterconnects =
	    dup_bytes(src->m_rgInterconnects, src->m_cInterconnects * sizeof(VDS_INTERCONNECT));
	for (ULONG i = 0; i < src->m_cInterconnects; i++) {
		const VDS_INTERCONNECT *s = &src->m_rgInterconnects[i];

		dst->m_rgInterconnects[i].m_pbPort = dup_bytes(s->m_pbPort, s->m_cbPort);
		dst->m_rgInterconnects[i].m_pbAddress = dup_bytes(s->m_pbAddress, s->m_cbAddress);
	}
	return 0;
}

static int str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int id_same(const VDS_STORAGE_IDENTIFIER *a, const VDS_STORAGE_IDENTIFIER *b)
{
	return a->m_CodeSet == b->m_CodeSet && a->m_Type == b->m_Type &&
	       a->m_cbIdentifier == b->m_cbIdentifier &&
	       (!a->m_cbIdentifier ||
		!memcmp(a->m_rgbIdentifier, b->m_rgbIdentifier, a->m_cbIdentifier));
}

int lun_equal(const VDS_LUN_INFORMATION *a, const VDS_LUN_INFORMATION *b, char *why, size_t whysz)
{
	const VDS_STORAGE_DEVICE_ID_DESCRIPTOR *da = &a->m_deviceIdDescriptor,
					       *db = &b->m_deviceIdDescriptor;

	if (a->m_version != b->m_version || a->m_DeviceType != b->m_DeviceType ||
	    a->m_DeviceTypeModifier != b->m_DeviceTypeModifier ||
	    !a->m_bCommandQueueing != !b->m_bCommandQueueing) {
		say(why, whysz, "version/device type/modifier/command queueing differ");
		return 0;
	}
	if (!str_same(a->m_szVendorId, b->m_szVendorId) ||
	    !str_same(a->m_szProductId, b->m_szProductId) ||
	    !str_same(a->m_szProductRevision, b->m_szProductRevision)) {
		say(why, whysz, "vendor/product/revision differ");
		return 0;
	}
	if (!str_same(a->m_szSerialNumber, b->m_szSerialNumber)) {
		say(why, whysz, "serial numbers differ");
		return 0;
	}
	if (da->m_version != db->m_version || da->m_cIdentifiers != db->m_cIdentifiers) {
		say(why, whysz, "identifier descriptor version/count differ");
		return 0;
	}
	for (ULONG i = 0; i < da->m_cIdentifiers; i++)
		if (!id_same(&da->m_rgIdentifiers[i], &db->m_rgIdentifiers[i])) {
			say(why, whysz, "a page-0x83 identifier differs");
			return 0;
		}
	return 1;
}

static int strong(const VDS_STORAGE_IDENTIFIER *id)
{
	return id->m_Type == VDSStorageIdTypeVendorId || id->m_Type == VDSStorageIdTypeEUI64 ||
	       id->m_Type == VDSStorageIdTypeFCPHName ||
	       id->m_Type == VDSStorageIdTypeScsiNameString;
}

int lun_has_strong_id(const VDS_LUN_INFORMATION *l)
{
	for (ULONG i = 0; i < l->m_deviceIdDescriptor.m_cIdentifiers; i++)
		if (strong(&l->m_deviceIdDescriptor.m_rgIdentifiers[i]))
			return 1;
	return 0;
}

int lun_share_strong_id(const VDS_LUN_INFORMATION *a, const VDS_LUN_INFORMATION *b)
{
	const VDS_STORAGE_DEVICE_ID_DESCRIPTOR *da = &a->m_deviceIdDescriptor,
					       *db = &b->m_deviceIdDescriptor;

	for (ULONG i = 0; i < da->m_cIdentifiers; i++)
		for (ULONG j = 0; j < db->m_cIdentifiers; j++)
			if (strong(&da->m_rgIdentifiers[i]) &&
			    id_same(&da->m_rgIdentifiers[i], &db->m_rgIdentifiers[j]))
				return 1;
	return 0;
}

int lun_cotaskmem_owned(const VDS_LUN_INFORMATION *l, char *why, size_t whysz)
{
	const VDS_STORAGE_DEVICE_ID_DESCRIPTOR *d = &l->m_deviceIdDescriptor;
	const void *strs[] = {l->m_szVendorId, l->m_szProductId, l->m_szProductRevision,
			      l->m_szSerialNumber};

	for (size_t i = 0; i < 4; i++)
		if (strs[i] && !spy_is_live(strs[i])) {
			say(why, whysz, "a string member is not a CoTaskMemAlloc block");
			return 0;
		}
	if (d->m_cIdentifiers && !spy_is_live(d->m_rgIdentifiers)) {
		say(why, whysz, "m_rgIdentifiers is not a CoTaskMemAlloc block");
		return 0;
	}
	for (ULONG i = 0; i < d->m_cIdentifiers; i++)
		if (d->m_rgIdentifiers[i].m_cbIdentifier &&
		    !spy_is_live(d->m_rgIdentifiers[i].m_rgbIdentifier)) {
			say(why, whysz, "an m_rgbIdentifier is not a CoTaskMemAlloc block");
			return 0;
		}
	return 1;
}

int lun_interconnects_same(const VDS_LUN_INFORMATION *a, const VDS_LUN_INFORMATION *b)
{
	if (a->m_cInterconnects != b->m_cInterconnects ||
	    a->m_rgInterconnects != b->m_rgInterconnects)
		return 0;
	return 1;
}

static void put_hex(FILE *f, const void *p, size_t n)
{
	const unsigned char *b = p;

	if (!p) {
		fputs(" -", f);
		return;
	}
	fputs(" x", f); /* "x" then the bytes, so an empty field is visible */
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

static void put_str(FILE *f, const char *s)
{
	put_hex(f, s, s ? strlen(s) : 0);
}

void lun_write(FILE *f, const VDS_LUN_INFORMATION *l)
{
	const VDS_STORAGE_DEVICE_ID_DESCRIPTOR *d = &l->m_deviceIdDescriptor;

	fprintf(f, "%lu %u %u %d %d", (unsigned long)l->m_version, l->m_DeviceType,
		l->m_DeviceTypeModifier, l->m_bCommandQueueing ? 1 : 0, (int)l->m_BusType);
	put_str(f, l->m_szVendorId);
	put_str(f, l->m_szProductId);
	put_str(f, l->m_szProductRevision);
	put_str(f, l->m_szSerialNumber);
	put_hex(f, &l->m_diskSignature, sizeof(GUID));
	fprintf(f, " %lu %lu", (unsigned long)d->m_version, (unsigned long)d->m_cIdentifiers);
	for (ULONG i = 0; i < d->m_cIdentifiers; i++) {
		fprintf(f, " %d %d", (int)d->m_rgIdentifiers[i].m_CodeSet,
			(int)d->m_rgIdentifiers[i].m_Type);
		put_hex(f, d->m_rgIdentifiers[i].m_rgbIdentifier,
			d->m_rgIdentifiers[i].m_cbIdentifier);
	}
	fprintf(f, " %lu", (unsigned long)l->m_cInterconnects);
	for (ULONG i = 0; i < l->m_cInterconnects; i++) {
		const VDS_INTERCONNECT *c = &l->m_rgInterconnects[i];

		fprintf(f, " %d", (int)c->m_addressType);
		put_hex(f, c->m_pbPort, c->m_cbPort);
		put_hex(f, c->m_pbAddress, c->m_cbAddress);
	}
}

/* next space-separated token of *p */
static const char *tok(const char **p, char *buf, size_t sz)
{
	size_t n = 0;

	while (**p == ' ')
		(*p)++;
	while (**p && **p != ' ' && **p != '\n' && **p != '\r' && n + 1 < sz)
		buf[n++] = *(*p)++;
	buf[n] = '\0';
	return n ? buf : NULL;
}

/* "-" = NULL, "x<hex>" = bytes; *len gets the count; strings get a NUL */
static int get_hex(const char **p, void **out, ULONG *len, int is_str)
{
	char buf[2 * SCSI_VPD_MAX + 4];
	unsigned char bytes[SCSI_VPD_MAX];
	int n;

	if (!tok(p, buf, sizeof(buf)))
		return -1;
	if (!strcmp(buf, "-")) {
		*out = NULL;
		if (len)
			*len = 0;
		return 0;
	}
	if (buf[0] != 'x' || (n = hex_decode(buf + 1, bytes, sizeof(bytes))) < 0)
		return -1;
	*out = CoTaskMemAlloc((size_t)n + 1);
	if (!*out)
		return -1;
	memcpy(*out, bytes, (size_t)n);
	if (is_str)
		((char *)*out)[n] = '\0';
	if (len)
		*len = (ULONG)n;
	return 0;
}

static int get_ul(const char **p, unsigned long *v)
{
	char buf[32], *end;

	if (!tok(p, buf, sizeof(buf)))
		return -1;
	*v = strtoul(buf, &end, 10);
	return *end ? -1 : 0;
}

int lun_read(const char *line, VDS_LUN_INFORMATION *out)
{
	const char *p = line;
	unsigned long v[5], nid, nic;
	void *sig = NULL;
	VDS_STORAGE_DEVICE_ID_DESCRIPTOR *d = &out->m_deviceIdDescriptor;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 5; i++)
		if (get_ul(&p, &v[i]))
			return -1;
	out->m_version = v[0];
	out->m_DeviceType = (BYTE)v[1];
	out->m_DeviceTypeModifier = (BYTE)v[2];
	out->m_bCommandQueueing = (BOOL)v[3];
	out->m_BusType = (VDS_STORAGE_BUS_TYPE)v[4];
	if (get_hex(&p, (void **)&out->m_szVendorId, NULL, 1) ||
	    get_hex(&p, (void **)&out->m_szProductId, NULL, 1) ||
	    get_hex(&p, (void **)&out->m_szProductRevision, NULL, 1) ||
	    get_hex(&p, (void **)&out->m_szSerialNumber, NULL, 1) || get_hex(&p, &sig, NULL, 0))
		goto bad;
	if (sig)
		memcpy(&out->m_diskSignature, sig, sizeof(GUID));
	CoTaskMemFree(sig);
	if (get_ul(&p, &v[0]) || get_ul(&p, &nid) || nid > 64)
		goto bad;
	d->m_version = v[0];
	d->m_rgIdentifiers = CoTaskMemAlloc((nid ? nid : 1) * sizeof(VDS_STORAGE_IDENTIFIER));
	if (!d->m_rgIdentifiers)
		goto bad;
	memset(d->m_rgIdentifiers, 0, (nid ? nid : 1) * sizeof(VDS_STORAGE_IDENTIFIER));
	d->m_cIdentifiers = (ULONG)nid;
	for (unsigned long i = 0; i < nid; i++) {
		VDS_STORAGE_IDENTIFIER *id = &d->m_rgIdentifiers[i];

		if (get_ul(&p, &v[0]) || get_ul(&p, &v[1]) ||
		    get_hex(&p, (void **)&id->m_rgbIdentifier, &id->m_cbIdentifier, 0))
			goto bad;
		id->m_CodeSet = (VDS_STORAGE_IDENTIFIER_CODE_SET)v[0];
		id->m_Type = (VDS_STORAGE_IDENTIFIER_TYPE)v[1];
	}
	if (get_ul(&p, &nic) || nic > 8)
		goto bad;
	if (nic) {
		out->m_rgInterconnects = CoTaskMemAlloc(nic * sizeof(VDS_INTERCONNECT));
		if (!out->m_rgInterconnects)
			goto bad;
		memset(out->m_rgInterconnects, 0, nic * sizeof(VDS_INTERCONNECT));
		out->m_cInterconnects = (ULONG)nic;
	}
	for (unsigned long i = 0; i < nic; i++) {
		VDS_INTERCONNECT *c = &out->m_rgInterconnects[i];

		if (get_ul(&p, &v[0]) || get_hex(&p, (void **)&c->m_pbPort, &c->m_cbPort, 0) ||
		    get_hex(&p, (void **)&c->m_pbAddress, &c->m_cbAddress, 0))
			goto bad;
		c->m_addressType = (VDS_INTERCONNECT_ADDRESS_TYPE)v[0];
	}
	return 0;
bad:
	lun_free(out);
	return -1;
}

void lun_serial(const VDS_LUN_INFORMATION *l, char *buf, size_t sz)
{
	size_t n = l->m_szSerialNumber ? strlen(l->m_szSerialNumber) : 0;

	while (n && l->m_szSerialNumber[n - 1] == ' ')
		n--;
	if (n >= sz)
		n = sz - 1;
	if (n)
		memcpy(buf, l->m_szSerialNumber, n);
	buf[n] = '\0';
}
