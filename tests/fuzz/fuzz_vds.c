/*
 * fuzz_vds: libFuzzer target for the provider core's INQUIRY / VPD
 * parser (provider/core/vds_lun.c).  On Windows these pages come from
 * whatever disk arrives (FillInLunInfo), so a malformed page must fail
 * cleanly: no overread, no overflow, and a result that is usable when
 * VDS_OK is returned.
 *
 * Input:
 *   u8   flags    bit 0: no VPD 0x80; bit 1: no VPD 0x83
 *   be16 inquiry length, be16 VPD 0x80 length (both clipped to the input)
 *   the INQUIRY bytes, the VPD 0x80 bytes, and the rest is VPD 0x83
 * Each page is copied into a buffer of exactly its length, so ASan sees
 * any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vds_lun.h"

static uint8_t *take(const uint8_t **p, size_t *left, size_t want, size_t *got)
{
	size_t n = want < *left ? want : *left;
	uint8_t *b = malloc(n ? n : 1);

	if (!b)
		abort();
	memcpy(b, *p, n);
	*p += n;
	*left -= n;
	*got = n;
	return b;
}

static void check_str(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort(); /* a text field without its NUL */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vds_lun_info out, copy;
	const uint8_t *p = data + 5;
	size_t left, ni, n80, n83;
	uint8_t *inq, *v80, *v83, naa[16];
	int rc, strong = 0;

	if (size < 5)
		return 0;
	left = size - 5;
	inq = take(&p, &left, (size_t)(data[1] << 8 | data[2]), &ni);
	v80 = take(&p, &left, (size_t)(data[3] << 8 | data[4]), &n80);
	v83 = take(&p, &left, left, &n83);
	rc = vds_lun_build(&out, inq, ni, data[0] & 1 ? NULL : v80, n80, data[0] & 2 ? NULL : v83,
			   n83);
	if (!vds_strerror(rc))
		abort();
	if (rc == VDS_OK) {
		check_str(out.vendor, sizeof(out.vendor));
		check_str(out.product, sizeof(out.product));
		check_str(out.revision, sizeof(out.revision));
		check_str(out.serial, sizeof(out.serial));
		if (out.n_ids > VDS_LUN_MAX_IDS)
			abort();
		/* reflexive whenever there is anything to compare by */
		for (uint32_t i = 0; i < out.n_ids; i++)
			strong |= out.ids[i].type == VDS_ID_NAA ||
				  out.ids[i].type == VDS_ID_EUI64 ||
				  out.ids[i].type == VDS_ID_SCSI_NAME;
		if ((strong || vds_trimmed_len(out.serial)) && !vds_lun_same(&out, &out))
			abort();
		if (vds_lun_naa16(&out, naa)) {
			/* a snapshot of it: the prediction must find itself */
			vds_lun_target(&copy, &out, naa, out.serial);
			if (copy.n_ids != 2 || !vds_lun_same(&copy, &copy))
				abort();
		}
	}
	free(inq);
	free(v80);
	free(v83);
	return 0;
}
