/*
 * snapset: the provider's per-set state machine (one set at a time, as
 * VSS allows one creation in progress).  The COM shell serialises calls
 * with its critical section and calls these in VSS order; the array is
 * reached only through snapset_ops so tests drive it without a daemon.
 *
 *   idle -BeginPrepare-> preparing -EndPrepare-> prepared -PreCommit->
 *   precommitted -Commit-> committed -PostCommit-> postcommitted
 *   -PostFinalCommit-> created
 *   any state before created -Abort-> aborted (the array deletes what the
 *   set made, also after PostCommit: VSS aborts a set whose thaw failed);
 *   created/postcommitted/aborted -release-> deleted
 *
 * A BeginPrepareSnapshot with a new set id is accepted in any state and
 * implicitly aborts the old set (VSS never signals aborts before
 * DoSnapshotSet).  Every function returns an HRESULT from vss_err.h.
 */
#ifndef ARRAYSIM_SNAPSET_H
#define ARRAYSIM_SNAPSET_H

#include <stddef.h>
#include <stdint.h>

#include "vds_lun.h"

#define SNAPSET_MAX_LUNS 64 /* VSS's own per-set volume limit */

enum snapset_state {
	SNAPSET_IDLE,
	SNAPSET_PREPARING,
	SNAPSET_PREPARED,
	SNAPSET_PRECOMMITTED,
	SNAPSET_COMMITTED,
	SNAPSET_POSTCOMMITTED,
	SNAPSET_CREATED, /* PostFinalCommitSnapshots: aborts are ignored from here */
	SNAPSET_ABORTED,
	SNAPSET_DELETED,
};

/*
 * One snapshot the array made at commit, as the SNAPSET_COMMIT reply
 * reports it: enough to build the VDS_LUN_INFORMATION the snapshot LUN
 * will report over iSCSI (VPD 0x80 = serial, VPD 0x83 association 0 =
 * NAA-6 + T10 vendor id "ARRAYSIM" + serial; see array-sim/scsi/spc.c).
 */
struct snapset_target {
	uint8_t origin_naa[16]; /* NAA of the LUN it was taken of */
	uint8_t naa[16];	/* the snapshot LUN's own NAA-6 */
	char serial[33];	/* its unit serial (32 hex chars) */
	char name[256];		/* its name on the array */
};

/* array side; each returns 0 or a non-zero error (logged, mapped to veto) */
struct snapset_ops {
	int (*prepare)(void *ctx, const uint8_t set_id[16], const struct vds_lun_info *luns,
		       size_t n);
	/* one request, must be fast; fills out[0..*n_out) (room for max) */
	int (*commit)(void *ctx, const uint8_t set_id[16], struct snapset_target *out, size_t max,
		      size_t *n_out);
	int (*abort)(void *ctx, const uint8_t set_id[16]);
};

struct snapset {
	enum snapset_state state;
	uint8_t id[16];
	size_t n_luns;
	struct vds_lun_info luns[SNAPSET_MAX_LUNS];
	const struct snapset_ops *ops;
	void *ctx;
	int last_array_err; /* for the shell's event-log entry, written outside commit */
	size_t n_targets;   /* filled by a successful commit */
	struct snapset_target targets[SNAPSET_MAX_LUNS];
};

void snapset_init(struct snapset *s, const struct snapset_ops *ops, void *ctx);
const char *snapset_state_name(enum snapset_state st);

int32_t snapset_begin_prepare(struct snapset *s, const uint8_t set_id[16],
			      const struct vds_lun_info *luns, size_t n);
int32_t snapset_end_prepare(struct snapset *s, const uint8_t set_id[16]);
int32_t snapset_precommit(struct snapset *s, const uint8_t set_id[16]);
int32_t snapset_commit(struct snapset *s, const uint8_t set_id[16]);
int32_t snapset_postcommit(struct snapset *s, const uint8_t set_id[16], long count);
/* PreFinalCommitSnapshots (post = 0): accepted after PostCommit;
 * PostFinalCommitSnapshots (post = 1): the set is created.  No array call. */
int32_t snapset_final_commit(struct snapset *s, const uint8_t set_id[16], int post);
int32_t snapset_abort(struct snapset *s, const uint8_t set_id[16]);
/*
 * GetTargetLuns: for each source LUN of the committed set, the
 * VDS_LUN_INFORMATION its snapshot LUN will report (vds_lun_target()).
 * Valid from COMMITTED on; E_INVALIDARG for a LUN not in the set.
 */
int32_t snapset_target_luns(const struct snapset *s, const struct vds_lun_info *src, size_t n,
			    struct vds_lun_info *dst);
/* forget a finished set (shell: OnUnload); no array call */
int32_t snapset_release(struct snapset *s, const uint8_t set_id[16]);

#endif
