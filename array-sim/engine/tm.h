/*
 * tm: the transaction manager for metadata blocks (dm-transaction-manager's
 * role).  It joins the block manager and the metadata space map and gives
 * the one operation copy-on-write trees are built from: shadowing.
 *
 * A metadata block may be changed in place only if it was allocated in the
 * open transaction and exactly one parent references it.  Otherwise
 * tm_shadow() copies it to a new block.  When the original was shared
 * (refcount > 1) the copy takes a new reference on everything the original
 * points to (*inc_children is set; the btree does the increments, since it
 * knows the layout), and the original loses one reference.
 *
 * Allocation keeps a reserve of blocks back: ordinary allocations fail
 * with -EDQUOT when only the reserve is left; allocations made while
 * tm->use_reserve is set (commit, delete, snapshot bookkeeping) may use it.
 * All calls need the pool's exclusive lock, except tm_ref (shared lock).
 */
#ifndef ARRAYSIM_TM_H
#define ARRAYSIM_TM_H

#include <stdint.h>

#include "bm.h"
#include "sm.h"

struct tmgr {
	struct bm *bm;
	struct sm *sm;	  /* metadata space map; index = blocknr - base */
	uint64_t base;	  /* first metadata block number */
	uint64_t reserve; /* blocks kept for commit and delete */
	int use_reserve;  /* set around operations that may use it */
};

int tm_alloc(struct tmgr *tm, uint32_t magic, struct blk **out);
/* Get nr for writing.  *out is pinned; its number may differ from nr. */
int tm_shadow(struct tmgr *tm, uint64_t nr, uint32_t magic, struct blk **out, int *inc_children);
uint32_t tm_ref(const struct tmgr *tm, uint64_t nr);
void tm_inc(struct tmgr *tm, uint64_t nr);
/* Returns the new count; the block may be reused from the next commit on
 * (or at once if it was new). */
uint32_t tm_dec(struct tmgr *tm, uint64_t nr);

#endif
