/*
 * sm: an in-core space map.  One per pool area: metadata blocks and data
 * chunks.  It holds a reference count per unit and the transaction rules:
 *
 *  - A unit freed in the open transaction is not reusable until that
 *    transaction commits (sm_commit), because the last committed state may
 *    still point at it.  The exception is a unit allocated in the same
 *    transaction: no committed state can reach it, so it is free at once.
 *  - sm_is_new() tells whether a unit was allocated in the open
 *    transaction; only such blocks may be changed in place (shadowing).
 *
 * The counts are not stored on disk: pool_open derives them by walking the
 * committed trees, which is also what the checker does.  See
 * docs/pool-format.md for why.  Not thread-safe: callers hold the pool's
 * exclusive lock to change it; sm_get under the shared lock is safe.
 */
#ifndef ARRAYSIM_SM_H
#define ARRAYSIM_SM_H

#include <stdint.h>

struct sm;

int sm_create(uint64_t nr, struct sm **out);
void sm_destroy(struct sm *sm);

uint64_t sm_size(const struct sm *sm);
/* Units free now (refcount 0 and not pending). */
uint64_t sm_free(const struct sm *sm);

/* Units referenced (refcount > 0): what a commit now would record. */
uint64_t sm_used(const struct sm *sm);

uint32_t sm_get(const struct sm *sm, uint64_t i);
int sm_is_new(const struct sm *sm, uint64_t i);

/* Was the unit shared (refcount >= 2) at any time since the last commit,
 * or at that commit?  A unit whose count fell to 1 in the open
 * transaction may still be shared by the committed trees, so it must not
 * be overwritten in place until the next commit. */
int sm_shared_since_commit(const struct sm *sm, uint64_t i);

/* Allocate one unit with refcount 1, marked new.  -ENOSPC when none. */
int sm_alloc(struct sm *sm, uint64_t *out);
void sm_inc(struct sm *sm, uint64_t i);
/* Decrement; returns the new count.  At 0 the unit becomes pending (or
 * free at once if new). */
uint32_t sm_dec(struct sm *sm, uint64_t i);

/* The open transaction committed: pending units become free, nothing is
 * new any more. */
void sm_commit(struct sm *sm);

/* Used while deriving counts at open: set a count without rules. */
void sm_set(struct sm *sm, uint64_t i, uint32_t count);
/* After deriving: recount free units. */
void sm_recount(struct sm *sm);

#endif
