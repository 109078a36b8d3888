/*
 * lunparse: the harness's own reading of SCSI identity into
 * VDS_LUN_INFORMATION, written independently of provider/core so that
 * a mistake there cannot hide itself here.  It does what the Windows
 * storage stack does for VSS: standard INQUIRY -> device type, modifier,
 * CmdQue, vendor/product/revision; VPD 0x80 -> serial; VPD 0x83
 * designators with association 0 -> m_deviceIdDescriptor.  Every pointer
 * member comes from CoTaskMemAlloc, like the structures VSS passes.
 */
#ifndef ARRAYSIM_WINE_LUNPARSE_H
#define ARRAYSIM_WINE_LUNPARSE_H

#include <stddef.h>
#include <stdio.h>

#include <windows.h>

#include <vdslun.h>

/* hex text -> bytes; returns the byte count or -1 */
int hex_decode(const char *hex, unsigned char *out, size_t max);

/*
 * Build *out (zeroed first) from the three pages given as hex text.
 * bus type iSCSI; one interconnect (port = portal text, address = LUN
 * number) that providers must leave alone.  0 or -1 with why filled.
 */
int lun_from_pages(VDS_LUN_INFORMATION *out, const char *inq_hex, const char *vpd80_hex,
		   const char *vpd83_hex, const char *portal, unsigned lun, char *why,
		   size_t whysz);

/* CoTaskMemFree every member and zero the struct (the RPC stub's job) */
void lun_free(VDS_LUN_INFORMATION *l);

/* deep copy, CoTaskMemAlloc'd */
int lun_copy(VDS_LUN_INFORMATION *dst, const VDS_LUN_INFORMATION *src);

/*
 * Equal as VSS compares GetTargetLuns with FillInLunInfo: every field
 * but m_BusType and m_diskSignature (ignored by VSS) and the
 * interconnects (the arrived disk's path differs from anything the
 * provider could know).  Returns 1 if equal, else 0 with why.
 */
int lun_equal(const VDS_LUN_INFORMATION *a, const VDS_LUN_INFORMATION *b, char *why, size_t whysz);
/* do a and b share one identical designator of type 1, 2, 3 or 8? */
int lun_share_strong_id(const VDS_LUN_INFORMATION *a, const VDS_LUN_INFORMATION *b);
/* does l carry a designator of type 1, 2, 3 or 8 (VSS's uniqueness rule)? */
int lun_has_strong_id(const VDS_LUN_INFORMATION *l);
/* are all of l's pointer members live CoTaskMemAlloc blocks? */
int lun_cotaskmem_owned(const VDS_LUN_INFORMATION *l, char *why, size_t whysz);
/* is every interconnect of a byte-equal to b's (and the same pointers)? */
int lun_interconnects_same(const VDS_LUN_INFORMATION *a, const VDS_LUN_INFORMATION *b);

/* one line of text (no newline) and back; 0 or -1 */
void lun_write(FILE *f, const VDS_LUN_INFORMATION *l);
int lun_read(const char *line, VDS_LUN_INFORMATION *out);

/* serial without trailing spaces, into buf ("" if none) */
void lun_serial(const VDS_LUN_INFORMATION *l, char *buf, size_t sz);

#endif
