/*
 * array_ops: the real snapset_ops and lunmatch confirm callback, on top
 * of the shared control client.  The shell opens the client (OnLoad or
 * lazily) and passes it as ctx.  Commit runs under Flush-and-Hold, so
 * the client the shell opens must have io_timeout_ms well below 10 s.
 */
#ifndef ARRAYSIM_ARRAY_OPS_H
#define ARRAYSIM_ARRAY_OPS_H

#include <stdint.h>

#include "snapset.h"

struct client;

#define ARRAY_LUN_NAME_MAX 256 /* a LUN name with its NUL, as the array bounds it */

/* a LUN of the set being prepared: what its NAA is called on the array */
struct array_lun_ref {
	uint8_t naa[16];
	char name[ARRAY_LUN_NAME_MAX];
};

/* zero-initialise, then set c */
struct array_ctx {
	struct client *c;
	uint32_t last_status; /* PROTO_OK or the server's PROTO_E* of the last failure */
	char last_msg[256];   /* server message or transport error, for the event log */
	/* filled by prepare, read by commit: the SNAPSET_COMMIT reply names
	 * each origin LUN, and commit must not ask the array again */
	size_t n_refs;
	struct array_lun_ref refs[SNAPSET_MAX_LUNS];
};

extern const struct snapset_ops array_snapset_ops; /* ctx = struct array_ctx * */

/*
 * The SNAP records of a SNAPSET_COMMIT reply's payload -> out[0..*n_out),
 * origins resolved through a->refs (prepare's).  0, or PROTO_EPROTO /
 * PROTO_EOVERFLOW with last_msg noted; allocates nothing.  Public for
 * the fuzzer (tests/fuzz/fuzz_commit_reply.c).
 */
int array_commit_targets(struct array_ctx *a, const uint8_t *payload, size_t len,
			 struct snapset_target *out, size_t max, size_t *n_out);

/* lunmatch_confirm_fn: LUN_SHOW by LUN_NAA; ctx = struct array_ctx * */
int array_confirm_naa(void *ctx, const uint8_t naa[16], char serial[33]);

/*
 * The rest of the provider's array calls; all return 0 or a PROTO_E*
 * code with last_status/last_msg noted.  LUNs are found by their NAA
 * designator (LUN_SHOW LUN_NAA finds LUNs and snapshots alike).
 */

/* LocateLuns: map each LUN to the host that owns initiator iqn (HOST_LIST);
 * a LUN already mapped to that host is fine.  No rescan. */
int array_locate(struct array_ctx *a, const struct vds_lun_info *luns, size_t n, const char *iqn);
/* OnLunEmpty: unmap from every host and delete; only snapshots and
 * clones are ever deleted (an original LUN gives PROTO_EINVAL) */
int array_lun_empty(struct array_ctx *a, const struct vds_lun_info *lun);
/* ResyncLuns: revert the original LUN (target) to its snapshot (source) */
int array_resync(struct array_ctx *a, const struct vds_lun_info *snap,
		 const struct vds_lun_info *target);
/* OnLunStateChange: VSS_ONLUNSTATECHANGE_DO_MASK_LUNS -> unmap from the
 * host of iqn (keep the LUN); MAKE_READ_WRITE -> LUN_SET read-write */
int array_mask(struct array_ctx *a, const struct vds_lun_info *lun, const char *iqn);
int array_make_rw(struct array_ctx *a, const struct vds_lun_info *lun);
#endif
