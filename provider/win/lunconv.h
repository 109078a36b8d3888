/*
 * lunconv: VDS_LUN_INFORMATION (COM side, CoTaskMemAlloc'ed members) to
 * and from struct vds_lun_info (the portable core's fixed-size mirror).
 */
#ifndef ARRAYSIM_PROV_LUNCONV_H
#define ARRAYSIM_PROV_LUNCONV_H

#include <windows.h>

#include <vdslun.h>

#include "vds_lun.h"

/*
 * 0, or -1 when a member does not fit the core struct (vendor longer than
 * INQUIRY's 8 bytes, more than VDS_LUN_MAX_IDS designators...): such a
 * LUN is never one of the array's, and must not be truncated into one.
 * Interconnects are copied as far as they fit; the core never uses them
 * for identity and the shell copies them from the VDS side.
 */
int lun_from_vds(struct vds_lun_info *out, const VDS_LUN_INFORMATION *in);

/*
 * Fill out (whose old members the caller has freed) from in, every
 * string, identifier array and identifier with CoTaskMemAlloc;
 * m_version 1, m_diskSignature GUID_NULL.  Interconnects are deep copies
 * of ic_src's (NULL: none).  E_OUTOFMEMORY leaves *out empty.
 */
HRESULT lun_to_vds(VDS_LUN_INFORMATION *out, const struct vds_lun_info *in,
		   const VDS_LUN_INFORMATION *ic_src);

/* CoTaskMemFree every member and zero the struct (COM stub semantics) */
void lun_free_vds(VDS_LUN_INFORMATION *l);

/* a CoTaskMemAlloc'ed copy of a C string (NULL in, NULL out) */
char *lun_strdup_cotask(const char *s);

#endif
