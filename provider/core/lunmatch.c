/*
 * lunmatch: see lunmatch.h.  Any doubt answers "not supported" with
 * S_OK: AreLunsSupported must never agree to a LUN it cannot snapshot,
 * and a transient array error is not a reason to fail the requester.
 */
#include "lunmatch.h"

#include <string.h>

#include "vss_err.h"

static bool text_is(const char *field, const char *want)
{
	size_t n = vds_trimmed_len(field);

	return n == strlen(want) && memcmp(field, want, n) == 0;
}

bool lunmatch_is_ours(const struct vds_lun_info *lun, lunmatch_confirm_fn confirm, void *ctx)
{
	uint8_t naa[16];
	char serial[33] = "";

	if (!lun || !confirm)
		return false;
	if (!text_is(lun->vendor, LUNMATCH_VENDOR) || !text_is(lun->product, LUNMATCH_PRODUCT))
		return false;
	if (!vds_lun_naa16(lun, naa))
		return false;
	if (confirm(ctx, naa, serial) != 0)
		return false;
	serial[32] = '\0';
	/*
	 * A serial disagreement means the NAA was reused or the host sees a
	 * stale device; refuse rather than snapshot the wrong LUN.
	 */
	if (serial[0] && vds_trimmed_len(lun->serial)) {
		size_t n = vds_trimmed_len(lun->serial);

		if (n != vds_trimmed_len(serial) || memcmp(lun->serial, serial, n) != 0)
			return false;
	}
	return true;
}

int32_t lunmatch_are_supported(const struct vds_lun_info *luns, size_t n,
			       lunmatch_confirm_fn confirm, void *ctx, bool *supported)
{
	if (!supported || !confirm || (n && !luns))
		return PROV_E_INVALIDARG;
	*supported = n > 0;
	for (size_t i = 0; i < n && *supported; i++)
		*supported = lunmatch_is_ours(&luns[i], confirm, ctx);
	return PROV_S_OK;
}
