/*
 * lunconv.c: see lunconv.h.  The memory rules are VSS's: every pointer
 * member of a VDS_LUN_INFORMATION handed back to VSS comes from
 * CoTaskMemAlloc, because the COM stub frees it with CoTaskMemFree.
 */
#include "lunconv.h"

#include <objbase.h>

#include <string.h>

static int copy_str(char *dst, size_t dstsz, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= dstsz)
		return -1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int lun_from_vds(struct vds_lun_info *out, const VDS_LUN_INFORMATION *in)
{
	const VDS_STORAGE_DEVICE_ID_DESCRIPTOR *d = &in->m_deviceIdDescriptor;

	memset(out, 0, sizeof(*out));
	out->version = in->m_version;
	out->device_type = in->m_DeviceType;
	out->device_type_modifier = in->m_DeviceTypeModifier;
	out->cmd_queueing = in->m_bCommandQueueing ? 1 : 0;
	out->bus_type = (uint32_t)in->m_BusType;
	if (copy_str(out->vendor, sizeof(out->vendor), in->m_szVendorId) ||
	    copy_str(out->product, sizeof(out->product), in->m_szProductId) ||
	    copy_str(out->revision, sizeof(out->revision), in->m_szProductRevision) ||
	    copy_str(out->serial, sizeof(out->serial), in->m_szSerialNumber))
		return -1;
	memcpy(out->disk_signature, &in->m_diskSignature, 16);
	out->id_version = d->m_version;
	if (d->m_cIdentifiers > VDS_LUN_MAX_IDS || (d->m_cIdentifiers && !d->m_rgIdentifiers))
		return -1;
	for (ULONG i = 0; i < d->m_cIdentifiers; i++) {
		const VDS_STORAGE_IDENTIFIER *s = &d->m_rgIdentifiers[i];
		struct vds_id *id = &out->ids[i];

		if (s->m_cbIdentifier > VDS_ID_MAX_LEN ||
		    (s->m_cbIdentifier && !s->m_rgbIdentifier))
			return -1;
		id->code_set = (uint8_t)s->m_CodeSet;
		id->type = (uint8_t)s->m_Type;
		id->len = (uint8_t)s->m_cbIdentifier;
		if (id->len)
			memcpy(id->bytes, s->m_rgbIdentifier, id->len);
	}
	out->n_ids = d->m_cIdentifiers;
	for (ULONG i = 0; i < in->m_cInterconnects && in->m_rgInterconnects &&
			  out->n_interconnects < VDS_LUN_MAX_IC;
	     i++) {
		const VDS_INTERCONNECT *s = &in->m_rgInterconnects[i];
		struct vds_interconnect *ic = &out->interconnects[out->n_interconnects];

		if (s->m_cbPort > VDS_IC_ADDR_MAX || s->m_cbAddress > VDS_IC_ADDR_MAX)
			continue;
		ic->addr_type = (uint32_t)s->m_addressType;
		ic->port_len = s->m_cbPort;
		if (s->m_cbPort && s->m_pbPort)
			memcpy(ic->port, s->m_pbPort, s->m_cbPort);
		ic->addr_len = s->m_cbAddress;
		if (s->m_cbAddress && s->m_pbAddress)
			memcpy(ic->addr, s->m_pbAddress, s->m_cbAddress);
		out->n_interconnects++;
	}
	return 0;
}

