/*
 * lunmatch: AreLunsSupported / FillInLunInfo decision.  A LUN is ours
 * when its INQUIRY says ARRAYSIM / VIRTUAL-ARRAY and the array confirms
 * its NAA designator.  The array is asked through a callback so the
 * logic runs in tests without a daemon (array_ops.c has the real one).
 */
#ifndef ARRAYSIM_LUNMATCH_H
#define ARRAYSIM_LUNMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vds_lun.h"

#define LUNMATCH_VENDOR	 "ARRAYSIM"
#define LUNMATCH_PRODUCT "VIRTUAL-ARRAY"

/*
 * 0: the array has a LUN with this NAA; serial (may be left empty)
 * receives its unit serial.  Non-zero: unknown LUN or the array could
 * not be asked; both mean "not supported" (never promise what we can't do).
 */
typedef int (*lunmatch_confirm_fn)(void *ctx, const uint8_t naa[16], char serial[33]);

bool lunmatch_is_ours(const struct vds_lun_info *lun, lunmatch_confirm_fn confirm, void *ctx);

/*
 * All-or-nothing over one volume's LUNs.  Returns an HRESULT (vss_err.h):
 * E_INVALIDARG for bad arguments, else S_OK with *supported set.
 */
int32_t lunmatch_are_supported(const struct vds_lun_info *luns, size_t n,
			       lunmatch_confirm_fn confirm, void *ctx, bool *supported);

#endif
