#include "sm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sm {
	uint64_t nr;
	uint64_t nr_free;
	uint64_t cursor; /* next-fit allocation cursor */
	uint32_t *count;
	uint64_t *pending; /* bitmap: freed in the open transaction */
	uint64_t *fresh;   /* bitmap: allocated in the open transaction */
	uint64_t *shared;  /* bitmap: count was >= 2 since the last commit */
	uint64_t *slist;   /* shared units, to clear at commit */
	uint64_t nr_slist, cap_slist;
	uint64_t *plist; /* pending units, to clear at commit */
	uint64_t nr_plist, cap_plist;
	uint64_t *nlist; /* new units, to clear at commit */
	uint64_t nr_nlist, cap_nlist;
};

static int bit(const uint64_t *map, uint64_t i)
{
	return (map[i >> 6] >> (i & 63)) & 1;
}

static void set_bit(uint64_t *map, uint64_t i)
{
	map[i >> 6] |= 1ull << (i & 63);
}

static void clear_bit(uint64_t *map, uint64_t i)
{
	map[i >> 6] &= ~(1ull << (i & 63));
}

static int push(uint64_t **list, uint64_t *nr, uint64_t *cap, uint64_t v)
{
	if (*nr == *cap) {
		uint64_t ncap = *cap ? *cap * 2 : 256;
		uint64_t *n = realloc(*list, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		*list = n;
		*cap = ncap;
	}
	(*list)[(*nr)++] = v;
	return 0;
}

int sm_create(uint64_t nr, struct sm **out)
{
	struct sm *sm = calloc(1, sizeof(*sm));
	uint64_t words = (nr + 63) / 64;

	if (!sm)
		return -ENOMEM;
	sm->nr = nr;
	sm->nr_free = nr;
	sm->count = calloc(nr ? nr : 1, sizeof(*sm->count));
	sm->pending = calloc(words ? words : 1, 8);
	sm->fresh = calloc(words ? words : 1, 8);
	sm->shared = calloc(words ? words : 1, 8);
	if (!sm->count || !sm->pending || !sm->fresh || !sm->shared) {
		sm_destroy(sm);
		return -ENOMEM;
	}
	*out = sm;
	return 0;
}

void sm_destroy(struct sm *sm)
{
	if (!sm)
		return;
	free(sm->count);
	free(sm->pending);
	free(sm->fresh);
	free(sm->shared);
	free(sm->slist);
	free(sm->plist);
	free(sm->nlist);
	free(sm);
}

uint64_t sm_size(const struct sm *sm)
{
	return sm->nr;
}

uint64_t sm_free(const struct sm *sm)
{
	return sm->nr_free;
}

uint64_t sm_used(const struct sm *sm)
{
	return sm->nr - sm->nr_free - sm->nr_plist;
}

uint32_t sm_get(const struct sm *sm, uint64_t i)
{
	return sm->count[i];
}

int sm_is_new(const struct sm *sm, uint64_t i)
{
	return bit(sm->fresh, i);
}

int sm_alloc(struct sm *sm, uint64_t *out)
{
	uint64_t i = sm->cursor;

	if (!sm->nr_free)
		return -ENOSPC;
	for (uint64_t n = 0; n < sm->nr; n++, i++) {
		if (i == sm->nr)
			i = 0;
		/* Skip whole words that are busy: fast path for full regions. */
		if (sm->count[i] || bit(sm->pending, i))
			continue;
		if (push(&sm->nlist, &sm->nr_nlist, &sm->cap_nlist, i))
			return -ENOMEM;
		sm->count[i] = 1;
		set_bit(sm->fresh, i);
		sm->nr_free--;
		sm->cursor = i + 1;
		*out = i;
		return 0;
	}
	return -ENOSPC;
}

static void mark_shared(struct sm *sm, uint64_t i)
{
	if (bit(sm->shared, i))
		return;
	/* If the list cannot grow the bit stays set until reopen: that only
	 * forbids in-place writes to this unit, which is always safe. */
	push(&sm->slist, &sm->nr_slist, &sm->cap_slist, i);
	set_bit(sm->shared, i);
}

int sm_shared_since_commit(const struct sm *sm, uint64_t i)
{
	return bit(sm->shared, i);
}

void sm_inc(struct sm *sm, uint64_t i)
{
	if (++sm->count[i] >= 2)
		mark_shared(sm, i);
}

uint32_t sm_dec(struct sm *sm, uint64_t i)
{
	if (!sm->count[i])
		abort(); /* a refcount bug would corrupt data: stop here */
	if (sm->count[i] >= 2)
		mark_shared(sm, i);
	if (--sm->count[i])
		return sm->count[i];
	if (bit(sm->fresh, i)) {
		sm->nr_free++; /* never committed: free at once */
		return 0;
	}
	/* The committed state may still reach it: hold until commit.  If the
	 * list cannot grow the unit simply stays held (leaks until reopen). */
	set_bit(sm->pending, i);
	push(&sm->plist, &sm->nr_plist, &sm->cap_plist, i);
	return 0;
}

void sm_commit(struct sm *sm)
{
	for (uint64_t k = 0; k < sm->nr_plist; k++) {
		uint64_t i = sm->plist[k];

		clear_bit(sm->pending, i);
		if (!sm->count[i])
			sm->nr_free++;
	}
	sm->nr_plist = 0;
	for (uint64_t k = 0; k < sm->nr_nlist; k++)
		clear_bit(sm->fresh, sm->nlist[k]);
	sm->nr_nlist = 0;
	/* Counts are now what the committed state holds: a count of 1 means
	 * exclusive on disk too. */
	for (uint64_t k = 0; k < sm->nr_slist; k++)
		clear_bit(sm->shared, sm->slist[k]);
	sm->nr_slist = 0;
}

void sm_set(struct sm *sm, uint64_t i, uint32_t count)
{
	sm->count[i] = count;
}

void sm_recount(struct sm *sm)
{
	uint64_t f = 0;

	for (uint64_t i = 0; i < sm->nr; i++)
		if (!sm->count[i] && !bit(sm->pending, i))
			f++;
	sm->nr_free = f;
}