char *lun_strdup_cotask(const char *s)
{
	size_t n;
	char *p;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	p = CoTaskMemAlloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static BYTE *dup_bytes(const BYTE *p, ULONG n)
{
	BYTE *q;

	if (!n || !p)
		return NULL;
	q = CoTaskMemAlloc(n);
	if (q)
		memcpy(q, p, n);
	return q;
}

void lun_free_vds(VDS_LUN_INFORMATION *l)
{
	VDS_STORAGE_DEVICE_ID_DESCRIPTOR *d = &l->m_deviceIdDescriptor;

	CoTaskMemFree(l->m_szVendorId);
	CoTaskMemFree(l->m_szProductId);
	CoTaskMemFree(l->m_szProductRevision);
	CoTaskMemFree(l->m_szSerialNumber);
	if (d->m_rgIdentifiers) {
		for (ULONG i = 0; i < d->m_cIdentifiers; i++)
			CoTaskMemFree(d->m_rgIdentifiers[i].m_rgbIdentifier);
		CoTaskMemFree(d->m_rgIdentifiers);
	}
	if (l->m_rgInterconnects) {
		for (ULONG i = 0; i < l->m_cInterconnects; i++) {
			CoTaskMemFree(l->m_rgInterconnects[i].m_pbPort);
			CoTaskMemFree(l->m_rgInterconnects[i].m_pbAddress);
		}
		CoTaskMemFree(l->m_rgInterconnects);
	}
	memset(l, 0, sizeof(*l));
}

static HRESULT copy_interconnects(VDS_LUN_INFORMATION *out, const VDS_LUN_INFORMATION *src)
{
	ULONG n = src ? src->m_cInterconnects : 0;

	if (!n || !src->m_rgInterconnects)
		return S_OK;
	out->m_rgInterconnects = CoTaskMemAlloc(n * sizeof(VDS_INTERCONNECT));
	if (!out->m_rgInterconnects)
		return E_OUTOFMEMORY;
	memset(out->m_rgInterconnects, 0, n * sizeof(VDS_INTERCONNECT));
	/* count first, so lun_free_vds can clean a partial copy */
	out->m_cInterconnects = n;
	for (ULONG i = 0; i < n; i++) {
		const VDS_INTERCONNECT *s = &src->m_rgInterconnects[i];
		VDS_INTERCONNECT *d = &out->m_rgInterconnects[i];

		d->m_addressType = s->m_addressType;
		d->m_pbPort = dup_bytes(s->m_pbPort, s->m_cbPort);
		d->m_cbPort = d->m_pbPort ? s->m_cbPort : 0;
		d->m_pbAddress = dup_bytes(s->m_pbAddress, s->m_cbAddress);
		d->m_cbAddress = d->m_pbAddress ? s->m_cbAddress : 0;
		if ((s->m_cbPort && s->m_pbPort && !d->m_pbPort) ||
		    (s->m_cbAddress && s->m_pbAddress && !d->m_pbAddress))
			return E_OUTOFMEMORY;
	}
	return S_OK;
}

HRESULT lun_to_vds(VDS_LUN_INFORMATION *out, const struct vds_lun_info *in,
		   const VDS_LUN_INFORMATION *ic_src)
{
	VDS_STORAGE_DEVICE_ID_DESCRIPTOR *d = &out->m_deviceIdDescriptor;
	HRESULT hr;

	memset(out, 0, sizeof(*out));
	out->m_version = VER_VDS_LUN_INFORMATION;
	out->m_DeviceType = in->device_type;
	out->m_DeviceTypeModifier = in->device_type_modifier;
	out->m_bCommandQueueing = in->cmd_queueing ? TRUE : FALSE;
	out->m_BusType = (VDS_STORAGE_BUS_TYPE)in->bus_type;
	/* m_diskSignature stays GUID_NULL (memset): VSS requires it in provider output */
	out->m_szVendorId = lun_strdup_cotask(in->vendor);
	out->m_szProductId = lun_strdup_cotask(in->product);
	out->m_szProductRevision = lun_strdup_cotask(in->revision);
	out->m_szSerialNumber = lun_strdup_cotask(in->serial);
	if (!out->m_szVendorId || !out->m_szProductId || !out->m_szProductRevision ||
	    !out->m_szSerialNumber)
		goto oom;
	d->m_version = in->id_version ? in->id_version : VDS_ID_DESC_VERSION;
	if (in->n_ids) {
		d->m_rgIdentifiers = CoTaskMemAlloc(in->n_ids * sizeof(VDS_STORAGE_IDENTIFIER));
		if (!d->m_rgIdentifiers)
			goto oom;
		memset(d->m_rgIdentifiers, 0, in->n_ids * sizeof(VDS_STORAGE_IDENTIFIER));
		d->m_cIdentifiers = in->n_ids;
		for (uint32_t i = 0; i < in->n_ids; i++) {
			VDS_STORAGE_IDENTIFIER *s = &d->m_rgIdentifiers[i];

			s->m_CodeSet = (VDS_STORAGE_IDENTIFIER_CODE_SET)in->ids[i].code_set;
			s->m_Type = (VDS_STORAGE_IDENTIFIER_TYPE)in->ids[i].type;
			if (!in->ids[i].len)
				continue;
			s->m_rgbIdentifier = dup_bytes(in->ids[i].bytes, in->ids[i].len);
			if (!s->m_rgbIdentifier)
				goto oom;
			s->m_cbIdentifier = in->ids[i].len;
		}
	}
	hr = copy_interconnects(out, ic_src);
	if (FAILED(hr))
		goto oom;
	return S_OK;
oom:
	lun_free_vds(out);
	return E_OUTOFMEMORY;
}
